"""deploy/terraform's secrets: every credential the daemon reads reaches it from Secrets Manager,
never as plain text in the task definition, and every secret ARN the module accepts is one IAM
can match.

Read from the module's source (no terraform needed, milliseconds); tests/test_deploy.py's plan
shows Terraform itself refusing the same inputs, and its apply the injected secrets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import typing
from pathlib import Path

import pytest
from pydantic import SecretStr

from triage.settings import Settings, env_name

MODULE = Path(__file__).resolve().parents[1] / "deploy" / "terraform"

#: A secret's full ARN (what describe-secret shows: the name, then `-` and six characters),
#: a partial one (the name alone), and one with ECS's JSON-key suffix.
FULL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:triage/openai-AbCdEf"
PARTIAL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:triage/openai"
KEYED = FULL + ":api_key::"
#: The variables whose secrets ECS injects (valueFrom), which takes ARN:json-key::.
INJECTED_BY_ECS = {
    "openai_api_key_secret_arn",
    "github_token_secret_arn",
    "slack_webhook_secret_arn",
    "extra_secrets",
}


def variables() -> dict[str, str]:
    """Each variable of the module: name → its block's body."""
    text = (MODULE / "variables.tf").read_text(encoding="utf-8")
    return dict(re.findall(r'^variable "(\w+)" \{\n(.*?)\n\}', text, flags=re.S | re.M))


def hcl_regexes(body: str) -> list[re.Pattern[str]]:
    """The patterns of the `regex("…")` calls in a variable's validations (HCL's `\\\\` is
    one backslash; RE2 and Python read these patterns alike)."""
    found = re.findall(r'regex\("((?:[^"\\]|\\.)*)"', body)
    return [re.compile(p.replace("\\\\", "\\")) for p in found]


def refused_names(body: str) -> set[str]:
    """Every quoted upper-case name in a variable's validations (the names it refuses)."""
    validations = body[body.index("validation") :] if "validation" in body else ""
    return set(re.findall(r'"([A-Z][A-Z0-9_]+)"', validations))


def credential_variables() -> set[str]:
    """The environment names of the settings that hold a credential (SecretStr)."""
    names = set()
    for field, info in Settings.model_fields.items():
        if info.annotation is SecretStr or SecretStr in typing.get_args(info.annotation):
            names.add(env_name(field))
    return names


def injected_by_the_module() -> set[str]:
    """The variables main.tf injects from the secrets its own variables name."""
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    return set(re.findall(r'\{ name = "([A-Z_]+)", valueFrom = var\.\w+_secret_arn \}', main))


def test_every_secret_arn_variable_takes_only_a_full_secret_arn() -> None:
    """Each `*_secret_arn` variable and `extra_secrets` accepts a secret's full ARN and refuses
    a partial one (which IAM's policy resource would never match: AccessDenied at the first
    read). ECS's JSON-key suffix is taken where ECS injects the secret (the execution role is
    granted the ARN before it) and refused where the daemon reads it with GetSecretValue."""
    secret_variables = {
        name: body
        for name, body in variables().items()
        if name.endswith("_secret_arn") or name == "extra_secrets"
    }
    assert len(secret_variables) >= 6
    wrong = {}
    for name, body in secret_variables.items():
        patterns = [p for p in hcl_regexes(body) if "secretsmanager" in p.pattern]
        accepts = {arn: any(p.search(arn) for p in patterns) for arn in (FULL, PARTIAL, KEYED)}
        keyed = name in INJECTED_BY_ECS
        if not patterns or accepts != {FULL: True, PARTIAL: False, KEYED: keyed}:
            wrong[name] = accepts
    assert wrong == {}


