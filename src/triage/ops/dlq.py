"""`triage dlq peek|redrive`: look at dead letters and move them back to the main queue.

The DLQ is the one the main queue's RedrivePolicy names (or `--dlq-url`). Redrive uses SQS's
StartMessageMoveTask where the endpoint supports it; otherwise it moves batches itself in the
safe order — send to the main queue, then delete from the DLQ only what was sent — so an
interruption can at worst duplicate a message (the store dedupes it), never lose one. Its
batches stay within SQS's size limit, it moves each dead letter once (one the daemon rejects
again while it runs is left for the next run), and the letters it held are visible again as
soon as it ends (as a peek's are); stopped by Ctrl-C, it says how many it sent back and how
many of those may also still be in the DLQ. Each letter carries its identity over
(`REDRIVEN_FROM_ATTRIBUTE`), and when it was first queued (`received_at`): SQS gives the copy
a new MessageId and SentTimestamp, and alerts counted under the old one must not be counted
again, nor dated after events applied since.

Receives short-poll (quick while letters come) and confirm an empty answer before believing
it: SQS samples a subset of its servers on a short poll, so a small DLQ may answer empty while
it holds letters. When its count says no letter is visible the look ends at once; otherwise
(the count lags, or cannot be read) one brief long poll, which asks every server, decides.

Looking receives: SQS counts a peek's (or a dry run's, or a redrive's) receive like any
other, and no attribute can be written on a receive. So each look notes the receives it made
of each letter in a small file of this host's (`Looks`: `$XDG_STATE_HOME/triage/`, else
`~/.local/state/triage/`), and a peek shows a letter's count less every receive a look here
made of it, its own included: two peeks in a row show one count, and a receive by anyone
else (the daemon's consumer, another host's look) shows as one more. A file that cannot be
written is said once and the peek goes on, its count less its own receive only. Each look's
last line says how many letters it showed of the DLQ's approximate count (all it holds,
hidden ones included).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError

from triage.aws import AWS_CALL_ERRORS, batch_entries, told_client_error, told_refusal
from triage.errors import ConfigError, TriageError
from triage.normalize import normalize_body
from triage.normalize.common import cut
from triage.redact import Redactor
from triage.sqs.fifo import fifo_refusal, is_fifo
from triage.sqs.identity import REDRIVEN_FROM_ATTRIBUTE
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message, is_text, message_from, sqs_count
from triage.view import json_line, terminal_line, url_origin

#: Dead letters are shown redacted (patterns, and the credentials this process holds).
_REDACTOR = Redactor()

#: How long peeked messages stay hidden while we list them (released at the end).
_PEEK_HIDE_S = 30
#: How long a redrive hides the letters it holds (made visible again when it ends).
_MOVE_HIDE_S = 120
#: Receives in a row that bring only letters a redrive skips before it stops.
_SKIPPED_ROUNDS = 3
#: How long the long poll that confirms an empty short poll waits (SQS takes 1-20 s; any
#: long poll asks every server, and it answers as soon as a letter is there).
CONFIRM_WAIT_S = 1
#: SQS's limit for one SendMessageBatch call, every body and attribute counted.
BATCH_BYTES = 262_144
#: How much of a body no format reads `peek` shows.
BODY_CHARS = 120


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: Message
    #: The message attributes, carried over on redrive.
    attributes: dict[str, Any]
    #: The receives looks on this host made of it before this one (`Looks`): SQS counted
    #: them, and they are not the daemon's.
    looked_before: int = field(default=0, compare=False)
    #: Why it cannot be sent back as it is, or "": a body that is no UTF-8 text (what a
    #: stand-in or a proxy can answer; SQS takes only Unicode), shown with `?` for what
    #: does not read and left in the DLQ by a redrive.
    unreadable: str = field(default="", compare=False)

    @property
    def message_id(self) -> str:
        return self.message.id

    @property
    def body(self) -> str:
        return self.message.body

    @property
    def receipt_handle(self) -> str:
        return self.message.receipt_handle

    @property
    def marked_attributes(self) -> dict[str, Any]:
        """Its attributes as a redrive sends them: with its identity carried over and, when
        it has no `received_at`, when it was first queued (the DLQ keeps SentTimestamp; the
        copy's is new, and would date an alert that states no time after events applied
        since)."""
        marks = {REDRIVEN_FROM_ATTRIBUTE: self.message.identity}
        sent_at = self.message.sent_at
        if RECEIVED_AT_ATTRIBUTE not in self.attributes and sent_at is not None:
            marks[RECEIVED_AT_ATTRIBUTE] = _iso(sent_at)
        strings = {k: {"DataType": "String", "StringValue": v} for k, v in marks.items()}
        return {**self.attributes, **strings}

    @property
    def needs_mark(self) -> bool:
        """What a redrive carries over adds to what it holds (it was not redriven before)."""
        return self.marked_attributes != self.attributes

    @property
    def size_bytes(self) -> int:
        """What SQS counts towards a batch's size: the body and each attribute's name, type
        and value, as a redrive sends them."""
        size = len(self.body.encode("utf-8", "surrogatepass"))
        for name, value in self.marked_attributes.items():
            size += len(name.encode()) + sum(
                len(part if isinstance(part, bytes) else str(part).encode("utf-8", "replace"))
                for key, part in value.items()
                if key in ("DataType", "StringValue", "BinaryValue")
            )
        return size

    def entry(self, index: int, *, mark: bool = True) -> dict[str, Any]:
        """This letter as entry `index` of a SendMessageBatch: its body, attributes and X-Ray
        trace header as they were, and (`mark`) its identity."""
        entry: dict[str, Any] = {"Id": str(index), "MessageBody": self.body}
        attributes = self.marked_attributes if mark else self.attributes
        if attributes:
            entry["MessageAttributes"] = attributes
        if self.message.trace_header:
            entry["MessageSystemAttributes"] = {
                "AWSTraceHeader": {"DataType": "String", "StringValue": self.message.trace_header}
            }
        return entry

    @property
    def receives_before_look(self) -> int | None:
        """The receives SQS counted before the one that brought it to this look (peek, a dry
        run), less those earlier looks on this host made (`looked_before`): SQS counts every
        receive, ours too, and the count it answers includes ours. None when SQS did not say
        it. Never below 0 (a note of looks the letter's count does not hold, as a file copied
        from elsewhere would be, is not believed past it)."""
        count = self.message.known_receive_count
        return None if count is None else max(0, count - 1 - self.looked_before)

    def describe(self, now: datetime, redactor: Redactor = _REDACTOR) -> dict[str, Any]:
        """What peek shows: source, title, fingerprint and, when reproducible, the error; every
        text redacted (a dead letter is alert text, and its error may quote it)."""
        shown: dict[str, Any] = redactor.value(self._describe(now, redactor))
        return shown

    def _describe(self, now: datetime, redactor: Redactor) -> dict[str, Any]:
        info: dict[str, Any] = {"message_id": self.message_id}
        if self.message.identity != self.message_id:
            info["identity"] = self.message.identity
        info |= {
            "receive_count": self.receives_before_look,
            "age_s": int((now - self.message.sent_at).total_seconds())
            if self.message.sent_at
            else None,
        }
        if self.unreadable:
            info["error"] = self.unreadable
            info["body"] = _excerpt(self.body, redactor)
            return info
        try:
            alerts = normalize_body(self.body).alerts
        except TriageError as exc:
            info["error"] = f"{exc.reason}: {exc}"
            # Redacted while it has its lines (a secret known by its line, a table's column or
            # a YAML block, loses that shape once joined), then put on one line and cut with
            # "…" (redacted again with the rest: the redactor knows a cut piece by that mark).
            info["body"] = _excerpt(self.body, redactor)
            return info
        if alerts:
            info.update(
                source=alerts[0].source, title=alerts[0].title, fingerprint=alerts[0].fingerprint
            )
            if len(alerts) > 1:
                info["alerts"] = len(alerts)
        info["error"] = "unknown (a transient failure that outlasted maxReceiveCount?)"
        return info


def _excerpt(body: str, redactor: Redactor) -> str:
    """The start of a body no format reads: redacted while it has its lines (a secret known
    by its line, a table's column or a YAML block, loses that shape once joined), then put on
    one line and cut with "…" (redacted again with the rest: the redactor knows a cut piece
    by that mark)."""
    lines = redactor.text(body)
    return cut(" ".join(lines.split()), BODY_CHARS, ellipsis=True, whole_words=True)


def _dead_letter(entry: Mapping[str, Any]) -> DeadLetter:
    """One entry of ReceiveMessage's answer as a dead letter. A body that is no UTF-8 text
    (a lone surrogate) is read with `?` in its place and the letter marked `unreadable`:
    refused as a message, it stopped a peek or a redrive at that letter, with the rest of its
    batch left hidden."""
    attributes = entry.get("MessageAttributes", {})
    body = entry.get("Body")
    if isinstance(body, str) and not is_text(body):
        readable = body.encode("utf-8", "replace").decode("utf-8")
        return DeadLetter(
            message_from({**entry, "Body": readable}),
            attributes,
            unreadable="its body is no UTF-8 text (a lone surrogate, shown as ?): SQS would "
            "not take it back as it is",
        )
    return DeadLetter(message_from(entry), attributes)


#: SQS's error codes (query and JSON protocols) for a URL or name that names no queue.
NO_QUEUE = frozenset({"NonExistentQueue", "QueueDoesNotExist"})


@contextlib.asynccontextmanager
async def named_queue(named: str) -> AsyncIterator[None]:
    """Calls to the queue `named` (the setting or option and URL that named it, as the error
    line shows it): SQS saying it does not exist is a ConfigError naming it, not a retry."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) not in NO_QUEUE:
            raise
        raise ConfigError(f"{named}: no such queue") from None


async def resolve_queues(
    sqs: Any, queue_url: str, dlq_url: str | None = None
) -> tuple[str, str, str]:
    """(DLQ url, DLQ arn, main queue arn): the DLQ `dlq_url` names (`--dlq-url`), else the
    one the main queue's RedrivePolicy names. A queue that does not exist, or a DLQ that is
    the main queue itself (a peek would hide live messages and count their receives, a
    redrive move them round and round), is a ConfigError naming where it was named."""
    if dlq_url is None:
        return await find_dlq(sqs, queue_url)
    async with named_queue(f"ALERT_TRIAGE_QUEUE_URL {url_origin(queue_url)}"):
        attributes = (
            await sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["QueueArn", "RedrivePolicy"]
            )
        )["Attributes"]
    queue_arn = str(attributes["QueueArn"])
    async with named_queue(f"--dlq-url {url_origin(dlq_url)}"):
        dlq_arn = await _queue_arn(sqs, dlq_url)
    if dlq_arn == queue_arn:
        raise ConfigError(_ITSELF.format(url=url_origin(dlq_url)))
    _warn_if_not_its_dlq(queue_url, attributes.get("RedrivePolicy"), dlq_url, dlq_arn)
    return dlq_url, dlq_arn, queue_arn


