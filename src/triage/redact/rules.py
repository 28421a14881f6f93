"""Every rule, in the order `scrub` applies them.

The order matters: the specific shapes first (`tokens`, `cloud`), so that their placeholders
say what was there; the rules that know a context next (headers, command lines, URLs, markup);
the pairs by name after them, which skip a value that is already a placeholder; then the rules
that read what the pairs left (Terraform's new value after a redacted old one) and loose text
(a secret told in words), and a table's header a placeholder made short enough to read;
personal data last. Within each module the rules keep their order for the same reasons, told
beside them.
"""

from __future__ import annotations

from triage.redact.binds import BIND_RULES
from triage.redact.calls import CALL_RULES
from triage.redact.cloud import CLOUD_RULES
from triage.redact.commands import COMMAND_RULES
from triage.redact.continued import INI_CONTINUED_RULES
from triage.redact.grouped import GROUPED_RULES
from triage.redact.hex_runs import HEX_RULES
from triage.redact.keyed_calls import KEYED_CALL_RULES
from triage.redact.logins import LOGIN_RULES
from triage.redact.macaroons import MACAROON_RULES
from triage.redact.markup import MARKUP_RULES
from triage.redact.pairs import CHANGED_VALUE_RULES, PAIR_RULES, TOLD_RULES
from triage.redact.personal import PERSONAL_RULES
from triage.redact.positional import POSITIONAL_RULES
from triage.redact.redis import REDIS_RULES
from triage.redact.reprs import REPR_RULES
from triage.redact.rule import _Rule
from triage.redact.sections import JSON_TABLE_AGAIN_RULES, SECTION_RULES
from triage.redact.tables import TABLE_AGAIN_RULES, TABLE_RULES
from triage.redact.tokens import TOKEN_RULES
from triage.redact.vault import VAULT_RULES
from triage.redact.vendor_ids import VENDOR_ID_RULES
from triage.redact.web import HEADER_RULES, URL_RULES

_RULES: tuple[_Rule, ...] = (
    *GROUPED_RULES,  # grouped: an AWS key id or a GitHub token written in spaced groups
    *TOKEN_RULES,  # tokens: private keys, hashes, JWTs, webhook URLs, vendors' tokens
    *MACAROON_RULES,  # macaroons: LND's, Juju's, by their serialised shape
    *HEX_RULES,  # hex_runs: a secret written as hex, a hex dump's rows
    *CLOUD_RULES,  # cloud: AWS signatures and keys, Datadog, Azure
    *HEADER_RULES,  # web: Bearer, Authorization, Cookie; a URL's user and password
    *VENDOR_ID_RULES,  # vendor_ids: GCS HMAC and Spaces key ids, Okta's SSWS outside a header
    *VAULT_RULES,  # vault: unseal and recovery keys, secrets in vault's Key/Value table
    *COMMAND_RULES,  # commands: passwords on a command line
    *POSITIONAL_RULES,  # positional: a password by its place in a command or a call
    *REPR_RULES,  # reprs: a password by its place in a printed value with no names
    *KEYED_CALL_RULES,  # keyed_calls: a signing or cipher key by its place in a call
    *LOGIN_RULES,  # logins: sessions by shape, user:password, expect's send, SNMP communities
    *URL_RULES,  # web: a URL's query, fragment and path
    *MARKUP_RULES,  # markup: XML, SQL, Kubernetes env, validators, PHP
    *CALL_RULES,  # calls: a literal default beside a secret's name in code
    *TABLE_RULES,  # tables: a column named like a secret
    *BIND_RULES,  # binds: a value an ORM logs bound by its place to a secret's column
    *SECTION_RULES,  # sections: every value below a key named like secrets
    *PAIR_RULES,  # pairs: a value by the name before it
    *REDIS_RULES,  # redis: AUTH, CONFIG SET, ACL rules
    *INI_CONTINUED_RULES,  # continued: an INI value's indented lines below a secret's
    *CHANGED_VALUE_RULES,  # pairs: Terraform's new value after a redacted old one
    *TOLD_RULES,  # pairs: a secret told in words
    *TABLE_AGAIN_RULES,  # tables: a header a placeholder above made short enough to read
    *JSON_TABLE_AGAIN_RULES,  # sections: … and inside a JSON string
    *PERSONAL_RULES,  # personal: e-mail addresses, card numbers
)
