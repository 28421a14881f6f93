"""One aioboto3 session for the process, and the clients triage uses, opened from Settings.

Every client honours `AWS_ENDPOINT_URL` (LocalStack, moto) and `AWS_REGION`, and verifies TLS
with the process's one client context (`triage.tls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import os
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

import aioboto3
import aiohttp
import botocore.auth
import botocore.utils
import structlog
from aiobotocore.config import AioConfig
from aiobotocore.credentials import (
    AioContainerProvider,
    AioProcessProvider,
    create_credential_resolver,
)
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession
from aiobotocore.utils import AioContainerMetadataFetcher
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    InvalidConfigError,
    NoCredentialsError,
)

from triage.errors import ConfigError
from triage.health import KMS_DENIED as KMS_DENIED
from triage.redact import redact
from triage.settings import Settings
from triage.sinks.http import said
from triage.tls import client_context

log = structlog.get_logger(__name__)

#: What one AWS call can raise when the service fails: its error answer, botocore's own errors
#: (network, timeouts, an answer that is no JSON), and what botocore's parser raises on a 200
#: answer that does not fit the API's shapes (a list that is an object, an entry that is a
#: string: plain AttributeError, TypeError …). Catch it around the call alone, never more.
AWS_CALL_ERRORS: tuple[type[Exception], ...] = (
    ClientError,
    BotoCoreError,
    AttributeError,
    TypeError,
    KeyError,
    ValueError,
    IndexError,
)


#: An AWS error code as a line may name it: `ResourceNotFoundException`, `Throttling`,
#: `AWS.SimpleQueueService.NonExistentQueue`, or the HTTP status botocore names an error by
#: when the body says none (`500`).
_ERROR_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.]{0,99}")
#: How much of an AWS service's error message a line tells.
TOLD_MESSAGE_CHARS = 300


def told_error_code(code: object) -> str:
    """An AWS error code (`ClientError`'s `Code`) as a line may tell it: as it is when it has
    AWS's form and holds no credential, else words saying it had none. Whatever answers for a
    service (a stand-in, a proxy) writes it."""
    if isinstance(code, str) and _ERROR_CODE.fullmatch(code) and redact(code) == code:
        return code
    return "an error code of no AWS form"


def told_refusal(code: object, message: object, limit: int = TOLD_MESSAGE_CHARS) -> str:
    """An AWS refusal's code (`told_error_code`) and message for a line: the message on one
    line, redacted and cut to `limit` (whatever answers for the service writes both)."""
    told = said(message, limit) if isinstance(message, str) and message else ""
    return f"{told_error_code(code)}: {told}" if told else told_error_code(code)


def told_client_error(exc: ClientError) -> str:
    """An AWS service's refusal for a line: the call, then `told_refusal`. botocore's own text
    quotes the code and the message whole."""
    error = exc.response.get("Error", {})
    return f"{exc.operation_name} refused: {told_refusal(error.get('Code'), error.get('Message'))}"


def batch_entries(answer: object, key: str, size: int) -> list[tuple[Mapping[str, Any], int]]:
    """The `key` entries ("Successful", "Failed") of a batch call's answer, each with the index
    of the request entry it names (triage sends each entry's index as its Id). An entry naming
    none is logged and left out: whatever no entry answered, the caller takes as not done."""
    entries = answer.get(key) if isinstance(answer, Mapping) else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        index = entry.get("Id") if isinstance(entry, Mapping) else None
        position = int(index) if isinstance(index, str) and index in _ENTRY_IDS else size
        if position < size:
            found.append((entry, position))
        else:
            log.warning("aws.batch_entry_unknown", answer=key, entry_id=str(index)[:40])
    return found


#: What SQS answers when no wait can help: the URL names no queue, or the credentials are
#: unknown, refused or lack the permission.
QUEUE_REFUSALS = frozenset(
    {
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAddress",
    }
)


#: KMS errors that are a wait, not a refusal: the key is there and allows us, KMS is busy.
_KMS_WAITS = frozenset({"KMS.ThrottlingException", "KmsThrottled"})


def kms_refusal(exc: BaseException) -> str | None:
    """The error code when a queue call failed because the queue's KMS key refused it (SQS's
    query protocol says `KMS.AccessDeniedException`, `KMS.DisabledException`,
    `KMS.NotFoundException` …, its JSON protocol `KmsAccessDenied`, `KmsDisabled` …): the
    role lacks kms:GenerateDataKey / kms:Decrypt on the key, or the key is disabled or gone.
    GetQueueAttributes needs no KMS, so only sends and receives show it. None otherwise
    (KMS throttling included: that is a wait)."""
    if not isinstance(exc, ClientError):
        return None
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code[:80] if is_kms_code(code) else None


def is_kms_code(code: str) -> bool:
    """Whether an SQS error code (of a call, or of a batch entry) is a KMS refusal."""
    return code.startswith(("KMS.", "Kms")) and code not in _KMS_WAITS


def queue_refusal(exc: Exception, queue_url: str) -> ConfigError | None:
    """The configuration mistake a failed call to the queue shows (no credentials at all, a
    queue that does not exist, credentials SQS refuses), which no retry can mend and a process
    should stop on at start-up with one line; None for an outage worth waiting out (network,
    throttling, 5xx)."""
    if isinstance(exc, NoCredentialsError):
        return ConfigError(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, "
            "or run with a task or instance role"
        )
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        if code in QUEUE_REFUSALS:
            return ConfigError(f"ALERT_TRIAGE_QUEUE_URL {queue_url}: {code[:80]}")
    return None


#: Batch entry ids as triage sends them: SQS takes at most ten entries per batch call.
_ENTRY_IDS = frozenset(str(i) for i in range(10))

#: Retries in botocore's standard mode; our own backoff (via SQS visibility) handles the rest.
_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
)

#: Connections each AWS client may hold beside one per worker (TRIAGE_CONCURRENCY): the
#: long poll, the heartbeat, the acker, the sweep and the metrics; botocore's own default pool.
POOL_BESIDE_WORKERS = 10

#: For the one-shot commands (send, dlq, check, incidents, silence): someone waits at a
#: terminal, so an endpoint that accepts connections and never answers fails in about 20 s,
#: not the daemon's ~2 minutes (30 s read timeout, 4 tries: botocore's `max_attempts`
#: counts retries, `total_max_attempts` the first try too). Nothing they call long-polls.
ONE_SHOT = Config(
    retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=10
)


class RedirectRefused(Exception):
    """Raised (inside botocore's HTTPClientError) when an AWS endpoint answers with a redirect.
    None of the APIs triage calls redirects; following one would send the request's body (an
    alert, a prompt) and its session token to wherever the answer points."""


async def _refuse_redirect(
    _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestRedirectParams
) -> None:
    raise RedirectRefused(f"redirected with {params.response.status}; not followed")


#: Shared by every session: it is frozen when the first one takes it, and holds no state.
_NO_REDIRECTS = aiohttp.TraceConfig()
_NO_REDIRECTS.on_request_redirect.append(_refuse_redirect)


class SharedTlsSession(AIOHTTPSession):
    """aiobotocore's HTTP session on the process's TLS context: each client's connector would
    otherwise build a context and load the CA bundle again. A CA bundle botocore was given
    (AWS_CA_BUNDLE) gets a shared context of its own; a client certificate or a proxy keeps
    aiobotocore's own handling. A redirect is refused (`RedirectRefused`), not followed.

    `AioConfig(http_session_cls=...)` is aiobotocore's public hook; the method and attributes
    used here are its AIOHTTPSession's own (2.25), so tests/test_startup.py pins them. A
    subclass may read answers with its own `answer_class` (aiohttp's `response_class`): Bedrock
    bounds the size of its answers so (`summarise/bedrock.py`)."""

    #: What reads an answer: aiohttp's own unless a client needs more (a bound on its size).
    answer_class: type[aiohttp.ClientResponse] = aiohttp.ClientResponse

    async def _get_session(self, proxy_url: str | None) -> aiohttp.ClientSession:
        # aiobotocore's own, with the trace that refuses redirects (aiohttp follows them by
        # default, and aiobotocore does not ask otherwise).
        own: Any = self
        session: aiohttp.ClientSession | None = own._sessions.get(proxy_url)
        if session is None:
            session = aiohttp.ClientSession(
                connector=self._create_connector(proxy_url),
                timeout=own._timeout,
                skip_auto_headers={"CONTENT-TYPE"},
                auto_decompress=False,
                trace_configs=[_NO_REDIRECTS],
                response_class=self.answer_class,
            )
            own._sessions[proxy_url] = await own._exit_stack.enter_async_context(session)
        return session

    def _create_connector(self, proxy_url: str | None) -> aiohttp.TCPConnector:
        own: Any = self  # the stubs do not declare AIOHTTPSession's private attributes
        verify = own._verify
        if verify and not proxy_url and own._cert_file is None:
            context = client_context(verify if isinstance(verify, str) else None)
            return aiohttp.TCPConnector(
                limit=own._max_pool_connections, ssl=context, **own._connector_args
            )
        return super()._create_connector(proxy_url)  # type: ignore[misc,no-any-return]


def client_config(
    config: Config, session_cls: type[SharedTlsSession] = SharedTlsSession
) -> AioConfig:
    """`config` for an aiobotocore client on `session_cls` (`SharedTlsSession` or a subclass)."""
    aio: Any = AioConfig().merge(config)  # type: ignore[arg-type]  # it merges any Config
    aio.http_session_cls = session_cls  # AioConfig.merge does not carry it over
    return aio  # type: ignore[no-any-return]


def keep_alive(client: Any, service: str) -> None:
    """Make `client` ask for keep-alive on every request. HTTP/1.1 keeps connections alive by
    default, and AWS does; LocalStack (the compose stack's and the benchmark's SQS) closes each
    one unless the request asks, which costs both sides a TCP connection per call: in a storm
    on LocalStack, 0.60-0.68 -> 0.48-0.52 ms of the daemon's CPU per message (bench/RESULTS.md)."""
    client.meta.events.register(f"before-send.{service}", _ask_for_keep_alive)


def _ask_for_keep_alive(request: Any, **_: Any) -> None:
    request.headers["Connection"] = "keep-alive"


#: What AWS answers when the session token a request was signed with has run out or was
#: revoked (STS, SQS, DynamoDB, Bedrock …), whatever expiry the credentials' source gave.
EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
#: Where a request's context keeps the access key id it was signed with (never the secret or
#: token: botocore's debug lines may print a request's context).
_SIGNED_WITH = "triage_signed_with"
#: Where a request's context notes that it was sent again for its signing (once per call).
_RESIGNED = "triage_resigned"
#: The access key id in a SigV4 `Authorization` header.
_SIGNING_KEY = re.compile(r"Credential=([A-Za-z0-9]{1,128})/")


class SessionCredentials:
    """The credentials every client of one `Aws` signs with, found through botocore's own
    chain (environment, profile, the ECS task role's endpoint, instance metadata) when a
    request is first signed, not when a client is opened, and found again whenever AWS says
    the token in use expired.

    botocore finds them as a client opens: an ECS task role's endpoint slow or down at that
    moment stopped the daemon at start-up. Here a client opens regardless, and each call
    fails (botocore's `CredentialRetrievalError`, one of `AWS_CALL_ERRORS`) as an outage the
    daemon rides out until the endpoint answers. botocore also refreshes temporary credentials
    only by the expiry their source gave: a token AWS refuses as expired earlier (revoked, this
    host's clock behind) would be sent for hours. `renewed()` finds them again, and the
    refused call is sent once more, signed with the ones found then (`_retry_refused_signing`)."""

    method = "triage-session"

    def __init__(self, session: AioSession) -> None:
        self._session = session
        self._found: Any = None
        self._lock = asyncio.Lock()
        #: Whether the last try to find them failed (said once per outage).
        self._failing = False
        #: The credentials last handed out to sign with.
        self._signed = ReadOnlyCredentials(None, None, None)
        #: Whether an expired token the source keeps giving was said (once, until renewed).
        self._refusal_said = False
        #: Whether credentials that looked expired by this host's clock were said (once).
        self._expiry_said = False
        #: Whether `find_early` looked already.
        self._looked_early = False
        #: When (time.monotonic()) the last look for them failed, and why: the calls that
        #: waited for that look fail with it.
        self._failure: tuple[float, BotoCoreError] | None = None

    async def get_frozen_credentials(self) -> ReadOnlyCredentials:
        """The key, secret and token to sign with now (botocore's signer asks for them)."""
        found = await self._current()
        try:
            frozen: ReadOnlyCredentials = await found.get_frozen_credentials()
        except OSError as exc:  # a credential_process refreshing them could not run
            raise _process_failure(exc) from exc
        except RuntimeError:
            looked_expired = self._expired_by_this_clock(found)
            if looked_expired is None:
                raise
            frozen = looked_expired
        self._signed = frozen
        return frozen

    def _expired_by_this_clock(self, found: Any) -> ReadOnlyCredentials | None:
        """The credentials a refresh just fetched, which botocore refuses to hand out (a
        RuntimeError, "refreshed credentials are still expired", no caller takes for an AWS
        failure) because their expiry is past by the time it judges them by: this host's, or
        AWS's as far as `SIGNING_CLOCK` knows it. A host clock hours ahead (a hardware clock
        kept in local time) makes a task role's fresh credentials look expired on every call,
        so the daemon would never send one. They are signed with all the same, and AWS judges
        them: a signing time AWS refuses moves `SIGNING_CLOCK`, which they are judged by from
        then on; a token truly expired is refused as such (`renewed`). Said once. None when
        the refresh left no credentials (another RuntimeError: raised as it was)."""
        frozen = getattr(found, "_frozen_credentials", None)
        if not isinstance(frozen, ReadOnlyCredentials) or not frozen.access_key:
            return None
        if not self._expiry_said:
            self._expiry_said = True
            log.warning(
                "aws.credentials_look_expired",
                expiry=str(getattr(found, "_expiry_time", "?"))[:40],
                action="signed with all the same, AWS judges them; set this host's clock "
                "right (NTP)",
            )
        return frozen

    async def get_account_id(self) -> str | None:
        """The account the credentials name, when their source said (endpoint rules ask)."""
        return (await self.get_frozen_credentials()).account_id

    def get_deferred_property(self, name: str) -> Callable[[], Any]:
        """botocore's client set-up asks for this; aiobotocore then uses `get_account_id`."""
        return lambda: getattr(self, name)

    async def renewed(self, signed_with: object, service: str, operation: str) -> bool:
        """AWS refused the token a request was signed with (`signed_with`, its access key id)
        as expired: whether sending it again can help, i.e. whether the credentials found now
        are others. They are found again once for all the calls refused together (one line
        says so), not again when that was done since the request was signed. Credentials set
        by hand (the environment) stay what they were: that refusal is said once, and the
        call fails as AWS answered."""
        async with self._lock:
            dropped = self._found is not None and self._signed.access_key == signed_with
            if dropped:
                self._found = None
        fresh = await self.get_frozen_credentials()
        renewed = fresh.access_key != signed_with
        if dropped and (renewed or not self._refusal_said):
            log.warning(
                "aws.credentials_expired",
                service=service,
                operation=operation,
                renewed=renewed,
                action="the call is sent again with the new credentials"
                if renewed
                else "the credentials' source gives the same ones; the call fails",
            )
            self._refusal_said = not renewed
        return renewed

    async def find_early(self) -> None:
        """Find the credentials as a client opens, as botocore did: a mistake in how they are
        set (half a key pair, a profile no file has) stops the process there, in one line.
        A source that does not answer now (the task role's endpoint down or slow) and no
        credentials at all are left to the first call, which fails as it always did. Once
        per session: an endpoint that never answers costs its wait once, not per client."""
        if self._looked_early:
            return
        self._looked_early = True
        with contextlib.suppress(CredentialRetrievalError, NoCredentialsError):
            await self._current()

    async def _current(self) -> Any:
        """The credentials found, found now if need be: once for every call waiting, whose
        failure fails the calls that waited for it too (a task role endpoint that answers
        nothing costs its tries once, not once per call in turn)."""
        found = self._found
        if found is not None:
            return found
        asked_at = time.monotonic()
        async with self._lock:
            if self._found is None:
                failure = self._failure
                if failure is not None and failure[0] >= asked_at:
                    raise failure[1]
                try:
                    self._found = await self._find()
                except BotoCoreError as exc:
                    self._failure = (time.monotonic(), exc)
                    raise
                self._failure = None
            return self._found

    async def _find(self) -> Any:
        """Botocore's chain, read afresh (the environment as it is now), the task role's
        endpoint given longer to answer (`_PatientContainerFetcher`): NoCredentialsError
        when no source has any, as botocore's signer raises then; a source that fails
        (`CredentialRetrievalError`: the task role's endpoint down) is said once per outage."""
        resolver = create_credential_resolver(self._session)
        resolver.providers = [
            _PatientContainerProvider() if p.METHOD == AioContainerProvider.METHOD else p
            for p in resolver.providers
        ]
        for provider in resolver.providers:
            if provider.METHOD == AioProcessProvider.METHOD:
                process: Any = provider  # botocore's ProcessProvider keeps both as its own
                process._popen = _bounded_popen(str(process._profile_name))
        try:
            try:
                found = await resolver.load_credentials()
            except OSError as exc:
                raise _process_failure(exc) from exc
        except CredentialRetrievalError as exc:
            if not self._failing:
                self._failing = True
                log.warning("aws.credentials_unavailable", error=said(str(exc), 300))
            raise
        if found is None:
            raise NoCredentialsError()
        if hasattr(found, "_time_fetcher"):
            # Temporary credentials (a role's) expire by AWS's clock: judged by it, as far as
            # SIGNING_CLOCK knows it, not by a host clock that may be hours off.
            found._time_fetcher = _aws_now
            _space_early_refreshes(found)
        if self._failing:
            self._failing = False
            log.info("aws.credentials_recovered", source=str(getattr(found, "method", "?")))
        return found


#: How long after a failed early refresh of temporary credentials the next one waits.
EARLY_REFRESH_SPACING_S = 60.0


def _space_early_refreshes(found: Any) -> None:
    """Have `found` (botocore's refreshable credentials) wait `EARLY_REFRESH_SPACING_S`
    after an early refresh failed before it tries another. botocore refreshes a role's
    credentials early (its advisory window: 15 minutes before they expire) and, when their
    source fails then (the task role's endpoint answering 500, STS down), keeps the ones it
    has, but tries again before every call: three requests and two seconds of sleeps added
    to each call of the daemon, and a warning with its traceback each time, for five
    minutes. A refresh they must have (botocore's mandatory window: 10 minutes left) is
    never held back."""
    if not hasattr(found, "_refresh_using") or not hasattr(found, "_mandatory_refresh_timeout"):
        return
    refresh_using = found._refresh_using
    refresh_needed = found.refresh_needed
    failed_at: list[float] = []  # when the last refresh failed; empty after one worked

    async def refresh() -> Any:
        try:
            fetched = refresh_using()
            metadata = await fetched if asyncio.iscoroutine(fetched) else fetched
        except Exception:
            failed_at[:] = [time.monotonic()]
            raise
        failed_at.clear()
        return metadata

    def needed(refresh_in: float | None = None) -> bool:
        if failed_at and time.monotonic() - failed_at[0] < EARLY_REFRESH_SPACING_S:
            return bool(refresh_needed(found._mandatory_refresh_timeout))
        return bool(refresh_needed(refresh_in))

    found._refresh_using = refresh
    found.refresh_needed = needed


def _process_failure(exc: OSError) -> BotoCoreError:
    """What a profile's `credential_process` that could not be started raised (botocore lets
    the subprocess's OSError out, which no caller takes for an AWS failure): the program not
    there or not runnable is a mistake in the configuration (InvalidConfigError: `triage run`
    says it in one line and exits 2), anything else (no memory, too many processes) an
    outage of the credentials' source (CredentialRetrievalError), waited out."""
    if isinstance(exc, FileNotFoundError | PermissionError | NotADirectoryError):
        return InvalidConfigError(error_msg=f"credential_process cannot run: {exc}")
    return CredentialRetrievalError(provider="process", error_msg=str(exc))


#: How long a profile's `credential_process` may take to print its credentials (the Go SDK's
#: default). One that never exits (an MFA prompt no one sees, a helper waiting on a network
#: that is down) held the daemon's start-up, or every call waiting on a refresh, for ever:
#: botocore waits on it unbounded.
CREDENTIAL_PROCESS_TIMEOUT_S = 60.0


def _bounded_popen(profile: str) -> Callable[..., Awaitable[_BoundedProcess]]:
    """botocore's `popen` for `profile`'s credential_process: the process started as botocore
    starts it (same session and terminal, so a prompt on /dev/tty still reaches a person), its
    answer waited for at most `CREDENTIAL_PROCESS_TIMEOUT_S` (`_BoundedProcess`)."""

    async def popen(*command: str, **options: Any) -> _BoundedProcess:
        process = await asyncio.create_subprocess_exec(*command, **options)
        return _BoundedProcess(process, profile, command[0] if command else "?")

    return popen


class _BoundedProcess:
    """A credential_process as botocore reads it (`communicate()`, then `returncode`), whose
    answer is waited for at most `CREDENTIAL_PROCESS_TIMEOUT_S`: past it the process is
    killed, one `aws.credential_process_stopped` warning names the profile and the program,
    and botocore's caller gets a CredentialRetrievalError, an outage of the credentials'
    source: at start-up the daemon goes on and its calls wait it out; at a refresh botocore
    keeps the credentials it has until they must be refreshed."""

    def __init__(self, process: asyncio.subprocess.Process, profile: str, program: str) -> None:
        self._process = process
        self._profile = profile
        self._program = said(program, 200)

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def communicate(self) -> tuple[bytes, bytes]:
        try:
            return await asyncio.wait_for(self._process.communicate(), CREDENTIAL_PROCESS_TIMEOUT_S)
        except TimeoutError:
            await self._stop()
            log.warning(
                "aws.credential_process_stopped",
                profile=self._profile,
                program=self._program,
                timeout_s=CREDENTIAL_PROCESS_TIMEOUT_S,
                action="killed; calls wait for credentials as in an outage",
            )
            raise CredentialRetrievalError(
                provider="process",
                error_msg=f"profile {self._profile!r}: credential_process {self._program} "
                f"printed no credentials within {CREDENTIAL_PROCESS_TIMEOUT_S:g} s; killed",
            ) from None
        except BaseException:
            await self._stop()  # cancelled (the daemon stopping): nothing left running
            raise

    async def _stop(self) -> None:
        """Kill the process and let go of its pipes: a child it started that holds them
        (a shell's `sleep`) would otherwise keep `wait()` from ever returning."""
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        transport: Any = getattr(self._process, "_transport", None)
        if transport is not None:
            transport.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._process.wait()), 5)


