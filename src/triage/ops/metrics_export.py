"""Exporters for `Metrics`: CloudWatch Embedded Metric Format lines on stdout (the default on
ECS, where the log driver turns them into metrics), batched PutMetricData, and Prometheus text
for `/metrics`.

CloudWatch gets counters as deltas since the previous flush, timings as their raw observations
(EMF `Values`, PutMetricData `Values` with `Counts`: CloudWatch computes percentiles only
from raw values, never from a statistic set) and gauges as their current value. Past the
raw values a flush keeps of a busy interval, each kept value stands for its share of the
interval's observations (`triage.ops.weighted`), so SampleCount is exact in a storm too. A
series with dimensions is also published under `Service` alone, so an alarm can watch a
metric across its dimensions (the longest-open breaker, every LLM outcome).
CloudWatch names stay the CamelCase ones of `triage.metrics`; Prometheus gets the same series
under its own conventions (snake_case, `_total`, base units: seconds), named here and written by
`triage.ops.prometheus` (imported at the first scrape: prometheus_client cost every start ~0.1 s
of CPU).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TextIO, TypeVar, cast

import structlog
from botocore.exceptions import ClientError, ParamValidationError

from triage.aws import AWS_CALL_ERRORS
from triage.logs import MAX_LINE_BYTES, Unfailing
from triage.metrics import NONE, Metrics, SeriesKey
from triage.ops.weighted import Weighted

log = structlog.get_logger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Described:
    kind: Literal["counter", "histogram", "gauge"]
    help: str
    #: CloudWatch's unit; Prometheus gets seconds for Milliseconds (and a `_seconds` name).
    unit: str = "Count"

    def prometheus_name(self, name: str) -> str:
        return prometheus_name(name, self.kind, self.unit)


_COUNT = "Count"
SERVICE = "triage"
#: The EMF specification's limits per metric directive: values per metric, metrics, and
#: dimension keys per dimension set; and CloudWatch's longest dimension value we allow.
EMF_MAX_VALUES = 100
EMF_MAX_METRICS = 100
EMF_MAX_DIMENSIONS = 30
_MAX_DIMENSION_VALUE = 250
#: Distinct values PutMetricData takes in one datum's `Values`.
VALUES_PER_DATUM = 150

#: Every metric triage records: its kind, its CloudWatch unit and what it means (Prometheus's
#: `# HELP`; the README's table says the same).
METRICS: dict[str, Described] = {
    "TicketsCreated": Described(
        "counter", "Tickets a sink opened, by sink, alert source and team."
    ),
    "TicketsUpdated": Described(
        "counter", "Update comments a sink posted, by sink, alert source and team."
    ),
    "TicketsClosed": Described("counter", "Tickets a sink closed, by sink, alert source and team."),
    "TicketsReopened": Described(
        "counter", "Tickets a sink reopened, by sink, alert source and team."
    ),
    "DuplicatesSuppressed": Described(
        "counter", "Firing alerts counted on an open incident without a ticket change."
    ),
    "ResolvedWithoutTicket": Described(
        "counter", "Resolved alerts recorded for an incident that had no ticket."
    ),
    "AlertsSilenced": Described(
        "counter", "Alerts a silence matched: counted and stored, their ticket effect held."
    ),
    "ClosesHeld": Described(
        "counter", "Resolves of a flapping incident whose tickets' close was held back."
    ),
    "AlertsIgnored": Described(
        "counter", "Alerts that changed nothing (stale, or resolved after the close)."
    ),
    "DryRunDecisions": Described("counter", "Decisions taken by a dry run, by action."),
    "MessagesHandled": Described(
        "counter",
        "Messages handled and deleted: once per message, however many attempts it took (a"
        " message whose delete SQS did not confirm is not counted: it comes back).",
    ),
    "MessagesFailed": Described(
        "counter",
        "Failed attempts at a message, by reason: once per delivery released for a retry or"
        " towards the DLQ (a message retried twice counts twice), and once per handled message"
        " whose delete SQS did not confirm (delete).",
    ),
    "MessagesDeadLettered": Described(
        "counter",
        "Messages given up on, by the reason of their last failure (a message held through a"
        " wait, or being released after one, counts under that reason; shutdown, dry_run: given"
        " back undeleted when the daemon stopped): released undeleted on their last receive"
        " (maxReceiveCount of the queue's redrive policy), so SQS moves them to the DLQ; once"
        " per message, and only while the daemon knows the policy.",
    ),
    "MessagesHeld": Described(
        "counter",
        "Times a message was held instead of failed, by reason: a service or budget said wait,"
        " the store failed (store_unavailable), another delivery was at work on its incident"
        " (store_busy), or its group was gathering members (gathering).",
    ),
    "ProcessingLatency": Described(
        "histogram",
        "Time of one attempt at a message, decode to last sink: every attempt, handled, failed,"
        " held or cancelled.",
        "Milliseconds",
    ),
    "QueueLag": Described(
        "histogram",
        "Time a message waited in SQS before its first receive (now - SentTimestamp).",
        "Milliseconds",
    ),
    "SummarizationFailures": Described(
        "counter", "Tickets the deterministic summariser wrote because the LLM could not."
    ),
    "LLMFallbacks": Described(
        "counter",
        "LLM failures that fell back to the deterministic summariser, by reason (a closed set:"
        " a status not named counts as server_error or rejected, other words as other).",
    ),
    "LLMCalls": Described("counter", "Calls to the model, by outcome."),
    "LLMLatency": Described("histogram", "Time of one call to the model.", "Milliseconds"),
    "LLMTokensIn": Described("counter", "Prompt tokens the model billed."),
    "LLMTokensOut": Described("counter", "Completion tokens the model billed."),
    "LLMGroundingRejects": Described(
        "counter", "Facts in the model's text that the alert did not hold."
    ),
    "SinkCalls": Described(
        "counter",
        "Sink work by sink and outcome: the backend and Slack count each request (a 401 and the"
        " request sent again are two), GitHub each ticket effect however many requests it took;"
        " `skipped` is an effect that sent no request, as are Slack's `rejected` for a webhook"
        " URL that is not http(s) and `unavailable` while its rate limit holds.",
    ),
    "SinkLatency": Described(
        "histogram",
        "Time of the requests one ticket effect made to a sink's service, by sink: all of them"
        " (a GitHub effect may make several; a backend request answered 401 is sent again).",
        "Milliseconds",
    ),
    "IngestRequests": Described(
        "counter", "Webhooks triage ingest answered, by source and HTTP status."
    ),
    "IngestLatency": Described(
        "histogram", "Time from a webhook's arrival to its answer, by source.", "Milliseconds"
    ),
    "IngestBatchEntries": Described(
        "histogram", "Webhooks per SendMessageBatch call of triage ingest."
    ),
    "IngestAuthLimited": Described(
        "counter",
        "Webhooks triage ingest refused (429) uncompared: their sender had presented too many"
        " wrong credentials, by source.",
    ),
    "IngestAborted": Described(
        "counter", "Requests whose sender went away before triage ingest answered, by cut."
    ),
    "HttpRefused": Described("counter", "Clients the endpoint port refused, by reason."),
    "MessagesInFlight": Described(
        "gauge", "Messages this process holds: received and not yet deleted or released."
    ),
    "OldestMessageAge": Described(
        "gauge",
        "Age (now - SentTimestamp) of the oldest message this process holds; 0 when none.",
        "Seconds",
    ),
    "IntakePausedDuration": Described(
        "gauge",
        "How long intake has been paused (a service's wait, an open breaker, a spent budget,"
        " the store down), across a held message's retries; 0 when it is not.",
        "Seconds",
    ),
    "QueueMessagesVisible": Described(
        "gauge", "Messages waiting in the alerts queue (SQS ApproximateNumberOfMessages)."
    ),
    "QueueMessagesInFlight": Described(
        "gauge", "Messages received from the alerts queue and not yet deleted (any consumer)."
    ),
    "QueueMessagesDelayed": Described(
        "gauge", "Messages in the alerts queue not yet visible (delayed)."
    ),
    "DlqMessagesVisible": Described(
        "gauge", "Dead letters waiting in the DLQ (SQS ApproximateNumberOfMessages)."
    ),
    "QueueDepthPollFailures": Described(
        "counter", "Queue-depth polls that failed (the depth gauges are absent until one works)."
    ),
    "BreakerState": Described(
        "gauge", "A circuit breaker's state: 0 closed, 1 half-open, 2 open.", "None"
    ),
    "BreakerOpenDuration": Described(
        "gauge", "How long a circuit breaker has been open or half-open; 0 when closed.", "Seconds"
    ),
    "BudgetTokens": Described(
        "gauge",
        "Tokens left in a shared budget (GitHub issue creation), as last read, refilled to now.",
    ),
}

#: The counters without dimensions. `/metrics` shows each from the process's start, at 0 until
#: its first event: a series that first appears at 1 gives Prometheus no earlier sample to
#: count from, so `increase()` and `rate()` missed the first event after every restart.
UNLABELLED_COUNTERS = frozenset(
    {
        "MessagesHandled",
        "DuplicatesSuppressed",
        "ResolvedWithoutTicket",
        "AlertsIgnored",
        "AlertsSilenced",
        "ClosesHeld",
        "SummarizationFailures",
        "LLMTokensIn",
        "LLMTokensOut",
        "LLMGroundingRejects",
        "QueueDepthPollFailures",
    }
)

#: CloudWatch unit → the Prometheus base-unit suffix and the factor to it.
PROMETHEUS_UNITS = {"Milliseconds": ("seconds", 1e-3), "Seconds": ("seconds", 1.0)}


# --- CloudWatch -------------------------------------------------------------------------------


class _Deltas:
    """Remembers what was last exported, so each flush sends only what is new."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._last: dict[SeriesKey, float] = {}
        #: Counter values read for the flush under way, not yet known to be sent.
        self._reading: dict[SeriesKey, float] = {}

    def counters(self) -> dict[SeriesKey, float]:
        """What each counter gained since it was last sent; `sent` (or `unsent`) settles it."""
        now = self.metrics.counters()
        out = {k: v - self._last.get(k, 0.0) for k, v in now.items() if v != self._last.get(k, 0.0)}
        self._reading = now
        return out

    def sent(self, keys: Iterable[SeriesKey] | None = None) -> None:
        """These series (None: all read) reached CloudWatch: the next delta starts here. A
        series not sent keeps its delta, which the next flush sends with what it gained."""
        for key in self._reading if keys is None else keys:
            if key in self._reading:
                self._last[key] = self._reading[key]


