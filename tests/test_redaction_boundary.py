"""Nothing secret leaves the process: for every source, every free-text field and every kind of
secret, no request the pipeline makes (ticket backend, GitHub, Slack, the LLM) carries the secret
in its body, a header or its URL, for every effect: open, update, close, reopen, digest entry;
nor does any log line, as the daemon's log processors write it.

The sinks run for real, on recording transports in front of in-process services: the GitHub
stand-in's own request handler, a backend and a Slack webhook that accept everything, and a
"model" that echoes the prompt it was given back into the ticket (the worst a model can do).
Every (field, secret) pair is covered: the secrets are packed into groups short enough for every
field's limit, and round r puts group (i + r) mod G into free-text field i.

The rounds' prompt views are compared here too, with the pipelines' redactor: the prompt shows
each fresh view as redacting it again showed it (as `test_prompt_redacts_once` proves of the
sample payloads).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx2
import pytest
import structlog

from github_stub import GitHubServer
from memory_store import MemoryStore
from prompt_views import differences
from remembering import RememberingRedactor
from triage.errors import TriageError
from triage.incidents import Ledger, Policy
from triage.logs import redact_event
from triage.metrics import Metrics
from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.github import GitHubSink
from triage.sinks.slack import SlackSink
from triage.summarise import FallbackSummariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.summarise.llm import LlmSummariser

PAYLOADS = Path(__file__).parent / "payloads"
SOURCES = [
    "cloudwatch/sns-alarm.json",
    "cloudwatch/eventbridge-alarm.json",
    "grafana/group-firing.json",
    "grafana/legacy-alerting.json",
    "alertmanager/group-firing.json",
    "sentry/issue-created.json",
    "sentry/event-alert.json",
    "sentry/metric-alert-critical.json",
    "generic/firing.json",
    "threshold/triggered.json",
]

# The daemon's own credentials: an alert that quotes them must not carry them anywhere either.
BACKEND_TOKEN = "bk-live-Q8v2Lm7Rt4Xz9Kp1Wn6Yd3"
GITHUB_TOKEN = "ghs_ownTokenOfTheDaemon0123456789ABCDEFGH"
SLACK_WEBHOOK = "https://hooks.slack.com/services/T0OWN/B0OWN/ownWebhookSecret9f8e7d"
OPENAI_KEY = "sk-own-openai-key-7a6b5c4d3e2f1a0b9c8d"


@dataclass(frozen=True)
class Secret:
    kind: str
    text: str
    #: What must never appear in a request (the secret part, not its harmless context).
    needles: tuple[str, ...]


def _secret(kind: str, text: str, *needles: str) -> Secret:
    return Secret(kind, text, needles or (text,))


SECRETS = [
    _secret("aws-key", "key AKIAZ3MXQ7VJ9PLEKT4R in use", "AKIAZ3MXQ7VJ9PLEKT4R"),
    _secret(
        "aws-secret",
        "aws_secret_access_key = Wj8aQ2/K7mDeNGbPxRfiCYzEXAMPLEKEY1a9zQ7b",
        "Wj8aQ2/K7mDeNGbPxRfiCYzEXAMPLEKEY1a9zQ7b",
    ),
    _secret("github-token", "ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12"),
    _secret("github-pat", "github_pat_11ABCDEFG0aBcDeFgHiJkLmN_0123456789abcdefghij"),
    _secret("openai", "sk-proj-Zq1Xw2Ec3Rv4Tb5Yn6Um7Ik8Ol9P0aS"),
    _secret("slack-token", "xoxb-2048-4096-Qw3rTy5UiOpAsDfGhJkL"),
    _secret(
        "slack-webhook",
        "https://hooks.slack.com/services/T01ABCD/B02EFGH/qRsTuVwXyZ0123456789abcd",
        "qRsTuVwXyZ0123456789abcd",
    ),
    _secret(
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbjEyMyJ9.Sgn4tUr3V4lu3ZZkQ9wE7rT1yU2iO3pA",
        "Sgn4tUr3V4lu3ZZkQ9wE7rT1yU2iO3pA",
    ),
    _secret(
        "bearer", "Authorization: Bearer Br3ar3rT0k3nXyZ9876543210", "Br3ar3rT0k3nXyZ9876543210"
    ),
    _secret("dsn", "postgres://app:Pgs3cr3tPassW0rd@db.internal:5432/app", "Pgs3cr3tPassW0rd"),
    _secret("cookie", "Cookie: sessionid=C00k13S3ss10nV4lu3x", "C00k13S3ss10nV4lu3x"),
    _secret("token-scheme", "Authorization: Token T0k3nSch3m3V4lu3", "T0k3nSch3m3V4lu3"),
    _secret("password-pair", "password=Hunt3rTw0Sekret!", "Hunt3rTw0Sekret"),
    _secret("env-name", "DB_PASSWORD=EnvStyl3Val", "EnvStyl3Val"),
    _secret("client-secret", "client_secret: CliSecVal9988", "CliSecVal9988"),
    _secret("api-key-name", "x_api_key=ApiKeyVal7766", "ApiKeyVal7766"),
    _secret("quoted", 'password="quoted pass phrase 42"', "quoted pass phrase 42"),
    _secret(
        "private-key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAzPrivKeyBody7q\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAzPrivKeyBody7q",
    ),
    _secret("email", "reported by jane.doe@example.net.", "jane.doe@example.net"),
    _secret("stripe", "sk_live_51HqLyjWDarjtT1zdp7dc9W2b3", "51HqLyjWDarjtT1zdp7dc9W2b3"),
    _secret(
        "google",
        "AIzaSyD3m0K3yF0rG00gl3Ap1sXyZ1234567890",
        "AIzaSyD3m0K3yF0rG00gl3Ap1sXyZ1234567890",
    ),
    _secret("gitlab", "glpat-Xy9Zw8Vu7Ts6Rq5Po4Nm", "Xy9Zw8Vu7Ts6Rq5Po4Nm"),
    _secret(
        "sendgrid",
        "SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012",
        "wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012",
    ),
    _secret(
        "npm", "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    ),
    _secret(
        "datadog", "DD_API_KEY=0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"
    ),
    _secret(
        "azure",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=AzUr3K3yB4s364Str1ngV4lu3==;",
        "AzUr3K3yB4s364Str1ngV4lu3",
    ),
    _secret(
        "percent-encoded",
        "https://console.example.com/alarm/key%3DAKIAQ2W3E4R5T6Y7U8I9",
        "AKIAQ2W3E4R5T6Y7U8I9",
    ),
    _secret(
        "url-fragment-key",
        "https://app.example.com/cb#key=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    ),
    _secret(
        "oauth-code", "GET /cb?code=4/0AfJohXnQ7Lw2Rt9Yp3Kd8Vz&state=s", "0AfJohXnQ7Lw2Rt9Yp3Kd8Vz"
    ),
    _secret("aws-key-glued", "tag kAKIAZ3MXQ7VJ2PLEKT4S set", "AKIAZ3MXQ7VJ2PLEKT4S"),
    _secret(
        "json-escaped-break",
        'log "boot\\nghp_Esc4p3dBr3akT0k3nAbCdEfGhIjKlMnOpQ" end',
        "Esc4p3dBr3akT0k3nAbCdEfGhIjKlMnOpQ",
    ),
    _secret("own-backend-token", f"the token is {BACKEND_TOKEN}", BACKEND_TOKEN),
    _secret("own-github-token", f"GH={GITHUB_TOKEN}", GITHUB_TOKEN),
    _secret("own-slack-webhook", SLACK_WEBHOOK, "ownWebhookSecret9f8e7d"),
    _secret("own-openai-key", f"key {OPENAI_KEY}", OPENAI_KEY),
]


# --- Payloads with secrets in their free-text fields ------------------------------------------


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    elif isinstance(value, str):
        yield path


def _with(payload: Any, path: tuple[Any, ...], text: str) -> Any:
    copy = json.loads(json.dumps(payload))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = f"{text} {node[path[-1]]}"
    return copy


def _normalise(payload: Any) -> tuple[Alert, ...] | None:
    try:
        return normalize_body(json.dumps(payload)).alerts or None
    except TriageError:
        return None


def _free_text(payload: Any) -> list[tuple[Any, ...]]:
    """The string leaves that take any text and still normalise to as many alerts."""
    count = len(_normalise(payload) or ())
    return [
        path
        for path in _leaves(payload)
        if len(_normalise(_with(payload, path, "x-probe-x")) or ()) == count
    ]


def _groups(limit: int = 170) -> list[list[Secret]]:
    """The secrets packed, longest first, into groups whose text fits a title (200 characters)
    and a label value (256) with room to spare, so no secret is cut by a field's limit."""
    groups: list[list[Secret]] = []
    for secret in sorted(SECRETS, key=lambda s: -len(s.text)):
        for group in groups:
            if sum(len(s.text) + 1 for s in group) + len(secret.text) <= limit:
                group.append(secret)
                break
        else:
            groups.append([secret])
    return groups


