"""Leftovers of the signals and redaction rounds (task 410): a failed or unconfirmed delete's
line names the alert whose message may come again (bounded to its batch), and a new alert
matched against the active silences is redacted once, by the pipeline's view."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog

from daemon_harness import Queues, daemon_env, run_in_process, settings_for
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_dlq import fill_dlq
from test_pipeline import CountingSummariser, FakeSink
from test_silences import Rig
from test_storms_round6_keys import POD_LABELS
from test_storms_round6_keys import alert as pod_alert
from triage.errors import InboxError
from triage.incidents import Action, Ledger, Policy, silences
from triage.incidents.codec import view_to_json
from triage.metrics import Metrics
from triage.models import Alert
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.redact.redactor import Blanked
from triage.sqs.acker import Acker
from triage.sqs.inbox import MAX_IDS_LOGGED, Message, SqsInbox, alert_named
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.view import redact_alert

PAYLOADS = Path(__file__).parent / "payloads"
GENERIC = (PAYLOADS / "generic" / "firing.json").read_text()
GROUP = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
POLICY = Policy()

Logs = list[MutableMapping[str, Any]]


def _alert_of(body: str) -> tuple[str, str]:
    """The (fingerprint, source) of a one-alert body, as the pipeline reads it."""
    [alert] = normalize_body(body).alerts
    return alert.fingerprint, alert.source


def _pipeline(redactor: Redactor | None = None) -> Pipeline:
    """A pipeline on an in-memory store with one sink and a counting summariser."""
    return Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [FakeSink()],
        Metrics(),
        redactor=redactor or Redactor(),
        policy=POLICY,
    )


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition()` to hold, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def _lines(logs: Logs, event: str) -> list[MutableMapping[str, Any]]:
    """The captured lines of `event`, in order."""
    return [e for e in logs if e["event"] == event]


async def _serve_until(supervisor: Supervisor, done: Callable[[], bool]) -> None:
    """Run `supervisor` until `done()` holds, then stop it and wait for its end."""
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(done)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)


def _message(n: int, alert: dict[str, object] | None = None) -> Message:
    """Delivery `n` of a message whose work reached `alert` (its `fingerprint` and `source`)."""
    message = Message(f"m{n}", "{}", f"rh-{n}", 1, None)
    message.alert.update(alert or {})
    return message


class _Sqs:
    """An SQS client's DeleteMessageBatch that answers as `answer(entries)` says."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> None:
        self.answer = answer

    async def delete_message_batch(self, **call: Any) -> dict[str, Any]:
        return self.answer(call["Entries"])


