"""The "no blow-up" check of tests/scaling.py itself: it fails quadratic work, passes linear work,
and stops after one round when the first already shows the work is linear."""

from __future__ import annotations

import pytest

from scaling import assert_linear


def _quadratic(n: int) -> None:
    """Work that compares every pair of its input's positions."""
    total = 0
    for i in range(n):
        for j in range(n):
            total += i ^ j


def test_quadratic_work_fails_the_check() -> None:
    """Work that grows with the square of its input is reported as not linear."""
    with pytest.raises(AssertionError, match="not linear"):
        assert_linear(_quadratic, 150, repeats=2)


def test_linear_work_passes_after_one_round() -> None:
    """Linear work passes, and a round that already shows it is the last one run."""
    sizes: list[int] = []

    def work(n: int) -> None:
        sizes.append(n)
        sum(range(n * 200))

    assert_linear(work, 1_000, repeats=3)
    assert sizes == [1_000, 8_000]
