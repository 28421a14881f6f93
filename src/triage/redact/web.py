"""Rules for HTTP's credentials: the Bearer, Authorization and Cookie headers, a URL's user and
password (`HEADER_RULES`); and, after the command rules, a URL's query, fragment and path
(`URL_RULES`): parameters that name a credential, one-time tokens in a path, a token as a URL's
last segment, Sentry's keys, session cookies. The URL rules come before the rules that read a
value by its name, which would take what wraps a link along with the value.
"""

from __future__ import annotations

import re
from functools import partial

from triage.redact.base64_runs import _BASE64_ONE_LINE, _base64_text
from triage.redact.logins import _schemeless_password
from triage.redact.names import (
    _STATE_WORDS,
    SESSION_COOKIE_NAMES,
    SESSION_COOKIE_VALUE,
    _kept_value,
    secret_named,
)
from triage.redact.rule import (
    _ASSIGN,
    _END,
    _INNER_QUOTE,
    _OPEN_QUOTE,
    _START,
    _quoted_char,
    _random_looking,
    _replaced_value,
    _Rule,
    _rule,
    _short_random,
    _token_like,
    _value_replaced,
)

#: What a URL's `pass=` holds when it is no password: a count, a pass number, a state.
_URL_PASS_KEPT = re.compile(rf"[0-9]{{1,12}}|{_STATE_WORDS}|on|off|passed|failed", re.IGNORECASE)


def _url_named_value(match: re.Match[str]) -> str:
    """A URL parameter's value replaced if its name says secret (`secret_named`) and the value is
    not one the text rules keep (`_kept_value`: a placeholder, a state word); else unchanged."""
    name, value = match["name"], match["value"]
    if not secret_named(name) or _kept_value(name, value):
        return match[0]
    return _value_replaced(match, "[REDACTED:password]")


#: A run of hex long enough to be a key or an OAuth code (GitHub's are 20), not a status or an id.
_LONG_HEX = re.compile(r"[0-9a-fA-F]{20,2048}")


def _url_credential(value: str) -> bool:
    """A URL parameter's value that is a credential by its look: random-looking (`_random_looking`)
    or a run of 20 hex characters or more holding letters and digits (a key, an OAuth code); not
    a word, a path or a number."""
    if _random_looking(value):
        return True
    return (
        _LONG_HEX.fullmatch(value) is not None
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
    )


#: An Azure DevOps personal access token of the first shape: 52 characters of base32 (lower
#: case as issued), which split into few words and so look no more random than a name.
_BASE32_PAT = re.compile(r"(?=[a-z]{0,51}[2-7])[a-z2-7]{52}|(?=[A-Z]{0,51}[2-7])[A-Z2-7]{52}")


def _url_user_credential(user: str) -> bool:
    """A URL's user that is a token: a credential by its look (`_url_credential`), or an
    Azure DevOps PAT (`https://<pat>@dev.azure.com/…`, `_BASE32_PAT`)."""
    return _url_credential(user) or _BASE32_PAT.fullmatch(user) is not None


#: A port, alone or before a JDBC URL's `;` properties (`jdbc:sqlserver://db:1433;user=…`).
_PORT_FIRST = re.compile(r"[0-9]{1,5}(?:;|\Z)")
#: Words that stand for a URL's port, or for a password not given (`http://host:port`).
_PORT_WORDS = frozenset({"port", "password", "pass", "pwd", "secret", "token"})


def _cut_url_password(match: re.Match[str]) -> str:
    """A URL's password cut before its `@host` replaced, the punctuation after it kept; a port
    (digits), a template's (`${PORT}`, `{port}`, `%(port)s`) or a word standing for one
    kept."""
    value = match[2].rstrip(",;.")  # a sentence's or a list's punctuation after the URL
    template = "${" in value or "%(" in value or value.startswith(("{", "<"))
    if not value or _PORT_FIRST.match(value) or template:
        return match[0]
    if value.isalpha() and value.lower() in _PORT_WORDS:
        return match[0]
    return f"{match[1]}[REDACTED:password]{match[2][len(value) :]}"


def _url_user_token(user: str) -> bool:
    """A URL's user that is a token: from 16 characters `_url_user_credential`, under 16 one
    random by its shape (`_short_random`)."""
    return _url_user_credential(user) if len(user) >= 16 else _short_random(user)


def _path_credential(value: str) -> bool:
    """A URL path segment after a segment that says it holds a credential (`/reset/`,
    `/hooks/`): 20 hex characters or more holding letters and digits, or a token
    (`_token_like`)."""
    if _LONG_HEX.fullmatch(value) is not None:
        return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    return _token_like(value)


#: A URL parameter that names a credential plainly (`key=`, `code=`, `oauth_signature=` …; the
#: rules say where it stands), up to its `=` (group 1 ends there), and its value (group 2).
_CREDENTIAL_PARAM = (
    r"(?:key|auth|sig|apikey|api_key|access_key|code|code_verifier|access_code"
    r"|oauth_signature|oauth_verifier|hmac|jwt|magic_link|magic_token)=)(?!\[REDACTED)"
    r"([A-Za-z0-9_+/=-]{8,2048}+)"
)
_CREDENTIAL_PARAM_NEEDLES = (
    "key=",
    "auth=",
    "sig=",
    "code=",
    "code_verifier=",
    "signature=",
    "hmac=",
    "jwt=",
    "verifier=",
    "magic_",
)


def _credential_param(match: re.Match[str]) -> str:
    """A `_CREDENTIAL_PARAM` match with its value replaced if it looks like a credential: from
    16 characters `_url_credential`, under 16 `_short_random` (a short API key, `key=q7Wz2Lk9Xa`);
    `code=200` and `key=Report2024Q1` stay."""
    value = match[2]
    credential = _url_credential(value) if len(value) >= 16 else _short_random(value)
    return f"{match[1]}[REDACTED:password]" if credential else match[0]


#: Form fields whose value signs someone in or acts as them, though their names say no secret:
#: SAML's response (a signed assertion: posted again within its validity it signs the user
#: in) and artifact (the SP trades it for one), WS-Federation's `wresult` (the sign-in token),
#: and the frameworks' CSRF form tokens (Django's `csrfmiddlewaretoken`, Express' and Spring's
#: `_csrf`, Tornado's `_xsrf`; with the victim's cookie, they forge the victim's requests).
#: SAML's `SAMLRequest` asks for a sign-in and holds none, and stays.
_FORM_CREDENTIALS = r"SAMLResponse|SAMLart|wresult|csrfmiddlewaretoken|_csrf|_xsrf"
_FORM_CREDENTIAL_NEEDLES = (
    "samlresponse",
    "samlart",
    "wresult",
    "csrfmiddlewaretoken",
    "_csrf",
    "_xsrf",
)
#: Such a field's value in a form body, a query or an attribute: base64 (percent-encoded or
#: not), a token; a placeholder an earlier rule wrote in a piece of it is read as part of it.
_FORM_VALUE = r"""(?P<value>(?:\[REDACTED:[a-z0-9-]{1,32}\]|[^&#;\s"'<>|\\\[\]]){1,65536}+)"""


