"""deploy/README.md tells the truth about the Terraform module: its variables tables are the
module's variables with their defaults, the rules it states are the module's own checks, and
every name it tells a reader to set exists where it says.

The text is read when the tests run, so a README that drifts from the .tf files fails here.
(`tests/test_deploy.py` validates and applies the module itself.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from localstack_harness import aws_cli_env
from test_readme_examples import AWS_AT_ENDPOINT, aws_cli_dir

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
MODULE = DEPLOY / "terraform"
EXAMPLE = MODULE / "examples" / "basic"
README = (DEPLOY / "README.md").read_text(encoding="utf-8")

#: Defaults the table writes in words, as the module writes them.
WORDED = {"4 days": "345600", "14 days": "1209600"}


def variables(folder: Path) -> dict[str, str]:
    """Each variable of the .tf files in `folder`: name → its block's body."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.tf")))
    return dict(re.findall(r'^variable "(\w+)" \{\n(.*?)\n\}', text, flags=re.S | re.M))


def default_of(body: str) -> str | None:
    """A variable's default as written in HCL (quotes dropped), or None when it is required."""
    found = re.search(r"^\s*default\s*=\s*(.*?)\s*$", body, flags=re.M)
    return None if found is None else found.group(1).strip('"')


def table(header: str, nth: int = 0) -> list[list[str]]:
    """The cells of each row of the deploy README's `nth` table that starts with `header`."""
    start = -1
    for _ in range(nth + 1):
        start = README.index(header, start + 1)
    rows = README[start : README.index("\n\n", start)].splitlines()[2:]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def documented_defaults() -> dict[str, str]:
    """The optional variables' table: variable → the default it states (one cell may name
    several variables and their defaults, in the same order, or one default for all)."""
    out = {}
    for first, second, _ in table("| variable | default | meaning |"):
        names = re.findall(r"`(\w+)`", first)
        values = [v.strip() for v in second.split(",")] if len(names) > 1 else [second]
        if len(values) == 1:  # one default for all the names of the cell
            values *= len(names)
        assert len(values) == len(names), first
        for name, value in zip(names, values, strict=True):
            value = WORDED.get(value, value)
            out[name] = value[1:-1] if value.startswith("`") else value
    return out


def test_the_variables_tables_are_the_modules_variables() -> None:
    """The required table lists exactly the variables without a default, and the optional
    table exactly those with one."""
    module = variables(MODULE)
    required = {n for first, _ in table("| variable | meaning |") for n in re.findall(r"`(\w+)`", first)}  # fmt: skip
    assert required == {n for n, body in module.items() if default_of(body) is None}
    assert set(documented_defaults()) == {n for n, b in module.items() if default_of(b) is not None}


def test_every_default_the_table_states_is_the_modules() -> None:
    """Each optional variable's default in the table is its `default` in variables.tf."""
    module = variables(MODULE)
    wrong = [
        (name, stated, default_of(module[name]))
        for name, stated in documented_defaults().items()
        if stated.replace('"', "") != str(default_of(module[name])).replace('"', "")
    ]
    assert wrong == []


def test_the_stop_timeout_rules_the_readme_states_are_the_modules_checks() -> None:
    """The margins the README gives `stop_timeout_s` over the daemon's and the gateway's grace
    are the ones ecs.tf and ingest.tf enforce."""
    checks = "\n".join(p.read_text(encoding="utf-8") for p in MODULE.glob("*.tf"))
    enforced = dict(re.findall(r"var\.stop_timeout_s >= var\.(\w+) \+ (\d+)", checks))
    assert enforced == {"shutdown_grace_s": "7", "ingest_shutdown_grace_s": "5"}
    (row,) = [r for r in table("| variable | default | meaning |") if "`stop_timeout_s`" in r[0]]
    for grace, margin in enforced.items():
        assert f"≥ `{grace}` + {margin}" in row[2]
    assert f"stop_timeout_s < shutdown_grace_s + {enforced['shutdown_grace_s']}" in README
    stated = re.findall(r"grace \+ (\d+)", README)
    assert stated and set(stated) == {enforced["shutdown_grace_s"]}


def test_the_example_tfvars_sets_only_the_examples_variables() -> None:
    """Every name terraform.tfvars.example sets, or shows commented out, is a variable of the
    example root, so `cp terraform.tfvars.example terraform.tfvars` plans."""
    text = (EXAMPLE / "terraform.tfvars.example").read_text(encoding="utf-8")
    names = re.findall(r"^#?\s*(\w+)\s*=", text, flags=re.M)
    assert names
    assert sorted(set(names) - set(variables(EXAMPLE))) == []


