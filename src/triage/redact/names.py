"""Names that say a value is a secret (`password`, `DB_PASSWORD`, `x-api-key`, `clientSecret`),
and the values under such a name that are none (a template's placeholder, a word saying the
secret's state, a plural name's count, a bare `PWD`'s path). Shared by the rules that read a
value by its name and by `Redactor.value`, which blanks a JSON key's value by its name, so that
both keep the same values.
"""

from __future__ import annotations

import re
from typing import Any

from triage.redact.rule import _START, _spellings

#: JSON keys whose values are secrets whatever they look like (compared lower-case, and
#: ignoring `-` and `_`, so `api-key`, `API_KEY` and `apiKey` all match `apikey`). Keys that
#: merely end in such a name (`DB_PASSWORD`, `x-api-key`, `clientSecret`) count too.
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pw",
        "secret",
        "clientsecret",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "apikey",
        "authorization",
        "auth",
        "cookie",
        "cookies",
        "setcookie",
        "proxyauthorization",
        "sessionid",
        "csrftoken",
        "privatekey",
        "secretaccesskey",
        "awssecretaccesskey",
        "sessiontoken",
        "awssessiontoken",
        "dsn",
        "connectionstring",
        "credentials",
        "signingkey",
        "encryptionkey",
        "clientkeydata",
        "routingkey",
        "servicekey",
        "integrationkey",
        "licensekey",
        "insertkey",
        "masterkey",
        "authkey",
        "sentrykey",
    }
)


_API_KEY_NEEDLES = (*_spellings("api", "key"), "api key")
#: A value that is wholly a template's placeholder, quoted or not, says where the secret comes
#: from, not what it is: GitHub Actions' `${{ secrets.X }}`, Helm's and Jinja's `{{ .Values.x }}`
#: (no quoted literal inside), the shell's `${DB_PASSWORD}` and `$DB_PASSWORD` (one case only:
#: `$Tr0ngPa55` is a password), printf's `%s` and `%(pw)s`. `_TEMPLATE_VALUE` is a lookahead:
#: the value is kept.
_PLACEHOLDER = (
    r"(?:\$?\{\{[\w.$| \t-]{1,256}+\}\}"
    r"|\$\{[A-Za-z_][\w.]{0,127}+(?::?[-=])?\}"
    r"|(?-i:\$(?:[A-Z_][A-Z0-9_]{0,127}+|[a-z_][a-z0-9_]{0,127}+))"
    r"|%(?:\([A-Za-z_]\w{0,63}+\))?[sdr])"
)
_TEMPLATE_VALUE = r"""(?!\\?["']?""" + _PLACEHOLDER + r"""\\?["']?(?:[\s&;,"'}\\]|$))"""
#: … the same, for a JSON value (`Redactor.value`): the whole string is the placeholder.
_PLACEHOLDER_VALUE = re.compile(_PLACEHOLDER, re.IGNORECASE)

#: A name whose value is a secret: one of these words, alone or as the last part of a longer
#: name (`DB_PASSWORD`, `x-api-key`, `clientSecret`, `aws.secret.key`), optionally followed by
#: `key`/`access_key`/`value`. Not after `<12 digits>:`, where `secret:` is part of an ARN.
#: The words' first letters are tested first: one cheap test fails at most positions of a long
#: text, before the look-behinds.
_SECRET_WORD = (
    # A token's kind may be glued to it: ngrok's authtoken, an ACCESSTOKEN.
    r"(?:pass(?:word|wd|phrase)s?|pwd?|secrets?|token|authtoken|accesstoken|refreshtoken"
    r"|sessiontoken"
    r"|api[ _.-]?key|access[_.-]?key|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key"
    # Vendors' own names for a key: PagerDuty's routing/service/integration key, New Relic's
    # license/insert key, Rails' master key, Cloudflare's X-Auth-Key, Azure's subscription and
    # functions keys, Datadog's and Algolia's application key, LaunchDarkly's SDK key, Azure
    # Storage's account key (AZURE_STORAGE_KEY: a bare storage key is an object's path).
    r"|(?:routing|service|integration|license|insert|master|auth|subscription|functions"
    r"|app(?:lication)?|sdk|azure[_.-]?storage(?:[_.-]?account)?)[_.-]?key)"
)
_SECRET_NAME = (
    rf"(?=[pstaerilmf])(?<![0-9]{{12}}:)"
    rf"(?:(?:{_START}|(?-i:(?<=[a-z0-9])(?=[A-Z]))){_SECRET_WORD}"
    # Glued to what it is for (PGPASSWORD, dbpassword), or a short last part (REDIS_PASS,
    # and sshpass's variable SSHPASS, upper case: `sshpass: command not found` stays).
    r"|pass(?:word|wd|phrase)s?|(?<=[A-Za-z0-9][_.-])pass(?![A-Za-z])"
    # A personal access token's short name as a last part (GITHUB_PAT, AZURE_DEVOPS_EXT_PAT).
    r"|(?<=[A-Za-z0-9][_.-])pat(?![A-Za-z0-9])"
    r"|(?-i:(?<=(?<![A-Za-z0-9])SSH)PASS(?![A-Za-z])))"
    r"(?:[_.-]?(?:access[_.-]?)?key(?:[_.-]base)?|[_.-]value)?"
)
_SECRET_NAME_NEEDLES = (
    "pass",
    "pw",
    "secret",
    "token",
    *_spellings("signing", "key"),
    "_pat",
    "-pat",
    ".pat",
    *(
        spelling
        for word in (
            *("routing", "service", "integration", "license", "insert", "master"),
            *("app", "application", "sdk"),
        )
        for spelling in _spellings(word, "key")
    ),
    *_spellings("storage", "key"),
    *_spellings("account", "key"),
    *_spellings("auth", "key"),
    *_spellings("subscription", "key"),
    *_spellings("functions", "key"),
    *_spellings("encryption", "key"),
    *_API_KEY_NEEDLES,
    *_spellings("access", "key"),
    *_spellings("private", "key"),
)