def _form_credential(match: re.Match[str]) -> str:
    """A form credential's value (`_FORM_CREDENTIALS`; group `value`, after group 1) replaced,
    unless it is one the name rules keep (`_kept_value`: a template's field, a word saying the
    value is missing); what follows the value in the match (its closing quote's context)
    stays."""
    value = match["value"]
    if value.startswith("[REDACTED") or _kept_value(match["name"], value):
        return match[0]
    return f"{match[1]}[REDACTED:token]{match.string[match.end('value') : match.end()]}"


#: Where a URL's path ends: its query, its fragment, or what wraps a link (Slack's `<url|text>`).
_PATH_END = re.compile(r"[?#|]")
#: What may follow a link in text without being its path: brackets and punctuation.
_LINK_TRAIL = ")]}>.,;:!`*"
#: A path segment a token could be: token characters only, 20 or more.
_SEGMENT_TOKEN = re.compile(r"[A-Za-z0-9_.~+=-]{20,2048}")
#: A vendor's id that names its type (Stripe's `pi_…`, `cus_…`): an id, not a credential.
_TYPED_ID = re.compile(r"[a-z]{2,8}_")
#: Hosts whose links end in a random id that is no credential: a document store's (the link a
#: team shares its runbook by, and the same id kept with `/edit` after it), and the AWS
#: console's, whose paths name the resource shown (a DevOps Guru insight's id is 40 random
#: base64 characters); a console sign-in token rides in a query, on another host.
_DOCUMENT_HOSTS = re.compile(
    r"(?:(?:docs|drive)\.google\.com"
    r"|(?:[a-z0-9-]{1,32}\.)?console\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com))"
    r"(?::443)?/",
    re.IGNORECASE,
)


#: What stands before a value (not a URL's host or path): a line's start, a space, a quote,
#: a separator.
_VALUE_BEFORE = frozenset(" \t\r\n\"'=:,;([{>")


def _path_secret(match: re.Match[str]) -> str:
    """A one-time credential's path segment (group 1) and the token after it (group 2),
    with the token replaced when it is one (`_path_credential`). When the whole is a base64
    value instead, padding and all (`rest`: its segments after the token), standing where a
    value starts (`key: /t/…==`: an Azure key whose first characters look like a path), it
    goes whole."""
    rest = match["rest"]
    if rest is not None:
        before = match.string[match.start() - 1 : match.start()]
        if (before == "" or before in _VALUE_BEFORE) and len(match[0]) % 4 == 0:
            return "[REDACTED:token]"
        if _path_credential(match[2]):
            return f"{match[1]}[REDACTED:token]{rest}"
        return match[0]
    return f"{match[1]}[REDACTED:token]" if _path_credential(match[2]) else match[0]


#: A URL's scheme glued inside what a URL's read took (after `]`, `|`, `=`, `)`; not after a
#: letter or a digit, which would make a token's tail its scheme): another URL starts there.
_GLUED_SCHEME = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://")


def _each_url_last_segment_token(read: str) -> str:
    """What follows a URL's `://` (up to a space or a quote) with each URL in it judged on its
    own (`_last_segment_token`): a URL glued after another (`…]https://…`, a Jira link's
    `|https://…`, a redirect's `?next=https://…`) loses its token as when it stands alone,
    which a second pass (the first URL's part a placeholder by then) would see."""
    pieces = []
    start = 0
    for scheme in _GLUED_SCHEME.finditer(read):
        pieces.append(_last_segment_token(read[start : scheme.start()]))
        pieces.append(scheme[0])
        start = scheme.end()
    pieces.append(_last_segment_token(read[start:]))
    return "".join(pieces)


def _last_segment_token(url: str) -> str:
    """`url` (what follows its `://`) with its last path segment replaced if that is a token:
    20 characters or more of a token's (`_SEGMENT_TOKEN`), random (`_token_like`), not a typed
    id (`_TYPED_ID`) nor an id in base64 (New Relic's entity GUIDs decode to
    `123456|APM|APPLICATION|789`: text, which random bytes never are), nor a Google document's
    or Drive folder's id (`_DOCUMENT_HOSTS`)."""
    end = _PATH_END.search(url)
    path_end = len(url) if end is None else end.start()
    while path_end and url[path_end - 1] in _LINK_TRAIL:
        path_end -= 1
    start = url.rfind("/", 0, path_end) + 1
    if start == 0 or _DOCUMENT_HOSTS.match(url):  # no path (all of it is the host); a document
        return url
    segment = url[start:path_end]
    if (
        _SEGMENT_TOKEN.fullmatch(segment) is None
        or _TYPED_ID.match(segment) is not None
        or not _token_like(segment)
        or (_BASE64_ONE_LINE.fullmatch(segment) and _base64_text(segment) is not None)
    ):
        return url
    return f"{url[:start]}[REDACTED:token]{url[path_end:]}"


_HAS_DIGIT = re.compile("[0-9]")
#: The name before a cookie's `session=`, at the end of the text before it.
_SESSION_NAME_BEFORE = re.compile(r"(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{1,64}\Z")


def _app_session(match: re.Match[str]) -> str:
    """A session cookie named after its app or its use, its value replaced: a framework's own
    (`_<app>_session`, Rails'; `PLAY_SESSION`) from 8 characters with a digit, any other
    (`user_session`, `rack.session`) from 16; else the match unchanged."""
    start = match.start()
    name = _SESSION_NAME_BEFORE.search(match.string, max(0, start - 64), start)
    prefix = "" if name is None else name[0]
    value = match[2]
    framework = prefix.startswith("_") or prefix.upper() == "PLAY_"
    if len(value) < (8 if framework else 16) or (framework and not _HAS_DIGIT.search(value)):
        return match[0]
    return _value_replaced(match, "[REDACTED:cookie]")


#: A list's separator between a header's items (`a, b`), kept as it was.
_LIST_SEPARATOR = re.compile(r"(,[ \t]*)")
#: The items of `Sec-WebSocket-Protocol` after which a token rides as the next item: a
#: browser cannot set Authorization on a WebSocket, so servers take `access_token, <token>`.
_CREDENTIAL_ITEMS = frozenset({"bearer", "authorization", "auth", "token", "access_token"})


