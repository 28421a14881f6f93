"""A storm's timings reach CloudWatch with every observation counted: past the 10,000 raw
values a flush keeps, each kept value stands for its share of the interval (PutMetricData
`Counts`; EMF, which has none, repeats it), through an outage too, and every call stays
inside PutMetricData's limits."""

from __future__ import annotations

import functools
import gzip
import io
import json
from collections import Counter
from typing import Any

import boto3
from botocore.config import Config

from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.metrics import Metrics
from triage.ops.metrics_export import EmfExporter, PutMetricDataExporter

SERVICE = [{"Name": "Service", "Value": "triage"}]
#: One try per call: botocore's `max_attempts` counts retries, so `max_attempts: 1` was two
#: tries with a backoff between them (~0.6 s a failed flush); `total_max_attempts` counts all.
ONCE = Config(retries={"total_max_attempts": 1})
#: PutMetricData's limits: a request's size, its items, a datum's distinct values.
MAX_BODY = 1_000_000
MAX_ITEMS = 1_000
MAX_VALUES = 150


def storm(metrics: Metrics, n: int, start: float = 0.0) -> None:
    """`n` distinct ProcessingLatency observations (no two alike, as real timings are)."""
    for i in range(n):
        metrics.observe("ProcessingLatency", 5.0 + start + i * 0.001)


@functools.cache
def cloudwatch(moto_url: str) -> Any:
    """One boto3 client per moto server for the whole run (a new one costs ~40 ms of CPU)."""
    return boto3.client("cloudwatch", endpoint_url=moto_url, region_name="us-east-1")


def statistics(moto_url: str) -> dict[str, float]:
    """CloudWatch's SampleCount, Minimum and Maximum of the storm, over all time, in one call
    (moto computes them from every datum it holds, one per observation counted)."""
    points = cloudwatch(moto_url).get_metric_statistics(
        Namespace="Storm",
        MetricName="ProcessingLatency",
        Dimensions=SERVICE,
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=86400 * 365 * 100,
        Statistics=["SampleCount", "Minimum", "Maximum"],
    )["Datapoints"]
    return {
        "SampleCount": float(sum(p["SampleCount"] for p in points)),
        "Minimum": float(min((p["Minimum"] for p in points), default=0.0)),
        "Maximum": float(max((p["Maximum"] for p in points), default=0.0)),
    }


def record_bodies(client: Any) -> list[bytes]:
    """The body of each PutMetricData call `client` makes from now on (unpacked: botocore
    gzips a large one, and its size unpacked is what we hold to the limit)."""
    bodies: list[bytes] = []

    def keep_body(request: Any, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        bodies.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)

    client.meta.events.register("before-send.cloudwatch.PutMetricData", keep_body)
    return bodies


def assert_within_limits(bodies: list[bytes]) -> None:
    """Every call under 1 MB and 1,000 items, every datum at most 150 distinct values."""
    assert bodies
    for body in bodies:
        assert len(body) < MAX_BODY
        fields = body.decode().split("&")
        items = {f.split(".")[2] for f in fields if f.startswith("MetricData.member.")}
        assert len(items) <= MAX_ITEMS
        per_datum = Counter(f.split(".Values.member.")[0] for f in fields if ".Values.member." in f)
        assert max(per_datum.values()) <= MAX_VALUES


async def test_a_storms_flush_counts_every_observation(moto_url: str) -> None:
    """25,000 observations in one interval give a SampleCount of 25,000 (it stopped at the
    10,000 raw values kept), with every call inside PutMetricData's limits."""
    metrics = Metrics()
    storm(metrics, 25_000)
    async with loopback_aws_client("cloudwatch", endpoint_url=moto_url) as client:
        bodies = record_bodies(client)
        assert await PutMetricDataExporter(metrics, "Storm", client).flush() > 0
    assert statistics(moto_url)["SampleCount"] == 25_000
    assert_within_limits(bodies)


