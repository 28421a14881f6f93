"""An egress audit (helper 509): a secret an alert carries leaves the process by no path.

Six well-known secret shapes (an AWS key pair, a GitHub token, a password in a URL, a JWT, a
Slack webhook, a PEM block), each made at run time from a seeded generator, are put in each
place an alert can carry text: title, description, a label's key and value, an annotation's key
and value, the runbook and generator URLs, source, team, the SNS `Subject`, an SQS message
attribute, a key of a nested object, a value cut at a limit inside the secret, a top-level key
of a body no format reads and a body that does not decode. Each alert goes through the real
pipeline (SQLite store on a temporary file, a sink that records its effects, the deterministic
summariser, metrics), and every way out is read: the effects as the backend, GitHub and Slack
render them, the LLM prompt, the log lines (every level, as the log redactor writes them), the
metrics' series, the SQLite file at rest (every byte of it and its WAL), the operator's JSON
and the CLI's line of the stored incident, the status page, and `triage dlq peek`'s line of a
body that failed. No 8-character run of a secret's random part may be on any of them.
"""

from __future__ import annotations

import base64
import io
import json
import random
import string
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import T0
from recording_pipeline import POLICY, Sink
from test_every_source_hostile import PAGE
from triage.incidents.ledger import Ledger
from triage.incidents.sqlite import SQLiteStore
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import IDENTITY_MAX, EffectKind
from triage.normalize.common import (
    DESCRIPTION_MAX,
    LABEL_KEY_MAX,
    LABEL_VALUE_MAX,
    TITLE_MAX,
    URL_MAX,
)
from triage.ops.dlq import DeadLetter
from triage.ops.operator import incident_json
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks import slack
from triage.sinks.backend import _close_body, _open_body, _update_body
from triage.sinks.base import Effect
from triage.sinks.github import text as github
from triage.sqs.inbox import Message
from triage.summarise import prompt
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import json_line

ALNUM = string.ascii_letters + string.digits
UPPER32 = string.ascii_uppercase + "234567"


@dataclass(frozen=True)
class Secret:
    """A credential as a team pastes it, and its random parts (none may leave the process)."""

    name: str
    text: str
    random: tuple[str, ...]


def _chars(rng: random.Random, alphabet: str, count: int) -> str:
    """`count` characters of `alphabet`, with at least one upper, lower and digit when the
    alphabet has them (a run of one kind reads as a word, not a key)."""
    while True:
        text = "".join(rng.choice(alphabet) for _ in range(count))
        kinds = [str.isupper, str.islower, str.isdigit]
        if all(any(k(c) for c in text) for k in kinds if any(k(c) for c in alphabet)):
            return text


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secrets(seed: int = 509) -> list[Secret]:
    """The six shapes, fresh from `seed` (nothing here is a real credential)."""
    rng = random.Random(seed)
    key_id = "AKIA" + _chars(rng, string.ascii_uppercase + "234567", 16)
    key = _chars(rng, ALNUM + "+/", 40)
    ghp = _chars(rng, ALNUM, 36)
    password = _chars(rng, ALNUM, 18)
    claims = _b64url(json.dumps({"sub": _chars(rng, ALNUM, 16), "iat": 1700000000}).encode())
    signature = _chars(rng, ALNUM + "-_", 43)
    jwt_head = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    team, bot = (_chars(rng, string.ascii_uppercase + string.digits, 10) for _ in "ab")
    hook_secret = _chars(rng, ALNUM, 24)
    pem_body = _chars(rng, ALNUM + "+/", 64)
    return [
        Secret("aws", f"aws_access_key_id={key_id} aws_secret_access_key={key}", (key_id, key)),
        Secret("github", f"ghp_{ghp}", (ghp,)),
        Secret("url-password", f"postgres://app:{password}@db.internal:5432/orders", (password,)),
        Secret("jwt", f"{jwt_head}.{claims}.{signature}", (claims, signature)),
        Secret(
            "slack-webhook",
            f"https://hooks.slack.com/services/T{team}/B{bot}/{hook_secret}",
            (hook_secret,),
        ),
        Secret(
            "pem",
            "-----BEGIN RSA PRIVATE KEY-----\n" + pem_body + "\n-----END RSA PRIVATE KEY-----",
            (pem_body,),
        ),
    ]