def _subprotocols(match: re.Match[str]) -> str:
    """A `Sec-WebSocket-Protocol` header's name (group 1) and its list (group 2) with each item
    that is a credential replaced: one after an item naming it (`access_token, <token>`:
    `_CREDENTIAL_ITEMS`, or a secret's name), or one shaped like a token (`_url_credential`,
    `_token_like`). A protocol's name (`v5.channel.k8s.io`, `graphql-ws`) and a placeholder stay."""
    pieces = _LIST_SEPARATOR.split(match[2])
    after_name = False
    for at in range(0, len(pieces), 2):
        item = pieces[at].strip()
        credential = (
            item
            and "[REDACTED" not in item
            and (after_name or _url_credential(item) or _token_like(item))
        )
        if credential:
            pieces[at] = pieces[at].replace(item, "[REDACTED:token]", 1)
        after_name = (
            item != ""
            and "[REDACTED" not in item
            and (item.lower() in _CREDENTIAL_ITEMS or secret_named(item))
        )
    return match[1] + "".join(pieces)


#: The schemes an Authorization header names (IANA's registry, and the vendors' own that the
#: README lists): after one, whatever follows is the credential, words too.
_AUTH_SCHEMES = frozenset(
    {
        *("basic", "bearer", "digest", "dpop", "gnap", "hoba", "mutual", "negotiate", "ntlm"),
        *("oauth", "privatetoken", "scram-sha-1", "scram-sha-256", "vapid", "token", "apikey"),
        *("api-key", "key", "ssws", "sharedkey", "sharedkeylite", "googlelogin", "kerberos"),
        *("aws4-hmac-sha256", "hmac", "signature", "jwt", "sso-key", "splunk", "klaviyo-api-key"),
    }
)
#: A sentence of words: letters only, a capital only first (a name: `alice`, `Alice`), two or
#: more of them, a stop after the last.
_SENTENCE = re.compile(
    r"[A-Za-z][a-z'-]{0,31}+(?:[ \t]{1,4}+[A-Za-z][a-z'-]{0,31}+){2,64}+[.!,;:]?"
)


#: A word alone after `Authorization:` that says the request's state, not a credential
#: (`required`, `denied`, `none`, a state word a secret's name keeps).
_AUTH_STATE = re.compile(
    rf"(?:{_STATE_WORDS}|denied|granted|failed|succeeded|ok|pending|refused)[.!]?", re.IGNORECASE
)


#: A constructor's call after `new ` (`AuthenticationHeaderValue(`): code, not a header's value.
_CONSTRUCTOR = re.compile(r"[A-Za-z_][\w.]{0,127}+[ \t]{0,3}\(")


def _authorization_value(match: re.Match[str], placeholder: str) -> str:
    """An Authorization header's value replaced (`[REDACTED:authorization]`), its scheme word
    kept; unless what follows the name is a sentence (`_SENTENCE`) whose first word is no
    scheme (`_AUTH_SCHEMES`): `authorization: denied for user alice` says a decision, as a
    state word alone does (`_AUTH_STATE`: `Authorization: required`). A header's value is a
    scheme and one credential, which is no run of plain words. (A partial names its
    `placeholder`, as `_replaced_value`'s does.)"""
    scheme = match["scheme"]
    # Code that builds the value (`Authorization = new AuthenticationHeaderValue("Bearer",
    # "…")`) stays: the call's rule takes its token by its place.
    if scheme == "new" and _CONSTRUCTOR.match(match.string, match.end(1)) is not None:
        return match[0]
    if scheme is None or scheme.lower() not in _AUTH_SCHEMES:
        said = f"{scheme or ''} {match.string[match.end(1) : match.end()]}".strip()
        if _SENTENCE.fullmatch(said) is not None or _AUTH_STATE.fullmatch(said) is not None:
            return match[0]
    return _value_replaced(match, placeholder)


#: A cookie of a Cookie header's value (`name=value`), to its `;`.
_COOKIE = re.compile(r"(?P<name>[^\s=;]{1,256}+)=(?P<value>[^;]{0,8192}+)")


def _cookie_values(match: re.Match[str]) -> str:
    """A cookie string given to curl (`value`: `lang=en; id=…`) with each cookie's value
    replaced and its name kept, as a Cookie header sends every value to the server as its
    credential; a value already a placeholder, or none, stays."""

    def replaced(cookie: re.Match[str]) -> str:
        value = cookie["value"].strip()
        if not value or value.startswith("[REDACTED"):
            return cookie[0]
        return f"{cookie['name']}=[REDACTED:cookie]"

    return f"{match[1]}{_COOKIE.sub(replaced, match['value'])}"


#: A value standing where a host or a port should, that was never filled in: a variable left
#: unexpanded (`${PORT}`, `$PORT`, `%PORT%`), a template's or a format's field (`{{ port }}`,
#: `{port}`, `%(port)s`, `%s`, Ruby's `#{port}`), a placeholder (`<port>`).
_UNFILLED = (
    r"\$\{[^{}\s]{1,128}+\}|\$[A-Za-z_][A-Za-z0-9_]{0,63}+|%[A-Za-z_][A-Za-z0-9_]{0,63}+%"
    r"|\{\{[^{}\r\n]{1,128}+\}\}|\{[A-Za-z0-9_.]{0,64}+\}|%(?:\([A-Za-z0-9_.]{1,64}+\))?[sd]"
    r"|#\{[^{}\s]{1,128}+\}|<[A-Za-z0-9_.-]{1,64}+>"
)
#: … or, as a port, a word: what a program wrote for a value it did not have (`None`,
#: `undefined`, `null`, `NaN`) or the port's own name (`port`, `DB_PORT`). Letters alone:
#: a digest after an image's `@sha256:` holds digits.
_UNFILLED_PORT = rf"(?:{_UNFILLED}|[A-Za-z_]{{1,32}}+)"
#: Where an authority ends: a path, a query, a fragment, a space, a quote, what wraps it.
_AUTHORITY_END = r"""(?=[/?#\s"'<>,;)\\]|$)"""


#: A header's value that is a JSON literal, number, object or list (`"authorization":null,`,
#: `"cookie":[]`) is none: read as one, it ran on over the fields after it.
_NO_JSON_LITERAL = r"(?!(?:null|true|false|-?[0-9][0-9.eE+-]{0,30})[ \t]{0,3}(?:[,}\]]|$)|[{\[])"

#: One string of a cookie header's list: in double or single quotes, or in double quotes
#: escaped inside a JSON string; a backslash inside only before another character than a quote.
_COOKIE_ITEM = (
    r"""(?:"(?:[^"\\\r\n]|\\[^"\r\n]){1,8192}+"|'(?:[^'\\\r\n]|\\[^'\r\n]){1,8192}+'"""
    r"""|\\"(?:[^"\\\r\n]|\\[^"\r\n]){1,8192}+\\")"""
)
#: … one found in the list, its quotes apart from what they hold.
_COOKIE_ITEM_PARTS = re.compile(
    r"""(?P<q>\\?")(?P<text>(?:[^"\\\r\n]|\\[^"\r\n]){1,8192}+)(?P=q)"""
    r"""|(?P<sq>')(?P<stext>(?:[^'\\\r\n]|\\[^'\r\n]){1,8192}+)'"""
)


