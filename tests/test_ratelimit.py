"""Token buckets: immediate tokens, reservations that spread callers, and their bookkeeping."""

from __future__ import annotations

import pytest

from triage.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_capacity_is_available_at_once(clock: FakeClock) -> None:
    """A full bucket hands out `capacity` tokens without any wait."""
    bucket = TokenBucket(3, 60.0, clock=clock)
    assert [bucket.acquire(k) for k in "abc"] == [0.0, 0.0, 0.0]
    assert bucket.available() == pytest.approx(0)


def test_waiting_callers_get_successive_turns(clock: FakeClock) -> None:
    """Callers refused together are given turns one refill interval apart, not the same one."""
    bucket = TokenBucket(2, 60.0, clock=clock)  # one token every 30 s
    bucket.acquire("a")
    bucket.acquire("b")
    assert [bucket.acquire(k) for k in "cde"] == pytest.approx([30.0, 60.0, 90.0])


def test_an_early_return_keeps_its_turn(clock: FakeClock) -> None:
    """Asking again before the turn gives the remaining wait and books no second token."""
    bucket = TokenBucket(1, 10.0, clock=clock)
    bucket.acquire("a")
    assert bucket.acquire("b") == pytest.approx(10.0)
    clock.now += 4
    assert bucket.acquire("b") == pytest.approx(6.0)
    assert bucket.acquire("c") == pytest.approx(16.0)  # still behind b's single booking


def test_a_return_on_time_takes_the_reserved_token(clock: FakeClock) -> None:
    """At its turn the caller gets the token booked for it, without taking another."""
    bucket = TokenBucket(1, 10.0, clock=clock)
    bucket.acquire("a")
    bucket.acquire("b")
    clock.now += 10
    assert bucket.acquire("b") == 0.0
    assert not bucket.holds("b")
    assert bucket.available() == pytest.approx(0.0)


def test_abandoned_reservations_give_their_token_back(clock: FakeClock) -> None:
    """A booking not claimed within abandon_after_s of its turn returns its token."""
    bucket = TokenBucket(1, 10.0, clock=clock, abandon_after_s=5.0)
    bucket.acquire("a")
    bucket.acquire("b")  # turn at +10, abandoned at +15
    clock.now += 14
    assert bucket.holds("b")
    clock.now += 1
    assert not bucket.holds("b")
    assert bucket.available() == pytest.approx(1.0)


def test_keep_leaves_tokens_for_other_uses(clock: FakeClock) -> None:
    """With keep=1 the last token is never handed out, but a plain acquire can take it."""
    bucket = TokenBucket(2, 3600.0, clock=clock)
    assert bucket.acquire("a", keep=1) == 0.0
    assert bucket.acquire("b", keep=1) > 0
    bucket.cancel("b")
    assert bucket.has(1)
    assert bucket.acquire("digest") == 0.0


def test_give_back_and_cancel_restore_tokens(clock: FakeClock) -> None:
    """An unused token goes back; a cancelled booking returns its token and is forgotten."""
    bucket = TokenBucket(1, 60.0, clock=clock)
    bucket.acquire("a")
    bucket.give_back()
    assert bucket.has(1)
    bucket.acquire("a")
    bucket.acquire("b")
    bucket.cancel("b")
    bucket.cancel("b")  # twice is harmless
    assert bucket.available() == pytest.approx(0.0)


def test_refill_never_exceeds_capacity(clock: FakeClock) -> None:
    """An idle bucket holds at most `capacity` tokens."""
    bucket = TokenBucket(2, 60.0, clock=clock)
    clock.now += 10_000
    assert bucket.available() == 2


def test_invalid_budgets_are_refused() -> None:
    """A bucket needs at least one token and a positive period."""
    with pytest.raises(ValueError, match="capacity"):
        TokenBucket(0, 60.0)
    with pytest.raises(ValueError, match="period_s"):
        TokenBucket(1, 0.0)