#: One flush's data for CloudWatch: series → (values with their counts, unit); a counter or a
#: gauge has one value, counted once.
_Flush = dict[SeriesKey, tuple[Weighted, str]]


def _collect(deltas: _Deltas, metrics: Metrics, unsent: _Flush | None = None) -> _Flush:
    """One flush's data: counter deltas, timing values since the last flush, each counted
    for its share of the interval's observations (with `unsent`, the values a failed flush
    kept), gauges now."""
    data: _Flush = dict(unsent or {})
    for key, value in deltas.counters().items():
        data[key] = (Weighted.once(value), _COUNT)
    for key, timing in metrics.timings(drain=True).items():
        if timing.pending:
            fresh = Weighted.sample(timing.pending, timing.seen).holding(timing.low, timing.high)
            kept = data[key][0] if key in data else Weighted()
            data[key] = (kept.merged(fresh), timing.unit)
    for key, gauge in metrics.gauges().items():
        data[key] = (Weighted.once(gauge.value), gauge.unit)
    return {k: (w.kept(cloudwatch_takes), u) for k, (w, u) in data.items()}


#: CloudWatch refuses a value outside ±2^360 (and NaN or infinity, which JSON cannot hold); one
#: such value in a PutMetricData call fails the whole call, every series of its batch with it.
CLOUDWATCH_MAX_VALUE = 2.0**360