GROUPS = _groups()


@functools.cache
def _rounds(name: str) -> tuple[tuple[list[Alert], list[Secret]], ...]:
    """Source `name`'s alerts in each round, with the secrets placed in them. Made when a test
    first asks, not at import: every xdist worker collects this file, one runs it."""
    payload = json.loads((PAYLOADS / name).read_text())
    paths = _free_text(payload)
    rounds = []
    for r in range(len(GROUPS)):
        hostile, placed = payload, []
        for i, path in enumerate(paths):
            group = GROUPS[(i + r) % len(GROUPS)]
            hostile = _with(hostile, path, " ".join(s.text for s in group))
            placed += group
        alerts = _normalise(hostile)
        assert alerts is not None, f"{name}: round {r} does not normalise"
        rounds.append((list(alerts), placed))
    return tuple(rounds)


# --- The services, in process, behind recording transports -----------------------------------


@dataclass
class Recorder:
    """Every request one sink (or the LLM client) sent: method, URL, headers, body."""

    service: str
    own: str
    requests: list[httpx2.Request] = field(default_factory=list)

    def transport(
        self, answer: Callable[[httpx2.Request], httpx2.Response]
    ) -> httpx2.MockTransport:
        def handle(request: httpx2.Request) -> httpx2.Response:
            request.read()
            self.requests.append(request)
            return answer(request)

        return httpx2.MockTransport(handle)

    def leaks(self, needles: list[str]) -> list[str]:
        """Each needle found in a request's URL (percent-decoded too), headers or body (and
        the body's JSON decoded, so an escape hides nothing)."""
        found = []
        for request in self.requests:
            body = request.content.decode("utf-8", "replace")
            with contextlib.suppress(ValueError):
                body += json.dumps(json.loads(body), ensure_ascii=False)
            headers = "\n".join(
                f"{k}: {v}"
                for k, v in request.headers.items()
                # The sink's own credential belongs in its own Authorization header.
                if not (k.lower() == "authorization" and self.own in v)
            )
            url = str(request.url)
            if self.service == "slack":
                url = url.replace(SLACK_WEBHOOK, "<own webhook>")
            sent = f"{url}\n{unquote(unquote(url))}\n{headers}\n{body}"
            found += [f"{self.service} {request.method}: {n!r}" for n in needles if n in sent]
        return found