class _PatientContainerFetcher(AioContainerMetadataFetcher):
    """The task role's endpoint given 10 s an answer, not botocore's 2: an ECS agent busy as
    tasks start (a storm's scale-out) answers slower, and at 2 s a try botocore would never
    get the credentials, however often it asked."""

    TIMEOUT_SECONDS = 10


class _PatientContainerProvider(AioContainerProvider):
    """botocore's task role provider, with `_PatientContainerFetcher` (its constructor puts
    its own fetcher in place of any it is given)."""

    def __init__(self) -> None:
        super().__init__()
        self._fetcher = _PatientContainerFetcher()


class _SessionCredentialsProvider:
    """The session's `credential_provider` component: hands out `SessionCredentials`, which
    find the real ones when a request is signed."""

    def __init__(self, credentials: SessionCredentials) -> None:
        self._credentials = credentials

    async def load_credentials(self) -> SessionCredentials:
        return self._credentials


def _note_signer() -> Callable[..., None]:
    """A `request-created` handler, run after botocore's signer: notes in the request's context
    the access key id its `Authorization` header was signed with (each attempt is signed
    anew; a presigned or unsigned request has none)."""

    def note(request: Any = None, **_: Any) -> None:
        context = getattr(request, "context", None)
        headers = getattr(request, "headers", None)
        if isinstance(context, dict) and headers is not None:
            found = _SIGNING_KEY.search(str(headers.get("Authorization", "")))
            context[_SIGNED_WITH] = found.group(1) if found else None

    return note


