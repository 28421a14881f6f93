"""Whether a value is a secret by the name it stands under: one answer for a JSON key's value
(`Redactor.value`) and a label's or a link's (`view.redacted_pair_value`), so that the two
keep and blank the same values as the text rules do for `name=value`.
"""

from __future__ import annotations

from triage.redact.logins import login_named_value
from triage.redact.names import _kept_value, public_named, secret_named, shape_named_value
from triage.redact.pairs import key_named_value


def named_value_secret(name: str, value: object) -> bool:
    """True if `value`, under `name`, is a secret: a secret's name (`secret_named`) with a
    value the text keeps under it too aside (`_kept_value`: a state word, a count, a setting,
    a plural's count); a key's name with a key's shape (`key_named_value`); a session's id,
    an SNMP community, a `creds` pair (`login_named_value`); a name only the value's shape
    makes secret with that shape (`shape_named_value`: `pass`, `session`, `jwt`). Nothing and
    an empty string are no secret, nor is a value under a public key's name (`public_named`)."""
    if value is None or value == "" or public_named(name):
        return False
    return (
        (secret_named(name) and not _kept_value(name, value))
        or key_named_value(name, value)
        or login_named_value(name, value)
        or shape_named_value(name, value)
    )