def _echo_model(request: httpx2.Request) -> httpx2.Response:
    """A model that writes the whole prompt it saw into the ticket, links and all."""
    prompt = json.loads(request.content)["messages"][-1]["content"]
    draft = {
        "title": prompt.splitlines()[3][:100] or "an alert",
        "priority": "high",
        "description": prompt[:1500],
        "steps": [line[:250] for line in prompt.splitlines()[2:6] if line.strip()] or ["look"],
    }
    completion = {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "echo",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(draft)},
                "finish_reason": "stop",
            }
        ],
    }
    return httpx2.Response(200, json=completion)


def _accept(request: httpx2.Request) -> httpx2.Response:
    return (
        httpx2.Response(201, json={"id": "T-1"})
        if request.method == "POST"
        else httpx2.Response(200)
    )


def _github_answer(stub: GitHubServer) -> Callable[[httpx2.Request], httpx2.Response]:
    def answer(request: httpx2.Request) -> httpx2.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        target = request.url.raw_path.decode()
        status, body, extra = stub._handle(request.method, target, headers, request.content)
        return httpx2.Response(status, json=body, headers=extra)

    return answer


@pytest.fixture
def github_stub() -> Iterator[GitHubServer]:
    stub = GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"})
    yield stub
    stub.stop()


T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _settings(digest: bool) -> Settings:
    return Settings(
        backend_base_url="http://backend.test",
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
        github_api_url="http://github.test",
        github_repository="acme/ops",
        github_token=GITHUB_TOKEN,
        # With the digest, the hour's budget is two: one issue, then the token kept for the
        # digest issue itself, then digest entries.
        github_create_per_hour=2 if digest else 150,
        slack_webhook_url=SLACK_WEBHOOK,
        slack_min_priority="low",
        slack_min_interval_s=0,
        openai_api_key=OPENAI_KEY,
        openai_base_url="http://llm.test/v1",
        llm_retries=0,
    )


