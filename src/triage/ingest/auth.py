"""Who may post to `/v1/alerts/{source}`: one token per source, compared in constant time.

Tokens come from the Secrets Manager JSON secret `TRIAGE_INGEST_TOKENS_SECRET_ID`
(`{"grafana": "…", "alertmanager": "…", "generic": "…", "threshold": "…", "sentry": "<client
secret>"}`), else from the same JSON in `TRIAGE_INGEST_TOKENS`. A source without a token is
disabled. Tokens read from Secrets Manager are reused for `TRIAGE_INGEST_TOKENS_TTL_S` (re-read
in the background, the old ones serving meanwhile), and a credential that fails against them
re-reads the secret at most once per `TRIAGE_INGEST_TOKENS_REFRESH_S`, so a rotated token works
without a restart while a flood of bad tokens costs Secrets Manager one call per interval. A
re-read that is refused (`ConfigError`: the secret's new tokens refused, access denied) leaves
the tokens held serving and deciding.

A source may list two tokens (`"generic": ["<current>", "<next>"]`) while one is rotated:
either passes. A credential is `Authorization: Bearer <token>` (the scheme in any case, after
spaces or a tab), HTTP Basic whose password is the token (any user name; base64 that lost its
padding is read too), or `X-Grafana-Token: <token>`; Sentry's requests instead carry
`Sentry-Hook-Signature`, the hex HMAC-SHA256 of the raw body keyed with a client secret, and
Grafana's may carry its webhook contact point's HMAC signature instead of a token (the hex
HMAC-SHA256, keyed with the grafana token, of the body, or of `<unix seconds>:<body>` when the
time is sent in `X-Grafana-Alerting-Timestamp`: Grafana's `http/hmac.go`). Every credential is
compared with every token of its source by `hmac.compare_digest` on bytes.

A 401 challenges for Bearer, and for Basic as well only when the request tried Basic
(`challenge`): offered unasked, Basic makes a browser that opens the URL prompt for a login,
while every sender that uses Basic (Prometheus' `basic_auth`, Grafana's, curl `-u`, a URL's
user info) sends it with its first request.

Every token read is handed to `triage.redact.hold`, so every redactor of the process (log lines
included) blanks it by value. What a token must be and how the JSON reads live in
`triage.ingest_tokens`, which `triage check` reads them with too.

One read of the secret is in flight at a time, shared by every caller, and no caller waits on
it longer than `wait_s`: a Secrets Manager that accepts connections and does not answer takes
botocore ~20 s to give up on, and requests queued behind it one read each took minutes. The
refresh interval counts from the last attempt, answered or not.

Errors: `ConfigError` when no token can exist as configured (bad JSON, unknown source, a secret
id that names nothing, access denied); `TokensUnavailable` when Secrets Manager cannot be read
just now and no tokens were ever read. No message or log line ever holds a token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from triage.aws import AWS_CALL_ERRORS
from triage.errors import ConfigError
from triage.ingest_tokens import (
    SOURCES,
    TokensUnavailable,
    failure_reason,
    held_tokens,
    parse_tokens,
    read_failure,
    secret_text,
)
from triage.logs import start_background
from triage.request_head import OWS, bearer_token, scheme_and_credentials
from triage.secrets import CURRENT_STAGE

log = structlog.get_logger(__name__)

__all__ = [
    "GRAFANA_SIGNATURE_HEADERS",
    "GRAFANA_TIMESTAMP_HEADER",
    "SOURCES",
    "BodySignature",
    "TokenStore",
    "Tokens",
    "TokensUnavailable",
    "challenge",
    "grafana_signature",
    "misformed",
    "parse_tokens",
    "presented",
    "signature_matches",
    "signature_shaped",
    "token_matches",
]

#: Tokens retired by re-reads that are still blanked in what is queued (`TokenStore.values`):
#: a few rotations' worth; each is a credential another replica may still take.
MAX_RETIRED = 16
#: Presented credentials longer than this are not compared (no token is this long).
_MAX_CREDENTIAL_BYTES = 4096
#: The schemes a credential comes in (`X-Grafana-Token` carries none).
_SCHEMES = frozenset({"bearer", "basic"})

#: What every 401 challenges for: the scheme senders are told to use.
BEARER_CHALLENGE = 'Bearer realm="triage"'
#: Added for a request that tried Basic, so a Basic-only sender learns the scheme is taken.
BASIC_CHALLENGE = 'Basic realm="triage", charset="UTF-8"'

#: Each source's tokens: one, or two while one is rotated (the current and the next).
Tokens = Mapping[str, tuple[bytes, ...]]

#: Where Grafana's webhook contact point puts its HMAC signature: its *Header* setting's
#: default, and the default of the release that introduced the signature.
GRAFANA_SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
#: The header the gateway reads Grafana's signed time from. Grafana's *Timestamp Header* has
#: no default (none: only the body is signed); this is the name Grafana's own examples use.
GRAFANA_TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp"


@dataclass(frozen=True, slots=True)
class BodySignature:
    """A signature over the body, read from the request's head: its digest (hex HMAC-SHA256)
    and the time it also covers, as sent (Grafana's, when its timestamp header is set)."""

    digest: str
    signed_time: str | None = None

    @property
    def shaped(self) -> bool:
        """Whether the digest could be one (`signature_shaped`)."""
        return signature_shaped(self.digest)

    def matches(self, body: bytes, secrets: tuple[bytes, ...]) -> bool:
        """Whether one of `secrets` signed this body (and time), compared in constant time."""
        signed = body if self.signed_time is None else _raw(self.signed_time) + b":" + body
        return signature_matches(self.digest, signed, secrets)


class TokenStore:
    """The current tokens by source; one instance per process, shared by every request."""

    def __init__(
        self,
        *,
        secret_id: str | None,
        inline: str | None,
        secrets_client: Any = None,
        ttl_s: float = 300.0,
        refresh_s: float = 5.0,
        wait_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if secret_id and secrets_client is None:
            raise ConfigError("TRIAGE_INGEST_TOKENS_SECRET_ID is set but no Secrets Manager client")
        if not secret_id and not inline:
            raise ConfigError(
                "no ingest tokens: set TRIAGE_INGEST_TOKENS_SECRET_ID or TRIAGE_INGEST_TOKENS "
                '(JSON such as {"grafana": "<token>"}); authentication is not optional'
            )
        self._secret_id = secret_id
        self._inline = inline
        self._client = secrets_client
        self._ttl_s = ttl_s
        self._refresh_s = refresh_s
        self.wait_s = wait_s
        self._clock = clock
        self._tokens: dict[str, tuple[bytes, ...]] | None = None
        #: Tokens a re-read no longer listed, oldest first (`values`).
        self._retired: dict[str, None] = {}
        self._read_at = 0.0
        #: When the last read started, answered or not (what the refresh interval counts from).
        self._tried_at = -math.inf
        # One read at a time: concurrent callers share it instead of stampeding the secret.
        self._reading: asyncio.Task[None] | None = None
        self._background: asyncio.Task[None] | None = None

    @property
    def loaded(self) -> bool:
        return self._tokens is not None

    def values(self) -> list[str]:
        """Every token held, and those a re-read retired (the most recent `MAX_RETIRED`), as
        text: what is blanked by exact value in what is queued, answered or logged. A retired
        token still authenticates on a replica that has not re-read the secret yet, and a
        request it authenticated may still be arriving here when the re-read lands."""
        current = [token.decode() for listed in (self._tokens or {}).values() for token in listed]
        return current + [token for token in self._retired if token not in current]

    async def load(self) -> None:
        """Read the tokens (or join the read in flight); ConfigError or TokensUnavailable,
        which includes a read that has not answered within `wait_s` (it goes on)."""
        await self._read(min_age_s=0.0)

    @property
    def in_flight(self) -> asyncio.Task[None] | None:
        """The read of the secret still waiting for Secrets Manager, if any."""
        return self._reading if self._reading is not None and not self._reading.done() else None

    def reading(self) -> asyncio.Task[None]:
        """The read in flight, or a new one (start-up watches the first for a refusal)."""
        if self._reading is None or self._reading.done():
            self._tried_at = self._clock()
            self._reading = start_background(self._read_now(), name="ingest-tokens-read")
            # Its error reaches whoever waits; one nobody waited for is not an error to report.
            self._reading.add_done_callback(_retrieve)
        return self._reading

    async def current(self) -> Tokens:
        """The tokens to check against; a stale set is renewed in the background meanwhile."""
        if self._tokens is None:
            await self._read(min_age_s=0.0)
        assert self._tokens is not None
        stale = self._secret_id and self._clock() - self._read_at >= self._ttl_s
        if stale and (self._background is None or self._background.done()):
            self._background = start_background(self._renew(), name="ingest-tokens")
        return self._tokens

    async def after_failure(self, seen: Tokens) -> Tokens | None:
        """A presented credential failed against `seen`: the tokens re-read from the secret (a
        rotation), or None when they were read (or tried) too recently to ask again; a read
        not answered within `wait_s` is TokensUnavailable."""
        if not self._secret_id:
            return None  # inline tokens change only with a restart
        if self._tokens is not seen:
            return self._tokens  # another request's re-read already brought new ones
        await self._read(min_age_s=self._refresh_s)
        return self._tokens if self._tokens is not seen else None

    async def aclose(self) -> None:
        for task in (self._background, self._reading):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _renew(self) -> None:
        try:
            await self._read(min_age_s=self._ttl_s)
        except TokensUnavailable as exc:
            # The tokens in hand keep serving; the next request after the TTL tries again.
            log.warning("ingest.tokens_stale", error=str(exc))
        except ConfigError:
            pass  # `_read_now` said why (ingest.tokens_refused); the tokens in hand serve on

    async def _read(self, min_age_s: float) -> None:
        """Join the read in flight, or start one unless the last attempt is younger than
        `min_age_s` (and tokens are held); wait for it at most `wait_s`."""
        in_flight = self._reading is not None and not self._reading.done()
        fresh = self._clock() - self._tried_at < min_age_s
        if not in_flight and fresh and self._tokens is not None:
            return
        try:
            async with asyncio.timeout(self.wait_s):
                await asyncio.shield(self.reading())
        except TimeoutError:
            raise TokensUnavailable(
                f"Secrets Manager has not answered within {self.wait_s:g} s"
            ) from None

    async def _read_now(self) -> None:
        try:
            if self._secret_id:
                text, where = await self._fetch(self._secret_id), "TRIAGE_INGEST_TOKENS_SECRET_ID"
            else:
                assert self._inline is not None
                text, where = self._inline, "TRIAGE_INGEST_TOKENS"
            tokens = held_tokens(text, where)
        except ConfigError as exc:
            if self._tokens is not None:
                # At start-up this stops the process with its own line; later (a rotation
                # gone wrong, a policy changed) the tokens read before keep serving and
                # deciding, and nothing else would say why the new tokens get 401.
                log.warning("ingest.tokens_refused", error=str(exc), kept="the tokens read before")
            raise
        self._retire(tokens)
        self._tokens, self._read_at = tokens, self._clock()
        # A source listing two tokens is mid-rotation: named, so it is not left half done.
        rotating = sorted(source for source, listed in tokens.items() if len(listed) > 1)
        log.info("ingest.tokens_read", sources=sorted(tokens), where=where, rotating=rotating)

    def _retire(self, tokens: Mapping[str, tuple[bytes, ...]]) -> None:
        """Remember the tokens held now that `tokens` (a re-read's) no longer lists."""
        kept = {token for listed in tokens.values() for token in listed}
        for listed in (self._tokens or {}).values():
            for token in listed:
                if token not in kept:
                    self._retired.pop(token.decode(), None)
                    self._retired[token.decode()] = None
        while len(self._retired) > MAX_RETIRED:
            del self._retired[next(iter(self._retired))]

    async def _fetch(self, secret_id: str) -> str:
        try:
            # Its AWSCURRENT version by name, as the backend token is read: a rotation's
            # AWSPENDING one is not served before the rotation finishes.
            response = await self._client.get_secret_value(
                SecretId=secret_id, VersionStage=CURRENT_STAGE
            )
        except AWS_CALL_ERRORS as exc:  # its answer, network, timeouts, an unreadable answer
            failure = read_failure(exc, secret_id)
            if isinstance(failure, TokensUnavailable):
                log.warning("ingest.tokens_unavailable", error=failure_reason(exc))
            raise failure from None
        try:
            return secret_text(response, secret_id)
        except TokensUnavailable:
            log.warning("ingest.tokens_unavailable", error="no_secret")
            raise


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


# --- Checking a request -----------------------------------------------------------------


def presented(headers: Mapping[str, str]) -> list[bytes]:
    """Every credential a request presents, in the three accepted forms."""
    found: list[bytes] = []
    authorization = headers.get("Authorization", "")
    scheme, value = scheme_and_credentials(authorization)
    token = bearer_token(authorization)  # the operators' API reads it by the same rule
    if token is not None:
        found.append(_raw(token))
    elif scheme == "basic":
        found.extend(_basic_credential(value))
    grafana = headers.get("X-Grafana-Token", "").strip(OWS)
    if grafana:
        found.append(_raw(grafana))
    return [c for c in found if 0 < len(c) <= _MAX_CREDENTIAL_BYTES]


def grafana_signature(headers: Mapping[str, str]) -> BodySignature | None:
    """Grafana's HMAC signature and signed time, when the request carries a signature."""
    for name in GRAFANA_SIGNATURE_HEADERS:
        digest = headers.get(name)
        if digest is not None:
            return BodySignature(digest, headers.get(GRAFANA_TIMESTAMP_HEADER))
    return None


def challenge(headers: Mapping[str, str]) -> str:
    """A 401's `WWW-Authenticate`: Bearer and Basic (RFC 9110 11.6.1 lets one header list
    both), so a client that sends Basic only once challenged for it (Python's urllib, `curl
    --anyauth`, Java's `Authenticator`) then sends it. Not Basic to a browser opening the URL
    as a page, which would show a login prompt, unless the request tried Basic itself."""
    scheme, _ = scheme_and_credentials(headers.get("Authorization", ""))
    if scheme == "basic" or not _browser_page(headers):
        return f"{BEARER_CHALLENGE}, {BASIC_CHALLENGE}"
    return BEARER_CHALLENGE


def _browser_page(headers: Mapping[str, str]) -> bool:
    """The request is a browser navigating to the URL (Fetch Metadata's `Sec-Fetch-Mode:
    navigate`; a browser too old to send it asks for HTML first, as no webhook sender does)."""
    if headers.get("Sec-Fetch-Mode", "").strip().lower() == "navigate":
        return True
    return "text/html" in headers.get("Accept", "").lower()


def misformed(headers: Mapping[str, str]) -> str | None:
    """Why the Authorization header cannot hold a token as sent, when a sender's set-up is the
    likely cause, for the 401 to say: `scheme_repeated` for `Bearer Bearer <token>` (the scheme
    pasted into a credentials field that adds its own), `no_scheme` for a bare value (a header
    set by hand to the token alone), `basic_without_password` for Basic with a user name and
    no password (the token put in the user field, or curl's `-u TOKEN:`), `bearer_not_token`
    for a Bearer credential holding what no token holds (a no-break space a copied page put
    after it, a space inside: `request_head.bearer_token`),
    `basic_password_spaced` for a password with whitespace around it (`echo "user:$TOKEN" |
    base64` encodes echo's newline; no token holds whitespace). None otherwise."""
    scheme, value = scheme_and_credentials(headers.get("Authorization", ""))
    repeated, rest = scheme_and_credentials(value)
    if scheme in _SCHEMES and repeated in _SCHEMES and rest:
        return "scheme_repeated"
    if scheme == "bearer" and value and bearer_token(headers.get("Authorization", "")) is None:
        return "bearer_not_token"
    if scheme and not value and scheme not in _SCHEMES:
        return "no_scheme"
    if scheme == "basic":
        user, colon, password = (_basic_decoded(value) or b"").partition(b":")
        if user and colon and not password:
            return "basic_without_password"
        bare = password.strip(b" \t\r\n")
        if colon and bare and bare != password:
            return "basic_password_spaced"
    return None


def token_matches(credentials: list[bytes], tokens: tuple[bytes, ...]) -> bool:
    """True when any presented credential is one of the source's tokens. Every pair is
    compared, in constant time, whatever matched first."""
    matched = False
    for credential in credentials:
        for token in tokens:
            matched |= hmac.compare_digest(credential, token)
    return matched


def signature_shaped(signature: str | None) -> bool:
    """Whether a Sentry-Hook-Signature could be one (64 hex digits): checked before the body
    is read, so a request without one costs no read."""
    value = (signature or "").strip(OWS)
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


def signature_matches(signature: str | None, body: bytes, secrets: tuple[bytes, ...]) -> bool:
    """Sentry-Hook-Signature: the hex HMAC-SHA256 of the raw body, keyed with one of the client
    secrets listed (two while one is rotated); each is compared in constant time."""
    if not signature or len(signature) > 256:
        return False
    given = _raw(signature.strip(OWS).lower())
    matched = False
    for secret in secrets:
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(given, expected)
    return matched


def _raw(text: str) -> bytes:
    # aiohttp decodes header bytes as UTF-8 with surrogateescape; this gives the bytes back.
    return text.encode("utf-8", "surrogateescape")


def _basic_credential(value: str) -> list[bytes]:
    """Basic's password (the user name is no credential: proxies log it, as nginx's
    `$remote_user`), exactly as encoded. Base64 that lost its padding is read as if it had it."""
    decoded = _basic_decoded(value)
    if decoded is None:
        return []
    _, colon, password = decoded.partition(b":")
    return [password] if colon else []


def _basic_decoded(value: str) -> bytes | None:
    encoded = _raw(value)
    try:
        return base64.b64decode(encoded + b"=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