#: How AWS says a request's signing time is too far from its own: a code of its own (S3's
#: `RequestTimeTooSkewed`, EC2's `RequestExpired`), or its signature refusal's words
#: ("Signature expired: … is now earlier than …", "Signature not yet current: … is still
#: later than …") under `InvalidSignatureException` (JSON services) or `SignatureDoesNotMatch`.
_SKEW_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired"})
_SKEW_WORDS = re.compile(r"Signature (?:expired|not yet current)", re.IGNORECASE)
#: Less than this off AWS's clock is not worth following: a refusal for it is a request
#: held too long on its way (a proxy), not this host's clock.
SKEW_FOLLOWED_S = 60.0
#: More than this off is no host's clock, however wrong (one reset to 1970 by a dead clock
#: battery is 56 years behind): an answer dated so (the year 9999) is the answer's mistake.
#: Followed, it would put every signing past datetime's last second (an OverflowError).
SKEW_BELIEVED_S = 100 * 365.25 * 24 * 3600


class SigningClock:
    """The time botocore signs every request with: this host's clock, plus how far AWS's
    clock was found ahead of it (`offset_s`) the last time AWS refused a request as signed too
    long ago or too far ahead. SigV4 requests are refused 5 minutes off AWS's time, and
    botocore, unlike other AWS SDKs, does not correct for a host clock off by more: every call
    of the daemon would fail until someone mended the clock. One clock for the process, as the
    host has one (`install`)."""

    def __init__(self) -> None:
        self.offset_s = 0.0
        self._installed = False

    def now(self, remove_tzinfo: bool = True) -> datetime.datetime:
        """botocore's `get_current_datetime`, by AWS's time."""
        now = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.offset_s)
        return now.replace(tzinfo=None) if remove_tzinfo else now

    def follow(self, aws_date: object, service: str, operation: str) -> bool:
        """An answer refusing a request's signing time carried AWS's time (its `Date` header):
        sign by it from now on; whether it moved the clock (so that sending the request again
        can help). One line says how far this host's clock is off. A date further off than
        any host's clock is (`SKEW_BELIEVED_S`) is not followed."""
        try:
            aws_now = email.utils.parsedate_to_datetime(str(aws_date))
        except (TypeError, ValueError):
            return False
        if aws_now.tzinfo is None:
            return False
        ahead_s = (aws_now - datetime.datetime.now(datetime.UTC)).total_seconds()
        if abs(ahead_s - self.offset_s) < SKEW_FOLLOWED_S or abs(ahead_s) > SKEW_BELIEVED_S:
            return False
        self.install()
        self.offset_s = ahead_s
        log.warning(
            "aws.clock_skewed",
            service=service,
            operation=operation,
            aws_ahead_s=round(ahead_s, 1),
            action="signing by AWS's time; set this host's clock right (NTP)",
        )
        return True

    def install(self) -> None:
        """Have botocore's signers ask this clock for the time (once, the first time AWS's
        clock is found elsewhere: until then botocore's own is left alone)."""
        if not self._installed:
            botocore.auth.get_current_datetime = self.now  # type: ignore[attr-defined]
            self._installed = True