async def test_a_storm_through_an_outage_is_counted_whole_once_cloudwatch_answers(
    moto_url: str,
) -> None:
    """A flush that fails keeps what the interval counted: 15,000 observations before the
    outage ends and 15,000 after reach CloudWatch as a SampleCount of 30,000, in calls
    inside PutMetricData's limits (the kept values and the new ones together)."""
    metrics = Metrics()
    with FaultProxy(moto_url) as proxy:
        async with loopback_aws_client("cloudwatch", endpoint_url=proxy.url, config=ONCE) as client:
            exporter = PutMetricDataExporter(metrics, "Storm", client)
            bodies = record_bodies(client)
            storm(metrics, 15_000)
            proxy.break_answers("", "reset")
            assert await exporter.flush() == 0
            storm(metrics, 15_000, start=100.0)
            proxy.heal("")
            bodies.clear()
            assert await exporter.flush() > 0
            assert_within_limits(bodies)
            assert await exporter.flush() == 0  # nothing new: nothing sent twice
    assert statistics(moto_url)["SampleCount"] == 30_000


async def test_an_outage_keeps_a_storms_extremes_with_its_count(moto_url: str) -> None:
    """Values an outage keeps past MAX_PENDING are thinned, but the least, the greatest and
    the count of what was observed still reach CloudWatch once it answers."""
    metrics = Metrics()
    metrics.MAX_PENDING = 100
    with FaultProxy(moto_url) as proxy:
        async with loopback_aws_client("cloudwatch", endpoint_url=proxy.url, config=ONCE) as client:
            exporter = PutMetricDataExporter(metrics, "Storm", client)
            proxy.break_answers("", "reset")
            storm_with_extremes(metrics)
            assert await exporter.flush() == 0
            for n in range(4):  # each thins what is kept: the extremes would go by chance
                storm(metrics, 5_000, start=10.0 * (n + 1))
                assert await exporter.flush() == 0
            proxy.heal("")
            assert await exporter.flush() > 0
    stats = statistics(moto_url)
    assert stats["Minimum"] == 0.5
    assert stats["Maximum"] == 90_000.0
    assert stats["SampleCount"] == 40_000


def test_emf_lines_carry_every_observation_of_a_storm() -> None:
    """EMF has no Counts: the lines of a 25,000-observation interval hold 25,000 values (each
    kept value repeated for its share), at most 100 a line."""
    metrics = Metrics()
    storm(metrics, 25_000)
    out = io.StringIO()
    EmfExporter(metrics, "Storm", stream=out).flush(now_ms=1_700_000_000_000)
    values: list[float] = []
    for line in out.getvalue().splitlines():
        value = json.loads(line).get("ProcessingLatency")
        if value is None:
            continue
        chunk = value if isinstance(value, list) else [value]
        assert len(chunk) <= 100
        values.extend(chunk)
    assert len(values) == 25_000


def storm_with_extremes(metrics: Metrics) -> None:
    """20,000 observations, the fastest first and the slowest second: a sample of 100 keeps
    either by chance once in 200 intervals."""
    metrics.observe("ProcessingLatency", 0.5)
    metrics.observe("ProcessingLatency", 90_000.0)
    storm(metrics, 19_998)


async def test_a_storms_minimum_and_maximum_reach_cloudwatch(moto_url: str) -> None:
    """CloudWatch's Minimum and Maximum of a storm's interval are its true ones, not the
    sample's (an alarm on the slowest message missed it), with SampleCount still exact."""
    metrics = Metrics()
    metrics.MAX_PENDING = 100
    storm_with_extremes(metrics)
    async with loopback_aws_client("cloudwatch", endpoint_url=moto_url) as client:
        assert await PutMetricDataExporter(metrics, "Storm", client).flush() > 0
    stats = statistics(moto_url)
    assert stats["Minimum"] == 0.5
    assert stats["Maximum"] == 90_000.0
    assert stats["SampleCount"] == 20_000


def test_emf_lines_hold_a_storms_minimum_and_maximum() -> None:
    """The EMF values of a storm's interval include its fastest and slowest observations."""
    metrics = Metrics()
    metrics.MAX_PENDING = 100
    storm_with_extremes(metrics)
    out = io.StringIO()
    EmfExporter(metrics, "Storm", stream=out).flush(now_ms=1_700_000_000_000)
    values = [
        v
        for line in out.getvalue().splitlines()
        for v in json.loads(line).get("ProcessingLatency", [])
    ]
    assert (min(values), max(values), len(values)) == (0.5, 90_000.0, 20_000)
