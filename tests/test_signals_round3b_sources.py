"""Every source triage reads keeps its own `source` series on the ticket counters, however
many invented `source` values generic alerts brought first (the daemon's pipeline,
`app.pipeline_from`, reserves them as it reserves the routes' teams)."""

from __future__ import annotations

from factories import alert
from test_redteam_round3c_cardinality import daemon_pipeline
from triage.metrics import MAX_LABEL_VALUES, OTHER
from triage.routes import KNOWN_SOURCES


async def test_every_known_source_keeps_its_series_past_the_bound() -> None:
    """After MAX_LABEL_VALUES invented sources, a ticket from each source a normaliser
    produces is counted under that source, and a further invented one under `other`."""
    pipeline = daemon_pipeline()
    for i in range(MAX_LABEL_VALUES):
        invented = alert(f"n{i}").model_copy(update={"source": f"cron-{i}"})
        await pipeline.handle(invented, f"owner-{i}")
    for source in KNOWN_SOURCES:
        real = alert(f"from-{source}").model_copy(update={"source": source})
        await pipeline.handle(real, f"owner-{source}")
    late = alert("late").model_copy(update={"source": "cron-late"})
    await pipeline.handle(late, "owner-late")
    metrics = pipeline.metrics
    for source in KNOWN_SOURCES:
        assert metrics.counter("TicketsCreated", source=source) == 1, source
    assert metrics.counter("TicketsCreated", source=OTHER) == 1
