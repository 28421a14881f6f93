"""Whether a value is a secret by the name it stands under: one answer for a JSON key's value
(`Redactor.value`), a label's or a link's (`view.redacted_pair_value`) and a form's field the
gateway drops (`ingest.credentials`), so that they keep and blank the same values as the text
rules do for `name=value`.

`blanked_by_name` is the one question they ask: a name (read loosely, `loose_spellings`) and
its value, a name/value object's value, a [name, value] pair's value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from triage.redact.logins import _SESSION_VALUE_WHOLE, _session_shaped, login_named_value
from triage.redact.names import (
    _VALUE_KEYS,
    _kept_value,
    _object_name,
    public_named,
    secret_named,
    shape_named_value,
)
from triage.redact.pairs import key_named_value
from triage.unseen import draws_nothing

#: A JSON Web Key's private members (RFC 7518): `d` of an EC, OKP or RSA key, an RSA key's
#: primes and CRT values, an oct key's `k`; the public ones (`n`, `e`, `x`, `y`) stay. The text
#: rule (`markup._jwk_private_members`) blanks the same members of a JWK written as text.
_JWK_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})

#: Categories of characters a name may hide in that a server reading it loosely drops:
#: controls (NUL), format characters (a soft hyphen, zero-width ones) and unassigned or
#: private ones. The ones of other categories that draw nothing (Hangul fillers, the blank
#: Braille cell) are `triage.unseen`'s: `hidden_in_name` asks both.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs"})


def hidden_in_name(ch: str) -> bool:
    """Whether `ch` is left out of a name read loosely: a control, format, unassigned or
    private character, or one that draws nothing (`draws_nothing`: `pass\u3164word` and
    `to\u2800ken` read as `password` and `token`)."""
    return unicodedata.category(ch) in _UNSEEN_CATEGORIES or draws_nothing(ch)


def loose_spellings(name: str) -> tuple[str, ...]:
    """`name` as sent, and as a server reading it loosely reads it: without whitespace and
    invisible characters (`hidden_in_name`) and a PHP-style `[]` after it (`pass[]`, `pa\u200bss`,
    ` pass `), and case-folded (a long s folds to an `s`). A plain ASCII name is its only spelling: every
    test of a name ignores its case where it should."""
    if name.isascii() and name.isprintable() and " " not in name and not name.endswith("[]"):
        return (name,)
    cleaned = "".join(
        ch for ch in name if not ch.isspace() and not hidden_in_name(ch)
    ).removesuffix("[]")
    return tuple(dict.fromkeys((name, cleaned, cleaned.casefold())))


def _empty(value: object) -> bool:
    """Nothing to hide: no value, an empty string or list."""
    return value is None or value == "" or value == []


def _named(name: str, value: object) -> bool:
    """`named_value_secret` of `value`, or of any item of a list `value` (`{"pass": [<secret>,
    "x"]}`: a name judged by its value's shape judges each item)."""
    if named_value_secret(name, value):
        return True
    return isinstance(value, list | tuple) and any(
        not isinstance(item, list | tuple | dict) and named_value_secret(name, item)
        for item in value
    )


#: The attributes a cookie written as a name/value object holds beside them (a HAR file's
#: `cookies`, a browser's cookie jar, Playwright's storage state, Selenium's `get_cookies()`):
#: `path` and `expires` aside, which other objects hold too.
COOKIE_ATTRIBUTES = frozenset(
    {"domain", "httpOnly", "hostOnly", "sameSite", "secure", "expirationDate"}
)


def cookie_session_value(keys: Iterable[str], value: object) -> bool:
    """Whether `value`, the value of a name/value object with `keys` of which one is a cookie's
    attribute (`COOKIE_ATTRIBUTES`), is a session's: token characters, 16 or more, shaped
    like a session's id (`_session_shaped`). A `Cookie:` header loses every value; a cookie's
    object loses its login whatever the cookie is called (`sid`, `session`, `auth_v2`), and
    keeps a setting or an analytics id (`dark`, `en-US`, `GA1.1.123456789.1700000000`)."""
    return (
        isinstance(value, str)
        and not COOKIE_ATTRIBUTES.isdisjoint(keys)
        and _SESSION_VALUE_WHOLE.fullmatch(value) is not None
        and _session_shaped(value)
    )


def blanked_by_name(key: str, value: object, obj: Mapping[Any, Any] | None = None) -> bool:
    """True if `value`, standing under `key` (a JSON key, a [name, value] pair's name, a form
    field's name) in `obj` (the object holding it, when there is one), is blanked for the name
    it stands under: the name, in any of its loose spellings (`loose_spellings`), says so of
    it or of an item of it (`named_value_secret`); or `obj` is a name/value object (`{"name":
    "DB_PASSWORD", "value": …}`) whose name says so of the value under its value's key, or a
    cookie's object holding a session's value (`cookie_session_value`). No
    value, an empty string or list, is never blanked; a JSON Web Key's private member
    (`_jwk_private`) always is."""
    if _empty(value):
        return False
    if obj is not None and _jwk_private(key, obj):
        return True
    spellings = loose_spellings(key)
    if _named(key, value) or (len(spellings) > 1 and any(_named(s, value) for s in spellings[1:])):
        return True
    if obj is None or key not in _VALUE_KEYS:
        return False
    if cookie_session_value(obj, value):
        return True
    name = _object_name(obj)
    return name is not None and any(_named(spelling, value) for spelling in loose_spellings(name))


def blanked_placeholder(
    key: str, value: object, obj: Mapping[Any, Any] | None = None
) -> str | None:
    """What stands for `value` under `key` in `obj` when its name blanks it (`blanked_by_name`),
    else None: a JSON Web Key's private member (`_jwk_private`) is `[REDACTED:private-key]`,
    the label the text rule (`markup._jwk_private_members`) gives the same member, so a key
    reads alike in a JSON value and in text; any other value `[REDACTED:password]`."""
    if not blanked_by_name(key, value, obj):
        return None
    if obj is not None and _jwk_private(key, obj):
        return "[REDACTED:private-key]"
    return "[REDACTED:password]"


def _jwk_private(key: str, obj: Mapping[Any, Any]) -> bool:
    """Whether `key` is a private member (`_JWK_PRIVATE`) of `obj`, a JSON Web Key: it has a
    `kty` string. A `d` or `k` elsewhere names other things (a diff's, a sort's)."""
    return key in _JWK_PRIVATE and isinstance(obj.get("kty"), str)


#: Terraform CLI's API token for a host: an environment variable named after the host
#: (`TF_TOKEN_app_terraform_io`), whose last word is no secret's. A variable given as the
#: token (`$TFC_TOKEN`) is none.
_HOST_TOKEN_NAME = re.compile(r"TF_TOKEN_[A-Za-z0-9_-]{1,253}")


def _host_token(name: str, value: object) -> bool:
    """Whether `value` is Terraform's token for the host `name` names (`_HOST_TOKEN_NAME`)."""
    return (
        isinstance(value, str)
        and not value.startswith("$")
        and _HOST_TOKEN_NAME.fullmatch(name) is not None
    )


#: The longest name and string value whose answer `named_value_secret` remembers: an alert's
#: labels and payload fields are asked of several times each (the view, its payload's
#: redaction, the excerpt), most of them short.
_REMEMBERED_PAIR_CHARS = 256


def named_value_secret(name: str, value: object) -> bool:
    """`_named_value_secret`, remembered for a short name and string value (the answer is a
    function of the two strings alone); any other value (a number, a boolean: `True == 1`)
    is judged each time."""
    if (
        type(value) is str
        and type(name) is str
        and len(name) + len(value) <= _REMEMBERED_PAIR_CHARS
    ):
        return _remembered_named_value_secret(name, value)
    return _named_value_secret(name, value)


@lru_cache(maxsize=4096)
def _remembered_named_value_secret(name: str, value: str) -> bool:
    return _named_value_secret(name, value)


def _named_value_secret(name: str, value: object) -> bool:
    """True if `value`, under `name`, is a secret: a secret's name (`secret_named`) with a
    value the text keeps under it too aside (`_kept_value`: a state word, a count, a setting,
    a plural's count); a key's name with a key's shape (`key_named_value`); a session's id,
    an SNMP community, a `creds` pair (`login_named_value`); a name only the value's shape
    makes secret with that shape (`shape_named_value`: `pass`, `session`, `jwt`); Terraform's
    token for a host (`_host_token`). Nothing and
    an empty string are no secret, nor is a value under a public key's name (`public_named`)."""
    if value is None or value == "" or public_named(name):
        return False
    return (
        (secret_named(name) and not _kept_value(name, value))
        or key_named_value(name, value)
        or login_named_value(name, value)
        or shape_named_value(name, value)
        or _host_token(name, value)
    )