def cloudwatch_takes(value: float) -> bool:
    """`value` is a number CloudWatch accepts (a provider's absurd token count is not)."""
    return math.isfinite(value) and abs(value) <= CLOUDWATCH_MAX_VALUE


def _dimension_value(value: str) -> str:
    """`value` as CloudWatch takes a dimension value: printable ASCII, anything else written as
    its escape (`ü` as `\\xfc`, a line break as `\\n`, so distinct values stay distinct), at
    most 250 characters, `(none)` when blank. One value that is not fails a whole PutMetricData
    call, and the batch refused is dropped, every other series in it with it."""
    pieces: list[str] = []
    room = _MAX_DIMENSION_VALUE
    for ch in value.strip()[:_MAX_DIMENSION_VALUE]:
        piece = ch.encode("unicode_escape").decode("ascii")
        if len(piece) > room:
            break  # cut between escapes: `\xf` of a cut `\xfc` reads as another character
        pieces.append(piece)
        room -= len(piece)
    return "".join(pieces) or NONE


def utf8(value: str) -> str:
    """`value` as text every exporter can encode: a lone surrogate (what Python makes of bytes
    that are not UTF-8, in an environment variable or a file name) written as `\\udcff`.
    Unencodable, it failed every scrape of /metrics and every PutMetricData batch holding it."""
    if value.isascii():
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


