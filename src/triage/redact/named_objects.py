"""A name/value object as JSON text whose value does not follow its name at once: SSM's
Parameter (`{"Name": "/app/api_key", "Type": "SecureString", "Value": …}`), an ECS or
Kubernetes env entry with `valueFrom` between, a tag or a parameter written value first. Its
fields are read as `Redactor.value` reads such an object (`names._named_secret`), so the text
loses what the JSON loses. (The usual order, the value right after its name, is markup's.)
Python prints such an object as a dict (Ansible's loop items, `(item={'key': 'db_password',
'value': …})`): its single-quoted fields are read alike.
"""

from __future__ import annotations

import re

from triage.redact.named_values import COOKIE_ATTRIBUTES, cookie_session_value
from triage.redact.names import _VALUE_KEYS, _kept_value, _named_secret
from triage.redact.rule import _Rule, _rule

#: One flat object (no object or list inside): its fields, between its braces.
_FLAT_OBJECT = r"\{(?P<body>[^{}\[\]]{1,4096}+)\}"
#: A field whose value is a string, raw (`"Name": "…"`; as Python prints a dict, `'Name': '…'`,
#: or `"…"` around a value holding `'`) or inside a JSON string (`\"Name\": \"…\"`, where
#: `\\\"` is a quote inside the value and `\"` ends it).
_RAW_FIELD = re.compile(
    r"""(?P<kq>["'])(?P<key>[\w.-]{1,64}+)(?P=kq)[ \t]{0,3}:[ \t]{0,3}"""
    r"""(?P<vq>["'])(?P<value>(?:(?!(?P=vq))[^\\]|\\.){0,4096}+)(?P=vq)"""
)
_ESCAPED_FIELD = re.compile(
    r'\\"(?P<key>[\w.-]{1,64}+)\\"[ \t]{0,3}:[ \t]{0,3}\\"'
    r'(?P<value>(?:[^"\\]|\\\\\\"|\\[^"]){0,4096}+)\\"'
)


#: A key of a cookie's attributes (`COOKIE_ATTRIBUTES`) in an object's text, whatever its
#: value (`"httpOnly": true` is no string field).
_COOKIE_KEY = re.compile(rf"""\\?["']({"|".join(sorted(COOKIE_ATTRIBUTES))})\\?["'][ \t]{{0,3}}:""")


def _cookie_keys(body: str) -> frozenset[str]:
    """The cookie's attributes (`COOKIE_ATTRIBUTES`) an object's text names among its keys."""
    return frozenset(_COOKIE_KEY.findall(body))


def _placeholder(name: str | None, cookie: frozenset[str], value: str) -> str | None:
    """What stands for a name/value object's `value`: `[REDACTED:password]` when its `name`
    says secret and the value is none such a name keeps (`_kept_value`), `[REDACTED:cookie]`
    when the object is a cookie's (its keys `cookie`) and the value a session's
    (`cookie_session_value`), as a `Cookie:` header's; None when neither."""
    if name is not None and not _kept_value(name, value):
        return "[REDACTED:password]"
    if cookie_session_value(cookie, value):
        return "[REDACTED:cookie]"
    return None


def _object_values(match: re.Match[str]) -> str:
    """The object with each value field (`Value`, `value`, `ParameterValue`) replaced when its
    name field says secret (`_named_secret`) and the value is none a secret's name keeps
    (`_kept_value`: a placeholder, a state word), or when the object is a cookie's and the
    value a session's (`cookie_session_value`); else the match unchanged."""
    body = match["body"]
    fields = _ESCAPED_FIELD if '\\"' in body[: body.find('"') + 1] else _RAW_FIELD
    found = list(fields.finditer(body))
    named = {field["key"]: field["value"] for field in found}
    # Azure's listKeys names its key by "keyName": a rule of markup's, with its own placeholder.
    name = None if "keyName" in named else _named_secret(named)
    cookie = _cookie_keys(body)
    if name is None and not cookie:
        return match[0]
    pieces, last = ["{"], 0
    for field in found:
        value = field["value"]
        if field["key"] not in _VALUE_KEYS or value.startswith("[REDACTED"):
            continue
        placeholder = _placeholder(name, cookie, value)
        if placeholder is not None:
            pieces += (body[last : field.start("value")], placeholder)
            last = field.end("value")
    if last == 0:
        return match[0]
    return "".join((*pieces, body[last:], "}"))


NAMED_OBJECT_RULES: tuple[_Rule, ...] = (
    _rule(_FLAT_OBJECT, _object_values, 'alue"', 'alue\\"', "alue'"),
)