#: The process's signing clock (`SigningClock`).
SIGNING_CLOCK = SigningClock()


def _aws_now() -> datetime.datetime:
    """Now by AWS's clock as far as `SIGNING_CLOCK` knows it, with its time zone: the time
    temporary credentials' expiry is judged by (botocore's `time_fetcher`)."""
    return SIGNING_CLOCK.now(remove_tzinfo=False)


def _retry_refused_signing(
    credentials: SessionCredentials | None,
) -> Callable[..., Awaitable[float | None]]:
    """A `needs-retry` handler: an attempt refused for its signing is sent again at once,
    signed anew, when that can help: refused for an expired token and `credentials.renewed()`
    found other credentials, or refused for its signing time and `SIGNING_CLOCK` followed
    AWS's time (the only case without `credentials`: a client that does not sign with them).
    Once per call, whichever attempt it is: botocore's own retry of an attempt that failed
    (a 500, a connection closed) may be the one refused."""

    async def retry(
        response: Any = None,
        operation: Any = None,
        request_dict: Any = None,
        **_: Any,
    ) -> float | None:
        if not isinstance(response, tuple) or len(response) != 2:
            return None
        context = request_dict.get("context") if isinstance(request_dict, Mapping) else None
        if not isinstance(context, dict) or context.get(_RESIGNED):
            return None
        decided = await _resign_after(credentials, response, operation, context)
        if decided is not None:
            context[_RESIGNED] = True
        return decided

    return retry


