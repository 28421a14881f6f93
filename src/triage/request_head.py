"""What both HTTP ports (the webhook gateway's and the operators') require of a request head, in
one place, so that one client is never taken by one port and refused by the other: its `Host`
(RFC 9112 3.2), its method (RFC 9110 9.1), its `Authorization` header's scheme and Bearer
credential (RFC 6750 2.1), and which `X-Forwarded-For` entry names its sender behind trusted
proxies.

Header values reach here as text: the gateway's decoded as UTF-8 (with surrogateescape), the
operators' port's as Latin-1. Either way a character that is not ASCII stays one, and only
HTTP's own whitespace, space and tab, is ever taken off a value: Python's `str.strip()` also
takes Unicode spaces (U+00A0, U+0085, U+3000, …), which would let a token followed by a
no-break space pass as the token.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

#: HTTP's whitespace (RFC 9110 5.6.3's OWS): what may surround a value and separate a scheme
#: from its credential (RFC 9110 11.4 says one or more spaces; senders that write a tab are
#: taken too).
OWS = " \t"

#: A Host value RFC 9112 3.2 accepts: RFC 3986's `host` (an IP literal in brackets, or a
#: reg-name: IPv4 and names included, possibly empty) and an optional port. No user info,
#: path or space.
_HOST = re.compile(r"(?:\[[0-9A-Za-z:.%~_-]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::[0-9]*)?")

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
    if not _HOST.fullmatch(hosts[0].strip(OWS)):
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
