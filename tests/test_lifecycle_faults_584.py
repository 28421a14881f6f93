"""Store faults the lifecycle model draws with `faults` (round 11, helper 584): runs
`lifecycle_scan.py --faults` found, cut down to their few steps, each a promise kept through
a replica dying at a store write."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_lifecycle_model import ROUTES, play


@pytest.fixture
def routes(tmp_path: Path) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(ROUTES)
    return path


async def test_an_own_open_a_late_firing_left_claimed_is_closed_again_after_the_sweeps_redo(
    tmp_path: Path, routes: Path
) -> None:
    """A member resolved in its group; a late firing of it, handed at once to a replica on
    each routes, is ignored in the group and claims its own incident's open on the old
    routes, whose replica dies taking that open back: the sweep's redo of the open, which
    no message finishes, resolves it again there, as the group's newer resolve says (it
    stayed open for good, the alert firing though resolved). Seed 157's run (rolling)."""
    run = [
        ("send", "disk-1", "firing", None, -240, "a"),
        ("deliver", 0, 0.0, False),
        ("send", "disk-1", "resolved", None, -120, "a"),
        ("deliver", 0, 0.0, False),
        ("send", "disk-1", "firing", None, -230, "a"),
        ("die_at", 1, 2),  # the 2nd write: the own open's withdrawal, after its claim
        ("deliver2", 0, 1, 0.0, 0.0, True),
    ]
    problems, steps = await play(2, run, "memory", tmp_path, routes, ungrouped=frozenset({"r1"}))
    assert problems == [], "\n".join([*problems, *steps])


async def test_an_own_open_a_late_firing_left_claimed_is_closed_again_after_a_messages_redo(
    tmp_path: Path, routes: Path
) -> None:
    """As above, but an older firing of the member, delivered again on the new routes once
    the dead replica's lease is over, finds its own incident holding the newer (late)
    firing, keeps the alert there and takes the open over with its message: that redo
    resolves it again there too, as the group's newer resolve says (the own incident kept
    the alert for good). Seed 157's run, once the sweep's redo did so."""
    run = [
        ("send", "disk-1", "firing", None, -240, "a"),
        ("deliver", 0, 0.0, False),
        ("send", "disk-1", "resolved", None, -120, "a"),
        ("deliver", 0, 0.0, False),
        ("send", "disk-1", "firing", None, -230, "a"),
        ("die_at", 1, 2),
        ("deliver2", 0, 1, 0.0, 0.0, True),
        ("send", "disk-1", "firing", None, -235, "a"),
        ("deliver", 0, 0.0, True),  # its delete lost: the next delivery is a redelivery
        ("clock", 301),
        ("deliver", 0, 0.0, False),
    ]
    problems, steps = await play(2, run, "memory", tmp_path, routes, ungrouped=frozenset({"r1"}))
    assert problems == [], "\n".join([*problems, *steps])


async def test_a_firing_another_delivery_counted_in_a_group_and_died_is_placed_by_this_one(
    tmp_path: Path, routes: Path
) -> None:
    """A member resolved without the label its group is keyed by (kept in the group that
    names no host), then its older firing for host a, stamped alike, handed to two replicas
    at once under 20 interleavings: one counts it in host a's group and dies before looking
    where the member's newer resolve is; the other, finding it counted there without a
    write, looks in its place, so it is resolved again in host a's group (in 31 of 60
    interleavings it stayed firing there, counted by nobody's look). Seeds 895 and 966's
    class (plain --faults)."""
    run = [
        ("send", "disk-2", "firing", None, -126, "a"),
        ("deliver", 0, 0.0, False),
        ("send", "disk-1", "firing", None, -64, "a"),
        ("send", "disk-1", "resolved", 0, 0, None),  # stamped as the firing, queued after it
        ("deliver", 0, 0.99, False),
        ("die_at", 0, 3),  # the note, the count in host a's group, its first write after
        ("deliver2", 1, 0, 0.0, 0.0, True),
    ]
    failed = []
    for seed in range(20):
        run_dir = tmp_path / f"i{seed}"
        run_dir.mkdir()
        problems, _ = await play(2, [("interleave", seed), *run], "memory", run_dir, routes)
        if problems:
            failed.append((seed, problems))
    assert failed == []


