"""Every credential format of the corpus (`secret_formats`), carried by real alerts through a
running daemon, leaves it by no path: no request to a sink or the model, no log line, no record
of the store, no line of `/metrics` and no answer of the operator's API or status page holds
any 8-character run of a secret's random part.

`test_trust` proves the paths with a few hand-picked secrets; this file proves them with one
sample of each of the corpus' formats, placed in the free-text fields alerts really carry them in
(a script's title, description and runbook link, an Alertmanager group's annotations and labels, a CloudWatch
alarm's description and reason, a Sentry issue's title, culprit and message), a few per field.

The unit tests after it pin what the daemon run found: a URL's credential parameter before the
"…" of a cut title, and the piece of a secret that a title's cut leaves."""

from __future__ import annotations

import html
import json
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx2
import pytest

from daemon_harness import TOKEN, Daemon, Queues, settings_for
from recording_proxy import RecordingProxy
from secret_formats import FORMATS, Secret, SecretFormat, sample
from test_trust import (
    GH_TOKEN,
    OPENAI_KEY,
    PAYLOADS,
    RESOLVES,
    SLACK_PATH,
    UPDATES,
    _with_status,
    generic,
    github,  # noqa: F401 (the fixture, used by name)
    stop,
    wait_until,
)
from triage.demo.model import ChatServer, completion
from triage.demo.ticketd import TicketServer
from triage.normalize.common import title as normalized_title
from triage.redact import Redactor

#: How many formats share one field: a few, so no field is so long that a sink or the prompt
#: cuts it and a secret is never rendered (a leak would then go unseen).
PER_FIELD = 4
API_TOKEN = "corpus-operator-token-0123456789abcdef"

REDACTOR = Redactor()

Placed = list[tuple[SecretFormat, Secret]]


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


def _told(fmt: SecretFormat, secret: Secret) -> str:
    """The secret as a team pastes it: alone if its shape names it, else after its name."""
    return secret.text if fmt.bare else f"{fmt.name}={secret.text}"


def _field(chunk: Placed) -> str:
    """A free-text field holding the chunk's secrets, one to a line as a log excerpt does."""
    return "sync failed:\n" + "\n".join(_told(fmt, secret) for fmt, secret in chunk)


def _labels(chunk: Placed) -> dict[str, str]:
    """Each secret as one label, named as teams name it (a neutral name for a bare one)."""
    return {
        (f"credential_{i}" if fmt.bare else fmt.name.lower()): secret.text
        for i, (fmt, secret) in enumerate(chunk)
    }


def _runbook(chunk: Placed) -> str:
    """A runbook link whose query carries the secrets, percent-encoded as a browser would."""
    query = "&".join(
        f"{'ref' if fmt.bare else fmt.name.lower()}={quote(secret.text, safe='')}"
        for fmt, secret in chunk
    )
    return f"https://runbooks.example.com/sync?{query}"


def _generic(n: int, take: Callable[[], Placed]) -> dict[str, Any]:
    return generic(
        f"corpus-{n}",
        title=f"job {n}: " + _field(take()),
        description=_field(take()),
        runbook=_runbook(take()),
    )


def _alertmanager(n: int, take: Callable[[], Placed]) -> dict[str, Any]:
    group = json.loads((PAYLOADS / "alertmanager" / "group-firing.json").read_text())
    for i, alert in enumerate(group["alerts"]):
        alert["labels"]["instance"] = f"corpus-{n}-{i}:8080"
        alert["labels"].update(_labels(take()))
        alert["annotations"]["summary"] = _field(take())
        alert["annotations"]["description"] = _field(take())
        alert["annotations"].update(_labels(take()))  # custom annotations, named as teams do
    return dict(group)


def _cloudwatch(n: int, take: Callable[[], Placed]) -> dict[str, Any]:
    alarm = json.loads((PAYLOADS / "cloudwatch" / "raw-alarm.json").read_text())
    alarm["AlarmName"] = f"corpus-{n}-5xx"
    alarm["AlarmDescription"] = "TEAM=payments\n" + _field(take())
    alarm["NewStateReason"] = _field(take())
    return dict(alarm)


def _sentry(n: int, take: Callable[[], Placed]) -> dict[str, Any]:
    event = json.loads((PAYLOADS / "sentry" / "issue-created.json").read_text())
    issue = event["data"]["issue"]
    issue["id"] = str(9_000_000 + n)
    issue["title"] = "OperationalError: " + _field(take())
    issue["culprit"] = _field(take())
    issue["metadata"]["value"] = _field(take())
    return dict(event)


SOURCES = (_generic, _alertmanager, _cloudwatch, _sentry)


def _bodies(secrets: Placed) -> list[str]:
    """Messages of every source in turn until every secret is placed once, `PER_FIELD` to a
    field (a field left over once they are all placed holds plain text)."""
    chunks = [secrets[i : i + PER_FIELD] for i in range(0, len(secrets), PER_FIELD)]
    chunks.reverse()

    def take() -> Placed:
        return chunks.pop() if chunks else []

    bodies: list[str] = []
    while chunks:
        source = SOURCES[len(bodies) % len(SOURCES)]
        bodies.append(json.dumps(source(len(bodies), take)))
    return bodies