SETTINGS = {digest: _settings(digest) for digest in (False, True)}
#: The daemon's redactor, remembering long texts too: the rounds' alerts go through four
#: effects, twice with a digest, and the model echoes the prompt into tickets redacted again.
REDACTOR = RememberingRedactor(BACKEND_TOKEN, GITHUB_TOKEN, SLACK_WEBHOOK, OPENAI_KEY)
#: One for the module: it keeps nothing between alerts, and reading and checking its bundled
#: patterns costs ~16 ms of CPU, 2 s over this file's pipelines.
DETERMINISTIC = DeterministicSummariser()


class _Token:
    async def get(self) -> str:
        return BACKEND_TOKEN

    def invalidate(self, stale: str | None = None) -> None:
        return None


class _Model:
    """One LLM client for the module (making one costs tens of milliseconds); each test points
    its transport at that test's recorder."""

    def __init__(self) -> None:
        self.recorder = Recorder("llm", OPENAI_KEY)

        def handle(request: httpx2.Request) -> httpx2.Response:
            request.read()
            self.recorder.requests.append(request)
            return _echo_model(request)

        self.summariser = LlmSummariser(
            SETTINGS[False],
            redactor=REDACTOR,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle)),
        )


@pytest.fixture(scope="module")
def model() -> _Model:
    return _Model()


async def _run_effects(
    alerts: list[Alert], github_stub: GitHubServer, model: _Model, *, digest: bool
) -> list[Recorder]:
    """Open, update, close and reopen every alert through a pipeline with all three sinks and
    the LLM; with `digest`, the hourly issue budget is spent first, so GitHub gets digest
    entries instead of issues."""
    settings = SETTINGS[digest]
    model.recorder = Recorder("llm", OPENAI_KEY)
    recorders = [
        Recorder("backend", BACKEND_TOKEN),
        Recorder("github", GITHUB_TOKEN),
        Recorder("slack", SLACK_WEBHOOK),
        model.recorder,
    ]
    backend, github, slack, _ = recorders
    metrics = Metrics()
    policy = Policy(update_interval=timedelta(0))
    store = MemoryStore(policy)
    sinks = [
        BackendSink(settings, _Token(), transport=backend.transport(_accept)),
        GitHubSink(
            settings, budgets=store, transport=github.transport(_github_answer(github_stub))
        ),
        SlackSink(settings, transport=slack.transport(lambda _r: httpx2.Response(200))),
    ]
    summariser = FallbackSummariser(model.summariser, DETERMINISTIC, metrics, REDACTOR)
    now = [T0]
    pipeline = Pipeline(
        Ledger(store, clock=lambda: now[0]),
        summariser,
        sinks,
        metrics,
        redactor=REDACTOR,
        policy=policy,
        payload_excerpt_chars=settings.llm_max_input_tokens * 4,
    )
    try:
        if digest:  # spend the hour's budget down to the token kept for the digest issue
            benign = Alert(
                source="generic",
                status=Status.FIRING,
                title="benign",
                occurred_at=T0,
                identity={"dedup_key": "benign"},
            )
            await pipeline.handle(benign, "m0")
        for step, status in enumerate(
            [Status.FIRING, Status.FIRING, Status.RESOLVED, Status.FIRING], start=1
        ):
            now[0] = T0 + timedelta(minutes=step)
            for alert in alerts:
                event = alert.model_copy(update={"status": status, "occurred_at": now[0]})
                await pipeline.handle(event, f"m{step}")
    finally:
        for sink in sinks:
            await sink.aclose()
    return recorders


SENTRY_REQUEST_SECRETS = ("S3ntryC00k13Val", "S3ntryT0k3nVal", "S3ntryAp1K3yVal", "S3ntryS1dVal")