SECRETS = secrets()


def left(shown: str, secret: Secret) -> list[str]:
    """The 8-character runs of `secret`'s random parts still in `shown` (as written, or as
    JSON escapes it: a PEM's line break, a URL's slash)."""
    variants = {shown, shown.replace("\\/", "/"), shown.replace("\\n", "\n")}
    runs = {part[i : i + 8] for part in secret.random for i in range(len(part) - 7)}
    return sorted(run for run in runs if any(run in variant for variant in variants))


# --- the places an alert carries text -----------------------------------------------------------


def _alertmanager(labels: dict[str, str], annotations: dict[str, str], **extra: Any) -> str:
    alert = {
        "status": "firing",
        "labels": {"alertname": "JobFailed", "team": "payments", **labels},
        "annotations": {"summary": "job failed", **annotations},
        "startsAt": T0.isoformat(),
        "generatorURL": extra.pop("generatorURL", "http://prometheus:9090/graph"),
        **extra,
    }
    return json.dumps({"version": "4", "status": "firing", "alerts": [alert]})


def _generic(**fields: Any) -> str:
    return json.dumps({"title": "Disk full on db-1", "severity": "high", **fields})


def _sns(subject: str, message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "0f5c8a4e-9a4b-5d6e-8f7a-1b2c3d4e5f60",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
            "Subject": subject,
            "Message": message,
            "Timestamp": T0.isoformat().replace("+00:00", "Z"),
        }
    )


def _bare(secret: str) -> str:
    """The secret's first word of an id's shape (letters, digits, dashes), as a sender could
    put in an id: SNS's MessageId, EventBridge's id."""
    return max(("".join(c if c.isalnum() or c == "-" else " " for c in secret)).split(), key=len)


def _sns_id(secret: str) -> str:
    envelope = json.loads(_sns("ALARM", _generic()))
    envelope["MessageId"] = _bare(secret)
    return json.dumps(envelope)


def _event_id(secret: str) -> str:
    event = {
        "version": "0",
        "id": _bare(secret),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": T0.isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:db"],
        "detail": {
            "alarmName": "db",
            "state": {"value": "ALARM", "reason": "r", "timestamp": T0.isoformat()},
            "previousState": {"value": "OK", "reason": "r", "timestamp": T0.isoformat()},
            "configuration": {"description": "d"},
        },
    }
    return json.dumps(event)