def _cookie_items(match: re.Match[str]) -> str:
    """A cookie header's list with each string replaced, its quotes kept: every item is a
    cookie string the header sends or sets, as a single header's value is (one already a
    placeholder stays)."""

    def item(found: re.Match[str]) -> str:
        quote_mark = found["q"] or found["sq"]
        text = found["text"] if found["q"] else found["stext"]
        if text.startswith("[REDACTED"):
            return found[0]
        return f"{quote_mark}[REDACTED:cookie]{quote_mark}"

    return f"{match['head']}{_COOKIE_ITEM_PARTS.sub(item, match['items'])}"


#: The headers whose value is a scheme and then its credential (`Bearer …`, `Basic …`).
_AUTHORIZATION_HEADERS = frozenset({"authorization", "proxy-authorization"})


def _directive_header(match: re.Match[str]) -> str:
    """A proxy's directive that sets a request's or a response's header (nginx's
    `proxy_set_header NAME VALUE;`, HAProxy's `http-request set-header NAME VALUE`) with the
    value replaced when the header carries a credential: an Authorization header's after its
    scheme word, a header named like a secret (`X-Api-Key`) whole. A variable (nginx's
    `$api_key`, HAProxy's `%[var(txn.key)]`) is where the value comes from, and stays."""
    name, body = match["name"].lower(), match["body"]
    if body.startswith(("$", "%[", "[REDACTED")):
        return match[0]
    start = match.start("body") - match.start()
    if name in _AUTHORIZATION_HEADERS:
        scheme, _, credential = body.partition(" ")
        if not credential.strip() or credential.lstrip().startswith(("$", "%[", "[REDACTED")):
            return match[0]
        start += len(scheme) + 1
    elif not secret_named(name) or _kept_value(name, body):
        return match[0]
    end = match.end("body") - match.start()
    return f"{match[0][:start]}[REDACTED:password]{match[0][end:]}"


#: Digest's nonce parameter, which says a `response=` on its line is Digest's.
_DIGEST_NONCE = re.compile(r"(?<![\w-])nonce=", re.IGNORECASE)
#: A line's end, raw or escaped inside a JSON string.
_LINE_BREAK = re.compile(r"\r?\n|\\[nr]")


def _digest_response(match: re.Match[str]) -> str:
    """A Digest `response=` hash replaced when its line (to 1 KB each side) holds `nonce=`
    (`_DIGEST_NONCE`); else the match unchanged: `response=` alone names many things."""
    text, start, end = match.string, match.start(), match.end()
    before = text[max(0, start - 1024) : start]
    after = text[end : end + 1024]
    breaks = list(_LINE_BREAK.finditer(before))
    line = before[breaks[-1].end() :] if breaks else before
    following = _LINE_BREAK.search(after)
    line += " " + (after[: following.start()] if following else after)
    if _DIGEST_NONCE.search(line) is None:
        return match[0]
    return match[0][: match.start("value") - start] + "[REDACTED:password-hash]"


