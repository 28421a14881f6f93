"""Store and sink faults the lifecycle model draws with `faults` (round 10, helper 580): runs
it found, cut down to their few steps, each a promise kept through a fault the model lacked
before (a replica dying at a store write, writes throttled, a sink's answer lost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_lifecycle_model import ROUTES, play


@pytest.fixture
def routes(tmp_path: Path) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(ROUTES)
    return path


async def test_a_group_open_a_dead_replica_left_half_confirmed_reaches_every_sink_of_its_route(
    tmp_path: Path, routes: Path
) -> None:
    """A replica on the new routes dies at the group open's GitHub confirmation (the issue
    exists, the backend's part confirmed); the redo on the old routes, whose fallback route
    names the backend alone, still confirms GitHub, so the group's close reaches the issue
    (it finished the open with the backend's part and left the issue open for good)."""
    run = [
        ("die_at", 0, 6),  # the 6th write: the group open's GitHub confirmation
        ("send", "disk-1", "firing", None, -32, "b"),
        ("deliver", 0, 0.5, False),
        ("clock", 2),
        ("send", "disk-1", "firing", None, -33, "a"),
    ]
    problems, steps = await play(2, run, "memory", tmp_path, routes, ungrouped=frozenset({"r1"}))
    assert problems == [], "\n".join([*problems, *steps])
