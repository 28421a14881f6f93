"""A parent's deletion answers its child's firing: a child that fires in the same second as
the deletion, its message queued in the same second too (one EventBridge batch), is closed by
the deletion's resolve written after that firing, as a move's resolve takes its alert out."""

from __future__ import annotations

from memory_store import MemoryStore
from test_cloudwatch_contributors_close import contributor, deletion, message, replica, title
from test_pipeline import LEASE, POLICY, Clock
from triage.incidents import Action, State


async def test_a_deletion_closes_a_child_firing_in_its_second() -> None:
    """Child a fires at 13:00, fires again at 15:00, then the deletion of 15:00 (stamped and
    queued as that firing) is handled: the child's incident closes and its ticket is closed."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    assert await one.process(message("f1", contributor("a", "ALARM", "13:00"))) == [Action.OPEN]
    await one.process(message("f2", contributor("a", "ALARM", "15:00")))
    await one.process(message("del", deletion("15:00")))
    states = {i.title: i.state for i in await store.incidents()}
    assert states[title("a")] is State.CLOSED
    assert one.closed() == [title("a")]


async def test_a_deletion_closes_a_child_whose_first_firing_is_in_its_second() -> None:
    """Child a's first firing is at 15:00, the deletion's second, queued alike, and is handled
    first: the deletion then closes it."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    assert await one.process(message("f1", contributor("a", "ALARM", "15:00"))) == [Action.OPEN]
    await one.process(message("del", deletion("15:00")))
    states = {i.title: i.state for i in await store.incidents()}
    assert states[title("a")] is State.CLOSED
    assert one.closed() == [title("a")]