def _sentry_with_request() -> list[Alert]:
    """Sentry's event alert with the request it recorded: headers and cookies as [name, value]
    pairs, as Sentry sends them."""
    payload = json.loads((PAYLOADS / "sentry/event-alert.json").read_text())
    cookie, token, key, sid = SENTRY_REQUEST_SECRETS
    payload["data"]["event"]["request"] = {
        "url": "https://shop.example.com/checkout",
        "method": "POST",
        "headers": [
            ["Accept", "application/json"],
            ["Cookie", f"sessionid={cookie}; theme=dark"],
            ["Authorization", f"Token {token}"],
            ["X-Api-Key", key],
        ],
        "cookies": [["sessionid", sid]],
    }
    alerts = _normalise(payload)
    assert alerts is not None
    return list(alerts)


async def test_sentry_request_headers_and_cookies_reach_no_request(
    github_stub: GitHubServer, model: _Model
) -> None:
    """The Cookie, Authorization and API-key values of the request a Sentry event recorded
    reach no request of any sink or the LLM, and no log line."""
    with structlog.testing.capture_logs() as logs:
        recorders = await _run_effects(_sentry_with_request(), github_stub, model, digest=False)
    assert all(r.requests for r in recorders)
    leaks = [leak for r in recorders for leak in r.leaks(list(SENTRY_REQUEST_SECRETS))]
    written = json.dumps([redact_event(None, "info", dict(e)) for e in logs], default=str)
    leaks += [f"log: {n!r}" for n in SENTRY_REQUEST_SECRETS if n in written]
    assert leaks == [], "\n".join(leaks)


#: Every third round also runs with the hour's issue budget spent (digest entries): each
#: secret group still reaches a digest entry in some field of each source (checked below),
#: and every field of every sample is rendered as a digest entry by
#: tests/test_every_source_hostile.py; every round would double this file's time.
DIGEST_EVERY = 3
CASES = [
    pytest.param(name, r, digest, id=f"{'digest' if digest else 'issue'}-{name}-r{r}")
    for name in SOURCES
    for r in range(len(GROUPS))
    for digest in (False, True)
    if not digest or r % DIGEST_EVERY == 0
]


def test_the_digest_rounds_place_every_secret_group_in_every_source() -> None:
    """The rounds run with digest entries still place every secret of the corpus, per source."""
    every = {s.text for group in GROUPS for s in group}
    for name in SOURCES:
        placed = {
            s.text
            for r, (_, secrets) in enumerate(_rounds(name))
            if r % DIGEST_EVERY == 0
            for s in secrets
        }
        assert placed == every, name


@pytest.mark.parametrize(("source", "round_", "digest"), CASES)
async def test_no_secret_leaves_in_any_request(
    github_stub: GitHubServer, model: _Model, source: str, round_: int, digest: bool
) -> None:
    """Secrets in every free-text field of this source reach no request of any sink or the LLM,
    and no log line, for open, update, close and reopen (and digest entries when the budget is
    spent)."""
    alerts, placed = _rounds(source)[round_]
    assert placed, f"{source} has no free-text field"
    with structlog.testing.capture_logs() as logs:
        recorders = await _run_effects(alerts, github_stub, model, digest=digest)
    backend, github, slack, llm = recorders
    assert backend.requests and github.requests and slack.requests and llm.requests
    methods = {(r.method, r.url.path.rsplit("/", 1)[-1]) for r in backend.requests}
    assert {("POST", "tickets"), ("POST", "updates"), ("POST", "resolve")} <= methods
    needles = [n for s in placed for n in s.needles]
    leaks = [leak for r in recorders for leak in r.leaks(needles)]
    # Log lines leave the process too: as the daemon writes them, through its redaction.
    written = json.dumps([redact_event(None, "info", dict(e)) for e in logs], default=str)
    leaks += [f"log: {n!r}" for n in needles if n in written]
    assert leaks == [], "\n".join(leaks)


@pytest.mark.parametrize("name", SOURCES)
def test_a_secret_packed_alerts_prompt_view_is_what_redacting_it_again_gave(name: str) -> None:
    """Every source with every kind of secret in every free-text field, redacted by a redactor
    that holds the daemon's own credentials: shown as the second redaction showed it."""
    found = []
    for round_, (sources, _) in enumerate(_rounds(name)):
        found += [f"round {round_}: {d}" for d in differences(tuple(sources), REDACTOR)]
    assert found == []
