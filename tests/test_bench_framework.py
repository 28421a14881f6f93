"""bench/framework.py: the bare aiobotocore loop and the Supervisor with a no-op handler each
drain the stub SQS server (a child process on 127.0.0.1), and both figures are reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_tiny_run_reports_both_figures_side_by_side() -> None:
    """Over 200 messages and 2 rounds, each run deletes every message it was asked for in
    full batches of ten, the CPU per message of both is positive, and the table prints both
    medians and their ratio."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENAI_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    command = [sys.executable, str(ROOT / "bench" / "framework.py"), "--messages", "200"]
    out = subprocess.run(
        [*command, "--rounds", "2", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    *table, runs_json = out.stdout.strip().splitlines()
    runs = json.loads(runs_json)
    assert sorted(runs) == ["bare", "framework"]
    for name in ("bare", "framework"):
        assert len(runs[name]) == 2
        for run in runs[name]:
            assert run["done"] >= 200
            assert run["us_per_message"] > 0
            # The stub always has ten to give, and a storm's receives and deletes go in full
            # batches (the Supervisor may ask fewer when its slots fall short, and its last
            # deletes, at its stop after the count, may be fewer).
            assert run["receives"] >= 20 and run["per_receive"] >= 9.0
            assert run["deletes"] >= 20 and run["per_delete"] >= 9.0
    rows = {line.split("|")[1].strip(): line for line in table if line.startswith("|")}
    assert {"bare aiobotocore loop", "Supervisor + no-op", "ratio"} <= set(rows)
    assert "Traceback" not in out.stderr
