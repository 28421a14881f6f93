"""A password by its place in a value's printed form with no names: a Scala case class's
`toString` (`DbCredentials(app,s3cret,db:5432)`), a Rust tuple struct's `Debug`
(`Credentials("app", "s3cret")`), a positional record or tuple a log prints. Only where the
places are certain: the type names a credential (`…Credentials`, `…Creds`, `…Login`,
`…BasicAuth`, `…Dsn`) and holds a user then its password, alone or beside a `host:port` at
either end; or the type names a database's settings (`DbConfig`, `PostgresSettings`) in that
same shape and the value there is random-looking, which a schema's or a database's name
(`DbConfig(orders,public,db:5432)`) is not.
"""

from __future__ import annotations

import re

from triage.redact.names import _kept_value, secret_named
from triage.redact.rule import _Rule, _rule, _short_random, _token_like

_PLACEHOLDER = "[REDACTED:password]"

#: A type that names a credential: the user and the password are its fields.
_CREDENTIAL_TYPE = re.compile(r"(?:Credentials?|Creds|Login|BasicAuth|Dsn|DSN)\Z")
#: One argument: a word without spaces, commas or brackets, maybe quoted (Rust's `Debug`).
_ARG = r"""(?P<q{n}>"?)(?P<a{n}>[^\s,()"'\[\]{{}}]{{1,512}}+)(?P=q{n})"""
_SEP = r",[ \t]?"
#: A host and its port.
_HOST_PORT = re.compile(r"[A-Za-z0-9_.-]{1,253}:[0-9]{1,5}")
#: A user's name: a login, maybe an e-mail or a domain's account.
_USER = re.compile(r"[A-Za-z0-9_.@+\\-]{1,128}")

_REPR = (
    r"(?<![\w$.])(?P<type>(?:[A-Z][A-Za-z0-9]{0,63}?)?"
    r"(?:Credentials?|Creds|Login|BasicAuth|Dsn|DSN|Config|Conf|Settings|Params|Info))"
    r"\(" + _ARG.format(n=1) + _SEP + _ARG.format(n=2) + rf"(?:{_SEP}" + _ARG.format(n=3) + r")?\)"
)
#: A type whose name says its fields are a database's or a broker's settings.
_DATABASE_TYPE = re.compile(
    r"(?:Db|DB|Database|DataSource|Datasource|Jdbc|Sql|SQL|Postgres|Pg|PG|Mysql|MySql|MySQL"
    r"|Mongo|Redis|Amqp|Rabbit|Ldap|Smtp)(?:Config|Conf|Settings|Params|Info)\Z"
)


def _secret_place(match: re.Match[str]) -> int | None:
    """Which argument (1-3) is the password, by the shape of the arguments: (user, password),
    (user, password, host:port) or (host:port, user, password); None for any other."""
    args = [match[f"a{n}"] for n in (1, 2, 3) if match[f"a{n}"] is not None]
    host_last = len(args) == 3 and _HOST_PORT.fullmatch(args[2]) is not None
    if len(args) == 2 or (host_last and not _HOST_PORT.fullmatch(args[0])):
        user, place = args[0], 2
    elif _HOST_PORT.fullmatch(args[0]) and not _HOST_PORT.fullmatch(args[2]):
        user, place = args[1], 3
    else:
        return None
    return place if _USER.fullmatch(user) else None


#: The first parameter of a signature or a call that passes variables (`Credentials(user,
#: password)`, `BasicAuth(self, token)`): names, not a printed value's user.
_PARAMETER_USER = frozenset({"user", "username", "usr", "u", "login", "name", "self", "this"})


def _code(match: re.Match[str], value: str) -> bool:
    """Whether the arguments read as code's, not a printed value's: a number, a value shorter
    than any password, one that names a secret (`password`, `pw`, `token`: a variable), or a
    user that is a parameter's name (`_PARAMETER_USER`)."""
    users = [match["a1"], match["a2"]]
    return (
        value.isdigit()
        or len(value) < 4
        or secret_named(value)
        or value.lower() in _SECRET_VARIABLES
        or any(user.lower() in _PARAMETER_USER for user in users)
    )


#: Variables' names for a password that `secret_named` does not count as one alone.
_SECRET_VARIABLES = frozenset({"pass", "passwd", "pwd", "secret", "token", "key", "creds"})


def _repr_password(match: re.Match[str]) -> str:
    """The printed value with its password replaced (`_secret_place`), its quotes kept;
    unchanged when the type names no credential, or names a database's settings and the value
    is not random-looking, or the value is a state word or masked (`_kept_value`)."""
    kind = match["type"]
    place = _secret_place(match)
    if place is None:
        return match[0]
    value = match[f"a{place}"]
    credential = _CREDENTIAL_TYPE.search(kind) is not None
    if not credential:
        if _DATABASE_TYPE.search(kind) is None or not (_token_like(value) or _short_random(value)):
            return match[0]
        if place == 2 and match["a3"] is None:
            return match[0]  # two fields of a database's settings are no user and password
    if value.startswith("[REDACTED") or _kept_value("password", value) or _code(match, value):
        return match[0]
    start, end = match.start(f"a{place}") - match.start(), match.end(f"a{place}") - match.start()
    return f"{match[0][:start]}{_PLACEHOLDER}{match[0][end:]}"


REPR_RULES: tuple[_Rule, ...] = (
    _rule(
        _REPR,
        _repr_password,
        *("credential", "creds(", "login(", "basicauth(", "dsn(", "config(", "conf("),
        *("settings(", "params(", "info("),
        fold_needles=True,
    ),
)