#: An absolute path, quoted or not: the value of a bare `PWD` (the working directory).
_PATH_VALUE = re.compile(r"""(\\?["']?)/[\w.~@+:/-]{0,1024}\1""")


def _working_directory(match: re.Match[str]) -> bool:
    """A bare `pwd`/`PWD` (no prefix: not `db_pwd`) whose value is an absolute path: the
    shell's working directory, not a password."""
    start = match.start("name")
    before = match.string[start - 1 : start]
    return (
        match["name"].lower() == "pwd"
        and not (before.isalnum() or before in ("_", ".", "-"))
        and _PATH_VALUE.fullmatch(match["value"]) is not None
    )


def _kept_value(name: str, value: object) -> bool:
    """True for a JSON value under a secret's name (`name`) that the text rules keep too: a
    bare `pwd`'s absolute path (`_working_directory`), a value that is wholly a template's
    placeholder with no literal (`_TEMPLATE_VALUE`), a boolean or a word saying the secret's
    state (`_STATE_WORDS`, masked `****`), a plural name's count (`_counted`)."""
    if isinstance(value, bool):
        return True
    plural = name.lower().endswith(_PLURALS)
    if isinstance(value, int):
        return plural and 0 <= value < 1_000_000
    if not isinstance(value, str):
        return False
    if name.lower() == "pwd" and _PATH_VALUE.fullmatch(value) is not None:
        return True
    if plural and len(value) <= 6 and value.isdigit():
        return True
    return (
        _PLACEHOLDER_VALUE.fullmatch(value) is not None or _STATE_VALUE.fullmatch(value) is not None
    )


#: Values that say what state a secret is in, not what it is (MySQL's "(using password: YES)",
#: "password: null", "token: expired"), as a pattern's alternatives.
_STATE_WORDS = (
    "YES|NO|null|none|true|false|rotated|expired|required|changed|missing|invalid|empty|unset"
    "|hidden|masked|redacted|omitted|incorrect|wrong"
    "|not[ \t](?:set|provided|configured|found|required|available|present)"
)

_STATE_VALUE = re.compile(rf"{_STATE_WORDS}|\*{{3,64}}", re.IGNORECASE)
#: How a plural secret name ends (`passwords`, `DB_PASSWDS`, `passphrases`, `secrets`).
_PLURALS = ("words", "wds", "phrases", "secrets")


def _counted(match: re.Match[str]) -> bool:
    """A plural name (`passwords`, `secrets`) whose value is a bare number of up to 6 digits:
    a count (`passwords: 3 rotated`), not a secret."""
    value = match["value"]
    return match["name"].lower().endswith(_PLURALS) and len(value) <= 6 and value.isdigit()


_SECRET_KEY = re.compile(rf"{_SECRET_NAME}\Z", re.IGNORECASE)
_SECRET_KEY_WORDS = ("pass", "pw", "secret", "token", "key", "pat")


#: The fields of a name/value object: the name's, and the value's.
_NAME_KEYS = ("name", "key", "Name", "Key")
_VALUE_KEYS = frozenset({"value", "Value"})


def _named_secret(obj: dict[Any, Any]) -> str | None:
    """The name of a name/value object whose name says its value is a secret, else None."""
    if "value" not in obj and "Value" not in obj:
        return None
    for field in _NAME_KEYS:
        name = obj.get(field)
        if isinstance(name, str):
            return name if secret_named(name) else None
    return None


#: A credential-carrying header's name as the last part of a longer key: CGI's, Rack's and
#: PHP's `HTTP_COOKIE` / `HTTP_AUTHORIZATION` (error trackers send the request's environment),
#: OpenTelemetry's `http.request.header.cookie`, a proxy's `X-Forwarded-Authorization`.
_HEADER_SECRET = re.compile(
    r"[_.-](?:set[_-]?)?cookies?\Z|[_.-](?:proxy[_-]?)?authorization\Z", re.I
)


def secret_named(key: str) -> bool:
    """True if `key` (a JSON key, a label name) says its value is a secret: `password`,
    `DB_PASSWORD`, `x-api-key`, `clientSecret`, `HTTP_COOKIE` …, whatever its value looks
    like."""
    folded = key.lower().replace("-", "").replace("_", "")
    if folded in SECRET_KEYS:
        return True
    if folded.endswith(("cookie", "cookies", "authorization")) and _HEADER_SECRET.search(key):
        return True
    # Most keys hold none of the words; the test for them is cheaper than the pattern's search.
    for word in _SECRET_KEY_WORDS:
        if word in folded:
            return len(key) <= 256 and _SECRET_KEY.search(key) is not None
    return False