HEADER_RULES: tuple[_Rule, ...] = (
    # HTTP Digest's `response=` (an MD5 or SHA-256 of the user's password with the nonce,
    # which cracks offline as a captured NetNTLM response does) outside an Authorization
    # header (a client's or a proxy's log of the challenge it answered): only on a line that
    # holds Digest's `nonce=` too, quoted or not, before or after it.
    _rule(
        r"(?<![\w-])response=(?P<q>\\?\")?(?P<value>[0-9a-fA-F]{32}(?:[0-9a-fA-F]{32})?)"
        r"(?![0-9A-Za-z])(?(q)(?=(?P=q)))",
        _digest_response,
        "response=",
        flags=re.IGNORECASE,
    ),
    _rule(
        # `(?=b)` first: one cheap test fails at most positions, before the look-behind.
        rf"(?=b){_START}(bearer|basic)(\s{{1,5}})[\w.~+/=-]{{16,4096}}",
        r"\1\2[REDACTED:bearer]",
        "bearer",
        "basic",
        flags=re.IGNORECASE,
    ),
    # HTTP headers that carry a credential, as text (a curl command, a logged request), after
    # the Bearer/Basic rule so its placeholder stays. A quoted value goes up to its closing
    # quote; an unquoted one to the end of the line (a Digest header's params hold quotes).
    # Authorization keeps its scheme word: letters (Bearer, Token, SSWS, SharedKey), or
    # hyphenated parts that may end in digits (AWS4-HMAC-SHA256). A first word with digits
    # inside (`Authorization: Hunter2Hunter retried`) is the credential itself, sent raw.
    # The header's name may end a longer one (X-Forwarded-Authorization, --proxy-authorization).
    _rule(
        # A double quote before the name (`curl -H "Authorization: …" URL`) is the header's:
        # its value ends at that quote before a space (`oq`), so the URL after it stays.
        r"((?<![A-Za-z0-9](?<!\\[nrt]))(?:(?<=(?P<oq>\"))|)(?:proxy-)?authorization"
        # Its values may be a list (Go's http.Header as JSON, `"Authorization":["Bearer …"]`,
        # or printed, `map[Authorization:[Bearer …]]`): the value ends at its `]`.
        # Quoted, in a Python bytes literal too (botocore's debug log: `'Authorization': b'…'`).
        rf"{_ASSIGN}(?>(?P<lb>\[(?!REDACTED))?(?P<q>b?\\?[\"'])?"
        r"(?:(?P<scheme>[A-Za-z]{1,30}|[A-Za-z]{1,8}[0-9]{0,3}(?:-[A-Za-z]{1,8}[0-9]{0,3}){1,4})"
        # A value quoted after the scheme word (`Bearer "p\\"w…"`) goes to its closing quote,
        # its escapes read as the value's (`_quoted_char`), the quotes kept.
        r"[ \t]{1,3}(?P<sq>\\?[\"'](?!\[REDACTED))?)?))"
        # Not a placeholder, nor one quoted after the scheme (`Bearer "[REDACTED:…]"`).
        r"(?!(?:\\?[\"'])?\[REDACTED)"
        rf"{_NO_JSON_LITERAL}"
        rf"(?(sq){_quoted_char('sq')}{{1,4096}}+(?=(?P=sq))|"
        # Unquoted, to the line's end: a Digest header's quotes are its own; but not past a
        # quote that closes a JSON string (`"Authorization: Token x"}`, `…x", "next": …`). A
        # quote inside a word is the value's (`it's…`, `p"w…`, escaped inside a JSON string).
        # In a list unquoted, to its `]`.
        rf"""(?(q)[^\r\n"'\\\s](?:{_INNER_QUOTE}|[^\r\n"'\\]){{0,4095}}"""
        rf"""|(?(lb)[^\]\s"'\\]{{1,4096}}+"""
        rf"""|[^\r\n'\\\s](?:{_INNER_QUOTE}|[^\r\n'\\"]"""
        rf"""|"(?![ \t]{{0,3}}(?:[}}\]]|,[ \t]{{0,3}}"))(?(oq)(?!\s|$))){{0,4095}})))""",
        partial(_authorization_value, placeholder="[REDACTED:authorization]"),
        "authorization",
        flags=re.IGNORECASE,
    ),
    # Kubernetes' WebSocket subprotocol that carries a bearer token (a browser cannot set
    # Authorization on a WebSocket): `base64url.bearer.authorization.k8s.io.<token>`, wherever
    # it stands (the upgrade's header, a client's code).
    _rule(
        r"(base64url\.bearer\.authorization\.k8s\.io\.)(?!\[REDACTED)[A-Za-z0-9_=-]{1,4096}+",
        r"\1[REDACTED:token]",
        "base64url.bearer.",
        flags=re.IGNORECASE,
    ),
    # … and the `Sec-WebSocket-Protocol` header's other items: a token after an item naming it
    # (`access_token, <token>`) or shaped like one (`_subprotocols`), to the line's end or a
    # quote.
    _rule(
        rf"((?<![A-Za-z0-9](?<!\\[nrt]))sec-websocket-protocol{_ASSIGN}{_OPEN_QUOTE})"
        r"""([^\r\n"'\\]{1,4096}+)""",
        _subprotocols,
        "sec-websocket-protocol",
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"((?<![A-Za-z0-9](?<!\\[nrt]))(?:set-)?cookies?{_ASSIGN}{_OPEN_QUOTE})"
        rf"(?!\[REDACTED){_NO_JSON_LITERAL}"
        # A quote inside a word is the value's (`it's…`, `p"w…`), as Authorization's is.
        rf"""[^\r\n"'\\\s](?:{_INNER_QUOTE}|[^\r\n"'\\]){{0,8191}}""",
        _replaced_value("[REDACTED:cookie]"),
        "cookie",
        flags=re.IGNORECASE,
    ),
    # … and the header as a list of strings (Node's `set-cookie: [...]`, Python's header
    # dict, one of them quoted into a JSON string): each item goes as the header's value
    # does, the list's brackets and quotes kept (`_cookie_items`).
    _rule(
        rf"(?P<head>(?<![A-Za-z0-9](?<!\\[nrt]))(?:set-)?cookies?{_ASSIGN})"
        rf"(?P<items>\[[ \t]{{0,8}}+{_COOKIE_ITEM}(?:[ \t]{{0,8}}+,[ \t]{{0,8}}+{_COOKIE_ITEM}){{0,63}}+"
        r"[ \t]{0,8}+\])",
        _cookie_items,
        "cookie",
        flags=re.IGNORECASE,
    ),
    # curl's cookie option, `-b 'sid=…'`, `--cookie "lang=en; id=…"` (also its last letter of
    # short options run together, `-sSb`): the Cookie header it sends, each cookie's value
    # gone as the header's are (`_cookie_values`). A value without `=` is a cookie jar's file
    # (`-b cookies.txt`), and stays.
    _rule(
        r"(curl(?<![\w.-]curl)(?:\.exe)?[ \t](?:[^\r\n|;&]{0,1024}?[ \t])?"
        r"(?:-[A-Za-z]{0,8}b|--cookie)(?:[ \t]{1,3}|=)(?P<q>\\?[\"'])?)"
        rf"(?P<value>(?(q)(?={_quoted_char('q')}{{0,8191}}=){_quoted_char('q')}{{1,8192}}+(?=(?P=q))"
        r"|(?=[^\s\"'\\]{0,8191}=)[^\s\"'\\]{1,8192}+))",
        _cookie_values,
        "curl",
        fold_needles=True,
    ),
    # user:password@host in any URL or DSN (postgres://, redis://, amqp://, https://, …)
    # The password runs to the last @ before the host (p@ss@host), and may hold a /, ? or #
    # that is not a port's, a query's or a fragment's (u:p/ss@db, u:p#ss@db: an @ follows
    # before the next of them); never past the host into the path.
    # The user may be a placeholder already (a vendor's token, `https://ghp_…:pw@host`): its
    # password goes too. It may hold an @ of its own, as its percent-encoded form decoded
    # shows it (`user%40corp:pw@host` read as `user@corp:pw@host`).
    _rule(
        r"(://(?<=[A-Za-z0-9]://)(?:\[REDACTED:[a-z0-9-]{1,32}\](?=:)"
        r"|(?!\[REDACTED)[^\s:/@\"]{0,256}+(?:@[^\s:/@\"]{1,256}+)?))"
        r":(?![0-9]{1,5}(?:[/?#]|$))"
        # No quote in either: a URL holds none (RFC 3986), and in JSON one ends its string.
        r"(?:[^\s/?#\"]|[/?#](?=[^\s/?#\"]{0,256}@)){1,256}@(?=[^\s@/?#\"'<>,;\\]{0,256}(?:[/?#\s\"'<>,;\\]|$))",
        r"\1:[REDACTED:password]@",
        "://",
    ),
    # … and one cut inside its password (a limit's cut, before the `@host`): what follows the
    # user's `:` to the URL's end, unless it is a port, a template's or a word that stands for
    # one (`_cut_url_password`).
    _rule(
        r"(://(?<=[A-Za-z0-9]://)[^\s:/@\"'\[\]]{0,256}+:)(?!\[REDACTED)"
        r"([^\s/?#@:\"'<>\[\]]{1,256}+)(?=[\s\"'<>,;:)\]}]|$)",
        _cut_url_password,
        "://",
    ),
    # … and without a scheme, a DSN's authority whose port or host was never filled in
    # (`app:pw@db:${PORT}`, `app:pw@db:None/app`, `app:pw@${DB_HOST}:5432`): a URL parser
    # refuses it and its error quotes it whole. The login rule reads a port of digits
    # (logins.py); a user must stand before the `:` (`_schemeless_password`).
    _rule(
        r":(?!\[REDACTED|[0-9]{1,5}@)[^\s:@/\"'\\<>\[\]]{1,256}+@"
        rf"(?=(?:[A-Za-z0-9.-]{{1,253}}+:{_UNFILLED_PORT}"
        rf"|(?:{_UNFILLED})(?::(?:[0-9]{{1,5}}+|{_UNFILLED_PORT}))?){_AUTHORITY_END})",
        _schemeless_password,
        "@",
    ),
    # A token as a URL's user (nats://<token>@nats:4222, https://<token>@github.com, GitHub's
    # https://<token>:x-oauth-basic@github.com, an Azure DevOps PAT): random-looking, a key in
    # hex or a PAT in base32 (`_url_user_credential`),
    # it goes, and under 16 characters one random by its shape (`_short_random`: Lettuce's
    # `redis://<password>@host`); a plain user (git@, deploy@, build-bot-2024@) stays. After
    # the password rule, so a token user's password is already a placeholder; before the
    # e-mail rule, which would take the user and the host together.
    _rule(
        r"(://(?<=[A-Za-z0-9]://))(?!\[REDACTED)([A-Za-z0-9._~%+=-]{8,512}+)"
        r"(?=(?::(?:\[REDACTED:password\])?)?@[A-Za-z0-9\[])",
        lambda m: f"{m[1]}[REDACTED:token]" if _url_user_token(m[2]) else m[0],
        "://",
    ),
    # Oracle's thin JDBC URL: jdbc:oracle:thin:user/password@host.
    _rule(
        r"(jdbc:oracle:[a-z0-9]{1,20}:[^\s/@:]{1,128}+/)(?!\[REDACTED)[^\s@]{1,256}+@",
        r"\1[REDACTED:password]@",
        "jdbc:oracle:",
        flags=re.IGNORECASE,
    ),
    # A header a proxy's config sets by its name, then the value (`_directive_header`), after
    # the rules above (an Authorization's token keeps their placeholder): nginx's
    # `proxy_set_header`, `grpc_set_header`, `add_header`, HAProxy's `http-request set-header`
    # and `add-header`, Apache's `RequestHeader set`; the value quoted or bare to its `;`.
    _rule(
        r"(?<![\w-])(?:(?:proxy|grpc|uwsgi|fastcgi|scgi)_set_header|add_header"
        r"|http-(?:request|response)[ \t]{1,3}(?:set|add)-header"
        r"|(?:request)?header[ \t]{1,3}(?:set|add|append))[ \t]{1,16}"
        r"(?P<nq>\\?[\"']?)(?P<name>[\w-]{1,128}+)(?P=nq)[ \t]{1,16}"
        r"(?P<q>\\?[\"'])?(?P<body>(?(q)(?:(?!(?P=q))[^\r\n]){1,4096}+|[^\s;\"'\\]{1,4096}+))",
        _directive_header,
        *("_set_header", "add_header", "set-header", "add-header"),
        *("header set", "header add", "header append"),
        flags=re.IGNORECASE,
    ),
)