class EmfExporter:
    """Writes EMF JSON lines to `stream` (stdout by default): one line per dimension set, and
    more when a metric has over 100 values or a set over 100 metrics (the specification's
    limits, past which CloudWatch drops values) or a line would pass MAX_LINE_BYTES. A storm's timing takes a line per 100 of its
    observations: EMF has no counts, and fewer values would make SampleCount a lie."""

    def __init__(
        self,
        metrics: Metrics,
        namespace: str,
        stream: TextIO | None = None,
        service: str = SERVICE,
    ) -> None:
        self.metrics = metrics
        self.namespace = namespace
        # Written whether or not anyone reads it: a closed stdout drops the lines.
        self.stream: TextIO = cast(TextIO, Unfailing(stream or sys.stdout))
        self.service = service
        self._deltas = _Deltas(metrics)

    def flush(self, now_ms: int | None = None) -> int:
        """Write pending metrics; returns the number of lines written."""
        now_ms = now_ms or int(time.time() * 1000)
        groups: dict[tuple[tuple[str, str], ...], dict[str, tuple[list[float], str]]] = {}
        for (name, dims), (weighted, unit) in _collect(self._deltas, self.metrics).items():
            if weighted:
                # EMF has no counts: a value standing for several observations is repeated.
                groups.setdefault(dims, {})[name] = (weighted.repeated(), unit)
        lines = 0
        for dims, series in groups.items():
            for line in self._lines(now_ms, dims, series):
                for text in _fitting(line):
                    self.stream.write(text + "\n")
                    lines += 1
        self.stream.flush()
        self._deltas.sent()  # a line written is a line sent: stdout never says otherwise
        return lines

    def _lines(
        self,
        now_ms: int,
        dims: tuple[tuple[str, str], ...],
        series: dict[str, tuple[list[float], str]],
    ) -> Iterator[dict[str, Any]]:
        dimensions = {"Service": self.service, **{k: _dimension_value(v) for k, v in dims}}
        keys = list(dimensions)[:EMF_MAX_DIMENSIONS]
        sets = [keys, ["Service"]] if len(keys) > 1 else [keys]
        chunks = {
            name: [values[i : i + EMF_MAX_VALUES] for i in range(0, len(values), EMF_MAX_VALUES)]
            for name, (values, _) in series.items()
        }
        rounds = max(len(c) for c in chunks.values())
        for n in range(rounds):
            present = [name for name in series if n < len(chunks[name])]
            for start in range(0, len(present), EMF_MAX_METRICS):
                names = present[start : start + EMF_MAX_METRICS]
                yield {
                    "_aws": {
                        "Timestamp": now_ms,
                        "CloudWatchMetrics": [
                            {
                                "Namespace": self.namespace,
                                "Dimensions": sets,
                                "Metrics": [{"Name": m, "Unit": series[m][1]} for m in names],
                            }
                        ],
                    },
                    **dimensions,
                    **{m: _emf_value(chunks[m][n]) for m in names},
                }