@pytest.mark.parametrize(
    "where",
    ["## Deploy with Terraform", "## The LLM on Bedrock", "## The webhook gateway"],
)
def test_every_variable_a_section_tells_the_reader_to_set_exists(where: str) -> None:
    """A `snake_case` name a set-up section tells the reader to set (`sns_topic_arns`,
    `public_subnet_ids`, `llm_provider` …) is a variable of the module or of the example, or
    one of the module's outputs."""
    start = README.index(where)
    text = README[start : README.index("\n## ", start + 1)]
    outputs = re.findall(r'^output "(\w+)"', (MODULE / "outputs.tf").read_text(), flags=re.M)
    known = {*variables(MODULE), *variables(EXAMPLE), *outputs}
    named = set(re.findall(r"`([a-z]+(?:_[a-z0-9]+)+)`", text))
    named |= set(re.findall(r"^\s+([a-z]+(?:_[a-z0-9]+)+)\s+=", text, flags=re.M))
    named |= set(re.findall(r"terraform output -raw (\w+)", text))
    assert named
    assert sorted(n for n in named if n not in known) == []


# --- the task definitions, rendered and registered as the README says --------------------------

#: A value for each placeholder the README's tables list, as a reader would export it.
PLACEHOLDER_VALUES = {
    "IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/triage:1.0.0",
    "AWS_REGION": "eu-west-1",
    "EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/triage-execution",
    "TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/triage-task",
    "INGEST_TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/triage-ingest-task",
    "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/triage-alerts",
    "TABLE_NAME": "triage-incidents",
    "BACKEND_BASE_URL": "https://tickets.example.com",
    "LOG_GROUP": "/ecs/triage",
    **{
        name: f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name.lower()}-AbCdEf"
        for name in (
            "BACKEND_TOKEN_SECRET_ARN",
            "OPENAI_API_KEY_SECRET_ARN",
            "GITHUB_TOKEN_SECRET_ARN",
            "SLACK_WEBHOOK_SECRET_ARN",
            "INGEST_TOKENS_SECRET_ARN",
        )
    },
}


def placeholders_documented() -> set[str]:
    """Every placeholder the README's two placeholder tables list."""
    return {
        name
        for row in table("| placeholder | value |") + table("| placeholder | value |", nth=1)
        for name in re.findall(r"`([A-Z_]+)`", row[0])
    }


def test_the_task_definitions_render_with_envsubst_and_register(
    moto_url: str, tmp_path: Path
) -> None:
    """The README's commands, run as written (envsubst with the placeholders exported, then
    `aws ecs register-task-definition --cli-input-json file://…`, against moto), register both
    task definitions with every placeholder filled in."""
    assert set(PLACEHOLDER_VALUES) == placeholders_documented()
    start = README.index("## Using `ecs/task-definition.json` without Terraform")
    (block,) = re.findall(r"^```sh\n(.*?)^```$", README[start:], flags=re.S | re.M)[:1]
    export, *commands = block.strip().splitlines()
    assert export.startswith("export IMAGE=")
    shutil.copytree(DEPLOY / "ecs", tmp_path / "deploy" / "ecs")
    ingest = [c.replace("ecs/task-definition", "ecs/ingest-task-definition") for c in commands]
    script = AWS_AT_ENDPOINT + "\n".join(commands + ingest)
    env = aws_cli_env(moto_url, aws_cli_dir(), **PLACEHOLDER_VALUES)
    env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] = PLACEHOLDER_VALUES["AWS_REGION"]
    env["PATH"] += os.pathsep + "/usr/bin"
    result = subprocess.run(
        ["sh", "-ec", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ecs = boto3.client("ecs", endpoint_url=moto_url, region_name="eu-west-1")
    for family, source in (
        ("triage", "task-definition"),
        ("triage-ingest", "ingest-task-definition"),
    ):
        registered = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
        used = re.findall(r"\$\{([A-Z_]+)\}", (DEPLOY / "ecs" / f"{source}.json").read_text())
        text = json.dumps(registered)
        assert [name for name in used if PLACEHOLDER_VALUES[name] not in text] == []


# --- the table a reader makes by hand -------------------------------------------------------------


class _TableRecorder:
    """Stands in for a DynamoDB client: keeps what `create_table` asks for."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def create_table(self, **request: Any) -> None:
        self.requests.append(request)

    async def update_time_to_live(self, **request: Any) -> None:
        self.requests.append(request)

    def get_waiter(self, name: str) -> _TableRecorder:
        return self

    async def wait(self, **request: Any) -> None:
        return None


async def test_the_table_placeholder_names_everything_create_table_makes() -> None:
    """The `TABLE_NAME` row, which a reader without Terraform builds the table from, names the
    key, the TTL attribute and every index with its keys and projection that
    incidents/dynamodb.py's `create_table` makes (the sweep queries the `sweep` index)."""
    from triage.incidents.dynamodb import create_table

    client = _TableRecorder()
    await create_table(client, "triage-incidents")
    table_request, ttl_request = client.requests
    named = {k["AttributeName"] for k in table_request["KeySchema"]}
    for index in table_request["GlobalSecondaryIndexes"]:
        named |= {index["IndexName"], index["Projection"]["ProjectionType"]}
        named |= {k["AttributeName"] for k in index["KeySchema"]}
    named.add(ttl_request["TimeToLiveSpecification"]["AttributeName"])
    [row] = [r for r in table("| placeholder | value |") if r[0] == "`TABLE_NAME`"]
    assert sorted(n for n in named if f"`{n}`" not in row[1]) == []