def _views(text: str) -> Iterator[str]:
    """The text as sent, percent-decoded once and twice, and with the escapes of where it is
    shown taken off (JSON's and Markdown's backslashes, HTML's entities), so an encoded or
    escaped secret is still found."""
    yield text
    yield unquote(text)
    yield unquote(unquote(text))
    unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    yield re.sub(r"\\(.)", r"\1", unescaped.replace("\\n", "\n"))
    yield html.unescape(text)


#: A run of hex digits this long is looked for instead of an 8-character one: the daemon's own
#: random ids (message ids, trace ids) put thousands of hex runs in what it sends, and one of
#: them matching one of the corpus' thousands of 8-digit hex runs is about a 1-in-200 chance
#: per run of this test (it happened: `426f868f` from a 37-digit key, and no other run of it).
#: 12 hex digits make that chance about 1 in 10^7; an 8-character run with any other letter
#: is already as unlikely. A run of a UUID holding a hyphen is as weak (`7-4787-4` is five
#: random digits, and every UUID's third group starts with 4: it matched a LocalStack message id
#: `88062d27-4787-4f12-…` once), so it is looked for `HEX_RUN` + 2 characters long: at least 11
#: hex digits, as hyphens stand at least 4 apart.
HEX_RUN = 12
_HEX = re.compile(r"[0-9a-fA-F]+")
_HEX_AND_HYPHENS = re.compile(r"[0-9a-fA-F-]+")


def _needles(secrets: Placed) -> dict[str, str]:
    """Every 8-character run of every secret's random part (every `HEX_RUN`-character run
    where the 8 characters are all hex digits, `HEX_RUN` + 2 where they are hex digits and
    hyphens; the whole part when shorter), and the format it belongs to."""
    needles: dict[str, str] = {}
    for fmt, secret in secrets:
        for part in secret.random:
            for i in range(len(part) - 7):
                run = part[i : i + 8]
                size = (
                    HEX_RUN
                    if _HEX.fullmatch(run)
                    else HEX_RUN + 2
                    if _HEX_AND_HYPHENS.fullmatch(run)
                    else 0
                )
                if size:
                    start = max(0, min(i, len(part) - size))
                    run = part[start : start + size]
                needles[run] = fmt.id
    return needles


def _leaks(secrets: Placed, where: dict[str, str]) -> list[str]:
    """`path: format: runs` for each secret a path holds a run of. One pass over each view of
    each text (its own windows of the needles' lengths against the needles), not one search per needle."""
    needles = _needles(secrets)
    found: dict[tuple[str, str], set[str]] = {}
    for path, text in where.items():
        for view in _views(text):
            windows = {
                view[i : i + size]
                for size in {len(needle) for needle in needles}
                for i in range(len(view) - size + 1)
            }
            for run in windows & needles.keys():
                found.setdefault((path, needles[run]), set()).add(run)
    return [f"{path}: {fmt}: {sorted(runs)[:3]}" for (path, fmt), runs in sorted(found.items())]


