"""In-process counters, timings and gauges, shared by every stage; exporters read them.

Names follow DESIGN.md (`TicketsCreated`, `SummarizationFailures`, …) and are what CloudWatch
shows; `/metrics` derives Prometheus names from them (`ops/metrics_export.py`). Dimensions are
optional keyword arguments and make a separate series (`incr("LLMFallbacks", reason="timeout")`).

    incr(name, value, **dims)          a counter
    observe(name, value, unit, **dims) one observation of a timing (milliseconds by default):
                                       count, sum, max, histogram buckets, and the raw values
                                       since the last EMF/PutMetricData flush (past 10,000, a
                                       fair sample of 10,000, with the interval's count, least
                                       and greatest)
    set(name, value, unit, **dims)     a gauge's current value (`clear` forgets it)
    gauge(name, read, unit, **dims)    a gauge read when exported (`read` returns None: unknown)
    declare(name, **dims)              a counter series `/metrics` shows at 0 before it counts

A dimension whose values come from alerts (`team`, `source`) goes through `bounded()` first:
a cleaned, short value (letters and digits of any script kept: a team named in Japanese is
itself), and past `MAX_LABEL_VALUES` distinct ones per dimension, `(other)`: a value no
cleaning makes, so a real team called `other` is never read as the bound overflowing. No
value (absent, blank, nothing left once cleaned) is `(none)`, outside the bound, for the same
reason: a team called `none` is not the alerts that name no team. A value longer than 64
characters (or 250 once CloudWatch's escapes are written) is its start and a digest of the
whole, so two teams that differ only past the cut keep two series. The
exporters escape what each backend needs (CloudWatch takes ASCII dimension values only).
Values the operator named (the teams of the routes file, `reserve()`) always keep their own
series, whatever alerts sent first. Whatever the code passes, one metric holds at most
`MAX_SERIES_PER_METRIC` series: a counter's or timing's new series past it is counted under
`(other)` in each dimension, a gauge's is left out (one warning per metric). A cleared gauge
gives its series back; counters and timings keep theirs for the life of the process.

What the exporters read is always well-formed: a counter only grows (an increment that is
negative, NaN or infinite is refused with a warning, so a provider's bad token count cannot
make `rate()` see a reset or poison the total), a timing is a finite duration of at least
zero, and a gauge whose reader raises, or that reads or is set to NaN or infinity, is left
out (unknown) instead of failing the scrape and the flusher with it. A reader failing is one
`metrics.gauge_failed` warning for its series at the first failure of a spell, and one
`metrics.gauge_recovered` line when it reads again.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger(__name__)

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]

#: Histogram bucket upper bounds, in seconds (timings in milliseconds are converted) or, for a
#: timing whose unit is Count, in that unit. Chosen so each distribution's usual range spans
#: several buckets: the model answers in 0.5-20 s (its timeout), a sink in 50 ms-10 s, the
#: queue lag runs from sub-second to hours behind a backlog.
BUCKETS: dict[str, tuple[float, ...]] = {
    "LLMLatency": (0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60),
    "SinkLatency": (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    "QueueLag": (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14_400),
    "IngestBatchEntries": (1, 2, 3, 5, 8, 10),
}
DEFAULT_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

#: Distinct values one alert-fed dimension may take in this process; the rest are `OTHER`, so a
#: flood of invented team names cannot grow the series without bound.
MAX_LABEL_VALUES = 20
#: The overflow's value: brackets, which cleaning turns into `_` (and `_` is stripped from a
#: cleaned value's ends), so no team or source, not even one called `other`, is counted as it.
OTHER = "(other)"
#: The value of an alert that gives none (or one that cleaning leaves nothing of), bracketed
#: like OTHER so a team called `none` keeps its own series. Always its own series, outside
#: MAX_LABEL_VALUES: the alerts without a team are a category the operator filters on.
NONE = "(none)"
#: Series one metric may hold in this process, whatever dimension values it is given: a bug
#: that passes text from outside unbounded must not grow memory, `/metrics` and CloudWatch's
#: bill without end. Above what the bounded dimensions can make (sinks x 20 sources x teams).
MAX_SERIES_PER_METRIC = 1_000
#: Runs of what an ASCII value loses (`_clean_label`'s fast path).
_LABEL_CHARS = re.compile(r"[^A-Za-z0-9_.:/-]+")
#: What a value keeps besides letters, marks and numbers of any script.
_LABEL_PUNCTUATION = frozenset("_.:/-")
_LABEL_LENGTH = 64
#: The most characters a value may take as CloudWatch shows it (non-ASCII escaped, `\\u4e2d`):
#: the exporters' cut (`_dimension_value`), and what an alarm's dimension takes (255).
_LABEL_ESCAPED_LENGTH = 250
#: Hex digits of the digest that ends a value cut to fit (`_fitted`).
_DIGEST_CHARS = 8


@dataclass(slots=True)
class Timing:
    """Count, sum and max of one series' observations, cumulative bucket counts, and the raw
    values since the last flush: what `Metrics.timings` gives (a copy of `_Series`)."""

    count: int = 0
    total: float = 0.0
    maximum: float = 0.0
    unit: str = "Milliseconds"
    pending: list[float] = field(default_factory=list)
    #: Upper bounds (seconds, or the unit for Count) and the observations at or below each.
    bounds: tuple[float, ...] = ()
    buckets: list[int] = field(default_factory=list)
    #: Observations since the last flush, of which `pending` holds a fair sample, and the
    #: least and greatest of them (which a sample may miss).
    seen: int = 0
    low: float = math.inf
    high: float = -math.inf


class _Series:
    """One timing series as it is kept between reads: each observation is counted in the one
    bucket it falls in (`hits`, the last one past every bound), and the cumulative counts an
    exporter reads are summed when a copy is taken (`Metrics.timings`). Counting every bucket
    above the observation on each one cost a loop over them (~1.2 us for the 14 default
    buckets, twice per message of a storm); a read sums 15 numbers once."""

    __slots__ = (
        "bounds",
        "count",
        "high",
        "hits",
        "low",
        "maximum",
        "pending",
        "seen",
        "total",
        "unit",
    )

    def __init__(self, unit: str, bounds: tuple[float, ...]) -> None:
        self.count = 0
        self.total = 0.0
        self.maximum = 0.0
        self.unit = unit
        self.pending: list[float] = []
        self.bounds = bounds
        self.hits = [0] * (len(bounds) + 1)
        self.seen = 0
        self.low = math.inf
        self.high = -math.inf

    def copy(self) -> Timing:
        """What an exporter reads of this series now."""
        cumulative = list(itertools.accumulate(self.hits))
        return Timing(
            self.count,
            self.total,
            self.maximum,
            self.unit,
            list(self.pending),
            self.bounds,
            cumulative[: len(self.bounds)],
            self.seen,
            self.low,
            self.high,
        )


@dataclass(frozen=True, slots=True)
class Gauge:
    value: float
    unit: str


def _key(name: str, dims: dict[str, str]) -> SeriesKey:
    return (name, tuple(sorted(dims.items())) if dims else ())


class Metrics:
    """Thread-safe registry: SQLite and other off-loop work may count from worker threads."""

    #: Cap on unflushed raw values per series, so a stalled exporter cannot grow memory.
    MAX_PENDING = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[SeriesKey, float] = defaultdict(float)
        self._timings: dict[SeriesKey, _Series] = {}
        self._gauges: dict[SeriesKey, Gauge] = {}
        self._readers: dict[SeriesKey, tuple[Callable[[], float | None], str]] = {}
        #: Counter series shown at 0 until they count (`declare`).
        self._declared: set[SeriesKey] = set()
        #: Series each metric holds, against MAX_SERIES_PER_METRIC.
        self._series: dict[str, int] = defaultdict(int)
        self._label_values: dict[str, set[str]] = defaultdict(set)
        #: Per dimension, the reserved values by their lower-case form (`reserve`).
        self._reserved: dict[str, dict[str, str]] = defaultdict(dict)
        #: Metrics already warned about (a refused value, too many series): one line each.
        self._warned: set[tuple[str, str]] = set()
        #: Gauge series whose reader failed at its last read (said once a failing spell).
        self._failing_readers: set[SeriesKey] = set()
        #: Picks which raw values a busy interval keeps (`_sample`); not for anything secret.
        self._random = random.Random()

    def incr(self, name: str, value: float = 1.0, **dims: str) -> None:
        number = _as_float(value)
        if not 0 <= number < math.inf:  # also False for NaN
            self._warn_once(name, "metrics.refused", value=_shown(value), reason="not a count")
            return
        with self._lock:
            key = self._admit(self._counters, name, dims)
            total = self._counters[key] + number
            if total < math.inf:  # past the largest float, the total it had stays
                self._counters[key] = total
                return
        self._warn_once(name, "metrics.refused", value=_shown(value), reason="overflow")

    def observe(self, name: str, value: float, unit: str = "Milliseconds", **dims: str) -> None:
        number = _as_float(value)
        if not -math.inf < number < math.inf:
            self._warn_once(name, "metrics.refused", value=_shown(value), reason="not finite")
            return
        value = max(0.0, number)  # a clock stepped back: a duration is never negative
        with self._lock:
            key = self._admit(self._timings, name, dims)
            timing = self._timings.get(key)
            if timing is None:
                timing = self._timings[key] = _Series(unit, BUCKETS.get(name, DEFAULT_BUCKETS_S))
            timing.count += 1
            timing.total += value
            if value > timing.maximum:
                timing.maximum = value
            self._sample(timing, value)
            scaled = value / 1000 if timing.unit == "Milliseconds" else value
            timing.hits[bisect.bisect_left(timing.bounds, scaled)] += 1

    def _sample(self, timing: _Series, value: float) -> None:
        """Keep `value` among the raw values of the flush under way. Past MAX_PENDING, each
        observation replaces a kept one with the chance that leaves every observation of the
        interval equally likely kept (reservoir sampling): keeping the first ones only, a
        storm's percentiles in CloudWatch showed its first seconds of every minute."""
        seen = timing.seen = timing.seen + 1
        if value < timing.low:
            timing.low = value
        if value > timing.high:
            timing.high = value
        if len(timing.pending) < self.MAX_PENDING:
            timing.pending.append(value)
            return
        # A uniform slot among `seen` (`randrange`'s own checks cost more than the rest here).
        slot = int(self._random.random() * seen)
        if slot < self.MAX_PENDING:
            timing.pending[slot] = value

    def set(self, name: str, value: float, unit: str = "Count", **dims: str) -> None:
        """Set a gauge to its current value. NaN or infinity is no reading: the gauge is
        unknown (left out) rather than showing it, or the value it had before."""
        number = _as_float(value)
        if not math.isfinite(number):
            self._warn_once(name, "metrics.refused", value=_shown(value), reason="not finite")
            self.clear(name, **dims)
            return
        with self._lock:
            key = _key(name, dims)
            # Past the bound, no gauge: an `OTHER` one would show whichever value came last.
            if key in self._gauges or self._take_slot(name):
                self._gauges[key] = Gauge(number, unit)

    def _admit(self, store: dict[SeriesKey, Any], name: str, dims: dict[str, str]) -> SeriesKey:
        """The key `name` with `dims` is counted under in `store` (the caller holds the lock):
        its own while the metric has room for one more series; past MAX_SERIES_PER_METRIC, the
        key with every dimension `OTHER`."""
        key = _key(name, dims)
        if key in store or self._take_slot(name):
            return key
        return _key(name, dict.fromkeys(dims, OTHER))

    def _take_slot(self, name: str) -> bool:
        """Count one more series of `name`, if it has room (the caller holds the lock); past
        MAX_SERIES_PER_METRIC, say so once and count nothing."""
        if self._series[name] < MAX_SERIES_PER_METRIC:
            self._series[name] += 1
            return True
        self._warn_once(name, "metrics.too_many_series", limit=str(MAX_SERIES_PER_METRIC))
        return False

    def clear(self, name: str, **dims: str) -> None:
        """Forget a gauge: its value is no longer known (exporters leave it out), and the
        series it held is given back, so a gauge that is unknown now and then stays one series
        however often it is cleared and set again."""
        with self._lock:
            if self._gauges.pop(_key(name, dims), None) is not None:
                self._series[name] -= 1

    def gauge(
        self, name: str, read: Callable[[], float | None], unit: str = "Count", **dims: str
    ) -> None:
        """A gauge whose value `read()` gives when it is exported (None: unknown). It runs on
        the exporter's thread (the event loop), so it may read the loop's own state."""
        with self._lock:
            self._readers[_key(name, dims)] = (read, unit)

    def declare(self, name: str, **dims: str) -> None:
        """Show counter `name` with these dimension values on `/metrics` from now on, at 0
        until it counts: a series that first appears at 1 gives Prometheus no earlier sample,
        so `increase()` missed its first event after every restart. Nothing else sees it
        (`counters()`, CloudWatch) before it counts."""
        with self._lock:
            self._declared.add(_key(name, dims))

    def declared(self) -> frozenset[SeriesKey]:
        """The counter series `declare` named."""
        with self._lock:
            return frozenset(self._declared)

    def reserve(self, dimension: str, values: Iterable[str]) -> None:
        """Give `values` their own series in `dimension` for good, outside the bound: invented
        team names sent early in a process's life must not make every real team `OTHER`. A
        reserved value matches case-insensitively (as routes match teams) and is counted under
        its reserved spelling, so no casing of it takes a bounded slot."""
        with self._lock:
            for value in values:
                cleaned = _clean_label(value)
                if cleaned:  # a blank team in the routes file is no value: NONE already
                    self._reserved[dimension].setdefault(cleaned.lower(), cleaned)

    def bounded(self, dimension: str, value: str | None) -> str:
        """`value` fit for a dimension fed by alerts: cleaned, at most 64 characters, `NONE`
        when nothing is left, and `OTHER` once this dimension has seen MAX_LABEL_VALUES
        distinct values. The caller passes text already redacted."""
        cleaned = _clean_label(value)
        if not cleaned:
            return NONE
        with self._lock:
            reserved = self._reserved[dimension].get(cleaned.lower())
            if reserved is not None:
                return reserved
            seen = self._label_values[dimension]
            if cleaned in seen:
                return cleaned
            if len(seen) >= MAX_LABEL_VALUES:
                return OTHER
            seen.add(cleaned)
            return cleaned

    def counter(self, name: str, **dims: str) -> float:
        """A counter summed over its series that have these dimension values (0 when none):
        `counter("TicketsCreated", sink="backend")` counts every source and team; handy for
        reports and tests."""
        wanted = set(dims.items())
        with self._lock:
            return sum(v for (n, d), v in self._counters.items() if n == name and wanted <= set(d))

    def total(self, name: str) -> float:
        """A counter summed over all its dimensions."""
        with self._lock:
            return sum(v for (n, _), v in self._counters.items() if n == name)

    def counters(self) -> dict[SeriesKey, float]:
        with self._lock:
            return dict(self._counters)

    def timings(self, *, drain: bool = False) -> dict[SeriesKey, Timing]:
        """Copies of every timing; with drain=True the raw values are handed over and cleared."""
        with self._lock:
            out = {}
            for key, t in self._timings.items():
                out[key] = t.copy()
                if drain:
                    t.pending.clear()
                    t.seen, t.low, t.high = 0, math.inf, -math.inf
            return out

    def gauges(self) -> dict[SeriesKey, Gauge]:
        """Every gauge's value now: the ones set, and the ones read (those that know theirs)."""
        with self._lock:
            out = dict(self._gauges)
            readers = dict(self._readers)
        for key, (read, unit) in readers.items():
            # Outside the lock: a reader may take time, or count something. One that raises,
            # or reads no number, leaves its own gauge out, never every export.
            try:
                value = _reading(read())
            except Exception as exc:
                self._reader_failed(key, exc)
                continue
            self._reader_worked(key)
            if value is not None:
                out[key] = Gauge(value, unit)
        return out

    def _reader_failed(self, key: SeriesKey, exc: Exception) -> None:
        """Say that the reader of gauge series `key` failed, at the first failure of a spell:
        once per metric for the process's life, a second series failing later (another
        breaker's), or the same one failing again after it had read well, vanished from every
        export without a word."""
        with self._lock:
            if key in self._failing_readers:
                return
            self._failing_readers.add(key)
        log.warning("metrics.gauge_failed", metric=key[0], error=repr(exc), **_fields(key))

    def _reader_worked(self, key: SeriesKey) -> None:
        """A gauge whose reader failed reads again: say so, so its failure is seen to end."""
        if key not in self._failing_readers:  # the usual case, read without the lock
            return
        with self._lock:
            if key not in self._failing_readers:
                return
            self._failing_readers.discard(key)
        log.info("metrics.gauge_recovered", metric=key[0], **_fields(key))

    def _warn_once(self, name: str, event: str, **fields: str) -> None:
        """Say once per metric and event that something was wrong with it: a bad source
        would otherwise log a line per message or per export."""
        if (event, name) not in self._warned:
            self._warned.add((event, name))
            log.warning(event, metric=name, **fields)


