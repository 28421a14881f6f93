"""The container health check leaves `triage health` room to start on the smallest Fargate task.

`python -m triage health` spends ~0.35-0.5 s of CPU importing before its probe starts (measured
2026-12-06); on a 0.25 vCPU task busy with a storm that is 2 s or more of wall time, and the probe
itself may take its whole `--timeout` (3 s by default). A check timed out at 5 s could then fail on
a healthy task, and three such failures make ECS replace it in the middle of the storm.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: `triage health`'s own bound on the probe (cli.py's `--timeout` default).
PROBE_TIMEOUT_S = 3.0
#: The least time beside the probe for the interpreter and triage's imports on 0.25 vCPU.
START_ROOM_S = 4.0


def _dockerfile_timeout() -> float:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^HEALTHCHECK\b.*?--timeout=(\d+)s", text, re.MULTILINE)
    assert match, "the Dockerfile has a HEALTHCHECK with a --timeout"
    return float(match.group(1))


def _task_definition_timeouts() -> dict[str, float]:
    found = {}
    for path in sorted((ROOT / "deploy" / "ecs").glob("*.json")):
        for container in json.loads(path.read_text())["containerDefinitions"]:
            check = container.get("healthCheck")
            if check is not None:
                found[f"{path.name}:{container['name']}"] = float(check["timeout"])
    return found


def _terraform_timeouts() -> dict[str, float]:
    """Each `healthCheck = { … }` block's timeout in the module (the containers' checks; the
    load balancer's `health_check` block is an HTTP check of its own)."""
    found = {}
    for path in sorted((ROOT / "deploy" / "terraform").glob("*.tf")):
        text = path.read_text()
        for i, block in enumerate(re.findall(r"healthCheck = \{(.*?)\}", text, re.DOTALL)):
            match = re.search(r"timeout\s*=\s*(\d+)", block)
            assert match, f"{path.name}: a container health check without a timeout"
            found[f"{path.name}#{i}"] = float(match.group(1))
    return found


def test_every_container_health_check_leaves_the_probe_room_to_start() -> None:
    """The Dockerfile's HEALTHCHECK, both task definitions' and the Terraform's container checks
    time out no sooner than the probe's own bound plus room to start it on 0.25 vCPU."""
    timeouts = {
        "Dockerfile": _dockerfile_timeout(),
        **_task_definition_timeouts(),
        **_terraform_timeouts(),
    }
    assert len(timeouts) >= 5, timeouts  # Dockerfile, 2 task definitions, 2 Terraform tasks
    short = {where: t for where, t in timeouts.items() if t < PROBE_TIMEOUT_S + START_ROOM_S}
    assert not short, f"health checks too short for `triage health` to start and probe: {short}"


def test_the_probes_own_bound_is_the_one_this_test_assumes() -> None:
    """cli.py's `triage health --timeout` default is PROBE_TIMEOUT_S, so the room above is
    measured from the probe's real bound."""
    from triage.cli import _parser

    args = _parser().parse_args(["health"])
    assert args.timeout == PROBE_TIMEOUT_S