async def test_a_first_join_left_unplaced_by_a_dead_replica_keeps_its_note_from_an_older_firing(
    tmp_path: Path, routes: Path
) -> None:
    """A member's first firing (host b) is noted for its group, claims the group's open, and
    its replica dies placing it there; an older firing for host a then finds that note, made
    the member's record, and opens nothing in host a's group, and the firing's retry on the
    old routes leaves host b's group as the sweep finishes its open (the older firing's note
    overwrote host b's, and the alert fired in host b's group and its own incident). Seed
    397's run (rolling --faults)."""
    run = [
        ("throttle", 0, 1, False),  # the note, before the write: the message is held
        ("die_at", 0, 4),  # on its retry: the note, the group's claim, then its placement
        ("send", "disk-1", "firing", None, 21, "b"),
        ("deliver", 0, 0.8, False),
        ("clock", 4),
        ("deliver", 0, 0.1, False),
        ("send", "disk-1", "firing", None, -209, "a"),
        ("send", "api-5xx", "firing", 6, -81, None),
        ("deliver", 0, 0.05, False),
    ]
    problems, steps = await play(2, run, "memory", tmp_path, routes, ungrouped=frozenset({"r1"}))
    assert problems == [], "\n".join([*problems, *steps])


async def test_a_late_firings_answer_in_the_group_is_no_newer_event_for_an_own_redo(
    tmp_path: Path, routes: Path
) -> None:
    """The alert's newest firing claims the reopen of its own incident on the old routes and
    its sinks fail; its retry on the new routes keeps the alert there and answers in the
    group with a resolve ordered just after it; an older firing's retry takes the reopen
    over: the redo reads that answer as no newer event, and the alert fires in its own
    incident (it was resolved there too, and fired nowhere). Seed 190's run (rolling)."""
    run = [
        ("send", "disk-2", "firing", None, -108, "b"),
        ("deliver", 0, 0.37597977586816966, False),
        ("clock", 7),
        ("clock", 20),
        ("clock", 19),
        ("send", "queue-lag", "firing", None, -14, None),
        ("clock", 18),
        ("send", "disk-2", "resolved", None, -166, None),
        ("deliver", 0, 0.9125389935818103, False),
        ("clock", 3601.0),
        ("send", "disk-1", "firing", None, -275, "b"),
        ("send", "disk-2", "firing", None, -163, "b"),
        ("send", "disk-2", "firing", None, -82, "b"),
        ("redeliver", 0.06510314056296151),
        ("deliver", 1, 0.7882729773912447, False),
        ("deliver", 0, 0.30314966441951063, False),
        ("send", "api-5xx", "firing", None, -183, None),
        ("deliver", 0, 0.6326372319908709, False),
        ("clock", 20),
        ("clock", 121.0),
        ("clock", 8),
        ("deliver", 1, 0.9422232786951873, False),
        ("clock", 9),
        ("fail", 0, 3),
        ("clock", 8),
        ("send", "disk-2", "firing", None, -242, "b"),
        ("deliver", 0, 0.7661704428934825, True),
        ("send", "api-5xx", "firing", None, -23, None),
        ("redeliver", 0.6168953545856027),
        ("send", "disk-1", "firing", None, -39, "a"),
        ("clock", 16),
        ("redeliver", 0.7775639306753807),
        ("clock", 5),
        ("deliver", 0, 0.5986734524893961, False),
        ("clock", 13),
    ]
    problems, steps = await play(2, run, "memory", tmp_path, routes, ungrouped=frozenset({"r0"}))
    assert problems == [], "\n".join([*problems, *steps])