def _refused(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Every entry failed as the sender's fault (a stale receipt handle)."""
    return {
        "Failed": [
            {"Id": e["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "x"}
            for e in entries
        ]
    }


class _DeleteFails(MemoryInbox):
    """A queue whose every delete call fails, as SQS in an outage does."""

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        raise InboxError("delete failed: connection reset")


# --- 1. a delete's failure names its alert ------------------------------------------------------


async def test_an_entry_sqs_failed_to_delete_names_its_alert() -> None:
    """`message.delete_failed` for an entry SQS refused names the alert its message carried
    (`fingerprint`, `source`), as `message.acked` would have."""
    inbox = SqsInbox(_Sqs(_refused), "https://sqs.example/q")
    message = _message(1, {"fingerprint": "f" * 32, "source": "generic"})
    with structlog.testing.capture_logs() as logs:
        assert await inbox.delete([message]) == ["rh-1"]
    [failed] = _lines(logs, "message.delete_failed")
    assert (failed["message_id"], failed["fingerprint"], failed["source"]) == (
        "m1",
        "f" * 32,
        "generic",
    )


async def test_an_entry_sqs_did_not_confirm_names_its_alert() -> None:
    """`message.delete_unconfirmed` (an answer that names the entry neither deleted nor
    failed) names the alert its message carried."""
    inbox = SqsInbox(_Sqs(lambda entries: {}), "https://sqs.example/q")
    message = _message(1, {"fingerprint": "a" * 32, "source": "cloudwatch"})
    with structlog.testing.capture_logs() as logs:
        await inbox.delete([message])
    [unconfirmed] = _lines(logs, "message.delete_unconfirmed")
    assert (unconfirmed["fingerprint"], unconfirmed["source"]) == ("a" * 32, "cloudwatch")


async def test_a_group_message_names_a_bounded_share_of_its_fingerprints() -> None:
    """A message of many alerts names at most MAX_IDS_LOGGED of its fingerprints, and how
    many it had: one line never grows with a group's size."""
    inbox = SqsInbox(_Sqs(_refused), "https://sqs.example/q")
    many = [f"{i:032x}" for i in range(500)]
    with structlog.testing.capture_logs() as logs:
        await inbox.delete([_message(1, {"fingerprints": many})])
    [failed] = _lines(logs, "message.delete_failed")
    assert failed["fingerprints"] == many[:MAX_IDS_LOGGED]
    assert failed["alerts"] == 500


async def test_a_failed_delete_call_names_the_alerts_of_its_batch() -> None:
    """The acker's one `message.delete_failed` line for a failed call names, beside the
    message ids, the alert of each (at most MAX_IDS_LOGGED, a batch's size)."""
    acker = Acker(_DeleteFails(), linger_s=0)
    run = asyncio.create_task(acker.run())
    alerts = [{"fingerprint": f"{i:032x}", "source": "generic"} for i in range(3)]
    messages = [_message(i, alert) for i, alert in enumerate(alerts)]
    messages.append(_message(3))  # a message without alerts (an SNS confirmation)
    with structlog.testing.capture_logs() as logs:
        answers = await asyncio.gather(*(acker.delete(m) for m in messages))
        await acker.stop()
        await asyncio.wait_for(run, 10)
    assert answers == [False] * 4
    named = [a for line in _lines(logs, "message.delete_failed") for a in line["alerts"]]
    assert named == [{"message_id": f"m{i}", **alert} for i, alert in enumerate(alerts)], named


async def test_a_batch_line_names_at_most_its_batch() -> None:
    """A call's failed delete of a full batch names at most MAX_IDS_LOGGED alerts."""
    acker = Acker(_DeleteFails(), linger_s=1)
    run = asyncio.create_task(acker.run())
    messages = [_message(i, {"fingerprint": f"{i:032x}", "source": "generic"}) for i in range(25)]
    with structlog.testing.capture_logs() as logs:
        await asyncio.gather(*(acker.delete(m) for m in messages))
        await acker.stop()
        await asyncio.wait_for(run, 10)
    lines = _lines(logs, "message.delete_failed")
    assert lines
    for line in lines:
        assert len(line["alerts"]) <= MAX_IDS_LOGGED
        assert len(line["message_ids"]) <= MAX_IDS_LOGGED


async def test_the_daemon_names_the_alert_of_a_message_whose_delete_failed() -> None:
    """Through the supervisor: the handled message's alert is on the acker's
    `message.delete_failed` line, so that one line says which alert may come again."""
    fingerprint, source = _alert_of(GENERIC)
    inbox = _DeleteFails()
    inbox.put(GENERIC)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, _pipeline().process, Metrics())
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.not_deleted")))
    failed = _lines(logs, "message.delete_failed")[0]
    assert failed["alerts"] == [
        {"message_id": failed["message_ids"][0], "fingerprint": fingerprint, "source": source}
    ]


async def test_the_daemon_names_a_groups_fingerprints_on_a_failed_delete() -> None:
    """A group's message whose delete failed names its alerts' fingerprints on the line."""
    expected = [a.fingerprint for a in normalize_body(GROUP).alerts]
    inbox = _DeleteFails()
    inbox.put(GROUP)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, _pipeline().process, Metrics())
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.not_deleted")))
    [alert] = _lines(logs, "message.delete_failed")[0]["alerts"]
    assert 1 < len(expected) <= MAX_IDS_LOGGED
    assert alert == {"message_id": alert["message_id"], "fingerprints": expected}


# --- 3. a new alert matched against the silences is redacted once -------------------------------


class _CountingRedactor(Redactor):
    """A Redactor that notes the text of every call made of it in `calls` (a list shared by
    every instance given it, so the silences' own redactor notes into it too)."""

    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.calls = calls

    def text(self, text: str) -> str:
        self.calls.append(text)
        return super().text(text)

    def text_with(self, text: str, also: tuple[str, ...]) -> str:
        self.calls.append(text)
        return super().text_with(text, also)

    def without(self, redacted: str, also: tuple[str, ...]) -> str:
        self.calls.append(redacted)
        return super().without(redacted, also)

    def value(self, value: Any, *, depth: int = 0, found: Blanked | None = None) -> Any:
        self.calls.append(repr(value))
        return super().value(value, depth=depth, found=found)


def _redactions(calls: list[str], token: str) -> int:
    """How many of the redactor's calls read `token` (a value only one alert holds)."""
    return sum(token in text for text in calls)


def _counted_rig(monkeypatch: pytest.MonkeyPatch) -> tuple[Rig, list[str]]:
    """A pipeline on an in-memory store whose redactor, and the silences' own, count into one
    list; the silences' remembered views start empty (no earlier test's view is reused)."""
    calls: list[str] = []
    monkeypatch.setattr(silences, "_REDACTOR", _CountingRedactor(calls))
    monkeypatch.setattr(silences, "_VIEWS", silences._Views())
    rig = Rig()
    rig.pipeline.redactor = _CountingRedactor(calls)
    return rig, calls


def _pod(run: str, **more: str) -> Alert:
    """A new pod alert with 70 labels (`namespace` sorts past the 64 it shows): `run`, a
    value no other alert holds, names a new incident and is in a label it shows."""
    labels = {**POD_LABELS, "label_app_kubernetes_io_part00": run, "run": run}
    return pod_alert({**labels, "alertname": "KubePodCrashLooping", **more})


async def test_a_new_alert_matched_against_silences_is_redacted_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new alert that an active silence is matched against (and does not match) has its
    text redacted as often as with no silence at all: the silence reads the pipeline's view
    of it, not one of its own."""
    quiet, calls = _counted_rig(monkeypatch)
    assert await quiet.pipeline.handle(_pod("run-a1"), "m0") is Action.OPEN
    alone = _redactions(calls, "run-a1")
    assert alone > 0
    silenced, calls = _counted_rig(monkeypatch)
    await silenced.silence("team=nobody")
    assert await silenced.pipeline.handle(_pod("run-a2"), "m0") is Action.OPEN
    assert _redactions(calls, "run-a2") == alone


@pytest.mark.parametrize(
    "matcher",
    [
        "label_app_kubernetes_io_part03=v3",  # a shown label
        "namespace=shop",  # a label past the 64 shown
        "title=~KubePodCrashLooping.*",  # the title
        "db_password=[REDACTED:password]",  # a secret-named label, as the listing shows it
    ],
)
async def test_silences_match_through_the_pipelines_view_as_before(
    monkeypatch: pytest.MonkeyPatch, matcher: str
) -> None:
    """A silence on a shown label, a label past the cap, the title or a redacted value holds
    a new alert it matches, and the same alert with that value changed still opens."""
    rig, _ = _counted_rig(monkeypatch)
    await rig.silence(matcher)
    held = _pod("b1", namespace="shop", db_password="hunter2xyz-Kq9")
    assert await rig.pipeline.handle(held, "m0") is Action.SILENCED
    name = matcher.split("=")[0]
    other = {"namespace": "cart", "db_password": "hunter2xyz-Kq9"}
    if name == "title":
        other["alertname"] = "Other"
    elif name in POD_LABELS:
        other[name] = "other"
    elif name == "db_password":
        del other["db_password"]
    assert await rig.pipeline.handle(_pod("b2", **other), "m1") is Action.OPEN


async def test_a_held_alert_is_redacted_once_for_its_match_and_its_held_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An alert a silence holds has its text redacted as often as the same alert opening
    costs: the held view the store keeps reuses the fields the match read, and is what
    `redact_alert` makes on its own."""
    rig, calls = _counted_rig(monkeypatch)
    await rig.silence("namespace=shop")
    held = _pod("run-c1", namespace="shop")
    assert await rig.pipeline.handle(held, "m0") is Action.SILENCED
    holding = _redactions(calls, "run-c1")
    quiet, calls = _counted_rig(monkeypatch)
    assert await quiet.pipeline.handle(_pod("run-c2", namespace="shop"), "m0") is Action.OPEN
    # Opening and holding alike redact the fields, the payload's excerpt and the labels past
    # the cap (`run` among them), once each.
    assert holding == _redactions(calls, "run-c2")
    incident = await rig.store.get(held.fingerprint)
    assert incident is not None and incident.held is not None
    excerpt = rig.pipeline.payload_excerpt_chars
    expected = redact_alert(held, Redactor(), excerpt_chars=excerpt, past_cap=True)
    assert incident.held.alert == view_to_json(expected)


# --- 2. peeking is not counted as the daemon's receives ------------------------------------------


@pytest.fixture
def peek_here(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`triage dlq ARGS` in this process, for `queues`, noting its looks under this test's
    own XDG_STATE_HOME."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    env["XDG_STATE_HOME"] = str(tmp_path / "state")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_in_process(monkeypatch, capsys, "dlq", *args, env=env)

    return run


def _shown_counts(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Each letter's receive count as a peek showed it, by message id."""
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["message_id"]: row["receive_count"] for row in rows}


def _receive_and_release(queues: Queues) -> None:
    """Receive every dead letter once (as the daemon's consumer would) and release it."""
    sqs = queues.client()
    got = sqs.receive_message(QueueUrl=queues.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    entries = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
        for i, m in enumerate(got.get("Messages", []))
    ]
    assert entries
    sqs.change_message_visibility_batch(QueueUrl=queues.dlq_url, Entries=entries)


def test_peeks_show_the_count_without_their_own_receives_but_with_others(
    queues: Queues, peek_here: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """Three peeks of one dead letter show one count; a receive by anyone else between two
    peeks (not one of this host's looks) shows as one more."""
    fill_dlq(queues, json.dumps({"title": "backup failed", "dedup_key": "backup"}))
    first = _shown_counts(peek_here("peek"))
    assert list(first.values()) == [0]
    assert _shown_counts(peek_here("peek")) == first
    assert _shown_counts(peek_here("peek", "--max", "5")) == first
    _receive_and_release(queues)
    assert _shown_counts(peek_here("peek")) == {k: v + 1 for k, v in first.items()}


def test_a_dry_run_redrive_is_not_counted_as_a_receive(
    queues: Queues, peek_here: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """A redrive's dry run receives the letters too: a peek after it shows the count a peek
    before it showed."""
    fill_dlq(queues, json.dumps({"title": "disk full", "dedup_key": "disk"}))
    before = _shown_counts(peek_here("peek"))
    result = peek_here("redrive", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert _shown_counts(peek_here("peek")) == before


def test_a_look_that_cannot_note_its_receives_still_shows_and_says_so(
    queues: Queues,
    tmp_path: Path,
    peek_here: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """A state directory that cannot be written (a file where it should be) does not stop the
    peek: it shows the letters, its count less its own receive, and says the look was not
    noted."""
    (tmp_path / "state").write_text("not a directory")
    fill_dlq(queues, json.dumps({"title": "cert expiring", "dedup_key": "cert"}))
    result = peek_here("peek")
    assert list(_shown_counts(result).values()) == [0]
    assert "not noted" in result.stderr, result.stderr


# --- 4. a release's failure names the alert its attempt reached ---------------------------------


class _Visibility:
    """An SQS client's ChangeMessageVisibilityBatch that refuses every entry with `code`."""

    def __init__(self, code: str) -> None:
        self.code = code

    async def change_message_visibility_batch(self, **call: Any) -> dict[str, Any]:
        failed = [
            {"Id": e["Id"], "SenderFault": True, "Code": self.code, "Message": "no"}
            for e in call["Entries"]
        ]
        return {"Failed": failed}


async def test_a_refused_visibility_change_names_its_alert() -> None:
    """`message.visibility_failed` for an entry SQS refused names the alert its message's
    attempt reached, as the `message.retry` line before it did."""
    inbox = SqsInbox(_Visibility("InvalidParameterValue"), "https://sqs.example/q")
    message = _message(1, {"fingerprint": "b" * 32, "source": "generic"})
    with structlog.testing.capture_logs() as logs:
        await inbox.change_visibility([message], 30)
    [failed] = _lines(logs, "message.visibility_failed")
    assert (failed["fingerprint"], failed["source"]) == ("b" * 32, "generic")


class _ReleaseNoting(MemoryInbox):
    """A queue that notes what each visibility change's message names of its alert."""

    def __init__(self) -> None:
        super().__init__()
        self.named: list[dict[str, object]] = []

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        self.named += [alert_named(m) for m in messages]
        await super().change_visibility(messages, timeout_s)


async def test_a_message_released_after_a_failed_attempt_carries_its_alert() -> None:
    """A message whose attempt failed (its sink answered 503) is released carrying the alert
    the attempt reached, so the inbox's lines about that release name it; once handled, it
    names the handled alert alone (no mix of the two)."""
    fingerprint, source = _alert_of(GENERIC)
    sink = FakeSink(failures=1)
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    inbox = _ReleaseNoting()
    inbox.put(GENERIC)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, pipeline.process, Metrics())
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.acked")))
    assert _lines(logs, "message.retry")
    assert inbox.named[0] == {"fingerprint": fingerprint, "source": source}


class _VisibilityDown:
    """An SQS client whose ChangeMessageVisibilityBatch call fails whole (an outage)."""

    async def change_message_visibility_batch(self, **_: Any) -> dict[str, Any]:
        raise InboxError("change_message_visibility failed: connection reset")


async def test_a_failed_visibility_call_names_the_alerts_of_its_batch() -> None:
    """A visibility call that failed whole says, beside its count, the alerts of its batch
    (at most MAX_IDS_LOGGED, one batch)."""
    inbox = SqsInbox(_VisibilityDown(), "https://sqs.example/q")
    messages = [_message(i, {"fingerprint": f"{i:032x}", "source": "generic"}) for i in range(12)]
    with structlog.testing.capture_logs() as logs:
        await inbox.change_visibility(messages, 30)
    first, second = _lines(logs, "message.visibility_failed")
    assert [a["message_id"] for a in first["alerts"]] == [f"m{i}" for i in range(10)]
    assert [a["fingerprint"] for a in second["alerts"]] == [f"{i:032x}" for i in (10, 11)]


# --- 4. a delivery SQS said is lost is not counted as given back by a stop ----------------------


class _LosesEveryDelivery(MemoryInbox):
    """A queue that answers every visibility change (the heartbeat's extensions) as SQS does
    a delivery another replica now holds: `ReceiptHandleIsInvalid` (each `on_lost` called)."""

    def __init__(self) -> None:
        super().__init__()
        self.said_lost = asyncio.Event()

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        self.said_lost.set()
        for message in messages:
            for lost in message.on_lost:
                lost()


async def test_a_stop_does_not_count_a_lost_delivery_as_dead_lettered() -> None:
    """A delivery at work that SQS said is no longer ours (another replica received it), cut
    off by a stop on its last receive, is not counted in MessagesDeadLettered: whether it
    dies is for whoever holds it to say and count, as a failed one's is."""
    started = asyncio.Event()

    async def stuck(message: Message, progress: Callable[[], None]) -> list[Any]:
        started.set()
        await asyncio.Event().wait()  # works until the stop cancels it
        return []

    inbox = _LosesEveryDelivery()
    inbox.put(GENERIC)
    metrics = Metrics()
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0, visibility_timeout_s=1)
    supervisor = Supervisor(config, inbox, stuck, metrics)
    supervisor.max_receive_count = 1
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await _until(lambda: started.is_set() and inbox.said_lost.is_set())
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert not _lines(logs, "message.dead_lettered"), _lines(logs, "message.dead_lettered")
    assert ("MessagesDeadLettered", (("reason", "shutdown"),)) not in metrics.counters()


async def test_a_stop_names_the_alerts_of_the_messages_it_cut_off() -> None:
    """`daemon.released` (the messages a stop cut off mid-work, to be handled again) names
    the alert each had reached, beside its count: here one whose sink never answered."""
    fingerprint, source = _alert_of(GENERIC)
    reached = asyncio.Event()
    sink = FakeSink(gate=asyncio.Event())  # never set: the sink's call hangs
    hang = sink.apply

    async def noted(effect: Any) -> Any:
        reached.set()
        return await hang(effect)

    sink.apply = noted  # type: ignore[method-assign]
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    inbox = MemoryInbox()
    inbox.put(GENERIC)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0)
    supervisor = Supervisor(config, inbox, pipeline.process, Metrics())
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await _until(reached.is_set)
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    [released] = _lines(logs, "daemon.released")
    assert released["alerts"] == [
        {"message_id": "m0", "fingerprint": fingerprint, "source": source}
    ]
