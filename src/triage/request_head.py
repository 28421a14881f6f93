"""What both HTTP ports (the webhook gateway's and the operators') require of a request head, in
one place, so that one client is never taken by one port and refused by the other: its request
line (RFC 9112 3, `request_line_fault`), its `Host` (RFC 9112 3.2), its method (RFC 9110 9.1),
its `Authorization` header's scheme and Bearer
credential (RFC 6750 2.1), and which `X-Forwarded-For` entry names its sender behind trusted
proxies; and how a path's percent-encoded characters are read (`decode_unreserved`).

Header values reach here as text: the gateway's decoded as UTF-8 (with surrogateescape), the
operators' port's as Latin-1. Either way a character that is not ASCII stays one, and only
HTTP's own whitespace, space and tab, is ever taken off a value: Python's `str.strip()` also
takes Unicode spaces (U+00A0, U+0085, U+3000, …), which would let a token followed by a
no-break space pass as the token.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

#: Header fields a request head may hold, on both ports (431 past them). A reverse proxy in
#: front forwards what its own bound lets through (Envoy, Apache httpd and Tomcat take 100
#: fields; nginx and an ALB count bytes only) and adds fields of its own (X-Forwarded-For,
#: -Proto, -Port, X-Request-Id, X-Amzn-Trace-Id, Via …), so a port that took only 100 would
#: refuse requests the proxy passed: 128 leaves room for them. It is also aiohttp's parse
#: bound on the gateway, and far more than any sender of alerts writes.
MAX_HEADER_FIELDS = 128
#: Bytes a request head may take in all, on both ports (431 past them): what an ALB lets
#: through, so that large cookies or an identity proxy's token headers in front of the
#: operators' port are not refused behind a proxy that passed them.
MAX_HEAD_BYTES = 64 * 1024

#: HTTP's whitespace (RFC 9110 5.6.3's OWS): what may surround a value and separate a scheme
#: from its credential (RFC 9110 11.4 says one or more spaces; senders that write a tab are
#: taken too).
OWS = " \t"

#: A Host value RFC 9112 3.2 accepts: RFC 3986's `host` (an IP literal in brackets, or a
#: reg-name: IPv4 and names included, possibly empty) and an optional port. No user info,
#: path or space.
_HOST = re.compile(r"(?:\[[0-9A-Za-z:.%~_-]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::[0-9]*)?")

#: A host's port (RFC 3986 3.2.3: any number of digits, possibly none) after the last colon
#: outside brackets; none past _MAX_PORT names a port (aiohttp refuses an absolute-form
#: target naming one as unreadable, so both ports refuse it, there and in Host).
_PORT = re.compile(r"(?::([0-9]*))?\Z")
_MAX_PORT = 65535

#: What is wrong with a request's Host, by the reason its refusal is logged and counted with.
#: (No colon and no quote: the gateway's answers cut there.)
HOST_FAULTS = {
    "no_host": "an HTTP/1.1 request without a Host header",
    "hosts_repeated": "more than one Host header",
    "bad_host": "a Host header that names no host",
}


def host_fault(hosts: Sequence[str], *, http_11: bool) -> str | None:
    """Why a request with these `Host` values (every one, in order) must be answered 400 (RFC
    9112 3.2: none in an HTTP/1.1 request, more than one in any, or one that names no host; a
    proxy in front may route by a Host the server would ignore), as a key of HOST_FAULTS, or
    None."""
    if not hosts:
        return "no_host" if http_11 else None
    if len(hosts) > 1:
        return "hosts_repeated"
    host = hosts[0].strip(OWS)
    if not _HOST.fullmatch(host):
        return "bad_host"
    port = _PORT.search(host)
    digits = (port[1] or "").lstrip("0") if port is not None else ""
    # (Its length first: int() refuses a number of thousands of digits.)
    if len(digits) > len(str(_MAX_PORT)) or int(digits or 0) > _MAX_PORT:
        return "bad_host"
    return None


#: The methods HTTP defines (RFC 9110 9.3, and PATCH, RFC 5789), as they are spelt: methods are
#: case-sensitive, so `get` is none of them.
DEFINED_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


def not_implemented(method: str, implemented: Collection[str]) -> bool:
    """Whether a port that takes `implemented` methods (on some path) answers `method` 501 Not
    Implemented (RFC 9110 9.1: a method the server does not recognise or implement): one
    neither HTTP defines nor the port takes (`get`, `BREW`, `PROPFIND`). A method HTTP
    defines that the path does not take is 405 naming those it takes, as it always was."""
    return method not in DEFINED_METHODS and method not in implemented


def scheme_and_credentials(authorization: str) -> tuple[str, str]:
    """An Authorization header's scheme, in lower case, and the credentials after it, without
    the space or tab around either (RFC 9110 11.4). Nothing else is taken off."""
    value = authorization.strip(OWS)
    split = next((i for i, c in enumerate(value) if c in OWS), len(value))
    return value[:split].lower(), value[split:].strip(OWS)


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None for another scheme or a
    credential no token can be. RFC 6750's b64token is letters, digits and `-._~+/`, then
    `=` padding; the tokens triage takes (`triage.ingest_tokens`, `TRIAGE_API_TOKEN`) may hold
    any visible ASCII, so that is what is read: nothing else, and no Unicode space around it,
    can be part of one."""
    scheme, token = scheme_and_credentials(authorization)
    if scheme != "bearer" or not token or not all("!" <= c <= "~" for c in token):
        return None
    return token


