"""The Prometheus text of a `Metrics` for `/metrics`: counters, histograms (in seconds) and gauges
under the names `triage.ops.metrics_export.prometheus_name` gives, and `triage_build_info`.
Imported at the first scrape, not at start-up."""

from __future__ import annotations

import platform
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from triage import version
from triage.metrics import Metrics, SeriesKey, Timing
from triage.ops.metrics_export import (
    METRICS,
    PROMETHEUS_UNITS,
    UNLABELLED_COUNTERS,
    prometheus_name,
    utf8,
)

_T = TypeVar("_T")


PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class PrometheusExposition:
    """The Prometheus text of one `Metrics`, through prometheus_client and a registry of this
    object's own (never the library's global one: two daemons in one test never mix)."""

    def __init__(self, metrics: Metrics, prefix: str = "triage_") -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(metrics, prefix))
        # `process_start_time_seconds` above all (with the process's CPU, memory and file
        # descriptors): every counter here starts again at 0 when the process restarts, and
        # the start time is what shows a query that it did.
        ProcessCollector(registry=self.registry)

    def text(self) -> bytes:
        return generate_latest(self.registry)


def prometheus_text(metrics: Metrics, prefix: str = "triage_") -> str:
    """Counters, histograms, gauges and `triage_build_info` in the Prometheus text format."""
    return PrometheusExposition(metrics, prefix).text().decode()


class _Collector(Collector):
    def __init__(self, metrics: Metrics, prefix: str) -> None:
        self.metrics = metrics
        self.prefix = prefix

    def collect(self) -> Iterable[Metric]:
        yield from self._counters()
        yield from self._histograms()
        yield from self._gauges()
        info = GaugeMetricFamily(
            self.prefix + "build_info",
            "The running triage: its version and Python's (always 1).",
            labels=["version", "python"],
        )
        info.add_metric([version(), platform.python_version()], 1)
        yield info

    def _counters(self) -> Iterator[Metric]:
        # A counter without dimensions, and a series declared at start-up, is shown from the
        # start, at 0 before its first event.
        counters: dict[SeriesKey, float] = {(name, ()): 0.0 for name in UNLABELLED_COUNTERS}
        counters.update(dict.fromkeys(self.metrics.declared(), 0.0))
        counters.update(self.metrics.counters())
        for name, series in _by_name(counters).items():
            labels = _label_names(series)
            family = CounterMetricFamily(
                prometheus_name(name, "counter", prefix=self.prefix).removesuffix("_total"),
                _help(name),
                labels=labels,
            )
            for dims, value in series:
                family.add_metric(_label_values(labels, dims), value)
            yield family

    def _histograms(self) -> Iterator[Metric]:
        for name, series in _by_name(self.metrics.timings()).items():
            unit = series[0][1].unit
            _, factor = PROMETHEUS_UNITS.get(unit, ("", 1.0))
            labels = _label_names(series)
            family = HistogramMetricFamily(
                prometheus_name(name, "histogram", unit, self.prefix), _help(name), labels=labels
            )
            for dims, timing in series:
                family.add_metric(
                    _label_values(labels, dims), _buckets(timing), timing.total * factor
                )
            yield family

    def _gauges(self) -> Iterator[Metric]:
        for name, series in _by_name(self.metrics.gauges()).items():
            unit = series[0][1].unit
            _, factor = PROMETHEUS_UNITS.get(unit, ("", 1.0))
            labels = _label_names(series)
            family = GaugeMetricFamily(
                prometheus_name(name, "gauge", unit, self.prefix), _help(name), labels=labels
            )
            for dims, gauge in series:
                family.add_metric(_label_values(labels, dims), gauge.value * factor)
            yield family


def _by_name(
    values: dict[SeriesKey, _T],
) -> dict[str, list[tuple[tuple[tuple[str, str], ...], _T]]]:
    out: dict[str, list[tuple[tuple[tuple[str, str], ...], _T]]] = {}
    for (name, dims), value in sorted(values.items(), key=lambda item: item[0]):
        out.setdefault(name, []).append((dims, value))
    return out


def _label_names(series: list[tuple[tuple[tuple[str, str], ...], Any]]) -> list[str]:
    """Every dimension any series of the metric has (a series without one shows it empty)."""
    return sorted({_label(k) for dims, _ in series for k, _ in dims})


def _label_values(labels: list[str], dims: tuple[tuple[str, str], ...]) -> list[str]:
    by_label = {_label(k): utf8(v) for k, v in dims}
    return [by_label.get(label, "") for label in labels]


def _label(name: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    return name if re.match(r"[a-zA-Z_]", name) else "_" + name


def _buckets(timing: Timing) -> list[tuple[str, float]]:
    out = [(_bound(b), float(n)) for b, n in zip(timing.bounds, timing.buckets, strict=True)]
    return [*out, ("+Inf", float(timing.count))]


def _bound(value: float) -> str:
    return repr(float(value))


def _help(name: str) -> str:
    described = METRICS.get(name)
    return described.help if described else f"{name} (see the README's Operations section)."