async def _resign_after(
    credentials: SessionCredentials | None,
    response: tuple[Any, Any],
    operation: Any,
    context: dict[str, Any],
) -> float | None:
    """`_retry_refused_signing`'s decision for one refused attempt: 0.0 to send it again now,
    None to leave it to botocore."""
    answer, parsed = response
    error = parsed.get("Error", {}) if isinstance(parsed, Mapping) else {}
    if not isinstance(error, Mapping):
        return None
    code, message = error.get("Code"), str(error.get("Message", ""))
    service = str(getattr(getattr(operation, "service_model", None), "service_name", "?"))
    name = str(getattr(operation, "name", "?"))
    if code in EXPIRED_TOKEN_CODES and credentials is not None:
        renewed = await credentials.renewed(context.get(_SIGNED_WITH), service, name)
        return 0.0 if renewed else None
    if code in _SKEW_CODES or _SKEW_WORDS.search(message[:300]):
        headers = getattr(answer, "headers", None) or {}
        moved = SIGNING_CLOCK.follow(headers.get("Date"), service, name)
        return 0.0 if moved else None
    return None


#: Each botocore session's `SessionCredentials`, for as long as the session lives.
_SESSIONS_CREDENTIALS: weakref.WeakKeyDictionary[AioSession, SessionCredentials] = (
    weakref.WeakKeyDictionary()
)