def _warn_if_not_its_dlq(queue_url: str, policy: object, dlq_url: str, dlq_arn: str) -> None:
    """One line when `--dlq-url` names a queue other than the DLQ the main queue's redrive
    policy names: a neighbour's live queue or a typo would otherwise be peeked or redriven
    (its messages moved into the alerts queue) without a word. Not a refusal: an older DLQ,
    from before the policy changed, may still hold letters to redrive."""
    try:
        target = json.loads(policy).get("deadLetterTargetArn") if isinstance(policy, str) else None
    except (ValueError, AttributeError):
        target = None
    if isinstance(target, str) and target != dlq_arn:
        _say(
            f"triage: dlq: warning: --dlq-url {url_origin(dlq_url)} ({dlq_arn}) is not the DLQ "
            f"{url_origin(queue_url)}'s redrive policy names ({target}): is it the queue meant?"
        )


_ITSELF = (
    "{url} is the queue itself, not its DLQ: a redrive would move its messages round and round"
)


async def _queue_arn(sqs: Any, url: str) -> str:
    attributes = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


async def find_dlq(sqs: Any, queue_url: str) -> tuple[str, str, str]:
    """(DLQ url, DLQ arn, main queue arn) from the main queue's RedrivePolicy."""
    async with named_queue(f"ALERT_TRIAGE_QUEUE_URL {url_origin(queue_url)}"):
        attrs = (
            await sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["QueueArn", "RedrivePolicy"]
            )
        )["Attributes"]
    if "RedrivePolicy" not in attrs:
        raise ConfigError(
            f"{url_origin(queue_url)} has no RedrivePolicy: name the DLQ with --dlq-url"
        )
    dlq_arn = _dead_letter_target(queue_url, attrs["RedrivePolicy"])
    name, account = dlq_arn.split(":")[-1], dlq_arn.split(":")[-2]
    named = f"the DLQ {dlq_arn} that {url_origin(queue_url)}'s RedrivePolicy names"
    async with named_queue(named):
        dlq_url = (await sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account))[
            "QueueUrl"
        ]
    if dlq_arn == attrs["QueueArn"]:
        raise ConfigError(_ITSELF.format(url=url_origin(dlq_url)))
    return dlq_url, dlq_arn, attrs["QueueArn"]