def _filler(limit: int, secret: str) -> str:
    """Words that end a space before the middle of `secret` reaches `limit`: a field cut there
    cuts the secret in two."""
    return ("word " * limit)[: limit - len(secret) // 2 - 1] + " "


def _sns_attribute(secret: str) -> str:
    envelope = json.loads(_sns("ALARM", _generic()))
    envelope["MessageAttributes"] = {"token": {"Type": "String", "Value": secret}}
    return json.dumps(envelope)


#: Each place, as a body (and message attributes) carrying `text` there.
PLACES: dict[str, Callable[[str], tuple[str, dict[str, str]]]] = {
    "title": lambda s: (_generic(title=f"Deploy failed {s}"), {}),
    "description": lambda s: (_generic(description=f"the job said:\n{s}\nthen died"), {}),
    "label-value": lambda s: (_alertmanager({"instance": s}, {}), {}),
    "label-key": lambda s: (_alertmanager({s: "x"}, {}), {}),
    "annotation-value": lambda s: (_alertmanager({}, {"description": s}), {}),
    "annotation-key": lambda s: (_alertmanager({}, {s: "see the job"}), {}),
    "runbook-url": lambda s: (_alertmanager({}, {"runbook_url": s}), {}),
    "generator-url": lambda s: (_alertmanager({}, {}, generatorURL=s), {}),
    "source": lambda s: (_generic(source=s), {}),
    "team": lambda s: (_generic(team=s), {}),
    "nested-key": lambda s: (_generic(details={"job": {s: "failed"}}), {}),
    "nested-value": lambda s: (_generic(details={"job": {"output": s}}), {}),
    "sns-subject": lambda s: (_sns(f"ALARM: {s}", _generic()), {}),
    "sns-message": lambda s: (_sns("ALARM", f"job failed: {s}"), {}),
    "sqs-attribute": lambda s: (_generic(), {"source": s, "request_id": s}),
    "cut-inside-title": lambda s: (_generic(title=_filler(TITLE_MAX, s) + s), {}),
    "cut-inside-description": lambda s: (
        _generic(description=_filler(DESCRIPTION_MAX, s) + s),
        {},
    ),
    "cut-inside-label-value": lambda s: (
        _alertmanager({"instance": _filler(LABEL_VALUE_MAX, s) + s}, {}),
        {},
    ),
    "cut-inside-label-key": lambda s: (
        _alertmanager({_filler(LABEL_KEY_MAX, s).replace(" ", "_") + s: "x"}, {}),
        {},
    ),
    "cut-inside-identity": lambda s: (
        _alertmanager({"job": _filler(IDENTITY_MAX, s) + s}, {}),
        {},
    ),
    "cut-inside-runbook": lambda s: (
        _alertmanager({}, {"runbook_url": "https://wiki/" + _filler(URL_MAX - 13, s) + s}),
        {},
    ),
    "sns-message-attribute": lambda s: (_sns_attribute(s), {}),
    "glued-to-a-word": lambda s: (_generic(description=f"token{s}"), {}),
    "sns-message-id": lambda s: (_sns_id(s), {}),
    "eventbridge-id": lambda s: (_event_id(s), {}),
    "sender-fingerprint": lambda s: (_alertmanager({}, {}, fingerprint=s), {}),
}

#: Bodies no format reads: their errors quote them (a key, a position, a character).
FAILING: dict[str, Callable[[str], str]] = {
    "unknown-format-key": lambda s: json.dumps({s: 1, "other": 2}),
    "unknown-format-long-key": lambda s: json.dumps({"z" * 30 + s: 1}),
    "undecodable": lambda s: '{"title": "' + s.replace("\n", " ") + '", \x01}',
    "undecodable-at-secret": lambda s: '{"title": "x", ' + s.replace("\n", " ") + "}",
    "not-an-object": lambda s: json.dumps([s]),
    "invalid-field": lambda s: json.dumps({"title": {"k": s}, "severity": s}),
}


@dataclass
class Shown:
    """Everything that left the process, by where it went."""

    places: dict[str, str] = field(default_factory=dict)

    def add(self, place: str, text: str) -> None:
        self.places[place] = self.places.get(place, "") + "\n" + text

    def leaks(self, secret: Secret) -> list[str]:
        return [
            f"{place}: {runs[:2]}"
            for place, text in self.places.items()
            if (runs := left(text, secret))
        ]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "egress.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


def _rendered(effect: Effect) -> dict[str, str]:
    """An effect as every sink and the LLM are sent it."""
    body = {EffectKind.OPEN: _open_body, EffectKind.CLOSE: _close_body}.get(
        effect.kind, _update_body
    )(effect)
    texts = {
        "backend": json.dumps(body),
        "github-digest": github.digest_entry(effect),
        "slack-plain": json.dumps(slack.plain_message(effect)),
        "llm-prompt": json.dumps(prompt.build(effect.alert, Redactor(), 4000).user),
    }
    if effect.kind is EffectKind.OPEN:
        texts |= {
            "github-title": github.issue_title(effect),
            "github-body": github.issue_body(effect),
            "github-labels": json.dumps(github.issue_labels(effect)),
            "slack-blocks": json.dumps(slack.open_message(effect)),
        }
    else:
        texts |= {
            "github-comment": github.update_comment(effect),
            "slack-follow-up": json.dumps(slack.follow_up_message(effect)),
        }
    return texts


async def egress(
    store: SQLiteStore, path: Path, body: str, attributes: dict[str, str], log_format: str = "json"
) -> Shown:
    """Everything one message's handling sends or keeps; its log lines as the daemon writes
    them in `log_format`, at debug (every level)."""
    shown = Shown()
    sink = Sink()
    metrics = Metrics()
    pipeline = Pipeline(
        Ledger(store), DeterministicSummariser(), [sink], metrics, redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip
    message = Message("m-1", body, "r-1", 1, T0, received_at=T0, attributes=attributes)
    stream = io.StringIO()
    configure_logging(log_format, "debug", stream)
    try:
        await pipeline.process(message)
    except Exception as exc:  # what a worker logs, and dead-letters the message by
        structlog.get_logger("triage.sqs.working").warning("message.failed", exc_info=exc)
        letter = DeadLetter(message, {})
        shown.add("dlq-peek", json_line(letter.describe(T0 + timedelta(minutes=5))))
    shown.add("logs", stream.getvalue())
    for effect in sink.effects:
        for place, text in _rendered(effect).items():
            shown.add(place, text)
    shown.add("metrics", repr((metrics.counters(), metrics.timings(), metrics.gauges())))
    for incident in await store.incidents():
        shown.add("operator-json", json.dumps(incident_json(incident, Redactor(), history=True)))
        shown.add("cli-line", json_line(incident_json(incident, Redactor(), history=True)))
    shown.add("status-page", await PAGE.render(store))  # type: ignore[arg-type]
    for file in path.parent.glob("egress.db*"):
        shown.add("sqlite-at-rest", file.read_bytes().decode("utf-8", "replace"))
    return shown


#: Leaks known and not fixed, by secret and place (each a strict xfail); none today.
KNOWN: dict[tuple[str, str], str] = {}


def _cases(places: list[str]) -> list[Any]:
    """Each secret in each place, a known leak marked as a strict xfail."""
    return [
        pytest.param(
            secret,
            place,
            id=f"{secret.name}-{place}",
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN[secret.name, place])]
            if (secret.name, place) in KNOWN
            else [],
        )
        for secret in SECRETS
        for place in places
    ]


