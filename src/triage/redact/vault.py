"""Rules for what HashiCorp Vault's CLI and API print that is a secret: `vault operator init`'s
unseal and recovery keys (its text lines and its JSON), a key given to `vault operator unseal`
(or `generate-root`, `rekey`), and a secret's row in the Key/Value table vault prints for a
read or a write (an AppRole's `secret_id`, a wrapping token, a KV secret's `password`).
"""

from __future__ import annotations

import re

from triage.redact.named_values import named_value_secret
from triage.redact.rule import _Rule, _rule

#: An unseal or recovery key: base64 (or hex, before Vault 0.10), with its padding.
_KEY = r"[A-Za-z0-9+/]{16,512}={0,2}"
#: The fields of Vault's own output that are secrets whatever they look like: an AppRole
#: secret id, tokens, the keys of an init. Their `_accessor`, `_ttl`, `_num_uses` are not.
_VAULT_SECRETS = frozenset(
    {
        "secret_id",
        "token",
        "client_token",
        "wrapping_token",
        "root_token",
        "unseal_keys_b64",
        "unseal_keys_hex",
        "recovery_keys_b64",
        "recovery_keys_hex",
    }
)
#: A row of vault's Key/Value table: the key, then two spaces or more (or `:` and spaces, as a
#: wrapped response's rows are written), then the value to the line's end.
_TABLE_ROW = re.compile(
    r"(?m)^([A-Za-z0-9_.-]{1,64}(?::[ \t]{1,64}|[ \t]{2,64}))([^\s].{0,4096}?)[ \t]{0,64}$"
)
#: An item of a YAML list of keys: its `- `, then the key.
_YAML_ITEM = re.compile(r"(-[ \t]{1,4})(?!\[REDACTED)[^\s]{1,1024}")
#: Inside a JSON array of keys: each string.
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.){1,1024}"')


def _table(match: re.Match[str]) -> str:
    """Vault's Key/Value table with the value of each secret's row replaced: a field of Vault
    that is a secret (`_VAULT_SECRETS`), or a value the name it stands under makes secret."""

    def row(found: re.Match[str]) -> str:
        name = found[1].rstrip(": \t")
        if name.lower() in _VAULT_SECRETS or named_value_secret(name, found[2]):
            return f"{found[1]}[REDACTED:password]"
        return found[0]

    header, rows = match[1], match[2]
    return header + _TABLE_ROW.sub(row, rows)


def _key_list(match: re.Match[str]) -> str:
    """A JSON array of unseal or recovery keys with each key replaced."""
    return match[1] + _JSON_STRING.sub('"[REDACTED:password]"', match[2])


VAULT_RULES: tuple[_Rule, ...] = (
    # `vault operator init`'s lines: `Unseal Key 1: <key>`, `Recovery Key 1: <key>`.
    _rule(
        rf"((?:Unseal|Recovery) Key [0-9]{{1,2}}:[ \t]{{0,8}}){_KEY}(?![A-Za-z0-9+/=])",
        r"\1[REDACTED:password]",
        "nseal key ",  # not `u`: a first letter no other folded needle starts with
        "recovery key ",
        fold_needles=True,
    ),
    # … its JSON (`-format=json`, the sys/init API): every key of the arrays that hold them.
    _rule(
        r'("(?:unseal|recovery)_keys(?:_b64|_hex)?"[ \t]{0,4}:[ \t\r\n]{0,16}\[)([^\]]{0,65536})',
        _key_list,
        "_keys",
    ),
    _rule(r'("keys_base64"[ \t]{0,4}:[ \t\r\n]{0,16}\[)([^\]]{0,65536})', _key_list, "keys_base64"),
    # … and its YAML (`-format=yaml`): each item of the lists under those keys.
    _rule(
        r"((?:(?:unseal|recovery)_keys(?:_b64|_hex)?|keys_base64):[ \t]{0,8})"
        r"((?:\r?\n[ \t]{0,16}-[ \t]{1,4}[^\s]{1,1024}){1,64})",
        lambda m: m[1] + _YAML_ITEM.sub(r"\1[REDACTED:password]", m[2]),
        "_keys",
        "keys_base64",
    ),
    # A key given on the command line: the last word after the options (a flag's value is
    # `=`-joined or a separate word; a nonce, a UUID, is no key's shape).
    _rule(
        r"(vault[ \t]{1,8}operator[ \t]{1,8}(?:unseal|generate-root|rekey)"
        r"(?:[ \t]{1,8}-{1,2}[A-Za-z][A-Za-z0-9-]{0,31}(?:=[^\s]{0,256}|[ \t]{1,8}[^\s-][^\s]{0,256})?){0,8}"
        rf"[ \t]{{1,8}}['\"]?){_KEY}(?![^\s'\"])",
        r"\1[REDACTED:password]",
        "operator",
    ),
    # The Key/Value table vault prints (`Key  Value`, then `---  -----`): each row until a
    # line that is blank.
    _rule(
        r"(?m)(^Key[ \t]{2,64}Value[ \t]{0,64}\r?\n-{3}[ \t]{2,64}-{5}[ \t]{0,64})((?:\r?\n[^\r\n]{1,4200}){1,256})",
        _table,
        "key ",
        fold_needles=True,
    ),
)
