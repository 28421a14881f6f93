"""One aioboto3 session for the process, and the clients triage uses, opened from Settings.

Every client honours `AWS_ENDPOINT_URL` (LocalStack, moto) and `AWS_REGION`, and verifies TLS
with the process's one client context (`triage.tls`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

import aioboto3
import aiohttp
import structlog
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

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


class Aws:
    """Opens clients lazily on one session; `aclose()` closes them in reverse order.
    `config` goes over every client's defaults (`ONE_SHOT` for a command someone waits on)."""

    def __init__(self, settings: Settings, config: Config | None = None) -> None:
        self.settings = settings
        self._config = config
        self.session = aioboto3.Session(region_name=settings.aws_region)
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
                .merge(self._config or Config())
                .merge(config or Config())
            )
            # The stubs overload client() per literal service name; ours is a runtime string.
            client = self.session.client(  # type: ignore[call-overload]
                service,
                endpoint_url=endpoint_url or self.settings.aws_endpoint_url,
                region_name=self.settings.aws_region,
                config=client_config(merged, session_cls),
            )
            opened = await self._stack.enter_async_context(client)
            keep_alive(opened, service)
            self._clients[service] = opened
        return self._clients[service]

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._clients.clear()
