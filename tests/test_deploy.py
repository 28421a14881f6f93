"""deploy/: the ECS task definition and the Terraform module, checked offline.

Three layers, each as strong as this machine allows:
- no tool needed: the task-definition JSON against botocore's own RegisterTaskDefinition input
  shape, its environment against the variables Settings reads, and the task role's actions
  against the AWS calls in src/triage (found by walking the code's AST);
- terraform: `fmt -check` and `validate` of the module and the example (provider from a local
  filesystem mirror, since no registry is reachable);
- terraform + moto: `terraform apply` of the module against a moto server (both in a process
  of their own, tests/deploy_harness.py, which the suite starts early in the background), then
  the created queue, table, roles and task definition read back through boto3.
Terraform tests skip, saying why, only when the binary or the provider mirror is absent.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

import deploy_harness
from deploy_harness import WORKER_INPUT_KEY, Applied, tf
from triage.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
MODULE = DEPLOY / "terraform"
TASK_DEFINITION = DEPLOY / "ecs" / "task-definition.json"
INGEST_TASK_DEFINITION = DEPLOY / "ecs" / "ingest-task-definition.json"
SRC = ROOT / "src" / "triage"

REGION = deploy_harness.REGION
ACCOUNT = deploy_harness.ACCOUNT

#: Values for the placeholders of deploy/ecs/task-definition.json (as deploy/README.md lists them).
PLACEHOLDERS = {
    "IMAGE": deploy_harness.IMAGE,
    "AWS_REGION": REGION,
    "EXECUTION_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/triage-execution",
    "TASK_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/triage-task",
    "QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/triage-alerts",
    "TABLE_NAME": "triage-incidents",
    "BACKEND_BASE_URL": "https://tickets.example.com",
    "BACKEND_TOKEN_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:triage/backend-token-AbCdEf",
    "OPENAI_API_KEY_SECRET_ARN": deploy_harness.SECRETS["openai"],
    "GITHUB_TOKEN_SECRET_ARN": deploy_harness.SECRETS["github"],
    "SLACK_WEBHOOK_SECRET_ARN": deploy_harness.SECRETS["slack"],
    "LOG_GROUP": "/ecs/triage",
}
#: Values for deploy/ecs/ingest-task-definition.json: the shared ones, and the gateway's own.
INGEST_PLACEHOLDERS = {
    **{
        k: PLACEHOLDERS[k]
        for k in ("IMAGE", "AWS_REGION", "EXECUTION_ROLE_ARN", "QUEUE_URL", "LOG_GROUP")
    },
    "INGEST_TASK_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/triage-ingest-task",
    "INGEST_TOKENS_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:triage/ingest-tokens-AbCdEf",
}


# --- The AWS calls in the code ------------------------------------------------------------------

#: Client services the code opens, and their IAM prefix.
SERVICES = {
    "sqs": "sqs",
    "dynamodb": "dynamodb",
    "secretsmanager": "secretsmanager",
    "cloudwatch": "cloudwatch",
    "bedrock-runtime": "bedrock",
}
#: Batch calls authorize as the single-message action.
BATCH_ACTIONS = {
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "SendMessageBatch": "SendMessage",
}
#: Operations whose IAM action has another name: the batch calls, and Bedrock's Converse.
AUTHORISED_AS = {
    **BATCH_ACTIONS,
    "Converse": "InvokeModel",
    "ConverseStream": "InvokeModelWithResponseStream",
}
BEDROCK_MODEL_ID = deploy_harness.BEDROCK_MODEL_ID
#: Call sites that never run in the ECS task: (file, function) → who runs them.
NOT_IN_THE_TASK = {
    ("demo/", "*"): "dev",  # the embedded demo builds its own moto queues and secret
    (
        "incidents/dynamodb.py",
        "create_table",
    ): "dev",  # dev stacks and tests; Terraform owns the table
    ("ops/dlq.py", "*"): "operator",  # `triage dlq peek|redrive`
    ("cli.py", "_dlq"): "operator",
    ("cli.py", "_send_batches"): "operator",  # `triage send`
    # `triage ingest` runs in its own task, with its own role (deploy/terraform/ingest.tf):
    # every file of the package.
    ("ingest/", "*"): "ingest",
}


@dataclass(frozen=True)
class Call:
    file: str
    function: str
    action: str  # IAM action, e.g. sqs:ReceiveMessage
    index: str | None = None  # the IndexName argument as written (DynamoDB), e.g. SWEEP_INDEX


def _operations() -> dict[str, set[str]]:
    """snake_case client method → IAM actions it may be, over the services triage uses."""
    session = botocore.session.get_session()
    ops: dict[str, set[str]] = {}
    for service, prefix in SERVICES.items():
        for op in session.get_service_model(service).operation_names:
            action = f"{prefix}:{AUTHORISED_AS.get(op, op)}"
            ops.setdefault(botocore.xform_name(op), set()).add(action)
    return ops


@functools.cache
def source_trees() -> tuple[tuple[Path, ast.Module], ...]:
    """Every module of src/triage with its syntax tree. Parsed once per test process (~1 s of
    CPU), not once per test: the scans below only read the trees, and the code does not change
    while the tests run."""
    return tuple(
        (path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(SRC.rglob("*.py"))
    )


@functools.cache
def aws_calls() -> tuple[Call, ...]:
    """Every call in src/triage whose method name is an SQS, DynamoDB, Secrets Manager,
    CloudWatch or Bedrock Runtime operation, with the function it sits in (found once per
    test process, as the trees are parsed once)."""
    ops = _operations()
    calls: list[Call] = []
    for path, tree in source_trees():
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ops
                ):
                    where = str(path.relative_to(SRC))
                    index = next(
                        (ast.unparse(k.value) for k in node.keywords if k.arg == "IndexName"),
                        None,
                    )
                    calls.extend(Call(where, func.name, a, index) for a in ops[node.func.attr])
    return tuple(calls)


def _runner(call: Call) -> str:
    package = call.file.split("/")[0] + "/" if "/" in call.file else ""
    for key in ((call.file, call.function), (call.file, "*"), (package, "*")):
        if key in NOT_IN_THE_TASK:
            return NOT_IN_THE_TASK[key]
    return "task"


def through_the_store() -> list[Call]:
    """What `triage incidents` and `triage silence` may call through the store: they open the
    daemon's own DynamoDBStore (`open()` describes the table, reads compare clocks, the sweep
    queries), so every call of incidents/dynamodb.py the task makes, which the operator policy
    grants too."""
    return [c for c in aws_calls() if c.file == "incidents/dynamodb.py" and _runner(c) == "task"]


def resources_by_action(policy: dict[str, Any]) -> dict[str, set[str]]:
    """Each Allow action of an IAM policy document → every resource some statement grants it on."""
    out: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        actions, resources = statement["Action"], statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            out.setdefault(action, set()).update(
                [resources] if isinstance(resources, str) else resources
            )
    return out


def dynamodb_resources(calls: list[Call], table_arn: str) -> dict[str, set[str]]:
    """The DynamoDB resources `calls` touch, by IAM action: the table, or the index a call names
    (IndexName=SWEEP_INDEX is incidents/dynamodb.py's constant; any other name fails here)."""
    from triage.incidents.dynamodb import SWEEP_INDEX

    indexes = {"SWEEP_INDEX": SWEEP_INDEX}
    out: dict[str, set[str]] = {}
    for call in (c for c in calls if c.action.startswith("dynamodb:")):
        resource = table_arn if call.index is None else f"{table_arn}/index/{indexes[call.index]}"
        out.setdefault(call.action, set()).add(resource)
    return out


def actions_of(policy: dict[str, Any]) -> set[str]:
    """Every Allow action of an IAM policy document."""
    out: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        out.update([actions] if isinstance(actions, str) else actions)
    return out


# --- Task definition JSON (no tool needed) -------------------------------------------------------


def rendered_task_definition(
    path: Path = TASK_DEFINITION, values: dict[str, str] = PLACEHOLDERS
) -> dict[str, Any]:
    text = Template(path.read_text(encoding="utf-8")).substitute(values)
    result: dict[str, Any] = json.loads(text)
    return result


def rendered_ingest_task_definition() -> dict[str, Any]:
    return rendered_task_definition(INGEST_TASK_DEFINITION, INGEST_PLACEHOLDERS)


def container(task_definition: dict[str, Any]) -> dict[str, Any]:
    (only,) = task_definition["containerDefinitions"]
    assert isinstance(only, dict)
    return only


def test_task_definition_placeholders_are_all_documented() -> None:
    """Every ${PLACEHOLDER} in the JSON is one deploy/README.md explains, and none is left over."""
    found = set(re.findall(r"\$\{([A-Z_]+)\}", TASK_DEFINITION.read_text(encoding="utf-8")))
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert found == set(PLACEHOLDERS)
    assert [p for p in sorted(found) if f"`{p}`" not in readme] == []


def test_task_definition_is_a_valid_register_task_definition_request() -> None:
    """botocore's own ECS model accepts the rendered file as RegisterTaskDefinition input."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    validate_parameters(rendered_task_definition(), shape)  # raises ParamValidationError


def test_task_definition_runs_the_image_as_designed() -> None:
    """Fargate, non-root, read-only root, init process, health check, awslogs, image's CMD."""
    td = rendered_task_definition()
    c = container(td)
    assert td["requiresCompatibilities"] == ["FARGATE"] and td["networkMode"] == "awsvpc"
    assert "command" not in c and "entryPoint" not in c  # the image's `python -m triage run`
    assert c["user"] == "10001:10001"  # the Dockerfile's USER
    assert c["readonlyRootFilesystem"] is True
    assert c["linuxParameters"]["initProcessEnabled"] is True
    assert c["healthCheck"]["command"] == ["CMD", "python", "-m", "triage", "health"]
    assert c["logConfiguration"]["logDriver"] == "awslogs"
    assert {m["containerPath"] for m in c["mountPoints"]} == {"/tmp"}
    assert {v["name"] for v in td["volumes"]} == {m["sourceVolume"] for m in c["mountPoints"]}


def test_stop_timeout_outlasts_the_shutdown_grace() -> None:
    """ECS waits longer than the daemon's drain before SIGKILL (default grace and the set one)."""
    c = container(rendered_task_definition())
    env = {e["name"]: e["value"] for e in c["environment"]}
    grace = float(env["TRIAGE_SHUTDOWN_GRACE_S"])
    assert grace == Settings().shutdown_grace_s
    assert c["stopTimeout"] >= grace + 7  # cancel 3 s, deletes, metrics, spans 1 s each, 1 spare
    assert c["stopTimeout"] <= 120  # the Fargate maximum


def test_task_definition_environment_is_what_the_daemon_reads() -> None:
    """Every variable and secret name is one Settings reads; the store is DynamoDB (no file)."""
    c = container(rendered_task_definition())
    read = {env_name(field) for field in Settings.model_fields}
    names = [e["name"] for e in c["environment"]] + [s["name"] for s in c["secrets"]]
    assert len(names) == len(set(names))
    assert sorted(set(names) - read) == []
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert env["TRIAGE_STORE_URL"].startswith("dynamodb://")  # read-only root: no SQLite file
    assert env["TRIAGE_HTTP_PORT"] == str(c["portMappings"][0]["containerPort"])
    assert "BACKEND_TOKEN" not in names  # the daemon reads the secret itself (rotation, 401)
    assert {s["name"] for s in c["secrets"]} == {
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "SLACK_WEBHOOK_URL",
    }
    # The settings the environment sets must be values Settings accepts.
    settable = {e["name"]: e["value"] for e in c["environment"]}
    Settings(**{f: settable[env_name(f)] for f in Settings.model_fields if env_name(f) in settable})


def test_aws_calls_are_all_classified() -> None:
    """The AST scan finds the daemon's calls, and each call site runs in the task or is known."""
    calls = aws_calls()
    task = {c.action for c in calls if _runner(c) == "task"}
    assert {"sqs:ReceiveMessage", "dynamodb:PutItem", "secretsmanager:GetSecretValue"} <= task
    assert "cloudwatch:PutMetricData" in task
    assert "sqs:SendMessage" not in task  # the daemon never sends; the gateway and operators do
    ingest = {c.action for c in calls if _runner(c) == "ingest"}
    assert ingest == {"sqs:SendMessage", "sqs:GetQueueAttributes", "secretsmanager:GetSecretValue"}


def test_code_outside_the_task_is_imported_only_by_the_command_line() -> None:
    """The files whose AWS calls are classified as not the task's (demo/, ingest/, ops/dlq.py)
    are imported, outside themselves, only by cli.py (their own commands), so no path of the
    daemon makes those calls under the task role, where they would be AccessDenied. A module
    is inside a package only by its dotted name (triage.ingest_tokens is not triage.ingest)."""
    outside = {
        f"triage.{file.removesuffix('.py').removesuffix('/').replace('/', '.')}"
        for file, function in NOT_IN_THE_TASK
        if function == "*"
    }
    assert outside == {"triage.demo", "triage.ops.dlq", "triage.ingest"}
    importers = set()
    for path, tree in source_trees():
        module = "triage." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        for node in ast.walk(tree):
            names = (
                [f"{node.module}.{a.name}" for a in node.names]
                if isinstance(node, ast.ImportFrom) and node.module
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                for target in outside:
                    inside = (module + ".").startswith(target + ".")
                    if (name + ".").startswith(target + ".") and not inside:
                        importers.add(module)
    assert importers == {"triage.cli"}


# --- The gateway's task definition JSON ----------------------------------------------------------


def test_ingest_task_definition_placeholders_are_all_documented() -> None:
    """Every ${PLACEHOLDER} of the gateway's JSON is one deploy/README.md explains."""
    text = INGEST_TASK_DEFINITION.read_text(encoding="utf-8")
    found = set(re.findall(r"\$\{([A-Z_]+)\}", text))
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert found == set(INGEST_PLACEHOLDERS)
    assert [p for p in sorted(found) if f"`{p}`" not in readme] == []


def test_ingest_task_definition_is_a_valid_register_task_definition_request() -> None:
    """botocore's own ECS model accepts the rendered gateway JSON as RegisterTaskDefinition input."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    validate_parameters(rendered_ingest_task_definition(), shape)


def test_ingest_task_definition_runs_the_gateway_from_the_same_image() -> None:
    """Same image, user, root, init, health check and logs as the daemon, `command: ["ingest"]`,
    the gateway's settings only, no injected secret (it reads its tokens itself)."""
    c = container(rendered_ingest_task_definition())
    daemon = container(rendered_task_definition())
    for key in (
        "image",
        "user",
        "readonlyRootFilesystem",
        "linuxParameters",
        "healthCheck",
        "mountPoints",
    ):
        assert c[key] == daemon[key], key
    assert c["command"] == ["ingest"]
    assert "secrets" not in c
    env = {e["name"]: e["value"] for e in c["environment"]}
    read = {env_name(field) for field in Settings.model_fields}
    assert sorted(set(env) - read) == []
    ports = {p["name"]: p["containerPort"] for p in c["portMappings"]}
    assert env["TRIAGE_INGEST_PORT"] == str(ports["ingest"])
    assert env["TRIAGE_HTTP_PORT"] == str(ports["http"])  # where `triage health` probes
    assert c["stopTimeout"] >= float(env["TRIAGE_SHUTDOWN_GRACE_S"]) + 7
    assert env["TRIAGE_INGEST_TOKENS_SECRET_ID"] == INGEST_PLACEHOLDERS["INGEST_TOKENS_SECRET_ARN"]
    Settings(**{f: env[env_name(f)] for f in Settings.model_fields if env_name(f) in env})


# --- Terraform -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def terraform() -> str:
    reason = deploy_harness.unavailable()
    if reason is not None:
        pytest.skip(reason)
    assert deploy_harness.TERRAFORM is not None
    return deploy_harness.TERRAFORM


@pytest.fixture(scope="module")
def tf_env(terraform: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform: the AWS provider from the local mirror, nothing from the net."""
    return deploy_harness.tf_env(tmp_path_factory.mktemp("tfrc"))


@pytest.fixture(scope="module")
def module_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/terraform copied out, so init never writes .terraform/ or a lock into the repo."""
    return deploy_harness.copy_module(tmp_path_factory.mktemp("tf") / "terraform")


def test_terraform_fmt_is_clean(terraform: str) -> None:
    """`terraform fmt -check -recursive` finds nothing to rewrite in deploy/terraform."""
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-no-color", str(MODULE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"files need `terraform fmt`: {result.stdout}"


@pytest.mark.timeout(300)
def test_terraform_validate_the_example(
    terraform: str, tf_env: dict[str, str], module_copy: Path
) -> None:
    """`terraform init` (provider from the mirror) and `terraform validate` pass on the example;
    the module itself is validated by the apply below."""
    cwd = module_copy / "examples" / "basic"
    tf(terraform, tf_env, cwd, "init", "-backend=false", "-input=false")
    out = tf(terraform, tf_env, cwd, "validate")
    assert "The configuration is valid" in out


def test_every_variable_is_documented_and_checked() -> None:
    """Each module variable has a description; each without a bool/map type has a validation."""
    text = (MODULE / "variables.tf").read_text(encoding="utf-8")
    blocks = re.findall(r'variable "(\w+)" \{\n(.*?)\n\}', text, re.S)
    assert len(blocks) > 30
    undocumented = [n for n, body in blocks if "description" not in body]
    unchecked = [
        n
        for n, body in blocks
        if "validation" not in body
        and not re.search(r"type\s+=\s+(bool|map\(string\))", body)
        and n
        not in {
            "backend_update_route",
            "backend_resolve_route",
            "openai_model",
            "openai_base_url",
            "platform_version",
        }
    ]
    assert undocumented == []
    assert unchecked == []


# --- terraform apply against moto --------------------------------------------------------------


@pytest.fixture(scope="module")
def applied(
    request: pytest.FixtureRequest, terraform: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Applied]:
    """`terraform apply` of the module (through a root like the example) against moto, by
    tests/deploy_harness.py: under xdist the one the suite's controller started in the
    background (tests/conftest.py), else one started here. (`terraform` skips without it.)"""
    started = getattr(request.config, "workerinput", {}).get(WORKER_INPUT_KEY)
    if started and Path(started).is_dir():
        yield deploy_harness.wait_for_result(Path(started), timeout_s=540)
        return
    harness = deploy_harness.BackgroundApply(tmp_path_factory.mktemp("apply"))
    try:
        yield deploy_harness.wait_for_result(harness.workdir, timeout_s=540)
    finally:
        harness.stop()


@pytest.mark.timeout(600)
def test_the_queue_policy_lets_the_listed_topics_and_rules_send(applied: Applied) -> None:
    """SNS topics and EventBridge rules listed in the module may send to the queue, each
    service only from the ARNs given (aws:SourceArn)."""
    sqs = applied.client("sqs")
    attrs = sqs.get_queue_attributes(
        QueueUrl=applied.outputs["queue_url"], AttributeNames=["Policy"]
    )
    statements = {s["Sid"]: s for s in json.loads(attrs["Attributes"]["Policy"])["Statement"]}
    assert set(statements) == {"SnsTopicsSendAlerts", "EventBridgeRulesSendAlerts"}
    sent_by = {
        sid: (s["Principal"]["Service"], s["Condition"]["ArnEquals"]["aws:SourceArn"])
        for sid, s in statements.items()
    }
    assert sent_by == {
        "SnsTopicsSendAlerts": ("sns.amazonaws.com", "arn:aws:sns:us-east-1:123456789012:alarms"),
        "EventBridgeRulesSendAlerts": (
            "events.amazonaws.com",
            "arn:aws:events:us-east-1:123456789012:rule/triage-security",
        ),
    }
    assert {s["Action"] for s in statements.values()} == {"sqs:SendMessage"}


@pytest.mark.timeout(600)
def test_apply_creates_the_queue_with_its_dlq(applied: Applied) -> None:
    """The queue redrives to the DLQ after 5 receives; its visibility is the daemon's default."""
    sqs = applied.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=applied.outputs["queue_url"], AttributeNames=["All"])
    attrs = attrs["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == applied.outputs["dlq_arn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert int(attrs["VisibilityTimeout"]) == Settings().visibility_timeout_s
    assert int(attrs["ReceiveMessageWaitTimeSeconds"]) == Settings().sqs_wait_time
    dlq = sqs.get_queue_attributes(QueueUrl=applied.outputs["dlq_url"], AttributeNames=["All"])
    allow = json.loads(dlq["Attributes"]["RedriveAllowPolicy"])
    assert allow == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [applied.outputs["queue_arn"]],
    }
    assert int(dlq["Attributes"]["MessageRetentionPeriod"]) > int(attrs["MessageRetentionPeriod"])


@pytest.mark.timeout(600)
def test_apply_creates_the_table_the_store_uses(applied: Applied) -> None:
    """Key schema and TTL attribute are the ones incidents/dynamodb.py reads and writes."""
    ddb = applied.client("dynamodb")
    table = ddb.describe_table(TableName=applied.outputs["table_name"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "fingerprint", "KeyType": "HASH"}]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "fingerprint", "AttributeType": "S"},
        {"AttributeName": "sweep", "AttributeType": "S"},
        {"AttributeName": "sweep_at", "AttributeType": "N"},
    ]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "sweep"
    assert index["KeySchema"] == [
        {"AttributeName": "sweep", "KeyType": "HASH"},
        {"AttributeName": "sweep_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    ttl = ddb.describe_time_to_live(TableName=applied.outputs["table_name"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    code = (SRC / "incidents" / "dynamodb.py").read_text(encoding="utf-8")
    assert '"fingerprint": {"S": _item_key(' in code
    assert 'item["expires_at"] = {"N":' in code
    assert 'item["sweep"] = {"S": _DUE}' in code and 'item["sweep_at"] = {"N":' in code
    assert 'SWEEP_INDEX = "sweep"' in code


@pytest.mark.timeout(600)
def test_task_role_allows_exactly_the_calls_the_daemon_makes(applied: Applied) -> None:
    """The task role's actions equal the IAM actions of every AWS call the task can run."""
    iam = applied.client("iam")
    document = iam.get_role_policy(RoleName="triage-task", PolicyName="run-triage")[
        "PolicyDocument"
    ]
    policy = document if isinstance(document, dict) else json.loads(document)
    in_task = {c.action for c in aws_calls() if _runner(c) == "task"}
    assert actions_of(policy) == in_task
    for statement in policy["Statement"]:
        if statement["Action"] == "cloudwatch:PutMetricData" or statement["Action"] == [
            "cloudwatch:PutMetricData"
        ]:
            assert statement["Condition"] == {
                "StringEquals": {"cloudwatch:namespace": Settings().cloudwatch_namespace}
            }
        else:
            assert statement["Resource"] != "*", statement


@pytest.mark.timeout(600)
def test_task_role_grants_the_table_and_its_index_as_the_calls_use_them(applied: Applied) -> None:
    """Each DynamoDB action of the task role is granted on exactly what the daemon's calls
    touch: the table, or the `sweep` index a query names (no `index/*`, no Query on the
    table); the queue actions on the queue, and the DLQ only for its depth."""
    iam = applied.client("iam")
    document = iam.get_role_policy(RoleName="triage-task", PolicyName="run-triage")[
        "PolicyDocument"
    ]
    granted = resources_by_action(document if isinstance(document, dict) else json.loads(document))
    in_task = [c for c in aws_calls() if _runner(c) == "task"]
    table = applied.outputs["table_arn"]
    assert {a: r for a, r in granted.items() if a.startswith("dynamodb:")} == dynamodb_resources(
        in_task, table
    )
    queue, dlq = applied.outputs["queue_arn"], applied.outputs["dlq_arn"]
    sqs = {a: r for a, r in granted.items() if a.startswith("sqs:")}
    assert sqs.pop("sqs:GetQueueAttributes") == {queue, dlq}
    assert all(resources == {queue} for resources in sqs.values()), sqs


@pytest.mark.timeout(600)
def test_operator_policy_grants_the_table_and_its_index_as_the_store_uses_them(
    applied: Applied,
) -> None:
    """The operator policy's DynamoDB actions (`triage incidents`, `triage silence` through the
    store) are granted on what the store's calls touch: Query on the `sweep` index only."""
    iam = applied.client("iam")
    arn = applied.outputs["operator_policy_arn"]
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    granted = resources_by_action(document if isinstance(document, dict) else json.loads(document))
    store = through_the_store()
    assert {a: r for a, r in granted.items() if a.startswith("dynamodb:")} == dynamodb_resources(
        store, applied.outputs["table_arn"]
    )


@pytest.mark.timeout(600)
def test_bedrock_may_invoke_the_configured_model_only(applied: Applied) -> None:
    """With llm_provider = "bedrock" the task role may call bedrock:InvokeModel (what Converse
    authorises as) on the configured foundation model in the task's region, nothing else; the
    container is told the provider and the model."""
    iam = applied.client("iam")
    document = iam.get_role_policy(RoleName="triage-task", PolicyName="run-triage")[
        "PolicyDocument"
    ]
    policy = document if isinstance(document, dict) else json.loads(document)
    [statement] = [s for s in policy["Statement"] if s.get("Sid") == "InvokeBedrockModel"]
    assert statement["Action"] in ("bedrock:InvokeModel", ["bedrock:InvokeModel"])
    assert statement["Resource"] == f"arn:aws:bedrock:{REGION}::foundation-model/{BEDROCK_MODEL_ID}"
    ecs = applied.client("ecs")
    td = ecs.describe_task_definition(taskDefinition=applied.outputs["task_definition_arn"])
    env = {e["name"]: e["value"] for e in container(td["taskDefinition"])["environment"]}
    assert (env["TRIAGE_LLM_PROVIDER"], env["TRIAGE_BEDROCK_MODEL_ID"]) == (
        "bedrock",
        BEDROCK_MODEL_ID,
    )


def test_the_bedrock_statement_exists_only_for_the_bedrock_provider() -> None:
    """Read from the module's source, since one apply shows one provider: the statement is a
    dynamic block over `local.bedrock_model_arns`, which is empty unless llm_provider is
    "bedrock", and so is the model id in the container's environment."""
    iam = (MODULE / "iam.tf").read_text(encoding="utf-8")
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    block = iam.split('sid = "InvokeBedrockModel"')[0].rsplit('dynamic "statement"', 1)[1]
    assert "for_each = length(local.bedrock_model_arns) == 0 ? [] : [1]" in block
    assert 'bedrock_model_arns = var.llm_provider != "bedrock" ? [] : (' in main
    assert (
        'TRIAGE_BEDROCK_MODEL_ID      = var.llm_provider == "bedrock" ? var.bedrock_model_id : null'
        in main
    )


@pytest.mark.timeout(600)
def test_operator_policy_covers_the_operator_commands(applied: Applied) -> None:
    """`triage dlq` and `triage send` get their actions from the operator policy, not the task,
    and so do `triage incidents` and `triage silence`: every call of the store they open."""
    iam = applied.client("iam")
    version = iam.get_policy(PolicyArn=applied.outputs["operator_policy_arn"])["Policy"]
    document = iam.get_policy_version(
        PolicyArn=applied.outputs["operator_policy_arn"], VersionId=version["DefaultVersionId"]
    )["PolicyVersion"]["Document"]
    policy = document if isinstance(document, dict) else json.loads(document)
    operator = {c.action for c in aws_calls() if _runner(c) == "operator"}
    store = {c.action for c in through_the_store()}
    assert "dynamodb:DescribeTable" in store  # open(): the table exists, DynamoDB's clock
    assert actions_of(policy) == operator | store


@pytest.mark.timeout(600)
def test_execution_role_pulls_logs_and_reads_injected_secrets_only(applied: Applied) -> None:
    """The execution role: ECR pull on the image's repository, the log group, the injected
    secrets (the module's three and extra_secrets)."""
    iam = applied.client("iam")
    document = iam.get_role_policy(RoleName="triage-execution", PolicyName="start-triage-task")[
        "PolicyDocument"
    ]
    policy = document if isinstance(document, dict) else json.loads(document)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["PullTheImage"]["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/triage"
    assert sorted(by_sid["ReadInjectedSecrets"]["Resource"]) == sorted(
        [
            PLACEHOLDERS["OPENAI_API_KEY_SECRET_ARN"],
            PLACEHOLDERS["GITHUB_TOKEN_SECRET_ARN"],
            PLACEHOLDERS["SLACK_WEBHOOK_SECRET_ARN"],
            deploy_harness.SECRETS["api"],
        ]
    )
    assert by_sid["WriteLogStreams"]["Resource"].endswith(":log-group:/ecs/triage:log-stream:*")


@pytest.mark.timeout(600)
def test_registered_task_definition_matches_the_json_file(applied: Applied) -> None:
    """What Terraform registered validates as RegisterTaskDefinition input and has the same
    container settings, variable names and secret names as deploy/ecs/task-definition.json."""
    ecs = applied.client("ecs")
    registered = ecs.describe_task_definition(taskDefinition=applied.outputs["task_definition_arn"])
    td = registered["taskDefinition"]
    request = {
        k: td[k]
        for k in (
            "family",
            "taskRoleArn",
            "executionRoleArn",
            "networkMode",
            "containerDefinitions",
            "volumes",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "runtimePlatform",
        )
        if k in td
    }
    shape = botocore.session.get_session().get_service_model("ecs")
    validate_parameters(request, shape.operation_model("RegisterTaskDefinition").input_shape)

    module_container = container(td)
    file_container = container(rendered_task_definition())
    for key in (
        "user",
        "readonlyRootFilesystem",
        "stopTimeout",
        "linuxParameters",
        "healthCheck",
        "mountPoints",
        "essential",
        "name",
    ):
        assert module_container[key] == file_container[key], key
    assert module_container["logConfiguration"]["options"].keys() == (
        file_container["logConfiguration"]["options"].keys()
    )
    # The applied module runs Bedrock; the JSON file is the OpenAI set-up, without these two.
    assert {e["name"] for e in module_container["environment"]} == {
        e["name"] for e in file_container["environment"]
    } | {"TRIAGE_LLM_PROVIDER", "TRIAGE_BEDROCK_MODEL_ID"}
    assert module_container["secrets"] == [
        {"name": "OPENAI_API_KEY", "valueFrom": PLACEHOLDERS["OPENAI_API_KEY_SECRET_ARN"]},
        {"name": "GITHUB_TOKEN", "valueFrom": PLACEHOLDERS["GITHUB_TOKEN_SECRET_ARN"]},
        {"name": "SLACK_WEBHOOK_URL", "valueFrom": PLACEHOLDERS["SLACK_WEBHOOK_SECRET_ARN"]},
        # extra_secrets, after the module's own
        {"name": "TRIAGE_API_TOKEN", "valueFrom": deploy_harness.SECRETS["api"]},
    ]
    env = {e["name"]: e["value"] for e in module_container["environment"]}
    assert env["ALERT_TRIAGE_QUEUE_URL"] == applied.outputs["queue_url"]
    assert env["TRIAGE_STORE_URL"] == f"dynamodb://{applied.outputs['table_name']}"
    assert env["BACKEND_TOKEN_SECRET_ID"] == applied.outputs["backend_token_secret_arn"]
    assert td["taskRoleArn"] == applied.outputs["task_role_arn"]


@pytest.mark.timeout(600)
def test_service_scales_on_queue_depth(applied: Applied) -> None:
    """A Fargate service without public IPs, and step scaling on ApproximateNumberOfMessagesVisible."""
    ecs = applied.client("ecs")
    (service,) = ecs.describe_services(cluster="triage-test", services=["triage"])["services"]
    assert service["launchType"] == "FARGATE"
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "DISABLED"
    # moto does not echo deploymentConfiguration: read what Terraform sent from its local
    # state file (format 4; `terraform show -json` says the same at the cost of a run).
    state = json.loads((applied.root / "terraform.tfstate").read_text(encoding="utf-8"))
    assert state["version"] == 4
    (svc,) = [
        r["instances"][0]["attributes"]
        for r in state["resources"]
        if (r.get("module"), r["type"], r["name"]) == ("module.triage", "aws_ecs_service", "this")
    ]
    assert svc["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    assert svc["deployment_minimum_healthy_percent"] == 100

    scaling = applied.client("application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert target["ResourceId"] == "service/triage-test/triage"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert {p["PolicyType"] for p in policies} == {"StepScaling"}
    alarms = applied.client("cloudwatch").describe_alarms()["MetricAlarms"]
    policy_arns = {p["PolicyARN"] for p in policies}
    scaling_alarms = [a for a in alarms if set(a["AlarmActions"]) & policy_arns]
    assert {a["MetricName"] for a in scaling_alarms} == {"ApproximateNumberOfMessagesVisible"}
    assert {a["AlarmActions"][0] for a in scaling_alarms} == policy_arns


def _metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or those of its metric-math queries."""
    if "MetricName" in alarm:
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        return [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"], "Dims": dims}]
    return [
        {
            "Namespace": q["MetricStat"]["Metric"]["Namespace"],
            "MetricName": q["MetricStat"]["Metric"]["MetricName"],
            "Dims": {
                d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"].get("Dimensions", [])
            },
        }
        for q in alarm["Metrics"]
        if "MetricStat" in q
    ]


def _triage_series(namespace: str, name: str, dims: dict[str, str]) -> None:
    """`name` is a metric triage records, read under Service alone (as every series is also
    published), or under a dimension that metric has."""
    from triage.ops.metrics_export import METRICS

    assert name in METRICS, name
    assert dims.get("Service") in {"triage", "triage-ingest"}, (name, dims)
    assert namespace == Settings().cloudwatch_namespace


@pytest.mark.timeout(600)
def test_apply_creates_the_alarms_with_the_topic_as_their_action(applied: Applied) -> None:
    """The five alarms exist with the module's SNS topic as ALARM and OK action: the DLQ's
    depth above 0, the queue's oldest message age, the summarisation failure percentage (metric
    math over SummarizationFailures and LLMCalls{outcome=ok}), the longest-open breaker, and the
    gateway's 5xx percentage from its load balancer; triage's series are ones the code records."""
    cloudwatch = applied.client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    topic = applied.outputs["alarm_topic_arn"]
    assert topic and topic.endswith(":triage-alarms")
    assert applied.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    names = {
        "dlq_not_empty": "triage-dlq-not-empty",
        "oldest_message": "triage-oldest-message-age",
        "summarization_failures": "triage-summarization-failures",
        "breaker_open": "triage-breaker-open",
        "ingest_5xx": "triage-ingest-5xx",
    }
    assert set(applied.outputs["alarm_arns"]) == set(names)
    for key, name in names.items():
        alarm = alarms[name]
        assert alarm["AlarmArn"] == applied.outputs["alarm_arns"][key]
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        for stat in _metric_stats(alarm):
            if not stat["Namespace"].startswith("AWS/"):
                _triage_series(stat["Namespace"], stat["MetricName"], stat["Dims"])
    dlq = alarms["triage-dlq-not-empty"]
    dlq_name = applied.outputs["dlq_url"].rsplit("/", 1)[1]
    assert (dlq["MetricName"], dlq["Dimensions"]) == (
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": dlq_name}],
    )
    assert (dlq["ComparisonOperator"], dlq["Threshold"]) == ("GreaterThanThreshold", 0)
    oldest = alarms["triage-oldest-message-age"]
    assert (oldest["MetricName"], oldest["Threshold"]) == ("ApproximateAgeOfOldestMessage", 900)
    failures = alarms["triage-summarization-failures"]
    read = {(s["MetricName"], s["Dims"].get("outcome")) for s in _metric_stats(failures)}
    assert read == {("SummarizationFailures", None), ("LLMCalls", "ok")}
    [expression] = [
        q for q in failures["Metrics"] if q.get("ReturnData", True) and "Expression" in q
    ]
    assert "100 * FILL(failures, 0)" in expression["Expression"]
    breaker = alarms["triage-breaker-open"]
    assert (breaker["MetricName"], breaker["Statistic"], breaker["Threshold"]) == (
        "BreakerOpenDuration",
        "Maximum",
        300,
    )
    assert breaker["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    ingest = {s["MetricName"] for s in _metric_stats(alarms["triage-ingest-5xx"])}
    assert ingest == {"RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"}


@pytest.mark.timeout(600)
def test_apply_creates_a_dashboard_of_metrics_that_exist(applied: Applied) -> None:
    """The dashboard shows the queue and DLQ from SQS, the alarms, and graphs whose every
    triage series is one the code records (under Service alone)."""
    from triage.ops.metrics_export import METRICS

    name = applied.outputs["dashboard_name"]
    body = json.loads(
        applied.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"]
    )
    widgets = body["widgets"]
    [alarm_widget] = [w for w in widgets if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(
        applied.outputs["alarm_arns"].values()
    )
    shown = set()
    for widget in (w for w in widgets if w["type"] == "metric"):
        for line in widget["properties"]["metrics"]:
            namespace, metric, *rest = line
            dims = dict(zip(rest[0:-1:2], rest[1:-1:2], strict=True))
            if namespace.startswith("AWS/"):
                shown.add(metric)
                continue
            _triage_series(namespace, metric, dims)
            shown.add(metric)
    assert {"ApproximateAgeOfOldestMessage", "HTTPCode_Target_5XX_Count"} <= shown
    core = {"TicketsCreated", "SummarizationFailures", "LLMLatency", "SinkLatency",
            "BreakerOpenDuration", "MessagesInFlight", "DlqMessagesVisible", "IngestRequests"}  # fmt: skip
    assert core <= shown and shown - {m for m in shown if m in METRICS} <= {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_5XX_Count",
    }


@pytest.mark.timeout(600)
def test_plan_refuses_inconsistent_settings(applied: Applied) -> None:
    """Preconditions stop a plan whose stopTimeout cuts the drain short, whose size Fargate
    lacks or whose gateway certificate is no ACM ARN; one plan with all three names each (run
    by tests/deploy_harness.py in the applied root, right after the apply)."""
    returncode, stderr = applied.inconsistent_plan
    assert returncode != 0
    said = " ".join(stderr.split())
    assert [m for m in deploy_harness.INCONSISTENT.values() if m not in said] == []


@pytest.mark.timeout(600)
def test_plan_refuses_partial_secret_arns_and_credentials_in_plain_text(applied: Applied) -> None:
    """The module's variables refuse a secret ARN without its -AbCdEf suffix (IAM would never
    match it: AccessDenied when ECS or the daemon first reads it) and a credential in
    extra_environment (plain text in the task definition), named in any case; one plan names
    both."""
    returncode, stderr = applied.refused_plan
    assert returncode != 0
    said = " ".join(stderr.split())
    assert [m for m in deploy_harness.REFUSED_INPUTS.values() if m not in said] == []


@pytest.mark.timeout(600)
def test_plan_takes_the_longest_name_the_module_allows(applied: Applied) -> None:
    """A 31-character `name` plans with the gateway enabled: its load balancer and target group
    names, "<name>-ingest" cut to 32 characters, do not end with the hyphen the provider refuses."""
    returncode, stderr = applied.long_name_plan
    assert (returncode, stderr) == (0, "")


# --- The gateway's service ------------------------------------------------------------------------


@pytest.mark.timeout(600)
def test_ingest_role_allows_exactly_the_calls_the_gateway_makes(applied: Applied) -> None:
    """The gateway's task role: the IAM actions of every AWS call in src/triage/ingest, each
    scoped to the alerts queue or the tokens secret, nothing else."""
    iam = applied.client("iam")
    document = iam.get_role_policy(RoleName="triage-ingest-task", PolicyName="run-triage-ingest")[
        "PolicyDocument"
    ]
    policy = document if isinstance(document, dict) else json.loads(document)
    assert actions_of(policy) == {c.action for c in aws_calls() if _runner(c) == "ingest"}
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["SendToAlertsQueue"]["Resource"] == applied.outputs["queue_arn"]
    assert by_sid["ReadIngestTokens"]["Resource"] == applied.outputs["ingest_tokens_secret_arn"]
    assert applied.outputs["ingest_task_role_arn"].endswith(":role/triage-ingest-task")


@pytest.mark.timeout(600)
def test_ingest_service_sits_behind_an_https_alb(applied: Applied) -> None:
    """An HTTPS listener with the given certificate forwards to an IP target group on the
    gateway's port, health-checked on /healthz; the Fargate service registers its container."""
    elb = applied.client("elbv2")
    (lb,) = elb.describe_load_balancers(Names=["triage-ingest"])["LoadBalancers"]
    assert lb["Type"] == "application"
    assert lb.get("Scheme", "internet-facing") == "internet-facing"  # moto leaves out the default
    (listener,) = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    assert listener["Certificates"][0]["CertificateArn"].startswith(f"arn:aws:acm:{REGION}:")
    (group,) = elb.describe_target_groups(Names=["triage-ingest"])["TargetGroups"]
    assert (group["Port"], group["TargetType"], group["HealthCheckPath"]) == (
        8081,
        "ip",
        "/healthz",
    )
    assert listener["DefaultActions"][0]["TargetGroupArn"] == group["TargetGroupArn"]
    assert applied.outputs["ingest_url"] == f"https://{lb['DNSName']}"
    ecs = applied.client("ecs")
    (service,) = ecs.describe_services(cluster="triage-test", services=["triage-ingest"])[
        "services"
    ]
    assert service["launchType"] == "FARGATE"
    (binding,) = service["loadBalancers"]
    assert binding == {
        "targetGroupArn": group["TargetGroupArn"],
        "containerName": "triage-ingest",
        "containerPort": 8081,
    }


@pytest.mark.timeout(600)
def test_registered_ingest_task_definition_matches_the_json_file(applied: Applied) -> None:
    """What Terraform registered for the gateway validates as RegisterTaskDefinition input and
    has the JSON file's container settings, command and variable names, with the module's
    queue, secret and role filled in."""
    ecs = applied.client("ecs")
    td = ecs.describe_task_definition(taskDefinition=applied.outputs["ingest_task_definition_arn"])[
        "taskDefinition"
    ]
    module_container = container(td)
    file_container = container(rendered_ingest_task_definition())
    for key in ("name", "command", "user", "readonlyRootFilesystem", "stopTimeout",
                "linuxParameters", "healthCheck", "mountPoints", "portMappings"):  # fmt: skip
        assert module_container[key] == file_container[key], key
    assert {e["name"] for e in module_container["environment"]} == {
        e["name"] for e in file_container["environment"]
    }
    env = {e["name"]: e["value"] for e in module_container["environment"]}
    assert env["ALERT_TRIAGE_QUEUE_URL"] == applied.outputs["queue_url"]
    assert env["TRIAGE_INGEST_TOKENS_SECRET_ID"] == applied.outputs["ingest_tokens_secret_arn"]
    assert td["taskRoleArn"] == applied.outputs["ingest_task_role_arn"]
    assert td["executionRoleArn"] == applied.outputs["execution_role_arn"]
