"""Red team round 3c: the ticket counters' `source` dimension stays readable under invented
sources. A generic alert's `source` is whatever its sender wrote, so the first 20 distinct
values a process sees take the bounded slots; the sources triage itself reads (CloudWatch,
Grafana, Alertmanager, Sentry …) must keep their own series after that, as the routes'
teams do (`Metrics.reserve`), or every real ticket is counted under `other`."""

from __future__ import annotations

from factories import alert
from memory_store import MemoryStore
from test_pipeline import CountingSummariser, FakeSink
from triage.app import pipeline_from
from triage.metrics import MAX_LABEL_VALUES, OTHER, Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.settings import Settings


def daemon_pipeline() -> Pipeline:
    """The pipeline as the daemon builds it (`app.pipeline_from`), over in-memory parts."""
    return pipeline_from(
        Settings(), MemoryStore(), CountingSummariser(), [FakeSink()], Metrics(), Redactor()
    )


async def test_team_names_of_no_route_fold_into_other_past_the_bound() -> None:
    """Guard: past MAX_LABEL_VALUES invented teams, a new invented team is `other`, and
    every ticket is still counted."""
    pipeline = daemon_pipeline()
    for i in range(MAX_LABEL_VALUES + 5):
        invented = alert(f"n{i}").model_copy(update={"team": f"team-{i}"})
        await pipeline.handle(invented, f"owner-{i}")
    metrics = pipeline.metrics
    assert metrics.counter("TicketsCreated", team=OTHER) == 5
    assert metrics.total("TicketsCreated") == MAX_LABEL_VALUES + 5


async def test_a_known_source_keeps_its_series_after_invented_ones_fill_the_bound() -> None:
    """After MAX_LABEL_VALUES generic alerts with invented sources, a CloudWatch alarm's
    ticket is counted under source="cloudwatch", not `other`."""
    pipeline = daemon_pipeline()
    for i in range(MAX_LABEL_VALUES):
        invented = alert(f"n{i}").model_copy(update={"source": f"cron-{i}"})
        await pipeline.handle(invented, f"owner-{i}")
    cloudwatch = alert("checkout-5xx").model_copy(update={"source": "cloudwatch"})
    await pipeline.handle(cloudwatch, "owner-cloudwatch")
    metrics = pipeline.metrics
    assert metrics.total("TicketsCreated") == MAX_LABEL_VALUES + 1
    assert metrics.counter("TicketsCreated", source="cloudwatch") == 1
