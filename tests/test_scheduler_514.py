"""conftest's xdist scheduler: its quicker bookkeeping hands out exactly what xdist's would."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest
from xdist.remote import Producer

from conftest import SPLIT, QuickSplitLongFiles, SplitLongFiles

#: A SPLIT file's name, so that its parts are scheduled too.
SPLIT_NAME = next(iter(SPLIT))


class Worker:
    """What the scheduler sees of a worker: it is sent tests and told to shut down."""

    def __init__(self, name: str, sent: list[tuple[str, Any]]) -> None:
        self.name = name
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.queue: list[int] = []
        self._sent = sent

    def send_runtest_some(self, indexes: list[int]) -> None:
        self._sent.append((self.name, list(indexes)))
        self.queue.extend(indexes)

    def send_runtest_all(self) -> None:
        raise AssertionError("loadfile never sends a worker the whole collection")

    def shutdown(self) -> None:
        self._sent.append((self.name, "shutdown"))
        self.shutting_down = True


class Config:
    """The options xdist's loadfile reads: five workers, units in collection order."""

    class option:
        loadscopereorder = False

    def getvalue(self, name: str) -> Any:
        return {"tx": ["5*popen"], "dist": "loadfile"}.get(name)


def collection(seed: int) -> list[str]:
    """Files of 1 to 60 tests, one of them a SPLIT file, and a parametrised id repeated across
    files (a lookup by id must stay within its own test's file)."""
    rng = random.Random(seed)
    tests = []
    names = [f"tests/test_f{i}.py" for i in range(40)] + [f"tests/{SPLIT_NAME}"]
    rng.shuffle(names)
    for name in names:
        tests += [f"{name}::test_case[{j}]" for j in range(rng.randint(1, 60))]
    return tests


def run(
    scheduler_class: type[SplitLongFiles], seed: int, crash_after: int | None = None
) -> tuple[list[Any], list[str]]:
    """Drive a scheduler as xdist's controller does, workers finishing tests in a seeded random
    order (`crash_after` tests in, one worker dies and its work goes to the others): what it
    sent each worker, the crashed test and when it said all tests were done; and the tests
    finished, in order."""
    sent: list[Any] = []
    finished: list[str] = []
    scheduler = scheduler_class(Config(), Producer("test", enabled=False))  # type: ignore[arg-type]
    workers = [Worker(f"gw{i}", sent) for i in range(5)]
    tests = collection(seed)
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
    for worker in workers:
        scheduler.add_node_collection(worker, tests)  # type: ignore[arg-type]
    scheduler.schedule()
    rng = random.Random(seed)
    while busy := [w for w in workers if w.queue]:
        worker = rng.choice(busy)
        if len(finished) == crash_after:
            sent.append(("crashed", scheduler.remove_node(worker)))  # type: ignore[arg-type]
            workers.remove(worker)
            crash_after = None
            continue
        index = worker.queue.pop(0)
        sent.append(("finished before", scheduler.tests_finished))
        scheduler.mark_test_complete(worker, index)  # type: ignore[arg-type]
        finished.append(tests[index])
        sent.append(("pending", scheduler.has_pending, scheduler.tests_finished))
    sent.append(("at the end", scheduler.has_pending, scheduler.tests_finished))
    return sent, finished


@pytest.mark.parametrize("seed", range(8))
def test_the_quick_scheduler_hands_out_what_xdists_loadfile_would(seed: int) -> None:
    """Each worker is sent the same tests in the same order and shut down at the same point,
    and the run is said to be over at the same point, as with xdist's own bookkeeping."""
    assert run(QuickSplitLongFiles, seed) == run(SplitLongFiles, seed)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("crash_after", [0, 150])
def test_a_crashed_workers_tests_are_each_run_once_by_the_others(
    seed: int, crash_after: int
) -> None:
    """A worker that dies: its test is named as xdist names it, and every test it had not
    finished is run once by another worker (xdist's own would also send the others the
    crashed worker's finished files again, as empty units)."""
    sent, finished = run(QuickSplitLongFiles, seed, crash_after)
    xdists, _ = run(SplitLongFiles, seed, crash_after)
    crashed = [event for event in sent if event[0] == "crashed"]
    assert crashed == [event for event in xdists if event[0] == "crashed"]
    assert sorted(finished) == sorted(collection(seed))
    assert sent[-1] == ("at the end", False, True)
