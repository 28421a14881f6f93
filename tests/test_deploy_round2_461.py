"""Deployment bugs found in round 2 (helper 461): what a `terraform plan` of the module shows.

The module is planned (not applied) against a moto server of this test's own, from a minimal
root, and the plan's JSON is read: the resources terraform would create, with their values.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import deploy_harness

#: A root as small as the module takes: no gateway, so no subnet or VPC is looked up.
MINIMAL_ROOT = """
provider "aws" {
  region                      = "%(region)s"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    ec2 = "%(endpoint)s"
    sts = "%(endpoint)s"
  }
}

variable "min_capacity" {
  type    = number
  default = 1
}

variable "extra_environment" {
  type    = map(string)
  default = {}
}

variable "alarm_topic_kms_key_id" {
  type    = string
  default = null
}

variable "gateway_container_port" {
  type    = number
  default = 8080
}

module "triage" {
  source             = "%(module)s"
  cluster_name       = "triage-test"
  subnet_ids         = ["subnet-0123456789abcdef0"]
  security_group_ids = ["sg-0123456789abcdef0"]
  container_image    = "%(image)s"
  backend_base_url   = "https://tickets.example.com"
  min_capacity       = var.min_capacity
  extra_environment  = var.extra_environment
}

# A second instance in the same account and region, as a staging beside production.
module "staging" {
  source             = "%(module)s"
  name               = "triage-staging"
  cluster_name       = "triage-test"
  subnet_ids         = ["subnet-0123456789abcdef0"]
  security_group_ids = ["sg-0123456789abcdef0"]
  container_image    = "%(image)s"
  backend_base_url   = "https://tickets-staging.example.com"
  create_alarm_topic = true

  alarm_topic_kms_key_id = var.alarm_topic_kms_key_id
}

# The webhook gateway, its tasks in a subnet of the VPC's secondary CIDR block (100.64.0.0/16,
# as VPCs grown past their first block, or EKS-style ones, place them).
module "gateway" {
  source                 = "%(module)s"
  name                   = "triage-gw"
  container_port         = var.gateway_container_port
  cluster_name           = "triage-test"
  subnet_ids             = ["%(task_subnet)s"]
  security_group_ids     = ["sg-0123456789abcdef0"]
  container_image        = "%(image)s"
  backend_base_url       = "https://tickets.example.com"
  ingest_enabled         = true
  ingest_certificate_arn = "arn:aws:acm:%(region)s:123456789012:certificate/0123abcd"
  ingest_subnet_ids      = ["%(public_a)s", "%(public_b)s"]
}
"""


#: Where the gateway's tasks run: a subnet of the VPC's secondary CIDR block.
TASK_SUBNET_CIDR = "100.64.1.0/24"


def _network(endpoint: str) -> dict[str, str]:
    """A VPC in moto with a second CIDR block: two public subnets in its first block for the
    load balancer, and the tasks' subnet in the second. Their ids, for the root."""
    import boto3

    ec2 = boto3.client(
        "ec2",
        region_name=deploy_harness.REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.0.0/16")

    def subnet(cidr: str, zone: str) -> str:
        made = ec2.create_subnet(
            VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{deploy_harness.REGION}{zone}"
        )
        return str(made["Subnet"]["SubnetId"])

    return {
        "public_a": subnet("10.0.1.0/24", "a"),
        "public_b": subnet("10.0.2.0/24", "b"),
        "task_subnet": subnet(TASK_SUBNET_CIDR, "a"),
    }


@pytest.fixture(scope="module")
def planned_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """An initialised minimal root and terraform's environment, with moto serving STS."""
    reason = deploy_harness.unavailable()
    if reason is not None:
        pytest.skip(reason)
    assert deploy_harness.TERRAFORM is not None
    workdir = tmp_path_factory.mktemp("round2")
    env = deploy_harness.tf_env(workdir)
    module = deploy_harness.copy_module(workdir / "module")
    root = workdir / "root"
    root.mkdir()
    with deploy_harness.moto_server() as endpoint:
        values = {"region": deploy_harness.REGION, "endpoint": endpoint, "module": module}
        values |= {"image": deploy_harness.IMAGE, **_network(endpoint)}
        (root / "main.tf").write_text(MINIMAL_ROOT % values, encoding="utf-8")
        deploy_harness.tf(
            deploy_harness.TERRAFORM, env, root, "init", "-backend=false", "-input=false"
        )
        yield root, env


#: Plans already made, by root and variables: a plan costs the AWS provider ~8 s of CPU, and
#: three tests read the default one (min_capacity 1, as the root's default).
_PLANS: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}


def _plan(root: Path, env: dict[str, str], *variables: str) -> dict[str, Any]:
    """The plan of `variables` (`-var` values) in `root`, as `terraform show -json` gives it
    (made once per root and variables; the tests only read it)."""
    key = (str(root), variables)
    if key not in _PLANS:
        _PLANS[key] = _made_plan(root, env, *variables)
    return _PLANS[key]


def _made_plan(root: Path, env: dict[str, str], *variables: str) -> dict[str, Any]:
    """`_plan`, made now."""
    assert deploy_harness.TERRAFORM is not None
    args = [arg for var in variables for arg in ("-var", var)]
    deploy_harness.tf(
        deploy_harness.TERRAFORM,
        env,
        root,
        "plan",
        "-input=false",
        "-refresh=false",
        "-out=tfplan",
        *args,
    )
    shown = subprocess.run(
        [deploy_harness.TERRAFORM, "show", "-json", "tfplan"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    plan: dict[str, Any] = json.loads(shown.stdout)
    return plan


#: One bad value for each of the module's refusals checked here: a variable's validation and two
#: resources' preconditions, in different module instances. Terraform checks each of them in the
#: same plan and reports every one that fails, each in its own words, so one refused plan (~8 s
#: of the AWS provider's CPU) serves the three tests, each looking for its own message.
REFUSING = (
    'extra_environment={triage_shutdown_cancel_s="10"}',
    "alarm_topic_kms_key_id=alias/aws/sns",
    "gateway_container_port=8081",
)
_REFUSALS: dict[str, str] = {}


def _refused(root: Path, env: dict[str, str]) -> str:
    """What terraform said refusing the plan of every REFUSING value in `root`, on one line
    (planned once per root)."""
    if str(root) not in _REFUSALS:
        _REFUSALS[str(root)] = _refusal(root, env, *REFUSING)
    return _REFUSALS[str(root)]


def _refusal(root: Path, env: dict[str, str], *variables: str) -> str:
    """`_refused`, planned now."""
    assert deploy_harness.TERRAFORM is not None
    args = [arg for var in variables for arg in ("-var", var)]
    command = [deploy_harness.TERRAFORM, "plan", "-input=false", "-no-color", "-refresh=false"]
    result = subprocess.run(
        [*command, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0, f"the plan of {variables} passed: {result.stdout[-2000:]}"
    return " ".join(result.stderr.split())


def _resources(plan: dict[str, Any], kind: str, module: str = "triage") -> list[dict[str, Any]]:
    """The planned resources of type `kind` in `module`, with their values."""
    (child,) = [
        m
        for m in plan["planned_values"]["root_module"]["child_modules"]
        if m["address"] == f"module.{module}"
    ]
    return [r for r in child["resources"] if r["type"] == kind]


def _in_module(address: str) -> str:
    """A planned resource's address as the module's configuration names it."""
    return re.sub(r"^module\.triage\.", "", address).split("[")[0].removesuffix(".arn")


def _metric_math(expression: str, values: dict[str, float]) -> float:
    """`expression` of CloudWatch metric math (IF, AND, OR, comparisons, arithmetic, the ids
    of its metrics) evaluated for one datapoint of each metric in `values`."""
    python = re.sub(r"\bAND\b", " and ", expression)
    python = re.sub(r"\bOR\b", " or ", python)
    python = re.sub(r"\bIF\(", "_if(", python)
    assert re.fullmatch(r"[\w\s()<>=!.,+*/-]*", python), expression

    def _if(condition: object, then: float, otherwise: float) -> float:
        return then if condition else otherwise

    return float(eval(python, {"__builtins__": {}, "_if": _if}, dict(values)))


#: The comparison of a metric alarm, as a function of (value, threshold).
COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
    "LessThanThreshold": lambda v, t: v < t,
}


def _alarm_fires(alarm: dict[str, Any], queue: dict[str, float]) -> bool:
    """Whether `alarm` breaches when the alerts queue reads `queue` (SQS metric name -> value)
    and every other metric reads 0."""

    def metric_value(metric_name: str) -> float:
        return queue.get(metric_name, 0.0)

    if alarm["metric_name"]:
        value = metric_value(alarm["metric_name"])
    else:
        ids = {
            q["id"]: metric_value(q["metric"][0]["metric_name"])
            for q in alarm["metric_query"]
            if q["metric"]
        }
        (result,) = [q for q in alarm["metric_query"] if q["return_data"]]
        value = (
            _metric_math(result["expression"], ids) if result["expression"] else ids[result["id"]]
        )
    return bool(COMPARE[alarm["comparison_operator"]](value, alarm["threshold"]))


def test_a_service_scaled_to_zero_is_woken_by_one_waiting_alert(
    planned_root: tuple[Path, dict[str, str]],
) -> None:
    """With min_capacity = 0, one alert waiting in a queue no task reads makes an alarm add a
    task (the scale-out alarm alone waits for scale_out_backlog alerts, 100 by default)."""
    root, env = planned_root
    plan = _plan(root, env, "min_capacity=0")
    adding = {
        p["name"]
        for p in _resources(plan, "aws_appautoscaling_policy")
        if any(
            step["scaling_adjustment"] > 0
            for config in p["values"]["step_scaling_policy_configuration"]
            for step in config["step_adjustment"]
        )
    }
    alarms = _resources(plan, "aws_cloudwatch_metric_alarm")
    # An alarm's actions are policy ARNs, unknown in a plan: matched through the configuration.
    config = plan["configuration"]["root_module"]["module_calls"]["triage"]["module"]
    actions = {
        r["address"]: r["expressions"].get("alarm_actions", {}).get("references", [])
        for r in config["resources"]
        if r["type"] == "aws_cloudwatch_metric_alarm"
    }

    def scaling_out(waiting: float) -> list[str]:
        """The alarms adding a task when `waiting` alerts wait and none is in flight."""
        return [
            a["values"]["alarm_name"]
            for a in alarms
            if any(
                _in_module(reference) == f"aws_appautoscaling_policy.{name}"
                for reference in actions[_in_module(a["address"])]
                for name in adding
            )
            and _alarm_fires(a["values"], {"ApproximateNumberOfMessagesVisible": waiting})
        ]

    # The reading above is the one the backlog alarm is read with: it scales out at 100.
    assert "triage-queue-backlog-high" in scaling_out(100.0)
    assert scaling_out(1.0), "no alarm adds a task for one waiting alert when no task runs"


def _own_namespaces(plan: dict[str, Any], module: str) -> set[str]:
    """The namespaces `module`'s alarms read triage's own metrics from (every namespace they
    name but AWS's; the dashboard's body is known only after the apply)."""
    alarms = [a["values"] for a in _resources(plan, "aws_cloudwatch_metric_alarm", module)]
    named = {a["namespace"] for a in alarms if a["namespace"]}
    named |= {m["namespace"] for a in alarms for q in a["metric_query"] for m in q["metric"]}
    return {n for n in named if not n.startswith("AWS/")}


def test_two_instances_in_one_account_keep_their_metrics_apart(
    planned_root: tuple[Path, dict[str, str]],
) -> None:
    """A second instance of the module (staging beside production, another name) reads triage's
    metrics from a namespace of its own: with one shared namespace, staging's LLM fallbacks or
    open breaker paged production's alarms and filled its dashboard."""
    root, env = planned_root
    plan = _plan(root, env)
    production, staging = _own_namespaces(plan, "triage"), _own_namespaces(plan, "staging")
    assert production and staging
    assert not production & staging, f"both read {sorted(production & staging)}"
    # An instance named as the module's default keeps the namespace it always had.
    assert production == {"AlertTriage"}


def test_a_longer_cancel_step_set_in_extra_environment_must_fit_the_stop_timeout(
    planned_root: tuple[Path, dict[str, str]],
) -> None:
    """TRIAGE_SHUTDOWN_CANCEL_S given in extra_environment counts in the stop timeout's check
    (grace + cancel + 4 s): with 10 s, the default 23 s grace and 30 s stopTimeout, ECS's SIGKILL
    came while the daemon was still releasing messages, and the plan said nothing."""
    root, env = planned_root
    said = _refused(root, env)
    assert "TRIAGE_SHUTDOWN_CANCEL_S (10 s, from extra_environment)" in said, said


#: What CloudWatch alarms cannot publish through: SNS's AWS managed key, whose key policy (which
#: nobody can edit) does not let cloudwatch.amazonaws.com use it, so every alarm action fails
#: ("CloudWatch Alarms does not have authorization to access the SNS topic encryption key").
SNS_AWS_MANAGED_KEYS = {"alias/aws/sns", "aws/sns"}


def test_the_alarm_topic_the_module_creates_is_one_alarms_can_publish_to(
    planned_root: tuple[Path, dict[str, str]],
) -> None:
    """The topic create_alarm_topic makes is not encrypted with SNS's AWS managed key: alarms
    publishing to it failed every time (no page for a full DLQ or an open breaker)."""
    root, env = planned_root
    plan = _plan(root, env)
    (topic,) = _resources(plan, "aws_sns_topic", "staging")
    assert topic["values"].get("kms_master_key_id") not in SNS_AWS_MANAGED_KEYS
    said = _refused(root, env)
    assert "alarm_topic_kms_key_id must not be SNS's AWS managed key" in said, said


def test_the_gateways_load_balancer_may_reach_tasks_in_a_secondary_cidr_block(
    planned_root: tuple[Path, dict[str, str]],
) -> None:
    """The ingest load balancer's security group lets it reach the gateway's port in the subnets
    its tasks run in, wherever they are in the VPC: opened only to the VPC's first CIDR block,
    it could not reach tasks in a second one (every target unhealthy, every webhook a 503)."""
    root, env = planned_root
    plan = _plan(root, env)
    groups = {g["name"]: g["values"] for g in _resources(plan, "aws_security_group", "gateway")}
    egress = groups["ingest_alb"]["egress"]
    tasks = ipaddress.ip_network(TASK_SUBNET_CIDR)
    reaching = [
        rule
        for rule in egress
        if rule["from_port"] <= 8081 <= rule["to_port"]
        and any(tasks.subnet_of(ipaddress.ip_network(c)) for c in rule["cidr_blocks"])
    ]
    assert reaching, f"the load balancer may only reach {egress}"


ROOT = Path(__file__).resolve().parents[1]


def _mounted_paths() -> set[str]:
    """Every containerPath the task definitions mount a task volume at: the ECS JSON files'
    mountPoints and the Terraform module's."""
    paths = set()
    for definition in (ROOT / "deploy" / "ecs").glob("*.json"):
        for container in json.loads(definition.read_text(encoding="utf-8"))["containerDefinitions"]:
            paths |= {m["containerPath"] for m in container.get("mountPoints", [])}
    for module in (ROOT / "deploy" / "terraform").glob("*.tf"):
        text = module.read_text(encoding="utf-8")
        paths |= set(re.findall(r'containerPath\s*=\s*"([^"]+)"', text))
    return paths


def _dockerfile_volumes() -> set[str]:
    """The paths the final image declares with VOLUME (exec or plain form)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    final = text[text.rindex("\nFROM ") :]
    volumes: set[str] = set()
    for line in re.findall(r"^VOLUME\s+(.+)$", final, flags=re.M):
        volumes |= set(json.loads(line)) if line.startswith("[") else set(line.split())
    return volumes


def test_every_path_a_task_mounts_a_volume_at_is_a_volume_of_the_image() -> None:
    """Fargate (platform 1.4+) makes a task volume's bind mount root-owned, mode 0755, unless the
    image declares the path a VOLUME, whose ownership and mode it then copies: without it the
    non-root user (10001) could not write the /tmp the read-only root filesystem leaves it."""
    mounted = _mounted_paths()
    assert "/tmp" in mounted
    assert mounted <= _dockerfile_volumes()


def test_a_container_port_the_gateway_listens_on_already_is_refused(
    planned_root: tuple[Path, dict[str, str]],
) -> None:
    """container_port 8081 with the gateway on is refused at plan: its tasks would get
    TRIAGE_HTTP_PORT = TRIAGE_INGEST_PORT = 8081, which `triage ingest` refuses at start, so
    every task exited and the deployment rolled back."""
    root, env = planned_root
    said = _refused(root, env)
    assert "container_port must not be 8081 with ingest_enabled" in said, said