def _emf_value(values: list[float]) -> float | list[float]:
    return values[0] if len(values) == 1 else values


def _fitting(doc: dict[str, Any]) -> Iterator[str]:
    """EMF line `doc` as text of at most MAX_LINE_BYTES, in several lines when it is longer:
    its metrics in halves, a single metric's values in halves. Docker cuts a longer line,
    and awslogs in non-blocking mode (deploy/ecs) ships the pieces as events CloudWatch
    cannot read as EMF: every metric of the line was lost."""
    text = json.dumps(doc, separators=(",", ":"))  # ASCII only: a character is a byte
    if len(text) <= MAX_LINE_BYTES:
        yield text
        return
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    metrics = directive["Metrics"]
    if len(metrics) > 1:
        half = len(metrics) // 2
        for part in (metrics[:half], metrics[half:]):
            yield from _fitting(_only(doc, part))
        return
    name = metrics[0]["Name"]
    values = doc[name]
    if isinstance(values, list) and len(values) > 1:
        half = len(values) // 2
        for part in (values[:half], values[half:]):
            yield from _fitting({**doc, name: _emf_value(part)})
        return
    yield text  # one value under its dimensions: no shorter line can say it


def _only(doc: dict[str, Any], metrics: list[dict[str, str]]) -> dict[str, Any]:
    """EMF line `doc` with only `metrics` of its directive's, and their values."""
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    dropped = {m["Name"] for m in directive["Metrics"]} - {m["Name"] for m in metrics}
    return {
        **{key: value for key, value in doc.items() if key not in dropped},
        "_aws": {**doc["_aws"], "CloudWatchMetrics": [{**directive, "Metrics": metrics}]},
    }


