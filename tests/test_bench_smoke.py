"""The benchmark still runs: bench/run.py's smallest configuration, end to end, against
LocalStack in host mode (skipped without Python 3.13, except under CI=true, where it fails)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench_processes import stop_bench
from localstack_harness import ROOT, LocalStack, localstack_session

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """LocalStack with SQS only, as bench/run.py starts its own, on a free 127.0.0.1 port.

    With CloudWatch enabled too, LocalStack publishes each SQS call's metrics through itself:
    the quick bench then cost it ~18 s of CPU instead of ~3, beside the rest of the suite. It
    holds nothing worth a clean stop, and after the bench it often cannot stop cleanly (a
    daemon's long poll still open), so it is killed after a second instead of five."""
    yield from localstack_session(
        tmp_path_factory.mktemp("localstack"), services=("sqs",), stop_grace_s=1.0
    )


@pytest.mark.timeout(210)
def test_quick_bench_runs_end_to_end(localstack: LocalStack, tmp_path: Path) -> None:
    """`bench/run.py --quick` measures every phase against the real daemon and the gateway and
    writes a results file whose storm made exactly one LLM call and one ticket per incident,
    whose grouped storm made one ticket with its CPU per alert, whose gateway put every webhook it answered 202 on the queue, which has the start-up CPU and the storm beside the bare SQS client, new incidents' send → ticket during a storm (every incident opened made one call and one ticket), and one message of a big group ticketed in full and, grouped, once."""
    output = tmp_path / "RESULTS.md"
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-profile"]
    command += ["--endpoint", localstack.endpoint, "--output", str(output)]
    # Its own session, as at a terminal; its daemons and gateway live in sessions of their own,
    # so a bench over time is stopped by `stop_bench` (SIGTERM: its cleanup stops them), not
    # by a SIGKILL to its group, which they would outlive.
    bench = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = bench.communicate(timeout=140)
    except subprocess.TimeoutExpired:
        killed = stop_bench(bench)
        _, stderr = bench.communicate()
        raise AssertionError(
            f"the quick bench ran over 140 s (killed after SIGTERM: {len(killed)} of the "
            f"processes it started):\n{stderr[-3000:]}"
        ) from None
    result = subprocess.CompletedProcess(command, bench.returncode, "", stderr)
    # 0: every target met, 1: a target missed (timing on a busy CI machine); 2+: it broke.
    assert result.returncode in {0, 1}, result.stderr
    text = output.read_text()
    assert "not measured" not in text, text
    assert "Phases that did not finish" not in text, text
    assert (
        "| storm: LLM calls for 100 messages over 10 incidents | 10 | exactly 10 | PASS |" in text
    )
    assert "| storm: tickets created | 10 | exactly 10 | PASS |" in text
    assert "| group storm: tickets created | 1 | exactly 1 | PASS |" in text
    assert "group storm: daemon CPU (user + sys) per alert" in text
    for figure in ("throughput at concurrency 16", "sequential", "peak RSS", "p99"):
        assert figure in text
    baseline = text[text.index("## Start-up and the bare SQS client") :]
    assert "start-up: daemon CPU (user + sys) from process start to the first ReceiveMessage" in (
        baseline
    )
    assert "SQS calls before it:" in baseline
    assert "daemon CPU per message ÷ a bare aiobotocore receive-10 / delete-batch loop's" in (
        baseline
    )
    assert "not measured" not in baseline
    hol = text[text.index("## Head-of-line blocking in a storm") :]
    assert "Not measured" not in hol[: hol.index("\n## ")], hol
    assert re.search(
        r"\| new incidents at 10/s during a storm at \d+ repeats/s \(0\.5 . capacity\)", hol
    )
    assert (
        "during a storm at 40 repeats/s (`storm_rate`; the issue's is 1,000/s): send → ticket p99 | "
        in hol
    )
    assert "| new incidents at 10/s with no storm (the reference): send → ticket p99 | " in hol
    assert re.search(
        r"\| LLM calls and tickets \(one per incident opened; repeats make none\) \| (\d+) / \1 \| exactly \1 \| PASS \|",
        hol,
    ), hol
    big = text[text.index("## One message of a big group") :]
    assert (
        "8 new alerts in one Alertmanager message, 0.1 s model, LLM concurrency 8: send → the last ticket"
        in big
    )
    assert "| the same: LLM calls / tickets | 8 / 8 | exactly 8 | PASS |" in big
    assert (
        "| under a grouping route (alertname, namespace): LLM calls / tickets | 1 / 1 | exactly 1 | PASS |"
        in big
    )
    assert "| 1 and 1 ack lines, 0 in the DLQ | 1 and 1, 0 | PASS |" in big
    ingest = text[text.index("## Ingest gateway") :]
    assert "gateway CPU per webhook ÷ bare loop CPU per message" in ingest
    assert re.search(
        r"\| every 202 on the queue \| ([\d,]+) messages for \1 answers 202 \| equal \| PASS \|",
        ingest,
    ), ingest
    # The gateway ran with bench/gclog and its log was read; the suite's LocalStack is shared,
    # not the bench's, so its pauses are not logged (tests/test_bench_gclog.py proves the hook).
    assert re.search(
        r"during the open loop \(bench/gclog; report only\): LocalStack: not logged \(a "
        r"LocalStack the bench did not start\); the gateway: (none|\d+ \(longest)",
        ingest,
    ), ingest