def test_every_credential_is_injected_or_goes_through_extra_secrets() -> None:
    """Every setting holding a credential is one the module injects from a secret, or one
    `extra_environment` refuses (so it goes in `extra_secrets`); `extra_secrets` refuses the
    module's own, so no variable is set twice."""
    declared = variables()
    credentials = credential_variables()
    injected = injected_by_the_module()
    assert {"OPENAI_API_KEY", "TRIAGE_API_TOKEN", "GITHUB_APP_PRIVATE_KEY"} <= credentials
    in_plain_text = credentials - refused_names(declared["extra_environment"])
    assert sorted(in_plain_text) == []
    assert injected == {"OPENAI_API_KEY", "GITHUB_TOKEN", "SLACK_WEBHOOK_URL"}
    assert sorted(injected - refused_names(declared["extra_secrets"])) == []
    assert "BACKEND_TOKEN" in refused_names(declared["extra_environment"])


def test_extra_secrets_are_injected_and_readable_by_the_execution_role() -> None:
    """main.tf adds extra_secrets to the injected secrets, whose secrets' ARNs (without ECS's
    :json-key:: suffix) the execution role's ReadInjectedSecrets statement names."""
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    iam = (MODULE / "iam.tf").read_text(encoding="utf-8")
    injected = main[main.index("injected_secrets = ") : main.index("# The daemon's settings")]
    assert "var.extra_secrets" in injected
    assert "resources = local.injected_secret_arns" in iam
    assert 'slice(split(":", s.valueFrom), 0, 7)' in main


def test_the_refused_names_are_compared_in_any_case() -> None:
    """extra_environment's and extra_secrets' refusals upper-case the names first: the daemon
    reads its settings case-insensitively, so `triage_api_token` (or `triage_store_url`) would
    otherwise pass the check and still set TRIAGE_API_TOKEN (TRIAGE_STORE_URL)."""
    assert Settings.model_config.get("case_sensitive") is False
    declared = variables()
    for name in ("extra_environment", "extra_secrets"):
        checks = re.findall(r"setintersection\((.*?),", declared[name])
        assert checks, name
        assert set(checks) == {f"[for k in keys(var.{name}) : upper(k)]"}, name


def _secret_arn_patterns() -> dict[str, re.Pattern[str]]:
    """The regex each ECS-injected secret's variable validates its ARN with, by variable."""
    return {
        name: next(p for p in hcl_regexes(body) if "secretsmanager" in p.pattern)
        for name, body in variables().items()
        if name in INJECTED_BY_ECS
    }


@pytest.mark.parametrize(
    ("arn", "taken"),
    [
        (FULL, True),
        (f"{FULL}:OPENAI_API_KEY::", True),
        (f"{FULL}:OPENAI_API_KEY:AWSCURRENT:", True),
        (PARTIAL, False),
        (f"{PARTIAL}:KEY::", False),
    ],
)
def test_the_module_takes_one_key_of_a_json_secret_as_ecs_does(arn: str, taken: bool) -> None:
    """Each injected secret's variable takes ECS's `ARN:KEY::` reference to one key of a JSON
    secret, which the daemon's refusal of a whole JSON secret tells people to use, and still
    refuses an ARN without its -AbCdEf suffix."""
    patterns = _secret_arn_patterns()
    assert set(patterns) == INJECTED_BY_ECS
    for name, pattern in patterns.items():
        assert (pattern.fullmatch(arn) is not None) is taken, (name, arn)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary")
def test_the_execution_role_is_granted_the_secret_of_a_key_reference(tmp_path: Path) -> None:
    """The execution role's GetSecretValue is on the secret a valueFrom reads (IAM matches the
    secret's ARN, never ECS's :KEY:: suffix), once per secret however many keys are read:
    main.tf's expression evaluated by `terraform console`."""
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    expression = re.search(r"^  injected_secret_arns = (.+)$", main, re.M)
    assert expression is not None
    given = [FULL, f"{FULL}:OPENAI_API_KEY::", f"{FULL}:GITHUB_TOKEN:AWSCURRENT:"]
    literal = "[" + ", ".join(f'{{ valueFrom = "{arn}" }}' for arn in given) + "]"
    result = subprocess.run(
        ["terraform", "console"],
        input=expression[1].replace("local.injected_secrets", literal),
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.findall(r'"([^"]+)"', result.stdout) == [FULL], result.stdout