def _stored(db: Path) -> str:
    """Every record the SQLite store keeps (incidents and the rest), after the daemon stopped."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT body FROM incidents UNION ALL SELECT body FROM records")
        return "\n".join(body for (body,) in rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_corpus_secret_leaves_a_running_daemon(
    queues: Queues,
    backend: TicketServer,
    github: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """One sample of every corpus format, in the text fields of alerts of four sources, opened
    and closed through the backend, GitHub, Slack and the LLM, leaves no 8-character run of its
    random part in a request, a log line, the store's records, /metrics or the operator's API
    and status page."""
    secrets = [(fmt, sample(fmt, "daemon")) for fmt in FORMATS]
    bodies = _bodies(secrets)
    # Every format is placed, and the search finds each in the bodies as they were queued.
    assert len(_leaks(secrets, {"queued": "\n".join(bodies)})) == len(FORMATS)
    port = _free_port()
    db = tmp_path / "triage.db"
    with (
        ChatServer() as chat,
        RecordingProxy(backend.url) as to_backend,
        RecordingProxy(github.url) as to_github,
        RecordingProxy() as to_slack,
        RecordingProxy(chat.url) as to_llm,
    ):
        chat.responder = lambda request: completion(
            json.dumps(
                {
                    "title": "Leaky alert",
                    "priority": "high",
                    # The worst a model can do: repeat the prompt it was given.
                    "description": request["messages"][-1]["content"][:3500],
                    "steps": ["Read the alert"],
                }
            )
        )
        settings = settings_for(
            queues,
            to_backend.url,
            db,
            sinks="backend,github,slack",
            backend_update_route=UPDATES,
            backend_resolve_route=RESOLVES,
            github_token=GH_TOKEN,
            github_repository="acme/ops",
            # Every incident's issue at once: the budget's waits are not what this proves.
            github_create_per_minute=1000,
            github_create_per_hour=1000,
            github_api_url=to_github.url,
            slack_webhook_url=to_slack.url + SLACK_PATH,
            slack_min_priority="low",
            slack_min_interval_s=0,
            openai_api_key=OPENAI_KEY,
            openai_base_url=to_llm.url + "/v1",
            http_port=port,
            api_token=API_TOKEN,
            # Not the harness's 5 s: under a loaded machine a late heartbeat let a message show
            # again, twice, and go to the DLQ this test reads for leaks, not for redrives.
            visibility_timeout_s=30,
        )
        daemon = Daemon(settings, log_dir=tmp_path)
        try:
            for status in ("firing", "resolved"):
                queues.send(*(_with_status(body, status) for body in bodies))
                wait_until(lambda: queues.depth() == 0, 60, f"the {status} wave to be handled")
            shown = _operator_views(port)
            stop(daemon)
        finally:
            daemon.kill()
        sent = {
            "backend": (to_backend.requests, ("authorization", f"Bearer {TOKEN}")),
            "github": (to_github.requests, ("authorization", f"Bearer {GH_TOKEN}")),
            "slack": (to_slack.requests, None),
            "llm": (to_llm.requests, ("authorization", f"Bearer {OPENAI_KEY}")),
        }
    assert queues.depth(queues.dlq_url) == 0, daemon.log[-3000:]
    assert all(requests for requests, _ in sent.values())
    # Every incident was opened and closed, so every sink rendered both.
    resolved = {event["id"] for event in backend.events if event["kind"] == "resolve"}
    assert len(backend.tickets) >= len(bodies) and resolved == {t["id"] for t in backend.tickets}
    where = {
        service: "\n".join(request.text(except_header=own) for request in requests)
        for service, (requests, own) in sent.items()
    }
    where.update(shown, log=daemon.log, store=_stored(db))
    leaks = _leaks(secrets, where)
    assert leaks == [], "\n".join(leaks)


def _operator_views(port: int) -> dict[str, str]:
    """/metrics, the API's list of every incident and the status page, as the operator sees them."""
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    incidents = httpx2.get(f"{base}/api/v1/incidents?state=all&limit=500", headers=auth, timeout=10)
    assert incidents.status_code == 200, incidents.text
    page = httpx2.get(f"{base}/", headers=auth, timeout=10)
    assert page.status_code == 200, page.text
    return {
        "metrics": httpx2.get(f"{base}/metrics", timeout=10).text,
        "api": incidents.text,
        "status page": page.text,
    }


@pytest.mark.parametrize("tail", ["…", "。", "»", "”", "\u2019"])
@pytest.mark.parametrize("param", ["code", "key", "sig", "auth", "code_verifier", "hmac"])
def test_a_url_credential_before_a_cut_or_unicode_punctuation_is_redacted(
    param: str, tail: str
) -> None:
    """A URL's credential parameter is redacted when the "…" of a cut title or a non-ASCII
    punctuation mark follows it (the daemon's titles end so when cut after a secret)."""
    value = "FV7KVIZrK4CdbMyy7s22_Q9fnnouOaVg6qIgM7myqYwu-HP=="
    text = f"HighLatency: see https://orders-fn.azurewebsites.net/api/x?{param}={value}{tail}"
    redacted = REDACTOR.text(text)
    assert "K4CdbMyy7s22" not in redacted, redacted
    assert re.search(rf"\[REDACTED:[a-z-]+\]{re.escape(tail)}$", redacted), redacted


def _single_line_formats() -> list[SecretFormat]:
    return [fmt for fmt in FORMATS if "\n" not in sample(fmt, "cut").text]


@pytest.mark.parametrize("fmt", _single_line_formats(), ids=lambda fmt: fmt.id)
def test_a_secret_cut_by_the_title_limit_leaves_no_fragment(fmt: SecretFormat) -> None:
    """A title cut inside a secret (at every offset the 200-character limit can fall on) shows
    no 8-character run of it once redacted: the piece before the cut's "…" goes too."""
    secret = sample(fmt, "cut")
    told = _told(fmt, secret)
    needles = _needles([(fmt, secret)])  # once: the secret is the same at every offset
    for lead in range(0, 200, 7):
        title = "a" * lead + (" " if lead else "") + told + " and the rest of the title"
        shown = REDACTOR.text(normalized_title(title))
        runs = [run for view in _views(shown) for run in needles if run in view]
        assert runs == [], f"lead {lead}: {shown[-80:]!r}"


@pytest.mark.parametrize(
    "title",
    [
        "Deployment of checkout to Kubernetes…",
        "Disk full on the database host, see the runbook for the procedure…",
        "checkout latency above 1s for 5 minutes…",
    ],
)
def test_a_cut_word_that_is_prose_stays(title: str) -> None:
    """Words before a cut's "…" that are prose (no digits, no inner capitals) are kept."""
    assert REDACTOR.text(title) == title