def _dead_letter_target(queue_url: str, policy: str) -> str:
    """The DLQ's ARN a RedrivePolicy names; a policy with none is a ConfigError."""
    try:
        target = json.loads(policy).get("deadLetterTargetArn")
    except (ValueError, AttributeError):
        target = None
    if not isinstance(target, str) or target.count(":") < 5:
        raise ConfigError(
            f"{url_origin(queue_url)}'s RedrivePolicy names no DLQ (deadLetterTargetArn): "
            "name the DLQ with --dlq-url"
        )
    return target


async def receive(
    sqs: Any,
    dlq_url: str,
    max_messages: int,
    hide_s: int,
    held: dict[str, DeadLetter] | None = None,
    clock: SqsClock | None = None,
    looks: Looks | None = None,
) -> list[DeadLetter]:
    """Up to `max_messages` distinct dead letters, hidden for `hide_s` while we hold them.
    Each is also put in `held` as it comes (its latest receipt), so a call interrupted after
    a first receive still lets those letters go. An empty short poll is believed only when the
    DLQ's count says no letter is visible; otherwise one long poll confirms it. `clock` learns
    SQS's time from the answers. Every receive of a letter (a letter that comes twice in one
    call too) is noted in `looks`, and each letter carries the receives earlier looks made."""
    seen: dict[str, DeadLetter] = {}
    received: Counter[str] = Counter()
    try:
        while len(seen) < max_messages:
            wanted = min(10, max_messages - len(seen))
            batch = await _receive_once(sqs, dlq_url, wanted, hide_s, 0, clock)
            if not batch and await _may_hold_visible(sqs, dlq_url):
                batch = await _receive_once(sqs, dlq_url, wanted, hide_s, CONFIRM_WAIT_S, clock)
            received.update(m["MessageId"] for m in batch)
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            for m in fresh:
                seen[m["MessageId"]] = _dead_letter(m)
            if held is not None:
                held.update((m["MessageId"], seen[m["MessageId"]]) for m in fresh)
    finally:
        # Noted however the call ends: SQS counted the receives made so far all the same.
        earlier = looks.note(dlq_url, received) if looks is not None and received else {}
    return [
        replace(letter, looked_before=earlier.get(letter.message_id, 0)) for letter in seen.values()
    ]


#: The file `Looks` keeps its notes in, under `$XDG_STATE_HOME/triage/`.
LOOKS_FILE = "dlq-looks.json"
#: How long a note is kept after a look last received its letter: SQS keeps a message 14 days
#: at most.
LOOKS_KEPT_S = 14 * 86_400
#: Most letters noted (the least lately looked at forgotten first): the file stays small.
LOOKS_KEPT = 10_000


