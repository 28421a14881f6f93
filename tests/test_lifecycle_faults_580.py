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
        ("die_at", 0, 7),  # the 7th write: the group open's GitHub confirmation
        ("send", "disk-1", "firing", None, -32, "b"),
        ("deliver", 0, 0.5, False),
        ("clock", 2),
        ("send", "disk-1", "firing", None, -33, "a"),
    ]
    problems, steps = await play(2, run, "memory", tmp_path, routes, ungrouped=frozenset({"r1"}))
    assert problems == [], "\n".join([*problems, *steps])


@pytest.mark.parametrize("write", [2, 3])
async def test_a_group_open_claimed_by_a_replica_dying_before_its_note_fires_in_one_place(
    tmp_path: Path, routes: Path, write: int
) -> None:
    """A replica on the new routes dies at the group's claimed open for a member (write 2)
    or right after it, before the member record names the group (3); a newer firing and the
    retry on the old routes fire the alert as its own incident, and it fires there alone:
    the group noted before the claim is left there (the sweep finished the group's open,
    which no record named, and it fired in two places)."""
    run = [
        # Writes: the note of the group it goes to, the group's claim, its placement there.
        ("die_at", 0, write),
        ("send", "disk-1", "firing", None, -32, "b"),
        ("deliver", 0, 0.5, False),
        ("clock", 2),
        ("send", "disk-1", "firing", None, -33, "a"),
    ]
    problems, steps = await play(2, run, "memory", tmp_path, routes, ungrouped=frozenset({"r1"}))
    assert problems == [], "\n".join([*problems, *steps])


async def test_a_members_firings_for_two_groups_taken_at_once_fire_in_the_newest_only(
    tmp_path: Path, routes: Path
) -> None:
    """A member fires for host b, for host a (stamped alike, queued later), then for host b
    again; the two last taken at once by two replicas, under 20 interleavings of their store
    and sink calls, leave it firing in host b's group alone: both read no group in its
    record, and the later placement overwrote the earlier, so host a's group opened beside
    host b's and stayed open in 22 of 50 interleavings (`Members.place_looked`)."""
    run = [
        ("send", "disk-1", "firing", None, -150, "b"),
        ("send", "disk-1", "firing", 0, -254, "a"),  # stamped as the first
        ("send", "disk-1", "firing", None, 1, "b"),
        ("deliver2", 0, 1, 0.99, 0.5, False),  # r0 takes the last, r1 the second, at once
    ]
    failed = []
    for seed in range(20):
        run_dir = tmp_path / f"i{seed}"
        run_dir.mkdir()
        problems, _ = await play(2, [("interleave", seed), *run], "memory", run_dir, routes)
        if problems:
            failed.append((seed, problems))
    assert failed == []


async def test_a_failed_move_beside_a_newer_firing_counted_where_it_was_leaves_it_there(
    tmp_path: Path, routes: Path
) -> None:
    """A member's open for host b is left by a dying replica; after the lease, one replica
    takes that open over and counts a newer firing for host b while another moves the member
    to host a with an older firing whose sink answers are lost: the failed move is not
    remembered (host b kept the newer firing), so the retry finds the firing late and the
    member fires in host b's group alone, under 20 interleavings (in 18, host a's group stayed
    open beside it)."""
    run = [
        ("crash", 0),
        ("send", "disk-1", "firing", None, -150, "b"),
        ("deliver", 0, 0.0, False),  # r0 dies after host b's open reached a sink
        ("send", "disk-1", "firing", 0, -254, "a"),  # stamped as the first
        ("send", "disk-1", "firing", None, 17, "b"),
        ("clock", 901.0),
        ("lose", 1, 2),
        ("deliver2", 0, 1, 0.99, 0.5, False),  # r0' takes the last, r1 the second, at once
    ]
    failed = []
    for seed in range(20):
        run_dir = tmp_path / f"i{seed}"
        run_dir.mkdir()
        problems, _ = await play(2, [("interleave", seed), *run], "memory", run_dir, routes)
        if problems:
            failed.append((seed, problems))
    assert failed == []