#: Fields of a log line that a dimension's name must not take (`_fields`).
_LINE_FIELDS = frozenset({"event", "metric", "error"})


def _fields(key: SeriesKey) -> dict[str, str]:
    """The dimensions of series `key` as fields of a line about it."""
    return {name: value for name, value in key[1] if name not in _LINE_FIELDS}


def _as_float(value: float) -> float:
    """`value` as a float, NaN when no float holds it: an int past the largest float (4e308)
    raised OverflowError out of the arithmetic, into the code that counted, where NaN is
    refused with a warning like any other value that is no number."""
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return math.nan


def _shown(value: object) -> str:
    """A refused value as its warning shows it: short (an int of thousands of digits is its
    size, and Python refuses to write one past 4,300 digits)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"<int of {value.bit_length()} bits>"
    return repr(value)[:64]


def _reading(value: float | None) -> float | None:
    """A gauge reader's value as a number, None when unknown; raises when it is no reading."""
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError(f"not finite: {value!r}")
    return float(value)


def _clean_label(value: str | None) -> str:
    """`value` as a dimension may hold it: letters, combining marks and digits of any script
    and `_.:/-`, each run of anything else (spaces, quotes, line breaks, symbols, invisible
    format characters) one `_`; at most 64 characters, empty when nothing is left. Brackets
    are never kept, so no value is `NONE` or `OTHER`. Teams named in another script keep
    distinct series (Prometheus label values are any UTF-8; the CloudWatch exporters escape
    them to ASCII, `_dimension_value`), where an ASCII-only rule made them all one."""
    text = (value or "").strip()
    if text.isascii():
        cleaned = _LABEL_CHARS.sub("_", text)
    else:
        runs = itertools.groupby(text, _label_keeps)
        cleaned = "".join("".join(run) if keeps else "_" for keeps, run in runs)
    return _fitted(cleaned.strip("_"))