class PutMetricDataExporter:
    """Sends metrics with batched PutMetricData (`AWS_CLOUDWATCH_ENDPOINT`). What a failed
    call did not send is sent with the next flush (a counter's delta grows, a timing's values
    wait), so a CloudWatch outage delays counts instead of losing them."""

    #: PutMetricData takes at most 1,000 metric data items per call; we stay well under.
    BATCH = 500
    #: Timing values per call (each with its count, ~95 bytes of request a value), which keeps
    #: a call far below the 1 MB PutMetricData takes.
    VALUES = 5_000
    #: Distinct values of a timing per part: a busy series is sent in parts (its own and its
    #: rollup's items, ten datums each), so no part is more than a call may take.
    PART = 10 * VALUES_PER_DATUM

    def __init__(
        self, metrics: Metrics, namespace: str, client: Any, service: str = SERVICE
    ) -> None:
        self.metrics = metrics
        self.namespace = namespace
        self.client = client
        self.service = service
        self._deltas = _Deltas(metrics)
        #: Timing values a failed call did not send, by series.
        self._unsent: _Flush = {}
        #: Picks which values an outage keeps once it has more than MAX_PENDING of a series.
        self._random = random.Random()
        #: Flushes failed in a row: the outage's first says so, the call that works again
        #: ends it; a line per flush (every minute for an hour's outage) would say nothing new.
        self._failed_flushes = 0
        #: Error codes of calls CloudWatch refused for good, each said once.
        self._refusals: set[str] = set()

    def _series(self) -> list[_Entry]:
        """Each series (a busy timing in parts of at most PART distinct values) with its
        values and its PutMetricData items (its own, and the rollup under Service)."""
        unsent, self._unsent = self._unsent, {}
        return [
            (key, (part, unit), self._items(key, part, unit))
            for key, (weighted, unit) in _collect(self._deltas, self.metrics, unsent).items()
            for part in weighted.parts(self.PART)
        ]

    def _items(self, key: SeriesKey, values: Weighted, unit: str) -> list[dict[str, Any]]:
        name, dims = key
        service = [{"Name": "Service", "Value": self.service}]
        # The same values under Service alone too, as the EMF lines declare them.
        dimension_sets = [service + self._dims(dims)] + ([service] if dims else [])
        return [
            {**datum, "Dimensions": dimensions}
            for datum in _datums(name, values, unit)
            for dimensions in dimension_sets
        ]

    def _dims(self, dims: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        # Service is the first of CloudWatch's 30 dimensions a datum may carry.
        dimensions = [{"Name": k, "Value": _dimension_value(v)} for k, v in dims]
        return dimensions[: EMF_MAX_DIMENSIONS - 1]

    async def flush(self) -> int:
        """Send every series, a batch at a time (a series' items never split across two); at
        the first failed call, stop and keep the rest for the next flush. A batch CloudWatch
        refuses for good (a value or name it never takes) is dropped: kept, it would fail
        every later flush and hold back every series behind it."""
        series = self._series()
        batches = _batched(series, self.BATCH, self.VALUES)
        sent = 0
        for n, batch in enumerate(batches):
            try:
                await self.client.put_metric_data(
                    Namespace=self.namespace,
                    MetricData=[item for _, _, items in batch for item in items],
                )
            except asyncio.CancelledError:
                # The stop came while this call was out: the last flush sends what it had
                # taken, as it sends the counters' deltas not marked sent (a timing's values
                # were drained, and were lost). Sent twice rather than never, if this one
                # reached CloudWatch after all.
                self._keep([s for rest in batches[n:] for s in rest])
                raise
            except AWS_CALL_ERRORS as exc:
                # Metrics are best effort: a CloudWatch outage must not touch alert handling.
                if not _refused_for_good(exc):
                    kept = [s for rest in batches[n:] for s in rest]
                    self._keep(kept)
                    self._say_failed(exc, len(kept))
                    return sent
                self._say_refused(exc, sum(len(items) for _, _, items in batch))
            else:
                sent += sum(len(items) for _, _, items in batch)
            # Sent, or refused for good: either way CloudWatch answered, and it is over.
            self._deltas.sent(key for key, _, _ in batch)
            self._say_recovered()
        return sent

    def _say_failed(self, exc: Exception, kept: int) -> None:
        """One warning for an outage, at its first failed flush; the others are debug."""
        self._failed_flushes += 1
        emit = log.warning if self._failed_flushes == 1 else log.debug
        emit("metrics.put_failed", error=str(exc), kept=kept, failed_flushes=self._failed_flushes)

    def _say_recovered(self) -> None:
        """A flush that went through ends the outage its first failure announced."""
        if self._failed_flushes:
            log.info("metrics.put_recovered", failed_flushes=self._failed_flushes)
            self._failed_flushes = 0

    def _say_refused(self, exc: Exception, dropped: int) -> None:
        """One error per kind of refusal: it is a bug of ours, the same at every flush."""
        code = _error_code(exc)
        emit = log.error if code not in self._refusals else log.debug
        self._refusals.add(code)
        emit("metrics.put_refused", code=code, error=str(exc), dropped=dropped)

    def _keep(self, series: list[_Entry]) -> None:
        """Series a failed call did not send: a counter keeps its delta by not being marked
        sent; a timing's values wait here with their counts (at most MAX_PENDING values, which
        then stand for every observation kept); a gauge is read anew."""
        timings = self._deltas.metrics.timings().keys()
        for key, (values, unit), _ in series:
            if key in timings:
                kept = self._unsent[key][0] if key in self._unsent else Weighted()
                merged = kept.merged(values).thinned(self.metrics.MAX_PENDING, self._random)
                self._unsent[key] = (merged, unit)


#: PutMetricData's answers that no retry changes: the request itself is wrong.
_REFUSED_FOR_GOOD = frozenset(
    {"InvalidParameterValue", "InvalidParameterCombination", "MissingParameter"}
)


def _refused_for_good(exc: Exception) -> bool:
    """CloudWatch (or botocore, before sending) refused the call's data itself, not for now."""
    return isinstance(exc, ParamValidationError) or _error_code(exc) in _REFUSED_FOR_GOOD


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "unknown"))
    return type(exc).__name__


