"""Round 15 (helper 466): operator-surface leftovers (a cut escape in `triage health`, a regex
silence's look-alike letter, a lowercase `z` in `?since=`) and the DLQ commands against moto's
server mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from daemon_harness import Queues, daemon_env, run_in_process, settings_for
from fault_proxy import FaultProxy
from hostile_server import answer, hostile
from test_dlq import bodies
from test_operator_filters import seed
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.incidents import Store
from triage.ops.operator import parse_moment, parse_until
from triage.settings import load_settings
from triage.view import terminal_cut, terminal_text

#: The tail of an escape cut short: a backslash and `u` with fewer than four hex digits.
_HALF_ESCAPE = re.compile(r"(?<!\\)\\u[0-9a-fA-F]{0,3}$")


async def test_health_cuts_its_quoted_answer_between_whole_escapes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage health` quoting a long answer cuts it between escapes: an ESC whose `\\u001b`
    straddles the cut is left out whole, not shown as `\\u00` (which reads as another code)."""
    body = b"x" * 197 + b"\x1b" + b"y" * 50
    async with hostile(answer(200, {"Content-Type": "text/plain"}, body)) as server:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", server.url.rsplit(":", 1)[1].strip("/"))
        await asyncio.to_thread(main, ["health"])
    (line,) = capsys.readouterr().err.splitlines()
    shown = line.split("not triage's answer: ", 1)[1]
    assert shown == "x" * 197 + "…", shown


@pytest.mark.parametrize("chars", range(1, 30))
def test_terminal_cut_never_ends_in_part_of_an_escape(chars: int) -> None:
    """`view.terminal_cut` at any width keeps each escape whole (`\\u001b`, a surrogate pair's
    two, a doubled backslash) and stays within `chars`, marking a cut with "…"."""
    text = "a\x1bb\\u0041c\U0001d5c9\u202ed\\\\e" * 2
    cut = terminal_cut(text, chars)
    assert len(cut) <= chars, cut
    assert cut.endswith("…"), cut
    kept = cut.removesuffix("…")
    assert not _HALF_ESCAPE.search(kept), cut
    assert terminal_text(text).startswith(kept), cut


# --- a silence's look-alike letter ------------------------------------------------------------


@pytest.fixture
async def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """A SQLite store of eight open incidents (teams payments and search), the one
    TRIAGE_STORE_URL names."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    opened = await open_configured_store(settings, aws)
    await seed(opened, 8)
    yield opened
    await opened.aclose()
    await aws.aclose()


@pytest.mark.parametrize("matcher", ["team=p\u0430yments", "team=~billing|p\u0430yments"])
async def test_a_silence_matching_nothing_for_a_look_alike_letter_names_it(
    seeded: Store, capsys: pytest.CaptureFixture[str], matcher: str
) -> None:
    """A silence that matches no open incident because a value or a pattern holds a Cyrillic
    a inside a Latin word is warned of that letter by its code and name, and of the value it
    would match written in Latin letters, not only that it matches none."""
    args = ["silence", "add", "--match", matcher, "--for", "1h", "--comment", "c", "--dry-run"]
    assert await asyncio.to_thread(main, args) == 0
    err = capsys.readouterr().err
    hints = [line for line in err.splitlines() if "U+0430" in line]
    assert hints, err
    assert "CYRILLIC SMALL LETTER A" in hints[0], hints
    assert "team=payments" in hints[0], hints


# --- an ISO time with a lowercase z ---------------------------------------------------------

#: RFC 3339 (5.6, its note) allows `t` and `z` in lower case.
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["2026-12-06T10:00:00z", "2026-12-06t10:00z"])
def test_since_reads_an_iso_time_with_a_lowercase_z(typed: str) -> None:
    """`?since=`, the page's since and `--since` (all `parse_moment`) read a time ending in a
    lowercase `z` as UTC, as RFC 3339 allows, rather than refusing it."""
    assert parse_moment("since", typed, NOW) == datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_a_silences_until_reads_an_iso_time_with_a_lowercase_z() -> None:
    """A silence's `--until` / `until` ending in a lowercase `z` is read as UTC too."""
    end = parse_until("2026-12-07t06:00z", NOW)
    assert end == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


