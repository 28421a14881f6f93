"""How a piece of work grows with its input, for tests that prove "no regex blow-up" without a
wall-clock limit: the same work at two sizes, timed side by side in one run, compared as a
ratio. Linear work at `factor` times the input takes about `factor` times as long (less, while
fixed costs still count); quadratic work about `factor`² times; exponential work never ends
(pytest-timeout fails it). The machine's speed cancels out of the ratio, and its load does not
enter it: the time is the thread's own CPU time, which a busy machine taking the core away from
it (the suite's other workers) does not lengthen."""

from __future__ import annotations

import time
from collections.abc import Callable

#: A ratio above `factor` times this is not linear (quadratic is `factor` times more again).
SLACK = 3.0


def growth(
    work: Callable[[int], object],
    size: int,
    factor: int = 8,
    repeats: int = 3,
    enough: float | None = None,
) -> float:
    """Best time of `work(size * factor)` ÷ best time of `work(size)`, the two sizes alternated
    up to `repeats` times so a pause of the machine hits both or neither. With `enough`, the
    rounds stop as soon as the ratio is under it: more rounds only lower the ratio, so work
    that is linear is known so after one, and work that is not runs every round and shows it."""
    small: list[float] = []
    large: list[float] = []
    ratio = float("inf")
    for _ in range(repeats):
        for n, times in ((size, small), (size * factor, large)):
            started = time.thread_time()
            work(n)
            times.append(time.thread_time() - started)
        ratio = min(large) / max(min(small), 1e-6)
        if enough is not None and ratio < enough:
            break
    return ratio


def assert_linear(
    work: Callable[[int], object], size: int, factor: int = 8, repeats: int = 3
) -> None:
    """Fail if `work` grows faster than linearly between `size` and `size * factor`."""
    ratio = growth(work, size, factor, repeats, enough=factor * SLACK)
    assert ratio < factor * SLACK, (
        f"{factor}x the input took {ratio:.1f}x as long: not linear (linear ≈ {factor}, "
        f"quadratic ≈ {factor * factor})"
    )