#: The longest X-Forwarded-For entry read as a sender: an IPv6 address with brackets and a
#: port fits; anything longer is a proxy's garbage, and a key is kept per sender.
_MAX_FORWARDED_ENTRY = 64


def forwarded_for(values: Sequence[str], trusted_proxy_hops: int) -> str | None:
    """The address the trusted proxy nearest the client saw, from a request's X-Forwarded-For
    `values` (every header, in order): each of the `trusted_proxy_hops` proxies appends the
    address it saw, so the entry that many from the end is the first no client wrote. None
    with no hops, or fewer entries than hops (a request that came past the proxies), or an
    empty entry: then the connection's peer is the sender."""
    if trusted_proxy_hops <= 0:
        return None
    entries = [entry.strip(OWS) for value in values for entry in value.split(",")]
    if len(entries) < trusted_proxy_hops or not entries[-trusted_proxy_hops]:
        return None
    return entries[-trusted_proxy_hops][:_MAX_FORWARDED_ENTRY]


_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HTTP_VERSION = re.compile(rb"HTTP/[0-9]\.[0-9]")
#: What a request target may hold (RFC 9112 3.2): visible ASCII.
_TARGET_BYTES = re.compile(rb"[\x21-\x7e]+")
_ORIGIN_FORM = re.compile(rb"/[\x21-\x7e]*")
#: An absolute-form target (RFC 9112 3.2.2, which a server MUST accept: a client that takes the
#: port for a proxy sends it): http(s), an authority, then an origin-form target, or none.
_ABSOLUTE_FORM = re.compile(
    rb"(?i:https?)://([\x21\x22\x24-\x2e\x30-\x3e\x40-\x7e]+)((?:[/?][\x21-\x7e]*)?)"
)
#: The path of a request for the server as a whole (`OPTIONS *`), never a route's.
SERVER_WIDE = "*"
#: The HTTP versions both ports speak.
VERSIONS = (b"HTTP/1.0", b"HTTP/1.1")

#: What is wrong with a request line, by the reason its refusal is logged and counted with,
#: and its status.
LINE_FAULTS = {
    "bad_request_line": 400,
    "not_implemented": 501,
    "version_not_supported": 505,
    "fragment": 400,
    "bad_target": 400,
}


def request_line_fault(line: bytes, implemented: Collection[str]) -> str | None:
    """Why a port that takes `implemented` methods refuses this request line (without its CRLF),
    as a key of LINE_FAULTS, or None. In order: not `method SP target SP version` with one
    space each, a token, visible ASCII and `HTTP/d.d` (RFC 9112 3: 400; a server SHOULD NOT
    take a line it would have to correct, such as two spaces); a method the port does not
    implement (501, `not_implemented`; a CONNECT too: neither port tunnels); another version
    than 1.0 and 1.1 (505); a target holding a `#fragment`, which no form of it has (400: a
    sender's URL handling gone wrong), or none of the forms the method may use (400: `*` with
    another method than OPTIONS, an absolute-form one not naming a host, …)."""
    parts = line.split(b" ")
    if len(parts) != 3:
        return "bad_request_line"
    method, target, version = parts
    if not (
        _TOKEN.fullmatch(method)
        and _TARGET_BYTES.fullmatch(target)
        and _HTTP_VERSION.fullmatch(version)
    ):
        return "bad_request_line"
    name = method.decode("ascii")
    if not_implemented(name, implemented) or (name == "CONNECT" and name not in implemented):
        return "not_implemented"
    if version not in VERSIONS:
        return "version_not_supported"
    if b"#" in target:
        return "fragment"
    if read_target(target, name) is None:
        return "bad_target"
    return None


def names_head(line: bytes) -> bool:
    """Whether a request line, refused or not, begins with the method HEAD and a space: its
    answer, whatever the refusal, carries no content (RFC 9110 9.3.2), or its client would read
    that content as the next answer. Both ports answer a refused line by this."""
    return line.startswith(b"HEAD ")


def read_target(written: bytes, method: str = "GET") -> tuple[str, str | None] | None:
    """A request target as origin-form (`/path?query`), and the authority an absolute-form one
    names (None for an origin-form one); `*` for `OPTIONS *` (RFC 9112 3.2.4, the server as a
    whole); None for any other target, or an absolute one whose authority is no host (user
    info, an empty host: RFC 9110 4.2.1 has it refused)."""
    if _ORIGIN_FORM.fullmatch(written) and b"#" not in written:
        return written.decode("ascii"), None
    if written == b"*" and method == "OPTIONS":
        return SERVER_WIDE, None
    absolute = _ABSOLUTE_FORM.fullmatch(written)
    if absolute is None or b"#" in written:
        return None
    authority, rest = absolute[1].decode("ascii"), absolute[2].decode("ascii")
    if authority.startswith(":") or host_fault([authority], http_11=True) is not None:
        return None
    return (rest if rest.startswith("/") else "/" + rest), authority


#: A percent-encoded octet (RFC 3986 2.1).
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
#: RFC 3986 2.3's unreserved characters: encoded or not, they are the same character.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def decode_unreserved(path: str) -> str:
    """`path` with each percent-encoded unreserved character decoded (RFC 3986 6.2.2.2: `/%68ealthz`
    is `/healthz`, as the gateway's router reads it). A reserved one (`%2F`) stays encoded: it
    is data within a segment, not the delimiter it would decode to."""

    def decoded(match: re.Match[str]) -> str:
        char = chr(int(match[1], 16))
        return char if char in _UNRESERVED else match[0]

    return _PERCENT.sub(decoded, path) if "%" in path else path