async def test_incidents_list_since_takes_a_lowercase_z(
    seeded: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list --since 2000-01-01T00:00:00z` lists the open incidents, not
    an error."""
    args = ["incidents", "list", "--since", "2000-01-01T00:00:00z"]
    assert await asyncio.to_thread(main, args) == 0, capsys.readouterr().err
    assert len(capsys.readouterr().out.splitlines()) == 8


# --- the DLQ commands against moto's server ----------------------------------------------------


def _no_utf8_body(answer: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's answer with the letter `NOT-UTF8` given a lone surrogate, as a
    stand-in or a proxy can send (SQS itself takes only Unicode text)."""
    for message in answer.get("Messages", []):
        if message["Body"] == "NOT-UTF8":
            message["Body"] = "NOT-UTF8 \ud800 body"
    return answer


@contextlib.contextmanager
def _through_proxy(queues: Queues, tmp_path: Path) -> Iterator[tuple[FaultProxy, dict[str, str]]]:
    """A fault proxy in front of moto, and the environment of a `triage dlq` that goes by it."""
    with FaultProxy(queues.endpoint) as proxy:
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        yield proxy, daemon_env(settings)


GOOD_LETTER = json.dumps({"title": "backup failed", "dedup_key": "backup", "source": "cron"})


def test_peek_shows_a_letter_whose_body_is_not_utf8_and_the_rest(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`dlq peek` of a DLQ holding a letter whose body is no UTF-8 text shows it (its error
    saying so) beside the others and exits 0, and every letter is visible again at once: one
    such letter stopped the peek with exit 1 and left the letters of its batch hidden."""
    sqs = queues.client()
    for body in ("NOT-UTF8", GOOD_LETTER):
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    with _through_proxy(queues, tmp_path) as (proxy, env):
        proxy.rewrite("AmazonSQS.ReceiveMessage", _no_utf8_body)
        done = run_in_process(monkeypatch, capsys, "dlq", "peek", env=env)
    assert done.returncode == 0, done.stderr
    shown = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(shown) == 2, done.stdout
    (bad,) = [s for s in shown if "title" not in s]
    assert "UTF-8" in bad["error"], bad
    assert sorted(bodies(queues, queues.dlq_url)) == sorted(["NOT-UTF8", GOOD_LETTER])


def test_redrive_moves_the_others_and_leaves_a_letter_whose_body_is_not_utf8(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`dlq redrive` past a letter whose body is no UTF-8 text moves the other letters, leaves
    that one in the DLQ (visible, named on a line) and exits 1, as for a letter the queue
    refuses: it stopped at that letter and left the rest of its batch hidden."""
    sqs = queues.client()
    for body in ("NOT-UTF8", GOOD_LETTER):
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    with _through_proxy(queues, tmp_path) as (proxy, env):
        proxy.rewrite("AmazonSQS.ReceiveMessage", _no_utf8_body)
        done = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
    assert done.returncode == 1, done.stderr
    assert "UTF-8" in done.stderr, done.stderr
    assert bodies(queues, queues.url) == [GOOD_LETTER]
    assert bodies(queues, queues.dlq_url) == ["NOT-UTF8"]


def test_a_redrive_failing_half_way_says_how_many_it_had_moved(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A redrive whose second batch SQS refuses (a role's permission gone, a token expired
    mid-run) exits 1 saying, beside SQS's error, how many letters it had already sent back:
    only SQS's error was said, and the operator could not tell that ten had moved."""
    sqs = queues.client()
    for i in range(15):
        body = json.dumps({"title": f"alert {i}", "dedup_key": f"k{i}"})
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    with _through_proxy(queues, tmp_path) as (proxy, env):

        def refuse_sends_after(answer: dict[str, Any]) -> dict[str, Any]:
            proxy.refuse("AmazonSQS.SendMessageBatch", 400, "AccessDenied", "not authorized")
            return answer

        proxy.rewrite("AmazonSQS.DeleteMessageBatch", refuse_sends_after)
        done = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
    assert done.returncode == 1, done.stderr
    assert "AccessDenied" in done.stderr, done.stderr
    assert len(bodies(queues, queues.url)) == 10
    assert "sent 10 dead letter(s) back" in done.stderr, done.stderr
    assert len(bodies(queues, queues.dlq_url)) == 5


def _fifo_queues(moto_url: str) -> Queues:
    """A FIFO queue and its FIFO DLQ holding three letters, each of a message group."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    name = f"alerts-{uuid.uuid4().hex[:12]}"
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes=fifo)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    redrive = json.dumps({"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": "2"})
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={**fifo, "RedrivePolicy": redrive})
    for i in range(3):
        body = json.dumps({"title": f"alert {i}", "dedup_key": f"k{i}"})
        sqs.send_message(QueueUrl=dlq_url, MessageBody=body, MessageGroupId=f"group-{i}")
    return Queues(moto_url, url["QueueUrl"], dlq_url)


def test_sqs_move_falling_back_to_batches_refuses_a_fifo_queue_with_its_line(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`dlq redrive --sqs-move` of a FIFO queue on an endpoint with no move task (moto,
    ElasticMQ) stops with exit 2 and the FIFO line a redrive by batches gives, taking no
    letter: it fell back to batches sent without a MessageGroupId, each refused by SQS."""
    fifo = _fifo_queues(moto_url)
    env = daemon_env(settings_for(fifo, "http://127.0.0.1:9", tmp_path / "t.db"))
    done = run_in_process(monkeypatch, capsys, "dlq", "redrive", "--sqs-move", env=env)
    assert done.returncode == 2, done.stderr
    assert "is a FIFO queue" in done.stderr, done.stderr
    assert "MissingParameter" not in done.stderr, done.stderr
    assert len(bodies(fifo, fifo.dlq_url)) == 3


def test_peek_of_a_fifo_dlq_says_why_it_showed_fewer_than_asked(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`dlq peek --max 20` of a FIFO DLQ holding 15 letters of one message group shows the
    10 SQS hands out and says that a group's later letters wait while a look holds its
    earlier ones: it said only `showed 10 of ~15`, as if --max had been 10."""
    fifo = _fifo_queues(moto_url)
    sqs = fifo.client()
    for i in range(12):
        body = json.dumps({"title": f"more {i}", "dedup_key": f"m{i}"})
        sqs.send_message(QueueUrl=fifo.dlq_url, MessageBody=body, MessageGroupId="group-0")
    env = daemon_env(settings_for(fifo, "http://127.0.0.1:9", tmp_path / "t.db"))
    done = run_in_process(monkeypatch, capsys, "dlq", "peek", "--max", "20", env=env)
    assert done.returncode == 0, done.stderr
    shown = len(done.stdout.splitlines())
    assert shown < 15, done.stdout
    (last,) = done.stderr.splitlines()[-1:]
    assert f"showed {shown} of ~15" in last, last
    assert "message group" in last, last


def test_a_dlq_url_that_is_not_the_queues_dlq_is_warned_of(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`dlq redrive --dlq-url` naming a queue other than the DLQ the main queue's redrive
    policy names (another service's live queue, a typo of a neighbour) says so, naming both,
    before it moves that queue's messages: it moved them without a word."""
    sqs = queues.client()
    other = sqs.create_queue(QueueName=f"orders-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody=GOOD_LETTER)
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    done = run_in_process(monkeypatch, capsys, "dlq", "redrive", "--dlq-url", other, env=env)
    (warning,) = [line for line in done.stderr.splitlines() if "redrive policy" in line]
    assert other.rsplit("/", 1)[1] in warning, warning
    assert queues.dlq_url.rsplit("/", 1)[1] in warning, warning


def test_the_dlq_the_redrive_policy_names_given_as_dlq_url_is_not_warned_of(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`--dlq-url` naming the very DLQ of the queue's redrive policy draws no warning."""
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=GOOD_LETTER)
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    done = run_in_process(monkeypatch, capsys, "dlq", "peek", "--dlq-url", queues.dlq_url, env=env)
    assert done.returncode == 0, done.stderr
    assert "redrive policy" not in done.stderr, done.stderr


def _hide_every_letter(queues: Queues) -> int:
    """Receive every letter of the DLQ for a minute, as a redrive killed mid-run leaves them
    (hidden until their hiding ends); how many."""
    sqs, hidden = queues.client(), 0
    while batch := sqs.receive_message(
        QueueUrl=queues.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        hidden += len(batch)
    return hidden


@pytest.mark.parametrize("action", [("peek",), ("redrive",), ("redrive", "--dry-run")])
def test_a_look_at_a_dlq_whose_letters_are_hidden_says_so(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    action: tuple[str, ...],
) -> None:
    """A peek, redrive or dry run of a DLQ whose letters another look holds hidden (a redrive
    killed a moment ago, one under way elsewhere) says how many are hidden and that they come
    back: it said `moved 0` and exited 0, as if the DLQ were done with."""
    sqs = queues.client()
    for i in range(5):
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=f"letter {i}")
    assert _hide_every_letter(queues) == 5
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    done = run_in_process(monkeypatch, capsys, "dlq", *action, env=env)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "hidden" in line]
    assert said, done.stderr
    assert "5 dead letter(s) in the DLQ are hidden" in said[0], said


def test_a_letter_sqs_failed_to_take_on_its_side_is_not_sent_again_without_its_identity(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A batch entry SQS answers as failed on its own side (`SenderFault: false`, an
    InternalError) is left in the DLQ for a later redrive, with its identity: it was sent
    again at once without `redriven_from`, as if the identity had made it too large, so the
    alerts it had counted could be counted again."""
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=GOOD_LETTER)
    answered: list[int] = []

    def first_entry_failed(answer: dict[str, Any]) -> dict[str, Any]:
        answered.append(1)
        if len(answered) > 1:
            return answer
        failed = [
            {"Id": entry["Id"], "SenderFault": False, "Code": "InternalError", "Message": "oops"}
            for entry in answer.pop("Successful", [])
        ]
        return {**answer, "Successful": [], "Failed": failed}

    with _through_proxy(queues, tmp_path) as (proxy, env):
        proxy.rewrite("AmazonSQS.SendMessageBatch", first_entry_failed)
        run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
    sqs = queues.client()
    got = sqs.receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    assert got, "moto took the first send"
    assert all("redriven_from" in m.get("MessageAttributes", {}) for m in got), got
    assert bodies(queues, queues.dlq_url) == [GOOD_LETTER]