_S = TypeVar("_S", bound=tuple[Any, Any, list[dict[str, Any]]])
#: A series (or part of one) for PutMetricData: its key, values and unit, and its items.
_Entry = tuple[SeriesKey, tuple[Weighted, str], list[dict[str, Any]]]


def _batched(series: list[_S], size: int, values: int) -> list[list[_S]]:
    """`series` in batches of at most `size` items and `values` timing values, an entry's
    items always in one batch (kept whole when its call fails)."""
    batches: list[list[_S]] = [[]]
    count = weight = 0
    for entry in series:
        entry_weight = sum(len(item.get("Values", ())) for item in entry[2])
        full = count + len(entry[2]) > size or weight + entry_weight > values
        if full and batches[-1]:
            batches.append([])
            count = weight = 0
        batches[-1].append(entry)
        count += len(entry[2])
        weight += entry_weight
    return [b for b in batches if b]


def _datums(name: str, values: Weighted, unit: str) -> list[dict[str, Any]]:
    """`values` as PutMetricData datums: one value observed once as `Value`; others as
    `Values` with their `Counts`, at most VALUES_PER_DATUM distinct ones a datum. CloudWatch
    computes percentiles from these; from a statistic set (count, sum, minimum, maximum) it
    computes none, and the dashboard's p50 and p99 of every timing stayed empty."""
    if values.counts == (1,):
        return [{"MetricName": name, "Unit": unit, "Value": values.values[0]}]
    counted = values.distinct()
    return [
        {
            "MetricName": name,
            "Unit": unit,
            "Values": [value for value, _ in chunk],
            "Counts": [float(times) for _, times in chunk],
        }
        for chunk in (
            counted[i : i + VALUES_PER_DATUM] for i in range(0, len(counted), VALUES_PER_DATUM)
        )
    ]


#: The last flush, at shutdown, gets this long: a CloudWatch that takes the connection and
#: never answers (botocore waits 30 s a try, three tries) held the daemon's stop past ECS's
#: 30 s kill timeout.
FINAL_FLUSH_S = 1.0


async def flush_every(
    interval_s: float, flush: Callable[[], Any], *, final_s: float = FINAL_FLUSH_S
) -> None:
    """Call `flush` every `interval_s` until cancelled, then once more, for at most `final_s`."""
    try:
        while True:
            await asyncio.sleep(interval_s)
            result = flush()
            if asyncio.iscoroutine(result):
                await result
    finally:
        result = flush()
        if asyncio.iscoroutine(result):
            try:
                async with asyncio.timeout(final_s):
                    await result
            except TimeoutError:
                log.warning("metrics.final_flush_timeout", timeout_s=final_s)


# --- Prometheus names (the exposition itself: triage.ops.prometheus) ------------------------


def prometheus_name(name: str, kind: str, unit: str = _COUNT, prefix: str = "triage_") -> str:
    """The Prometheus name of metric `name`: snake_case, the base unit's suffix, and `_total`
    for a counter (as it appears in the exposition)."""
    base = prefix + re.sub(r"[^a-z0-9_]+", "_", _snake(name))
    suffix, _ = PROMETHEUS_UNITS.get(unit, ("", 1.0))
    if suffix and not base.endswith("_" + suffix):
        base += "_" + suffix
    return base + "_total" if kind == "counter" else base


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if (
            ch.isupper()
            and i
            and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower()))
        ):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