#: A part of a URL's fragment (parts apart by `/`) that is a key: 16 characters or more of a
#: key's alphabet, random text (`_token_like`: not a console's route of names).
_FRAGMENT_PART = re.compile(r"(?<![^#/])[A-Za-z0-9_-]{16,512}+(?![^/\s\"'<>)\]|`])")


def _fragment_keys(match: re.Match[str]) -> str:
    """A URL's fragment with each part that is a key (`_FRAGMENT_PART`) replaced: a share
    link's fragment (Mega's, PrivateBin's, Bitwarden Send's) is the key that decrypts what
    it holds, never sent to the server; a route or an anchor (`#/d/orders`, `#L10`) stays."""
    return match[1] + _FRAGMENT_PART.sub(
        lambda part: "[REDACTED:token]" if _token_like(part[0]) else part[0], match[2]
    )


URL_RULES: tuple[
    _Rule, ...
] = (  # A key in a URL's fragment (`_fragment_keys`); a fragment of parameters is read below.
    _rule(
        r"(https?://[^\s#\"'<>]{1,2048}+#)(?![^\s\"'<>#]{0,512}=)([^\s\"'<>#)\]|`]{16,1024}+)",
        _fragment_keys,
        "#",
    ),
    # `auth` names a credential too (.npmrc's _auth, Docker's "auth"), but also says "auth:
    # failed": only a token-like value goes.
    _rule(
        rf"({_START}_?auth{_ASSIGN}{_OPEN_QUOTE})(?!\[REDACTED)([A-Za-z0-9+/]{{16,4096}}={{0,2}})"
        r"(?![A-Za-z0-9+/=_.-])",
        lambda m: f"{m[1]}[REDACTED:password]" if _random_looking(m[2]) else m[0],
        "auth",
        flags=re.IGNORECASE,
    ),
    # In a URL's query or fragment, `pass=` sits beside the user it logs in (`?user=bob&pass=…`):
    # any value goes but a number or a word saying a state (`&pass=2`, `&pass=true`).
    _rule(
        r"""((?<=[?&#;])pass=)(?!\[REDACTED)([^&#\s"'<>\\]{1,512}+)""",
        lambda m: (
            m[0] if _URL_PASS_KEPT.fullmatch(m[2]) else _value_replaced(m, "[REDACTED:password]")
        ),
        "pass=",
        flags=re.IGNORECASE,
    ),
    # A bare `pass` is a password (user=x pass=…) but also a test result (pass=142, pass: yes,
    # "pass rate"): only a value that looks like a key goes. (`REDIS_PASS` is a name below.)
    _rule(
        rf"((?<![A-Za-z0-9_.-])pass{_ASSIGN}{_OPEN_QUOTE})(?!\[REDACTED)"
        r"""([^\s&;,"'}\\]{6,512}+)""",
        lambda m: _value_replaced(m, "[REDACTED:password]") if _random_looking(m[2]) else m[0],
        "pass",
        flags=re.IGNORECASE,
    ),
    # A URL's query or fragment names an API key, a signature or a one-time credential plainly
    # (Google Maps' key=, auth=, sig=; OAuth's code= and code_verifier=, which buy a token until
    # exchanged, and Azure Functions' code=; OAuth 1's oauth_signature=; hmac=; a bare jwt=).
    # After `?`, `&`, `#` (OAuth's implicit flow puts them in the fragment) or `;` (HTML's
    # `&amp;`), a value that looks random or is 20 hex characters or more goes: an object key,
    # an issue key, an HTTP status (code=200) stays. The value ends where the URL does: at a
    # delimiter, a sentence's stop, or any non-ASCII character (a URL holds none unencoded; the
    # "…" of a cut title or a quote mark of prose follows a link so).
    _rule(
        rf"((?<=[?&#;]){_CREDENTIAL_PARAM}"
        r"(?=[&#;,|\]}\s\"'<>)\\`*]|[.:!?](?![^\s])|[^\x00-\x7F]|$)",
        _credential_param,
        *_CREDENTIAL_PARAM_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A CAS ticket in a URL's query (`?ticket=ST-1-…-cas01`, a proxy ticket `PT-`, the proxy
    # callback's `pgtIou=PGTIOU-…` and `pgtId=PGT-…`): it logs in as the user until validated.
    # Its kind's prefix stays (`ticket=ST-[REDACTED:token]`); an issue's key (`ticket=ST-1234`,
    # `ticket=OPS-12`) is digits after its prefix, or no ticket's prefix.
    _rule(
        r"((?<=[?&#;])(?:ticket|pgtId|pgtIou)=(?-i:ST|PT|PGT|PGTIOU|TGT)-)(?!\[REDACTED)"
        r"(?![0-9]{1,12}+(?![A-Za-z0-9._~-]))[A-Za-z0-9._~-]{8,512}+",
        r"\1[REDACTED:token]",
        "ticket=",
        "pgtid=",
        "pgtiou=",
        flags=re.IGNORECASE,
    ),
    # Webhook and integration URLs whose path is the credential: Microsoft Teams, PagerDuty.
    _rule(
        r"((?:webhook\.office\.com|\.webhook\.office\.com)/webhookb2/)[^\s\"'<>]{20,600}",
        r"\1[REDACTED:token]",
        "webhook.office.com/",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"(pagerduty\.com/integration/)[A-Za-z0-9]{20,64}",
        r"\1[REDACTED:token]",
        "pagerduty.com/integration/",
        flags=re.IGNORECASE,
    ),
    # Heartbeat monitors' ping URLs, whose path is the credential (anyone holding one marks the
    # check up, or down): Healthchecks.io's `hc-ping.com/<uuid>` and `hc-ping.com/<ping key>/
    # <slug>` (a self-hosted instance's `/ping/<uuid>`; the check's page, `healthchecks.io/
    # checks/<uuid>/`, holds the same key), Cronitor's `cronitor.link/p/<key>/…`
    # and Dead Man's Snitch's `nosnch.in/<token>`. A UUID is an id elsewhere; here it is the key.
    _rule(
        r"(hc-ping\.com/)(?:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[A-Za-z0-9_-]{22}(?=/))",
        r"\1[REDACTED:token]",
        "hc-ping.com/",
        flags=re.IGNORECASE,
    ),
    # Log intake URLs whose path holds the key that sends to the account: Loggly's customer
    # token (a UUID) in `logs-01.loggly.com/inputs/<token>/tag/…` and `/bulk/<token>/…`.
    _rule(
        r"(loggly\.com/(?:inputs|bulk)/)[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
        r"(?![A-Za-z0-9-])",
        r"\1[REDACTED:token]",
        "loggly.com/",
        flags=re.IGNORECASE,
    ),
    # … and Datadog's log intake URL of API v1, whose path holds the API key (32 hex).
    _rule(
        r"((?:datadoghq\.(?:com|eu)|ddog-gov\.com)/v1/input/)[0-9a-f]{32}(?![A-Za-z0-9])",
        r"\1[REDACTED:datadog-key]",
        "datadoghq.",
        "ddog-gov.com/",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"(/ping/|healthchecks\.io/checks/)[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}",
        r"\1[REDACTED:token]",
        "/ping/",
        "healthchecks.io/checks/",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"((?:cronitor\.link|cronitor\.io)/p/)[A-Za-z0-9]{16,64}",
        r"\1[REDACTED:token]",
        "cronitor.",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"(nosnch\.in/)[A-Za-z0-9]{8,32}",
        r"\1[REDACTED:token]",
        "nosnch.in/",
        flags=re.IGNORECASE,
    ),
    # A one-time credential in a URL's path, after a segment that says what it is: a password
    # reset, an e-mail check, an invitation, a magic sign-in link, an unsubscribe link (anyone
    # holding it acts as the person it was mailed to); a webhook's or a callback's secret
    # path; a share, download or short link (`/s/…`, `/t/…`). A token (`_token_like`), or 20
    # hex characters or more, goes; an id or a word (`/invite/42`, `/token/refresh`) stays.
    # A value that only looks so, base64 starting `/t/` (`key: /t/…==`), goes whole
    # (`_path_secret`).
    _rule(
        r"(/(?:reset[-_]?password|password[-_]?reset|reset|verify(?:[-_]?e?mail)?"
        r"|confirm(?:[-_]?e?mail)?|activate|activation|invite|invitation|magic[-_]?link"
        r"|login(?:[-_]?link)?|sign[-_]?in|sso|auth|tokens?|unsubscribe|(?:web)?hooks?"
        r"|triggers?|callbacks?|cb|share[ds]?|[st]|download|dl|presigned|signed|access"
        r"|accept|join|claim|redeem|otp|secrets?|keys?)/)"
        r"(?!\[REDACTED)([A-Za-z0-9_.~+=-]{16,2048}+)"
        r"(?P<rest>(?:/[A-Za-z0-9+]{1,2048}+){1,16}+={1,2}(?![A-Za-z0-9+/=]))?"
        r"(?=[/?#\s\"'<>)|\]`]|$)",
        _path_secret,
        # No needles: the pattern starts with `/`, which the engine jumps between faster than
        # the forty segment names would be looked for.
        flags=re.IGNORECASE,
    ),
    # … and a token as a URL's last path segment, whatever the segment before it says
    # (`https://hooks.example.com/api/v2/x/<token>`): read each URL once, then judge its last
    # segment (`_last_segment_token`), each URL glued inside the read on its own.
    _rule(
        r"(://(?<=[A-Za-z0-9]://))([^\s\"'<>]{1,8192}+)",
        lambda m: m[1] + _each_url_last_segment_token(m[2]),
        "://",
    ),
    # A Sentry DSN's key (it lets anyone send events to the project); the host stays.
    _rule(
        r"(https?://)[0-9a-f]{32}(?::[0-9a-f]{32})?(@[A-Za-z0-9.-]{1,253}/[0-9]{1,20})",
        r"\1[REDACTED:token]\2",
        "://",
    ),
    # … and the same key where Sentry's auth header and its query give it (sentry_key=…).
    _rule(
        rf"({_START}sentry_key{_ASSIGN}{_OPEN_QUOTE})(?!\[REDACTED)[0-9A-Za-z]{{16,64}}{_END}",
        r"\1[REDACTED:token]",
        "sentry_key",
        flags=re.IGNORECASE,
    ),
    # Session cookies as bare pairs (a logged request line, a curl command). A framework's own
    # cookie is a login whatever its length: from 8 characters with a digit (a custom id, or
    # one a log cut short; `PHPSESSID=deleted` is PHP's deletion, a word). A bare `session=`
    # names many things: only 16 characters or more (`sessionid` and `session_id` are secrets'
    # names, whose pairs go whatever their length).
    _rule(
        r"((?=[pjscl_])(?<![A-Za-z0-9_](?<!\\[nrt]))(?:(?P<named>PHPSESSID|JSESSIONID"
        r"|connect\.sid|laravel_session)|sessionid|_session_id|session)=)(?!\[REDACTED)"
        r"(?:(?(named)(?=[^\s;,&\"'<>]{0,4095}?[0-9])[^\s;,&\"'<>]{8,4096}+|(?!))"
        r"|[^\s;,&\"'<>]{16,4096}+)",
        _replaced_value("[REDACTED:cookie]"),
        "phpsessid",
        "jsessionid",
        "sessionid",
        "connect.sid",
        "session=",
        "_session_id",
        flags=re.IGNORECASE,
    ),
    # … and a session cookie named after its app or its use (Rails' `_shop_session`, Play's
    # `PLAY_SESSION`, `user_session`, `rack.session`): the rule starts at `session=`, which the
    # engine jumps to, and asks the name before it after (`_app_session`).
    _rule(
        r"((?:session|SESSION|Session)(?<=[A-Za-z0-9][_.-].{7})=)(?!\[REDACTED)"
        r"([^\s;,&\"'<>]{8,4096}+)",
        _app_session,
        "_session=",
        ".session=",
        "-session=",
        fold_needles=True,
    ),
    # … and GitHub's `_gh_sess`, ASP.NET's forms login `.ASPXAUTH`, ColdFusion's `CFTOKEN`: a
    # login whatever its length, from 8 characters with a digit.
    _rule(
        r"((?<![A-Za-z0-9_](?<!\\[nrt]))(?:_gh_sess|\.ASPXAUTH|CFTOKEN)=)(?!\[REDACTED)"
        r"((?=[^\s;,&\"'<>]{0,4095}?[0-9])[^\s;,&\"'<>]{8,4096}+)",
        _replaced_value("[REDACTED:cookie]"),
        "_gh_sess=",
        ".aspxauth=",
        "cftoken=",
        fold_needles=True,
    ),
    # … and those cookies as a JSON member or a dict's item (a browser test's cookie jar
    # dumped as JSON, `{"PHPSESSID": "…"}`; Python's `{'JSESSIONID': '…'}`, Ruby's and PHP's
    # `=>`), the same value to its closing quote, the quotes kept.
    _rule(
        rf"((?P<q>\\?[\"'])(?:{SESSION_COOKIE_NAMES})(?P=q)[ \t]{{0,3}}(?::|=>)[ \t]{{0,3}}(?P=q))"
        rf"(?!\[REDACTED){SESSION_COOKIE_VALUE}(?=(?P=q))",
        _replaced_value("[REDACTED:cookie]"),
        *("phpsessid", "jsessionid", "connect.sid", "laravel_session", "_gh_sess", ".aspxauth"),
        "cftoken",
        flags=re.IGNORECASE,
    ),
    # … and as a cookie object, the way a browser test's tools dump a jar (Playwright's
    # storage state, Puppeteer's `page.cookies()`, Selenium's `get_cookies()`, an exported jar):
    # `{"name": "PHPSESSID", …, "value": "…"}`, the object's other fields between.
    _rule(
        rf"((?P<q>\\?[\"'])name(?P=q)[ \t]{{0,3}}:[ \t]{{0,3}}(?P=q)(?:{SESSION_COOKIE_NAMES})(?P=q)"
        r"[^{}\[\]]{0,1024}?(?P=q)value(?P=q)[ \t]{0,3}:[ \t]{0,3}(?P=q))"
        rf"(?!\[REDACTED){SESSION_COOKIE_VALUE}(?=(?P=q))",
        _replaced_value("[REDACTED:cookie]"),
        *("phpsessid", "jsessionid", "connect.sid", "laravel_session", "_gh_sess", ".aspxauth"),
        "cftoken",
        flags=re.IGNORECASE,
    ),
    # … and the first of a form body's parameters (`code=…&grant_type=…`, an OAuth token
    # request as a log prints it): after a space, a quote or a line's start (also escaped,
    # `\n`), with `&` and the next parameter's name after the value.
    _rule(
        # The names' first letters first: one cheap test fails at most positions.
        r"""((?=[kascohjm])(?m:^|(?<=[\s"'])|(?<=\\[nrt]))"""
        rf"{_CREDENTIAL_PARAM}(?=&[A-Za-z_])",
        _credential_param,
        *_CREDENTIAL_PARAM_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A form's sign-in or CSRF token (`_FORM_CREDENTIALS`), where a form post is logged: a
    # form body or a query (`SAMLResponse=…&RelayState=…`), a JSON member or a dict's item
    # (Django's QueryDict, `'csrfmiddlewaretoken': ['…']`), an HTML form's hidden input (its
    # `name` before its `value`, or after it).
    _rule(
        rf"((?<![A-Za-z0-9_.\[\]-])(?P<name>{_FORM_CREDENTIALS})=){_FORM_VALUE}",
        _form_credential,
        *_FORM_CREDENTIAL_NEEDLES,
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"((?P<q>\\?[\"'])(?P<name>{_FORM_CREDENTIALS})(?P=q)[ \t]{{0,3}}(?::|=>)[ \t]{{0,3}}"
        rf"(?:\[[ \t]{{0,3}})?(?P<vq>\\?[\"'])){_FORM_VALUE}(?=(?P=vq))",
        _form_credential,
        *_FORM_CREDENTIAL_NEEDLES,
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"((?<![\w-])name=(?P<q>\\?[\"'])(?P<name>{_FORM_CREDENTIALS})(?P=q)[^<>]{{0,256}}?"
        rf"(?<![\w-])value=(?P=q)){_FORM_VALUE}(?=(?P=q))",
        _form_credential,
        *_FORM_CREDENTIAL_NEEDLES,
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"((?<![\w-])value=(?P<q>\\?[\"'])){_FORM_VALUE}"
        rf"(?=(?P=q)[^<>]{{0,256}}?(?<![\w-])name=(?P=q)(?P<name>{_FORM_CREDENTIALS})(?P=q))",
        _form_credential,
        *_FORM_CREDENTIAL_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A URL parameter named like a secret (`?access_token=`, `#id_token=`, `&client_secret=`,
    # `&amp;token=`, a form's nested `&user[password]=`; `secret_named`), to the end of its value in a URL (not after a bare `;`:
    # a connection string's Password= is read to its `;` below): `&`, `;`, a space, a quote, and what
    # wraps a link (Slack's `<url|text>`, Jira's `[text|url]`, HTML's `>`, Markdown's `)` before
    # a space or the end, a code span's backtick) stay. The general name rules below would take those too.
    _rule(
        r"""((?:[?#]|&(?:amp;)?)(?P<name>[A-Za-z0-9_.\[\]-]{1,64}+)=)(?!\[REDACTED|\{\{)"""
        # A placeholder inside the value (a part a shape rule took: 40 characters between a `!`
        # and a `.` read as an AWS secret) is read whole: its `]` ends no value.
        r"""(?P<value>(?:\[REDACTED:[a-z0-9-]{1,32}\]|[^&#;\s"'<>|\]\\)`]"""
        r"""|\)(?![\s.,;:!?`]|$)){1,512}+)""",
        _url_named_value,
        "?",
        "&",
        "#",
    ),
)
