"""Every setting name the deployment files set is one the daemon reads.

A misspelt `TRIAGE_*` variable in a task definition, the Terraform module, the compose file or
the Dockerfile is ignored by pydantic-settings, and the default applies in silence (the daemon
logs a warning at start-up, in a log nobody reads yet). Checked here with the daemon's own
`unknown_variables`, over every file a team deploys from (README.md and deploy/README.md have
their own test in tests/test_docs.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from triage.settings import unknown_variables

ROOT = Path(__file__).resolve().parents[1]

#: Files that set the daemon's variables, and the deployment folders whose every file does.
FILES = [ROOT / "Dockerfile", ROOT / "docker-compose.yml", ROOT / ".env.example"]
FOLDERS = [ROOT / "deploy", ROOT / "localstack"]

#: A name of triage's own prefixes (TRIAGE_, SQS_, BACKEND_), as a whole word.
NAME = re.compile(r"\b(?:TRIAGE|SQS|BACKEND)_[A-Z0-9_]*[A-Z0-9]\b")


def deployment_files() -> list[Path]:
    """The files above, and every text file under the folders (Terraform, task definitions,
    the deploy README, the LocalStack hook)."""
    found = [p for folder in FOLDERS for p in sorted(folder.rglob("*")) if p.is_file()]
    return [p for p in FILES + found if ".terraform" not in p.parts and p.suffix != ".pyc"]


def placeholders() -> set[str]:
    """The `${PLACEHOLDER}`s of deploy/ecs's task definitions: values a reader fills in (the
    secret ARNs), not variables the daemon reads."""
    text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "deploy" / "ecs").glob("*.json"))
    return set(re.findall(r"\$\{([A-Z_]+)\}", text))


@pytest.mark.parametrize("path", deployment_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_setting_a_deployment_file_names_is_read(path: Path) -> None:
    """No TRIAGE_*, SQS_* or BACKEND_* name in the file is one the daemon would ignore."""
    named = set(NAME.findall(path.read_text(encoding="utf-8"))) - placeholders()
    assert unknown_variables(dict.fromkeys(named, "")) == []


def test_a_misspelt_name_is_found() -> None:
    """The check sees a name the daemon does not read, and names the setting it resembles."""
    said = unknown_variables(dict.fromkeys(NAME.findall('TRIAGE_VISIBILTY_TIMEOUT_S = "60"'), ""))
    assert said == [
        "TRIAGE_VISIBILTY_TIMEOUT_S is not a setting and is ignored; "
        "did you mean TRIAGE_VISIBILITY_TIMEOUT_S?"
    ]