@pytest.mark.parametrize(("secret", "place"), _cases(sorted(PLACES)))
async def test_a_secret_in_any_place_of_an_alert_leaves_by_no_path(
    store: SQLiteStore, tmp_path: Path, secret: Secret, place: str
) -> None:
    """A secret in any text field of an alert reaches no sink, prompt, log, metric or record at rest."""
    body, attributes = PLACES[place](secret.text)
    shown = await egress(store, tmp_path / "egress.db", body, attributes)
    assert shown.leaks(secret) == []


@pytest.mark.parametrize(("secret", "place"), _cases(sorted(FAILING)))
async def test_a_secret_in_a_body_that_fails_leaves_by_no_path(
    store: SQLiteStore, tmp_path: Path, secret: Secret, place: str
) -> None:
    """A body no format reads quotes no secret in its error, its log lines or `dlq peek`."""
    shown = await egress(store, tmp_path / "egress.db", FAILING[place](secret.text), {})
    assert shown.leaks(secret) == []


@pytest.mark.parametrize("secret", SECRETS, ids=[s.name for s in SECRETS])
@pytest.mark.parametrize("body", ["description", "unknown-format-key", "undecodable"])
async def test_the_console_log_format_shows_no_secret(
    store: SQLiteStore, tmp_path: Path, secret: Secret, body: str
) -> None:
    """The console log format (`TRIAGE_LOG_FORMAT=console`) at debug writes no secret either."""
    make = PLACES.get(body)
    text, attributes = make(secret.text) if make else (FAILING[body](secret.text), {})
    shown = await egress(store, tmp_path / "egress.db", text, attributes, log_format="console")
    assert shown.leaks(secret) == []
