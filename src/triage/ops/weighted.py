"""Values that each stand for a number of observations: what a flush sends CloudWatch of a
timing whose interval saw more observations than the raw values `Metrics` keeps (a fair
sample of them, `Metrics.MAX_PENDING`). Spreading the interval's count over the values kept
makes CloudWatch's SampleCount exact, and its percentiles those of the sample."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Weighted:
    """`values[i]` stands for `counts[i]` observations (each count at least 1)."""

    values: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()

    @classmethod
    def once(cls, value: float) -> Weighted:
        """One value, observed once: a counter's delta, a gauge's reading."""
        return cls((value,), (1,))

    @classmethod
    def sample(cls, values: Iterable[float], observations: int) -> Weighted:
        """`values`, a fair sample of `observations` (at least as many), with the count spread
        over them as evenly as whole numbers allow, so the counts add up to `observations`."""
        kept = tuple(values)
        return cls(kept, _spread(max(observations, len(kept)), len(kept)))

    @property
    def observations(self) -> int:
        return sum(self.counts)

    def __bool__(self) -> bool:
        return bool(self.values)

    def holding(self, low: float, high: float) -> Weighted:
        """This with `low` and `high`, the interval's extremes a sample may have missed, in
        place of its own least and greatest values (so CloudWatch's Minimum and Maximum are
        the interval's; its percentiles move by at most one value each)."""
        if len(self.values) < 2:
            return self
        values = list(self.values)
        top = max(range(len(values)), key=values.__getitem__)
        values[top] = max(values[top], high)
        bottom = min((i for i in range(len(values)) if i != top), key=values.__getitem__)
        values[bottom] = min(values[bottom], low)
        return Weighted(tuple(values), self.counts)

    def merged(self, other: Weighted) -> Weighted:
        return Weighted(self.values + other.values, self.counts + other.counts)

    def kept(self, keep: Callable[[float], bool]) -> Weighted:
        """Only the values `keep` accepts, with their counts."""
        pairs = [(v, c) for v, c in zip(self.values, self.counts, strict=True) if keep(v)]
        return Weighted(tuple(v for v, _ in pairs), tuple(c for _, c in pairs))

    def thinned(self, limit: int, rng: random.Random) -> Weighted:
        """At most `limit` values, picked at random, standing together for every observation
        this stood for (the counts of those kept scaled up in proportion), the least and the
        greatest among them."""
        if len(self.values) <= limit:
            return self
        picked = sorted(rng.sample(range(len(self.values)), limit))
        counts = _scaled([self.counts[i] for i in picked], self.observations)
        pairs = [(self.values[i], c) for i, c in zip(picked, counts, strict=True) if c]
        thin = Weighted(tuple(v for v, _ in pairs), tuple(c for _, c in pairs))
        return thin.holding(min(self.values), max(self.values))

    def distinct(self) -> list[tuple[float, int]]:
        """Each distinct value once, in order, with the observations it stands for."""
        total: Counter[float] = Counter()
        for value, count in zip(self.values, self.counts, strict=True):
            total[value] += count
        return sorted(total.items())

    def parts(self, distinct: int) -> list[Weighted]:
        """This, cut into parts of at most `distinct` distinct values each."""
        pairs = self.distinct()
        return [
            Weighted(tuple(v for v, _ in chunk), tuple(c for _, c in chunk))
            for chunk in (pairs[i : i + distinct] for i in range(0, len(pairs), distinct))
        ]

    def repeated(self) -> list[float]:
        """Each value as many times as it stands for: for a format without counts (EMF)."""
        return [v for v, c in zip(self.values, self.counts, strict=True) for _ in range(c)]


def _spread(total: int, slots: int) -> tuple[int, ...]:
    """`total` over `slots` whole numbers that differ by at most one."""
    if not slots:
        return ()
    each, extra = divmod(total, slots)
    return tuple(each + (1 if i < extra else 0) for i in range(slots))


def _scaled(counts: list[int], total: int) -> list[int]:
    """`counts` scaled to add up to `total`, in whole numbers (largest remainders round up)."""
    have = sum(counts)
    exact = [c * total / have for c in counts]
    out = [int(x) for x in exact]
    short = total - sum(out)
    by_remainder = sorted(range(len(out)), key=lambda i: exact[i] - out[i], reverse=True)
    for i in by_remainder[: max(0, short)]:
        out[i] += 1
    return out
