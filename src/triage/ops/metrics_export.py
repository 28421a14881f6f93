"""Exporters for `Metrics`: CloudWatch Embedded Metric Format lines on stdout (the default on
ECS, where the log driver turns them into metrics), batched PutMetricData, and Prometheus text.

Counters are exported as deltas since the previous flush; timings as their raw observations
(EMF `Values`, PutMetricData statistic sets), so percentiles survive aggregation.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from triage.metrics import Metrics, SeriesKey

log = structlog.get_logger(__name__)

#: Units for counters CloudWatch should not call "None".
_COUNT = "Count"


class _Deltas:
    """Remembers what was last exported, so each flush sends only what is new."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._last: dict[SeriesKey, float] = {}

    def counters(self) -> dict[SeriesKey, float]:
        now = self.metrics.counters()
        out = {k: v - self._last.get(k, 0.0) for k, v in now.items() if v != self._last.get(k, 0.0)}
        self._last = now
        return out


class EmfExporter:
    """Writes one EMF JSON line per dimension set and flush to `stream` (stdout by default)."""

    def __init__(
        self,
        metrics: Metrics,
        namespace: str,
        stream: TextIO | None = None,
        service: str = "triage",
    ) -> None:
        self.metrics = metrics
        self.namespace = namespace
        self.stream = stream or sys.stdout
        self.service = service
        self._deltas = _Deltas(metrics)

    def flush(self, now_ms: int | None = None) -> int:
        """Write pending metrics; returns the number of lines written."""
        now_ms = now_ms or int(time.time() * 1000)
        groups: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        for (name, dims), value in self._deltas.counters().items():
            groups.setdefault(dims, {})[name] = (value, _COUNT)
        for (name, dims), timing in self.metrics.timings(drain=True).items():
            if timing.pending:
                groups.setdefault(dims, {})[name] = (timing.pending, timing.unit)
        for dims, values in groups.items():
            dimensions = {"Service": self.service, **dict(dims)}
            line: dict[str, Any] = {
                "_aws": {
                    "Timestamp": now_ms,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": self.namespace,
                            "Dimensions": [list(dimensions)],
                            "Metrics": [
                                {"Name": n, "Unit": unit} for n, (_, unit) in values.items()
                            ],
                        }
                    ],
                },
                **dimensions,
                **{n: v for n, (v, _) in values.items()},
            }
            self.stream.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.stream.flush()
        return len(groups)


class PutMetricDataExporter:
    """Sends metrics with batched PutMetricData (`AWS_CLOUDWATCH_ENDPOINT`)."""

    #: PutMetricData takes at most 1,000 metric data items per call; we stay well under.
    BATCH = 500

    def __init__(
        self, metrics: Metrics, namespace: str, client: Any, service: str = "triage"
    ) -> None:
        self.metrics = metrics
        self.namespace = namespace
        self.client = client
        self.service = service
        self._deltas = _Deltas(metrics)

    def _data(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = []
        for (name, dims), value in self._deltas.counters().items():
            data.append(
                {"MetricName": name, "Dimensions": self._dims(dims), "Value": value, "Unit": _COUNT}
            )
        for (name, dims), t in self.metrics.timings(drain=True).items():
            if t.pending:
                data.append(
                    {
                        "MetricName": name,
                        "Dimensions": self._dims(dims),
                        "StatisticValues": {
                            "SampleCount": len(t.pending),
                            "Sum": sum(t.pending),
                            "Minimum": min(t.pending),
                            "Maximum": max(t.pending),
                        },
                        "Unit": t.unit,
                    }
                )
        return data

    def _dims(self, dims: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [{"Name": "Service", "Value": self.service}] + [
            {"Name": k, "Value": v} for k, v in dims
        ]

    async def flush(self) -> int:
        data = self._data()
        for start in range(0, len(data), self.BATCH):
            try:
                await self.client.put_metric_data(
                    Namespace=self.namespace, MetricData=data[start : start + self.BATCH]
                )
            except (ClientError, BotoCoreError) as exc:
                # Metrics are best effort: a CloudWatch outage must not touch alert handling.
                log.warning("metrics.put_failed", error=str(exc), dropped=len(data) - start)
                break
        return len(data)


async def flush_every(interval_s: float, flush: Callable[[], Any]) -> None:
    """Call `flush` every `interval_s` until cancelled, then once more."""
    try:
        while True:
            await asyncio.sleep(interval_s)
            result = flush()
            if asyncio.iscoroutine(result):
                await result
    finally:
        result = flush()
        if asyncio.iscoroutine(result):
            await asyncio.shield(result)


def prometheus_text(metrics: Metrics, prefix: str = "triage_") -> str:
    """Counters and timing summaries in the Prometheus text exposition format."""
    lines: list[str] = []
    seen: set[str] = set()
    for (name, dims), value in sorted(metrics.counters().items()):
        metric = prefix + _snake(name) + "_total"
        if metric not in seen:
            lines.append(f"# TYPE {metric} counter")
            seen.add(metric)
        lines.append(f"{metric}{_labels(dims)} {value:g}")
    for (name, dims), t in sorted(metrics.timings().items()):
        metric = (
            prefix + _snake(name) + "_" + ("ms" if t.unit == "Milliseconds" else _snake(t.unit))
        )
        if metric not in seen:
            lines.append(f"# TYPE {metric} summary")
            seen.add(metric)
        lines.append(f"{metric}_count{_labels(dims)} {t.count}")
        lines.append(f"{metric}_sum{_labels(dims)} {t.total:g}")
    return "\n".join(lines) + "\n"


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


def _labels(dims: tuple[tuple[str, str], ...]) -> str:
    if not dims:
        return ""
    escaped = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in dims
    )
    return "{" + escaped + "}"
