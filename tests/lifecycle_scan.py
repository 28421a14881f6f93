"""Count the lifecycle model's failing seeds over a range, without cutting each run down.

`LIFECYCLE_MODEL_SEEDS` runs the model test on chosen seeds, stops at the first that fails and
shrinks it (seconds each); this plays every seed of a range once and prints the ones that
fail with their first problem, then the count, so the numbers in test_lifecycle_model.py's
docstring can be measured again (about 0.1 s a seed on the in-memory store):

    .venv/bin/python tests/lifecycle_scan.py plain 0 2999
    .venv/bin/python tests/lifecycle_scan.py rolling 0 999
    .venv/bin/python tests/lifecycle_scan.py plain 0 400 --faults

`rolling` puts the first replica on the routes from before the grouping route was added for
even seeds, the second for odd ones, as the model's rolling test does.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from pathlib import Path

import structlog

from test_lifecycle_model import ROUTES, actions_of, play


def old_routes(mode: str, seed: int) -> frozenset[str]:
    """The replicas on the routes from before the grouping route (none for `plain`)."""
    if mode == "plain":
        return frozenset()
    return frozenset({"r0" if seed % 2 == 0 else "r1"})


async def scan(mode: str, first: int, last: int, *, faults: bool = False) -> list[int]:
    """Play seeds `first`..`last` on the in-memory store; the ones that break an invariant."""
    failed: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        routes = Path(tmp) / "routes.toml"
        routes.write_text(ROUTES)
        for seed in range(first, last + 1):
            run_dir = Path(tmp) / f"s{seed}"
            run_dir.mkdir()
            replicas, actions = actions_of(seed, faults=faults)
            problems, _ = await play(
                replicas, actions, "memory", run_dir, routes, ungrouped=old_routes(mode, seed)
            )
            if problems:
                failed.append(seed)
                print(seed, problems[0], flush=True)
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("plain", "rolling"))
    parser.add_argument("first", type=int)
    parser.add_argument("last", type=int)
    parser.add_argument(
        "--faults",
        action="store_true",
        help="interleave deliveries at once, throttle and kill store writes, lose sink answers",
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    failed = asyncio.run(scan(args.mode, args.first, args.last, faults=args.faults))
    faults = " --faults" if args.faults else ""
    print(f"{args.mode}{faults} {args.first}-{args.last}: {len(failed)} failed {failed}")


if __name__ == "__main__":
    main()
