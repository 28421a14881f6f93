"""A signing or encryption key given by its place to a call that takes one, as a stack trace's
source line or a log of code shows it: a JWT library's `jwt.encode(payload, "…")`,
`jwt.sign(…)`, `jwt.verify(…)`, an HMAC's key (`hmac.new(b"…", …)`, `createHmac("sha256",
"…")`, `hash_hmac(algo, data, "…")`, Go's `hmac.New(sha256.New, []byte("…"))`), a cipher's
(`AES.new(b"…", …)`, `Fernet("…")`, `new SecretKeySpec("…".getBytes(), "AES")`), a session's
or a cookie's signing secret (`cookieParser("…")`, itsdangerous' serializers, Starlette's
`SessionMiddleware(app, "…")`), and Windows' `LogonUser(user, domain, "…")`. Only a literal
goes (quoted, maybe bytes, maybe wrapped in a conversion: `[]byte("…")`,
`Encoding.UTF8.GetBytes("…")`, `Buffer.from("…")`); a variable says where the key comes from
and stays, as a public key's PEM does.
"""

from __future__ import annotations

import re

from triage.redact.names import _kept_value
from triage.redact.positional import _CALL_ARGUMENTS
from triage.redact.rule import _Rule, _rule

_PLACEHOLDER = "[REDACTED:password]"

#: Each call (as written, its own case) and the place (from 0) of its key among its arguments.
_KEYED_CALLS = (
    # PyJWT, Ruby's jwt, PHP's firebase/php-jwt, Node's jsonwebtoken: the key after the payload
    # or the token.
    (r"(?i:jwt)(?:\.|::)(?:encode|decode|sign|verify)", 1),
    # HMACs: Python's hmac.new(key, …), Node's createHmac(algo, key), PHP's hash_hmac(algo,
    # data, key), Ruby's OpenSSL::HMAC.hexdigest(digest, key, data), Go's hmac.New(hash, key),
    # auth0's Algorithm.HMAC256(key), .NET's HMACSHA256(key), jjwt's Keys.hmacShaKeyFor(key).
    (r"(?<![\w$])hmac\.new", 0),
    (r"createHmac", 1),
    (r"(?<![\w$])hash_hmac", 2),
    (r"OpenSSL::HMAC\.(?:hexdigest|digest|base64digest)", 1),
    (r"(?<![\w$])hmac\.New", 1),
    (r"Algorithm\.HMAC(?:256|384|512)|(?<![\w$])HMACSHA(?:1|256|384|512)|hmacShaKeyFor", 0),
    # Ciphers' keys: PyCryptodome's AES.new(key, mode), cryptography's algorithms.AES(key),
    # Fernet(key), AESGCM(key), ChaCha20Poly1305(key); Java's SecretKeySpec(key, algo); .NET's
    # SymmetricSecurityKey(key); golang-jwt's SignedString(key).
    (r"(?<![\w$])(?:AES|DES3|Blowfish)\.new|algorithms\.AES", 0),
    (r"(?<![\w$])(?:Fernet|AESGCM|ChaCha20Poly1305|SecretKeySpec|SymmetricSecurityKey)", 0),
    (r"\.SignedString", 0),
    # Signing secrets of sessions and cookies: itsdangerous' serializers and signers, Express's
    # cookieParser(secret), Starlette's SessionMiddleware(app, secret_key).
    (r"(?<![\w$])(?:URLSafe)?(?:Timed)?Serializer|(?<![\w$])(?:Timestamp)?Signer", 0),
    (r"(?<![\w$])cookieParser", 0),
    (r"(?<![\w$])SessionMiddleware", 1),
    # Windows' LogonUser(user, domain, password, …), also pywin32's.
    (r"(?<![\w$])LogonUser[AW]?", 2),
)
_CALL = re.compile(rf"(?P<function>{'|'.join(name for name, _ in _KEYED_CALLS)}){_CALL_ARGUMENTS}")
#: Where an argument ends: a comma outside quotes and brackets (`_split`).
_OPENERS, _CLOSERS = "([{", ")]}"
#: A literal inside an argument: quoted, maybe a bytes, raw or verbatim string's prefix
#: (`b"…"`, `@"…"`), maybe inside a conversion (`[]byte("…")`, `Encoding.UTF8.GetBytes("…")`,
#: `Buffer.from("…")`) or before one (`"…".getBytes()`, `"…".encode()`).
_LITERAL = re.compile(
    r"""[ \t\r\n]*+(?:\[\]byte\(|Encoding\.\w{1,16}\.GetBytes\(|Buffer\.from\()?"""
    r"""(?:[bBrRuU@]{0,2})(?P<q>\\?["'`])(?P<value>(?:(?!(?P=q))(?:[^\\\n]|\\.)){1,1024}+)(?P=q)"""
)
#: A key that is no secret: a public key's or a certificate's PEM.
_PUBLIC = re.compile(r"-----BEGIN (?:PUBLIC KEY|CERTIFICATE|RSA PUBLIC KEY)")


def _split(args: str) -> list[tuple[int, int]]:
    """Where each of a call's arguments starts and ends in `args`: split at commas outside
    quotes and brackets."""
    spans: list[tuple[int, int]] = []
    depth, start, quote, at = 0, 0, "", 0
    while at < len(args):
        ch = args[at]
        if quote:
            if ch == "\\":
                at += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
        elif ch == "," and depth == 0:
            spans.append((start, at))
            start = at + 1
        at += 1
    spans.append((start, len(args)))
    return spans


def _place(function: str) -> int:
    return next(i for name, i in _KEYED_CALLS if re.fullmatch(name, function))


def _keyed_call(match: re.Match[str]) -> str:
    """The call with the literal at its key's place replaced (`_KEYED_CALLS`), its quotes and
    conversion kept; the call unchanged when that argument is no literal (a variable, a
    call that reads one), a placeholder, a state word or masked (`_kept_value`), or a public
    key's PEM."""
    args = match["args"]
    spans = _split(args)
    index = _place(match["function"])
    if index >= len(spans):
        return match[0]
    start, end = spans[index]
    literal = _LITERAL.match(args, start, end)
    if literal is None:
        return match[0]
    value = literal["value"]
    if value.startswith("[REDACTED") or _kept_value("password", value) or _PUBLIC.match(value):
        return match[0]
    head = match.start("args") - match.start()
    cut = head + literal.start("value"), head + literal.end("value")
    return f"{match[0][: cut[0]]}{_PLACEHOLDER}{match[0][cut[1] :]}"


KEYED_CALL_RULES: tuple[_Rule, ...] = (
    _rule(
        _CALL.pattern,
        _keyed_call,
        *("jwt.", "jwt::", "hmac", "aes.new", "des3.new", "blowfish.new", "algorithms.aes"),
        *("fernet", "aesgcm", "chacha20poly1305", "secretkeyspec", "symmetricsecuritykey"),
        *(".signedstring", "serializer", "signer", "cookieparser", "sessionmiddleware"),
        "logonuser",
        fold_needles=True,
    ),
)