def session_credentials(session: aioboto3.Session) -> SessionCredentials:
    """Have every client of `session` sign with `SessionCredentials` (found when a call is
    signed, found again when AWS says the token expired); they are returned for
    `watch_signing`. Asked again for the same session, the same ones."""
    botocore_session: AioSession = session._session
    credentials = _SESSIONS_CREDENTIALS.get(botocore_session)
    if credentials is None:
        credentials = SessionCredentials(botocore_session)
        botocore_session.register_component(
            "credential_provider", _SessionCredentialsProvider(credentials)
        )
        # The STS client botocore makes to assume a role (a profile's role_arn, a web
        # identity) is none of ours and signs with the source's keys: on a host clock STS
        # refuses as skewed, no credentials came and every call failed until the clock was
        # mended. Its refusal moves SIGNING_CLOCK as any other service's does.
        botocore_session.register("needs-retry.sts", _retry_refused_signing(None))
        _SESSIONS_CREDENTIALS[botocore_session] = credentials
    return credentials


def watch_signing(client: Any, credentials: SessionCredentials) -> None:
    """Have `client` send a call refused for its signing once more when that can help: its
    token expired and `credentials` are found anew, or this host's clock is off AWS's
    (`SIGNING_CLOCK`)."""
    client.meta.events.register("request-created", _note_signer())
    client.meta.events.register_first("needs-retry", _retry_refused_signing(credentials))