class Looks:
    """The receives this host's looks (`peek`, a dry run, a redrive) made of each dead letter,
    noted in a small JSON file, so a peek can show a letter's receive count without them. A
    letter is noted by a digest of its DLQ's URL and its message id (no URL or id in the
    file), with how many receives the looks made and when the last was. Two looks at once
    take turns (an exclusive lock beside the file); the file is replaced whole, so a look cut
    short leaves the last one written. One that cannot be read is taken as empty (its counts
    are lost, nothing else); one that cannot be written is said once (`_say`), and the look
    goes on, its letters then counted as before."""

    def __init__(self, path: Path | None) -> None:
        #: The file, or None for a user with no home directory to keep it in.
        self.path = path
        self._said = False

    @classmethod
    def here(cls) -> Looks:
        """The looks of this host's user: `$XDG_STATE_HOME/triage/`, else
        `~/.local/state/triage/` (the XDG base directories' default); none for a user with
        neither (no HOME and no passwd entry, as in some containers)."""
        state = os.environ.get("XDG_STATE_HOME")
        if not state:
            try:
                state = str(Path.home() / ".local" / "state")
            except RuntimeError:  # "Could not determine home directory"
                return cls(None)
        return cls(Path(state) / "triage" / LOOKS_FILE)

    def note(self, dlq_url: str, received: Mapping[str, int]) -> dict[str, int]:
        """Note the receives in `received` (message id: receives) of the DLQ at `dlq_url`; the
        receives looks had noted of each before, by message id."""
        keys = {mid: _look_key(dlq_url, mid) for mid in received}
        if self.path is None:
            self._say_once(
                "this look's receives were not noted: this user has no home directory (set HOME"
                " or XDG_STATE_HOME): a later peek shows them as receives"
            )
            return {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                notes = self._read()
                earlier = {mid: int(notes.get(key, (0, 0))[0]) for mid, key in keys.items()}
                now = int(time.time())
                for mid, key in keys.items():
                    notes[key] = (earlier[mid] + received[mid], now)
                self._write(_kept(notes, now))
        except OSError as exc:
            self._say_once(
                f"this look's receives were not noted in {self.path} ({exc.strerror or exc}):"
                " a later peek shows them as receives"
            )
            return {}
        return earlier

    def _say_once(self, text: str) -> None:
        """Say `text` on stderr, once for this look."""
        if not self._said:
            self._said = True
            _say(text)

    @property
    def _file(self) -> Path:
        """The notes' file (`note` looks only where there is one)."""
        assert self.path is not None
        return self.path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on the file's lock beside it, while a look notes its receives."""
        lock = self._file.with_name(self._file.name + ".lock")
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> dict[str, tuple[int, int]]:
        """The notes, by key: (receives, when the last was, epoch seconds). A file missing,
        not JSON or of another shape reads as none, and a note of another shape is skipped."""
        try:
            data = json.loads(self._file.read_text("utf-8"))
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return {}
        notes: dict[str, tuple[int, int]] = {}
        for key, note in data.items() if isinstance(data, dict) else ():
            if (
                isinstance(note, list)
                and len(note) == 2
                and all(isinstance(n, int) and n >= 0 for n in note)
            ):
                notes[key] = (note[0], note[1])
        return notes

    def _write(self, notes: Mapping[str, tuple[int, int]]) -> None:
        """Replace the file whole (a temporary file beside it, renamed over it)."""
        fd, temporary = tempfile.mkstemp(dir=self._file.parent, prefix=f".{self._file.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({key: list(note) for key, note in notes.items()}, out)
            Path(temporary).replace(self._file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _look_key(dlq_url: str, message_id: str) -> str:
    """A letter's key in `Looks`: a digest of its DLQ's URL and its id."""
    text = f"{dlq_url}\n{message_id}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=12).hexdigest()


def _kept(notes: Mapping[str, tuple[int, int]], now: int) -> dict[str, tuple[int, int]]:
    """The notes still worth keeping: received within LOOKS_KEPT_S, the LOOKS_KEPT latest."""
    fresh = [(key, note) for key, note in notes.items() if now - note[1] < LOOKS_KEPT_S]
    fresh.sort(key=lambda item: item[1][1])
    return dict(fresh[-LOOKS_KEPT:])


async def _receive_once(
    sqs: Any, dlq_url: str, wanted: int, hide_s: int, wait_s: int, clock: SqsClock | None
) -> list[dict[str, Any]]:
    """One ReceiveMessage of up to `wanted` letters: a short poll (`wait_s` 0) or a long one."""
    asked_at = datetime.now(UTC)
    response = await sqs.receive_message(
        QueueUrl=dlq_url,
        MaxNumberOfMessages=wanted,
        WaitTimeSeconds=wait_s,
        VisibilityTimeout=hide_s,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    if clock is not None:
        clock.heard(response, asked_at)
    batch: list[dict[str, Any]] = response.get("Messages", [])
    return batch


async def _may_hold_visible(sqs: Any, dlq_url: str) -> bool:
    """False only when the DLQ's count says no letter is visible: an empty short poll is then
    the truth, and the look ends without waiting. A count that cannot be read says nothing
    (True): a long poll decides."""
    try:
        answer = await sqs.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        visible = answer.get("Attributes", {}).get("ApproximateNumberOfMessages")
    except AWS_CALL_ERRORS:
        return True
    return visible is None or sqs_count(visible) > 0


class SqsClock:
    """How far SQS's clock may run ahead of this host's (behind: negative), learnt from the
    Date header of SQS's first answer that has one. A redrive judges "dead since it started"
    by it: a letter's SentTimestamp is SQS's clock, and a host behind SQS (a laptop after a
    sleep, a container without NTP) would otherwise take every young letter for one that
    died during the run. Without a Date header (a stand-in) the host's clock is all there is.

    The Date header names a whole second, and SQS wrote it at some moment after the call was
    asked, so `ahead` is an upper bound: it errs towards moving a letter that died in the
    run's first second or so (moved once, like any other), never towards leaving one that
    was dead before."""

    def __init__(self) -> None:
        self.ahead: timedelta | None = None

    def heard(self, answer: Any, asked_at: datetime) -> None:
        """Learn the offset from `answer`, asked at `asked_at` by the host's clock (first
        answer with a usable Date header only)."""
        if self.ahead is not None:
            return
        answered = _answer_date(answer)
        if answered is not None:
            self.ahead = answered + _DATE_STEP - asked_at

    def sqs_time(self, host_time: datetime) -> datetime:
        """`host_time` on SQS's clock, at the latest (the host's own until SQS has said)."""
        return host_time if self.ahead is None else host_time + self.ahead


#: The Date header's precision: SQS's time is within the second it names.
_DATE_STEP = timedelta(seconds=1)


def _answer_date(answer: Any) -> datetime | None:
    """When SQS says it answered (its HTTP Date header), or None when the answer has none,
    or one that is not an RFC 1123 date with a zone."""
    metadata = answer.get("ResponseMetadata") if isinstance(answer, dict) else None
    headers = metadata.get("HTTPHeaders") if isinstance(metadata, dict) else None
    date = headers.get("date") if isinstance(headers, dict) else None
    if not isinstance(date, str):
        return None
    try:
        answered = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # A zone of "-0000" (unknown) parses naive: no time to compare with; the last year leaves
    # no room for the second `SqsClock` adds.
    if answered.tzinfo is None or answered.year >= 9999:
        return None
    return answered


async def peek(sqs: Any, dlq_url: str, max_messages: int, out: TextIO | None = None) -> int:
    """Print each dead letter as one JSON line on `out` (sys.stdout as it is at the call, not
    at import: a test's or a caller's redirection is honoured) and leave them all in the DLQ."""
    out = out if out is not None else sys.stdout
    counts = await dlq_counts(sqs, dlq_url)
    in_dlq = counts if isinstance(counts, str) else sum(counts.values())
    clock = SqsClock()  # a letter's age is SQS's clock less its SentTimestamp
    looks = Looks.here()
    async with _looking(sqs, dlq_url) as held:
        letters = await receive(sqs, dlq_url, max_messages, _PEEK_HIDE_S, held, clock, looks)
        now = clock.sqs_time(datetime.now(UTC))
        for letter in letters:
            out.write(json_line(letter.describe(now)) + "\n")
    if not letters:
        _say_hidden(counts)
    if isinstance(in_dlq, int):
        more = _more(dlq_url, len(letters), max_messages, in_dlq)
        _say(f"showed {_of(len(letters), in_dlq)} dead letter(s) in {url_origin(dlq_url)}{more}")
    else:
        _say(
            f"showed {len(letters)} dead letter(s) in {url_origin(dlq_url)}; it holds at least "
            f"that many (its count could not be read: {in_dlq})"
        )
    return len(letters)


def _more(dlq_url: str, shown: int, max_messages: int, in_dlq: int) -> str:
    """What peek's last line adds when the DLQ holds more than it showed: that --max shows
    more, or, for a FIFO DLQ asked for more than it showed, why it showed no more: SQS hands
    out none of a message group's later letters while the look holds earlier ones (SQS keeps
    a group in order), so `showed 10 of ~15` would otherwise read as a --max of 10."""
    if shown >= in_dlq:
        return ""
    if shown == max_messages:
        return "; --max shows more"
    if is_fifo(dlq_url):
        return (
            "; a FIFO DLQ hands out none of a message group's later letters while a look "
            "holds its earlier ones, so no more could be shown"
        )
    return ""


async def dlq_counts(sqs: Any, dlq_url: str) -> dict[str, int] | str:
    """How many letters the DLQ holds, as SQS approximates them, by the name of each count in
    `_COUNTS` (waiting, hidden by a look or a redrive under way, delayed: together every
    letter), or why they could not be read (a role without GetQueueAttributes on it)."""
    try:
        answer = await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=list(_COUNTS))
        attributes = answer.get("Attributes", {})
        return {name: sqs_count(attributes.get(name, 0)) for name in _COUNTS}
    except ClientError as exc:
        return told_client_error(exc)
    except AWS_CALL_ERRORS as exc:
        return type(exc).__name__


def _say_hidden(counts: Mapping[str, int] | str) -> None:
    """One line when the DLQ held letters hidden before this look took any (`counts`, read
    as it began): another look's, a redrive's under way elsewhere, or one stopped a moment
    ago by a kill, which could not make them visible again. A look that finds none visible
    said only `showed 0` or `moved 0` (exit 0), as if the DLQ were done with."""
    hidden = 0 if isinstance(counts, str) else counts.get(_HIDDEN, 0)
    if hidden:
        _say(
            f"{hidden} dead letter(s) in the DLQ are hidden by another look or redrive (one "
            "under way, or one stopped a moment ago): they are visible again once it lets them "
            f"go or its hiding ends (at most {_MOVE_HIDE_S // 60} min for a redrive); run this "
            "again then"
        )


#: The DLQ's count of letters hidden by a receive (a look's, a redrive's).
_HIDDEN = "ApproximateNumberOfMessagesNotVisible"
#: The DLQ's counts that together are every letter it holds.
_COUNTS = ("ApproximateNumberOfMessages", _HIDDEN, "ApproximateNumberOfMessagesDelayed")


def _of(shown: int, in_dlq: int) -> str:
    """`shown` of the DLQ's approximate count (never fewer than were shown: a count read
    before letters arrived, or one SQS has not settled yet, is at least that)."""
    return f"{shown} of ~{max(shown, in_dlq)}"


@contextlib.asynccontextmanager
async def _looking(sqs: Any, dlq_url: str) -> AsyncIterator[dict[str, DeadLetter]]:
    """The letters a look at the DLQ takes (`receive`'s `held`), made visible again when it
    ends, however it ends: Ctrl-C between two receives, a closed pipe or SQS failing included,
    so none stays hidden for _PEEK_HIDE_S (then best effort: the first error is the one told)."""
    held: dict[str, DeadLetter] = {}
    try:
        yield held
    except BaseException:
        with contextlib.suppress(*AWS_CALL_ERRORS):
            await _release(sqs, dlq_url, list(held.values()))
        raise
    await _release(sqs, dlq_url, list(held.values()))


@dataclass(frozen=True, slots=True)
class Redriven:
    """What one redrive did: letters moved back (-1: SQS's own move task moves them), and
    letters the main queue refused, which stay in the DLQ (the command then fails)."""

    moved: int
    refused: int = 0


async def redrive(
    sqs: Any,
    queue_url: str,
    dlq_url: str,
    dlq_arn: str,
    queue_arn: str,
    max_messages: int,
    dry_run: bool,
    *,
    sqs_move: bool = False,
) -> int:
    """Move up to `max_messages` dead letters back; returns how many were moved (or would be)."""
    done = await redrive_counted(
        sqs, queue_url, dlq_url, dlq_arn, queue_arn, max_messages, dry_run, sqs_move=sqs_move
    )
    return done.moved


async def redrive_counted(
    sqs: Any,
    queue_url: str,
    dlq_url: str,
    dlq_arn: str,
    queue_arn: str,
    max_messages: int,
    dry_run: bool,
    *,
    sqs_move: bool = False,
) -> Redriven:
    """`redrive`, saying also how many letters the main queue refused. Its last line names
    them, so an operator (or a script reading the exit code) sees the DLQ is not empty.

    Letters move by batches, each carrying its identity (`redriven_from`), unless `sqs_move`
    asks SQS's own StartMessageMoveTask: quicker for a large DLQ, but the copies it makes are
    new messages, so a letter with no identity of its own (no gateway or `triage send` stamp,
    no SNS or EventBridge envelope) has its alerts counted again."""
    if dlq_arn == queue_arn:
        raise ConfigError(_ITSELF.format(url=url_origin(dlq_url)))
    if dry_run:
        return await _dry_run(sqs, queue_url, dlq_url, max_messages)
    if sqs_move:
        if await _move_task(sqs, dlq_arn, queue_arn):
            return Redriven(-1)  # SQS moves them itself, asynchronously
        if is_fifo(queue_url):
            # Batches go without a MessageGroupId: SQS would refuse every letter sent.
            raise fifo_refusal(queue_url)
        _say("this endpoint has no SQS message move task: moving dead letters by batches")
    counts = await dlq_counts(sqs, dlq_url)
    move = _Move(sqs, queue_url, dlq_url)
    try:
        moved = await move.run(max_messages)
    except asyncio.CancelledError:
        # Ctrl-C (asyncio.Runner cancels the command): what already moved is said, so the
        # operator knows where the letters are; the held ones are let go below.
        _say(move.interrupted_line())
        raise
    except Exception:
        # SQS failing half way (a permission gone, a token expired): its error is told by
        # the caller, and what moved before it is said here, else only the error is known.
        if move.sent:
            _say(move.interrupted_line("stopped"))
        raise
    finally:
        await move.let_go()
    returned = len(move.skipped) - len(move.refused)
    if returned:
        _say(
            f"left {returned} dead letter(s) in the DLQ: moved by this redrive already, or "
            "dead since it started"
        )
    _say(f"moved {moved} dead letter(s) back to {url_origin(queue_url)}")
    if not move.sent and not move.skipped:  # it took no letter: any hidden were another's
        _say_hidden(counts)
    if move.refused:
        _say(
            f"left {len(move.refused)} dead letter(s) in the DLQ: the queue refused them, or "
            "they could not be sent (each named above)"
        )
    return Redriven(moved, len(move.refused))


async def _dry_run(sqs: Any, queue_url: str, dlq_url: str, max_messages: int) -> Redriven:
    """What a redrive of up to `max_messages` would move, said as that many of the DLQ's
    approximate count; the letters are looked at (received) and left as they were."""
    counts = await dlq_counts(sqs, dlq_url)
    in_dlq = counts if isinstance(counts, str) else sum(counts.values())
    async with _looking(sqs, dlq_url) as held:
        letters = await receive(sqs, dlq_url, max_messages, _PEEK_HIDE_S, held, looks=Looks.here())
    if not letters:
        _say_hidden(counts)
    back = f"back to {url_origin(queue_url)}"
    if isinstance(in_dlq, int):
        _say(f"would move {_of(len(letters), in_dlq)} dead letter(s) {back}")
    else:
        _say(
            f"would move {len(letters)} dead letter(s) {back} (the DLQ's count could not be "
            f"read: {in_dlq})"
        )
    return Redriven(len(letters))


class _Move:
    """One redrive by batches: send to the main queue, then delete from the DLQ only what was
    sent. It moves each dead letter at most once and only those dead before it started: a
    message the daemon still rejects comes back to the DLQ while a long redrive runs, and
    would otherwise be moved again and again. Every letter it holds hidden and has not moved
    is made visible again when it ends, however it ends."""

    def __init__(self, sqs: Any, queue_url: str, dlq_url: str) -> None:
        self.sqs, self.queue_url, self.dlq_url = sqs, queue_url, dlq_url
        #: When it started, by the host's clock: `clock` puts it on SQS's.
        self.started = datetime.now(UTC)
        self.clock = SqsClock()
        #: Its receives, noted: a letter it leaves in the DLQ was received by a look, not the
        #: daemon.
        self.looks = Looks.here()
        #: Message ids of what this run sent (a bounced message keeps its id in the DLQ) and
        #: of the dead letters it moved (one it failed to delete is not sent twice).
        self.moved_ids: set[str] = set()
        #: Dead letters received and not moved: hidden until the run ends, then let go.
        self.skipped: dict[str, DeadLetter] = {}
        #: Message ids of the skipped letters the main queue would not take.
        self.refused: set[str] = set()
        self.held: dict[str, DeadLetter] = {}
        #: Letters the main queue took, and of those, the ones deleted from the DLQ.
        self.sent = 0
        self.deleted = 0

    def interrupted_line(self, how: str = "interrupted") -> str:
        """What a run interrupted (or `how` else it ended early) tells: the letters it sent
        back, and how many of them may also still be in the DLQ (their delete not done or not
        answered)."""
        return (
            f"triage: dlq: {how}: sent {self.sent} dead letter(s) back to "
            f"{url_origin(self.queue_url)}; {self.sent - self.deleted} of them may also stay "
            "in the DLQ (their delete did not finish: a later redrive sends them again, their "
            "alerts counted once); the rest stay in the DLQ"
        )

    async def run(self, max_messages: int) -> int:
        moved, skipped_only = 0, 0
        while moved < max_messages:
            # `held` keeps the latest receipt of each: only it can make the letter visible.
            letters = await receive(
                self.sqs,
                self.dlq_url,
                min(10, max_messages - moved),
                _MOVE_HIDE_S,
                self.held,
                self.clock,
                self.looks,
            )
            if not letters:
                break
            # Letters it skipped come back once their hiding ends (a run longer than
            # _MOVE_HIDE_S), and at once from a queue that does not hide them: a few rounds
            # of nothing else, and it stops.
            if all(m.message_id in self.skipped for m in letters):
                skipped_only += 1
                if skipped_only >= _SKIPPED_ROUNDS:
                    break
                continue
            skipped_only = 0
            fresh = [m for m in letters if self._dead_before(m)]
            self.skipped.update((m.message_id, m) for m in letters if m not in fresh)
            for letter in fresh:
                if letter.unreadable:
                    self._leave(letter, letter.unreadable)
            fresh = [m for m in fresh if not m.unreadable]
            for batch in _batches(fresh):
                moved += len(await self._send(batch))
        return moved

    def _dead_before(self, letter: DeadLetter) -> bool:
        """False for a letter this run moved already (one of ours that came back keeps the id
        the send gave it), or one sent after it started (SQS keeps a message's SentTimestamp
        when it moves it to the DLQ): a message that arrived and died while the run went on,
        which could otherwise keep it going as long as the daemon rejects new ones. Both times
        are SQS's clock: the start is put on it by `clock` (the host's may be minutes off)."""
        if letter.message_id in self.moved_ids:
            return False
        sent_at = letter.message.sent_at
        return sent_at is None or sent_at < self.clock.sqs_time(self.started)

    async def _send(self, batch: list[DeadLetter], *, mark: bool = True) -> list[DeadLetter]:
        """Send `batch` to the main queue, then delete from the DLQ what was sent. A letter
        the queue refuses is left in the DLQ; the others still go. `mark`: with each letter's
        identity (see `_refused`)."""
        try:
            answer = await self.sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[m.entry(i, mark=mark) for i, m in enumerate(batch)],
            )
        except ClientError as exc:
            if error_code(exc) not in REFUSED:
                raise  # the queue is gone, or SQS is failing: the run stops
            if len(batch) == 1:
                code = error_code(exc)
                why = _refusal(code, exc.response.get("Error", {}).get("Message"))
                return await self._refused(batch[0], why, code, mark=mark)
            # One letter the queue refuses (larger than its MaximumMessageSize) fails the
            # whole call: one by one, the others go.
            return [m for letter in batch for m in await self._send([letter], mark=mark)]
        sent = []
        for entry, index in batch_entries(answer, "Successful", len(batch)):
            sent.append(batch[index])
            self.moved_ids.update((batch[index].message_id, str(entry.get("MessageId", ""))))
        self.sent += len(sent)
        resent = []
        for failure, index in batch_entries(answer, "Failed", len(batch)):
            why = _refusal(failure.get("Code"), failure.get("Message"))
            if failure.get("SenderFault") is False:
                # SQS failed on its own side: nothing in the letter caused it, so it is not sent
                # again without its identity, but left for a later redrive to send with it.
                self._leave(batch[index], why)
                continue
            code = str(failure.get("Code", "")).removeprefix("AWS.SimpleQueueService.")
            resent += await self._refused(batch[index], why, code, mark=mark)
        if sent:  # delete only what is safely back on the main queue
            deleted = await self.sqs.delete_message_batch(
                QueueUrl=self.dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(sent)
                ],
            )
            kept = {index for _, index in batch_entries(deleted, "Failed", len(sent))}
            for failure, index in batch_entries(deleted, "Failed", len(sent)):
                why = _refusal(failure.get("Code"), failure.get("Message"))
                _say(
                    f"triage: dlq: {sent[index].message_id} was sent to the queue but not deleted"
                    f" from the DLQ ({why}): it stays there, and a later redrive sends it again"
                    " (its alerts counted once)"
                )
            # One not deleted stays held: made visible in the DLQ when the run ends.
            for index, letter in enumerate(sent):
                if index not in kept:
                    del self.held[letter.message_id]
            self.deleted += len(sent) - len(kept)
        return sent + resent

    async def _refused(
        self, letter: DeadLetter, why: str, code: str, *, mark: bool
    ) -> list[DeadLetter]:
        """The main queue refused `letter` with SQS's `code`. When its identity was added,
        that may be what made it too large (or one attribute too many): it goes again
        without, so it is not stuck in the DLQ, at the price of its alerts counting once more
        if they were counted before. A refusal the identity cannot cause (the body's
        characters) would only be answered again, so the letter stays in the DLQ, as does
        any letter refused without its identity."""
        if mark and letter.needs_mark and code not in NOT_FROM_IDENTITY:
            _say(
                f"triage: dlq: the queue refused {letter.message_id} with its identity added "
                f"({why}): sending it without (its alerts may be counted again)"
            )
            return await self._send([letter], mark=False)
        self._leave(letter, why)
        return []

    def _leave(self, letter: DeadLetter, why: str) -> None:
        """`letter` stays in the DLQ: SQS would not take it on the main queue."""
        _say(f"triage: dlq: could not send {letter.message_id}: {why}")
        self.skipped[letter.message_id] = letter
        self.refused.add(letter.message_id)

    async def let_go(self) -> None:
        """Make every letter still held visible again (best effort: an interrupted run's
        letters would otherwise stay hidden for `_MOVE_HIDE_S`)."""
        with contextlib.suppress(*AWS_CALL_ERRORS):
            await _release(self.sqs, self.dlq_url, list(self.held.values()))
        self.held.clear()


#: Errors of a SendMessageBatch call that one letter can cause (its size, its attributes):
#: the batch is sent again one letter at a time. Any other error stops the redrive.
REFUSED = frozenset(
    {
        "InvalidParameterValue",
        "InvalidMessageContents",
        "MessageTooLong",
        "InvalidAttributeName",
        "InvalidAttributeValue",
        "BatchRequestTooLong",
    }
)


#: Refusals that the identity a redrive adds (`redriven_from`, `received_at`: plain ASCII)
#: cannot cause: SQS refuses the characters of the letter's own body or attributes, so
#: sending it without its identity would be refused again, and lose the identity for nothing.
NOT_FROM_IDENTITY = frozenset({"InvalidMessageContents"})


#: How much of the queue's message about a refused letter is told.
_REFUSAL_CHARS = 300


def _refusal(code: object, message: object) -> str:
    """Why the main queue refused a letter, for the operator's line: SQS's code when it has
    AWS's form, and its message on one line, redacted and cut (whatever answers for SQS, a
    proxy or a stand-in, writes both)."""
    return told_refusal(code, message, _REFUSAL_CHARS)


def error_code(exc: ClientError) -> str:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code.removeprefix("AWS.SimpleQueueService.")


def _batches(letters: list[DeadLetter]) -> list[list[DeadLetter]]:
    """`letters` in SendMessageBatch calls of at most ten entries and `BATCH_BYTES` in all;
    a letter larger than that goes alone."""
    batches: list[list[DeadLetter]] = []
    size = 0
    for letter in letters:
        if not batches or len(batches[-1]) == 10 or size + letter.size_bytes > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(letter)
        size += letter.size_bytes
    return batches


def _iso(when: datetime) -> str:
    """`when` as the gateway writes `received_at`: ISO 8601, UTC, milliseconds."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _say(line: str) -> None:
    """One line for the operator on stderr; it may quote what SQS or a queue URL holds (a
    letter's id, an answer's message, a task handle), so it is redacted as peek's are."""
    print(terminal_line(_REDACTOR.text(line)), file=sys.stderr)


async def _move_task(sqs: Any, dlq_arn: str, queue_arn: str) -> bool:
    """StartMessageMoveTask when the endpoint has it (AWS, LocalStack); False when it has not."""
    try:
        task = await sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        if status >= 500 or code in (
            "UnsupportedOperation",
            "InvalidAction",
            "AWS.SimpleQueueService.UnsupportedOperation",
        ):
            return False  # not supported here (moto answers 500): move batches ourselves
        raise
    _say(f"started SQS message move task {task.get('TaskHandle', '')}")
    return True


async def _release(sqs: Any, dlq_url: str, letters: list[DeadLetter]) -> None:
    for start in range(0, len(letters), 10):
        chunk = letters[start : start + 10]
        await sqs.change_message_visibility_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )
