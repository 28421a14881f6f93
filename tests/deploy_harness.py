"""`terraform apply` of deploy/terraform against a moto server of its own, in a process of its own.

Most of the apply's ~100 s is the AWS provider waiting, not working: it reads each SQS queue's
attributes, and then the queue policy's, until six reads in a row 5 s apart agree (~25 s each,
one after the other, since the policy needs the queue and the queue its DLQ). Inside a test that
wait held one of the suite's five xdist workers. So tests/conftest.py starts this process as
soon as a worker has collected tests/test_deploy.py, the file runs last, and its `applied`
fixture reads what the apply left; run without xdist, the fixture starts the process itself.

    .venv/bin/python tests/deploy_harness.py WORKDIR

copies the module to WORKDIR/module, writes a root like the example to WORKDIR/root, applies it
and plans the settings the module must refuse there (test_deploy.py checks what it said; ~10 s
of terraform's CPU, run here so that the file's own share is a few seconds), then writes
WORKDIR/result.json: the endpoint, outputs and plan, or `{"error": ...}` with terraform's words. Then it serves moto (the tests read back what the apply made) until its
stdin closes: the process that started it ends it by closing the pipe, or by exiting.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "deploy" / "terraform"
TERRAFORM = shutil.which("terraform") or (
    "/usr/local/bin/terraform" if Path("/usr/local/bin/terraform").exists() else None
)
#: A filesystem mirror holding registry.terraform.io/hashicorp/aws (override with the env var).
MIRROR = Path(os.environ.get("TRIAGE_TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/triage:1.0.0"
SECRETS = {
    "openai": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:triage/openai-AbCdEf",
    "github": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:triage/github-AbCdEf",
    "slack": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:triage/slack-AbCdEf",
    "api": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:triage/api-token-AbCdEf",
}
#: The model the applied module runs with llm_provider = "bedrock".
BEDROCK_MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
RESULT = "result.json"
#: Settings the module must refuse (`-var` values), and what its refusal says.
INCONSISTENT = {
    "stop_timeout_s=25": "stop_timeout_s must be at least shutdown_grace_s + 7",
    "memory=4096": "is not a Fargate pairing for cpu 256",
    "ingest_certificate_arn=not-an-arn": "ingest_certificate_arn must be an ACM certificate ARN",
}
#: Inputs the module's variables must refuse, planned apart from INCONSISTENT: an input the
#: task definition is built from, once refused, leaves its preconditions unchecked.
REFUSED_INPUTS = {
    # A partial secret ARN (no -AbCdEf suffix): IAM would never match it.
    f"github_token_secret_arn=arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:triage/github": (
        "github_token_secret_arn must be the secret's full ARN"
    ),
    # In lower case, as the daemon also reads it: still TRIAGE_API_TOKEN, still refused.
    'extra_environment={triage_api_token="plain-text-in-the-task-definition"}': (
        "extra_environment must not hold a credential"
    ),
}
#: A name as long as the module takes (32 characters less one): "<name>-ingest" cut to the load
#: balancer's 32 characters ends with a hyphen unless the module trims it. Planned, must pass.
LONGEST_NAMES = {"name=" + "t" * 31: ""}
#: The key of xdist's workerinput under which the controller names the harness's directory.
WORKER_INPUT_KEY = "triage_deploy_harness"


def unavailable() -> str | None:
    """Why terraform cannot run here (the tests skip, saying so), or None."""
    if TERRAFORM is None:
        return "terraform binary not found on PATH or at /usr/local/bin/terraform"
    if not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return (
            f"no hashicorp/aws provider in a filesystem mirror at {MIRROR} (set "
            "TRIAGE_TF_PROVIDER_MIRROR); `terraform init` cannot download it offline"
        )
    return None


def tf_env(config_dir: Path) -> dict[str, str]:
    """Environment for terraform: the AWS provider from the local mirror, nothing from the net
    (its CLI configuration is written to `config_dir`)."""
    rc = config_dir / "terraformrc"
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{MIRROR}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    # terraform and the AWS provider are Go programs holding the provider's large schema: a
    # collection at 4x the live heap, not 2x, cut their CPU by ~15% here (validate: 4.8 -> 4.0 s).
    env.setdefault("GOGC", "400")
    return env


def tf(terraform: str, env: dict[str, str], cwd: Path, *args: str, timeout: float = 300) -> str:
    """`terraform ARGS` in `cwd`; its stdout, or an AssertionError with everything it said."""
    result = subprocess.run(
        [terraform, *args, "-no-color"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"terraform {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def copy_module(target: Path) -> Path:
    """deploy/terraform copied out, so init never writes .terraform/ or a lock into the repo."""
    shutil.copytree(MODULE, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return target


ROOT_MODULE = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.40.0, < 6.0.0" }
  }
}

variable "name" {
  type    = string
  default = "triage"
}

variable "stop_timeout_s" {
  type    = number
  default = 30
}

variable "memory" {
  type    = number
  default = 512
}

variable "ingest_certificate_arn" {
  type    = string
  default = null
}

variable "github_token_secret_arn" {
  type    = string
  default = "%(github)s"
}

variable "extra_environment" {
  type    = map(string)
  default = {}
}

provider "aws" {
  region                      = "%(region)s"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    acm                    = "%(endpoint)s"
    applicationautoscaling = "%(endpoint)s"
    cloudwatch             = "%(endpoint)s"
    cloudwatchlogs         = "%(endpoint)s"
    dynamodb               = "%(endpoint)s"
    ec2                    = "%(endpoint)s"
    ecs                    = "%(endpoint)s"
    elbv2                  = "%(endpoint)s"
    iam                    = "%(endpoint)s"
    secretsmanager         = "%(endpoint)s"
    sns                    = "%(endpoint)s"
    sqs                    = "%(endpoint)s"
    sts                    = "%(endpoint)s"
  }
}

resource "aws_ecs_cluster" "this" {
  name = "triage-test"
}

resource "aws_vpc" "this" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "this" {
  vpc_id     = aws_vpc.this.id
  cidr_block = "10.0.1.0/24"
}

resource "aws_security_group" "this" {
  name   = "triage"
  vpc_id = aws_vpc.this.id
}

# The ingest ALB's subnets, in two Availability Zones, and its certificate.
resource "aws_subnet" "public_a" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.0.101.0/24"
  availability_zone = "%(region)sa"
}

resource "aws_subnet" "public_b" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.0.102.0/24"
  availability_zone = "%(region)sb"
}

resource "aws_acm_certificate" "ingest" {
  domain_name       = "triage-ingest.example.com"
  validation_method = "DNS"
}

module "triage" {
  source                      = "%(module)s"
  name                        = var.name
  cluster_name                = aws_ecs_cluster.this.name
  subnet_ids                  = [aws_subnet.this.id]
  security_group_ids          = [aws_security_group.this.id]
  container_image             = "%(image)s"
  backend_base_url            = "https://tickets.example.com"
  metrics_mode                = "cloudwatch"
  openai_api_key_secret_arn   = "%(openai)s"
  llm_provider                = "bedrock"
  bedrock_model_id            = "%(bedrock_model)s"
  github_token_secret_arn     = var.github_token_secret_arn
  extra_environment           = var.extra_environment
  extra_secrets               = { TRIAGE_API_TOKEN = "%(api)s" }
  slack_webhook_secret_arn    = "%(slack)s"
  table_deletion_protection   = false
  secret_recovery_window_days = 0
  stop_timeout_s              = var.stop_timeout_s
  memory                      = var.memory
  tags                        = { Application = "triage" }
  ingest_enabled              = true
  ingest_certificate_arn      = coalesce(var.ingest_certificate_arn, aws_acm_certificate.ingest.arn)
  ingest_subnet_ids           = [aws_subnet.public_a.id, aws_subnet.public_b.id]
  create_alarm_topic          = true
  sns_topic_arns              = ["arn:aws:sns:us-east-1:123456789012:alarms"]
  eventbridge_rule_arns       = ["arn:aws:events:us-east-1:123456789012:rule/triage-security"]
}

output "triage" {
  value = module.triage
}
"""


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in this process, with two shims for what moto 5 lacks and the AWS
    provider reads back: SQS RedriveAllowPolicy, and Application Auto Scaling tags."""
    import pytest
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.server import ThreadedMotoServer
    from moto.sqs.models import Queue

    from moto_speed import lighter_moto_requests

    attributes = Queue.attributes

    def with_redrive_allow(self: Queue) -> dict[str, Any]:
        result: dict[str, Any] = attributes.fget(self)  # type: ignore[attr-defined]
        result.pop("RedriveAllowPolicy", None)
        if getattr(self, "redrive_allow_policy", None):
            result["RedriveAllowPolicy"] = self.redrive_allow_policy
        return result

    tags: dict[str, dict[str, str]] = {}

    def tag_resource(self: ApplicationAutoScalingResponse) -> str:
        tags.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags"))
        return "{}"

    def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
        return json.dumps({"Tags": tags.get(self._get_param("ResourceARN"), {})})

    def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        body = json.loads(register(self))
        tags.setdefault(body["ScalableTargetARN"], {}).update(self._get_param("Tags") or {})
        return json.dumps(body)

    register = ApplicationAutoScalingResponse.register_scalable_target
    lighter_moto_requests()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Queue, "attributes", property(with_redrive_allow))
        mp.setattr(Queue, "redrive_allow_policy", None, raising=False)
        mp.setattr(Queue, "BASE_ATTRIBUTES", [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"])
        mp.setattr(ApplicationAutoScalingResponse, "tag_resource", tag_resource, raising=False)
        mp.setattr(
            ApplicationAutoScalingResponse,
            "list_tags_for_resource",
            list_tags_for_resource,
            raising=False,
        )
        mp.setattr(
            ApplicationAutoScalingResponse, "register_scalable_target", register_scalable_target
        )
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def plan(root: Path, env: dict[str, str], settings: dict[str, str]) -> list[Any]:
    """What a plan of `settings` (`-var` values) in `root` did: its exit code and stderr."""
    assert TERRAFORM is not None, unavailable()
    variables = [arg for var in settings for arg in ("-var", var)]
    result = subprocess.run(
        # No refresh: the preconditions need the configuration, not moto's view of the state.
        [TERRAFORM, "plan", "-input=false", "-no-color", "-refresh=false", *variables],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return [result.returncode, result.stderr]


def apply(workdir: Path, endpoint: str) -> dict[str, Any]:
    """init and apply the root in `workdir/root` against `endpoint`: the module's outputs, and
    what plans of the INCONSISTENT settings, of the REFUSED_INPUTS and of LONGEST_NAMES then did."""
    assert TERRAFORM is not None, unavailable()
    env = tf_env(workdir)
    module = copy_module(workdir / "module")
    root = workdir / "root"
    root.mkdir()
    values = {"region": REGION, "endpoint": endpoint, "module": module, "image": IMAGE}
    values |= {"bedrock_model": BEDROCK_MODEL_ID, **SECRETS}
    (root / "main.tf").write_text(ROOT_MODULE % values, encoding="utf-8")
    tf(TERRAFORM, env, root, "init", "-backend=false", "-input=false")
    tf(TERRAFORM, env, root, "apply", "-auto-approve", "-input=false", timeout=540)
    outputs = json.loads(tf(TERRAFORM, env, root, "output", "-json"))["triage"]["value"]
    return {
        "outputs": outputs,
        "inconsistent_plan": plan(root, env, INCONSISTENT),
        "refused_plan": plan(root, env, REFUSED_INPUTS),
        "long_name_plan": plan(root, env, LONGEST_NAMES),
    }


def _write_result(workdir: Path, result: dict[str, Any]) -> None:
    partial = workdir / (RESULT + ".partial")
    partial.write_text(json.dumps(result), encoding="utf-8")
    partial.replace(workdir / RESULT)  # whole or absent, for a reader in another process


def main(workdir: Path, stdin: IO[str] = sys.stdin) -> int:
    """Apply, say how it went in WORKDIR/result.json, then serve moto until stdin closes."""
    # Ended by its starter: the terraform it runs ends with it (its own process group).
    with contextlib.suppress(PermissionError):
        os.setpgrp()
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
    stdin_closed = threading.Event()
    threading.Thread(target=lambda: (stdin.read(), stdin_closed.set()), daemon=True).start()
    threading.Thread(
        target=lambda: (stdin_closed.wait(), os.killpg(0, signal.SIGKILL)), daemon=True
    ).start()
    with moto_server() as endpoint:
        _write_result(workdir, _applied_or_error(workdir, endpoint))
        stdin_closed.wait()
    return 0


#: What terraform says when the AWS SDK sent a create again (it retries a call whose answer it
#: did not get, or got as a transient error; why moto's answer went astray under a full suite
#: is not known) after the first had made the thing: the second is refused as a duplicate. Seen once, a security group, in a fresh
#: clone's full run (2026-12-05), the first time this session's runs saw it.
_LOST_CREATE = ("InvalidGroup.Duplicate", "AlreadyExists", "already exists")


def _applied_or_error(workdir: Path, endpoint: str) -> dict[str, Any]:
    """`apply`'s result, or `{"error": ...}` with terraform's words. An apply refused only
    because a create was sent twice is tried once more from nothing (moto reset, a new root):
    the stand-in's hiccup, not the module's; any other failure, or a second one, is reported."""
    for attempt in (1, 2):
        try:
            return {"endpoint": endpoint, **apply(workdir, endpoint)}
        except BaseException:  # a broken apply must reach the tests as terraform's words
            error = traceback.format_exc()
        if attempt == 2 or not any(words in error for words in _LOST_CREATE):
            break
        print(f"apply refused a create sent twice; once more from nothing:\n{error}", flush=True)
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        for made in ("root", "module"):
            shutil.rmtree(workdir / made, ignore_errors=True)
    return {"error": error}


# --- The side that starts it and reads its result -------------------------------------------


@dataclass(frozen=True)
class Applied:
    """What the apply made: moto's endpoint, the root it was applied in, the module's outputs;
    and the exit code and stderr of plans of the INCONSISTENT settings, of the REFUSED_INPUTS
    and of LONGEST_NAMES in that root."""

    endpoint: str
    root: Path
    outputs: dict[str, Any]
    inconsistent_plan: tuple[int, str]
    refused_plan: tuple[int, str]
    long_name_plan: tuple[int, str]

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


class BackgroundApply:
    """The harness as a child process: `start` returns at once, `stop` ends it (and moto)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        with (workdir / "harness.log").open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, __file__, str(workdir)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                process_group=0,  # its own, which it kills when it is told to stop
            )
        (workdir / "pid").write_text(str(self.process.pid), encoding="utf-8")

    def stop(self) -> None:
        """Close its stdin (it kills its process group: terraform too, if still applying)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of this process that exited but was not reaped yet is a zombie: not alive.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def wait_for_result(workdir: Path, timeout_s: float) -> Applied:
    """The apply's result, once the harness in `workdir` wrote it; an AssertionError with
    terraform's words if it failed, or with the harness's log if it died or ran out of time."""
    deadline = time.monotonic() + timeout_s
    pid = int((workdir / "pid").read_text(encoding="utf-8"))
    result_file = workdir / RESULT
    while not result_file.exists():
        log = workdir / "harness.log"
        assert _alive(pid), f"the terraform harness died:\n{log.read_text()[-5000:]}"
        assert time.monotonic() < deadline, f"no apply after {timeout_s} s:\n{log.read_text()}"
        time.sleep(0.5)
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert "error" not in result, result.get("error")
    code, stderr = result["inconsistent_plan"]
    refused_code, refused_stderr = result["refused_plan"]
    long_code, long_stderr = result["long_name_plan"]
    return Applied(
        result["endpoint"],
        workdir / "root",
        result["outputs"],
        (code, stderr),
        (refused_code, refused_stderr),
        (long_code, long_stderr),
    )


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