def service_endpoint_variable(service: str) -> str:
    """The variable botocore reads `service`'s own endpoint from, named as botocore names it
    (its client name's service id, hyphens as underscores): AWS_ENDPOINT_URL_SQS,
    AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_CLOUDWATCH."""
    name = botocore.utils.SERVICE_NAME_ALIASES.get(service, service)
    service_id = botocore.utils.CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES.get(name, name)
    return "AWS_ENDPOINT_URL_" + service_id.replace("-", "_").upper()


def service_endpoint(service: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """`service`'s own endpoint (`service_endpoint_variable`), when it is set and botocore is
    not told to ignore configured endpoints (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS). It ranks
    above AWS_ENDPOINT_URL, as in botocore and every AWS SDK: a VPC endpoint or a stand-in of
    one service beside a global one. Passed to a client as its endpoint_url, AWS_ENDPOINT_URL
    would otherwise override it."""
    if botocore.utils.ensure_boolean(environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")):
        return None
    return environ.get(service_endpoint_variable(service)) or None


class Aws:
    """Opens clients lazily on one session; `aclose()` closes them in reverse order.
    `config` goes over every client's defaults (`ONE_SHOT` for a command someone waits on).
    Every client signs with the session's `SessionCredentials`."""

    def __init__(self, settings: Settings, config: Config | None = None) -> None:
        self.settings = settings
        self._config = config
        self.session = aioboto3.Session(region_name=settings.aws_region)
        self.credentials = session_credentials(self.session)
        self._stack = AsyncExitStack()
        self._clients: dict[str, Any] = {}

    async def client(
        self,
        service: str,
        endpoint_url: str | None = None,
        config: Config | None = None,
        session_cls: type[SharedTlsSession] = SharedTlsSession,
    ) -> Any:
        """The session's client of `service` (opened on first use); `config` is put over the
        defaults (retries, timeouts) and `session_cls` sends its requests, the first time."""
        if service not in self._clients:
            # A long poll holds the connection for up to 20 s: the read timeout must exceed it.
            merged = (
                _CONFIG.merge(Config(read_timeout=self.settings.sqs_wait_time + 10))
                .merge(self._daemon_pool())
                .merge(self._config or Config())
                .merge(config or Config())
            )
            await self.credentials.find_early()
            # The stubs overload client() per literal service name; ours is a runtime string.
            client = self.session.client(  # type: ignore[call-overload]
                service,
                endpoint_url=(
                    endpoint_url or service_endpoint(service) or self.settings.aws_endpoint_url
                ),
                region_name=self.settings.aws_region,
                config=client_config(merged, session_cls),
            )
            opened = await self._stack.enter_async_context(client)
            keep_alive(opened, service)
            watch_signing(opened, self.credentials)
            self._clients[service] = opened
        return self._clients[service]

    def _daemon_pool(self) -> Config:
        """The daemon's pool of connections per client. Each worker may hold one call of a
        client at once (a store read, a visibility change), beside the poller, heartbeat,
        acker and sweep: botocore's pool of 10 would queue the 11th worker's call behind the
        others, unbounded by any timeout. A one-shot command (`config` given) makes a call at
        a time and keeps botocore's pool, reading no TRIAGE_CONCURRENCY (`triage check`
        skips what reads a refused setting)."""
        if self._config is not None:
            return Config()
        return Config(max_pool_connections=self.settings.concurrency + POOL_BESIDE_WORKERS)

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._clients.clear()