def _fitted(cleaned: str) -> str:
    """`cleaned` within 64 characters and 250 of CloudWatch's escapes, or, when it is longer,
    its start and a digest of the whole (`-1a2b3c4d`): two teams whose names differ only
    past the cut were one series, in Prometheus and CloudWatch both, and one team's tickets
    were counted as the other's."""
    if len(cleaned) <= _LABEL_LENGTH and _escaped_length(cleaned) <= _LABEL_ESCAPED_LENGTH:
        return cleaned
    digest = hashlib.sha256(cleaned.encode("utf-8", "surrogatepass")).hexdigest()
    suffix = "-" + digest[:_DIGEST_CHARS]
    kept, room = [], _LABEL_ESCAPED_LENGTH - len(suffix)
    for char in cleaned[: _LABEL_LENGTH - len(suffix)]:
        room -= _escaped_length(char)
        if room < 0:
            break
        kept.append(char)
    return "".join(kept).strip("_") + suffix


def _escaped_length(text: str) -> int:
    """The characters of `text` as CloudWatch is sent it (each non-ASCII one escaped)."""
    if text.isascii():
        return len(text)
    return len(text.encode("unicode_escape"))


def _label_keeps(char: str) -> bool:
    """A dimension value keeps `char`: a letter, mark or number of any script, or `_.:/-`."""
    return char in _LABEL_PUNCTUATION or unicodedata.category(char)[0] in "LMN"
