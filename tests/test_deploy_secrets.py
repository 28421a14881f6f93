"""deploy/terraform's secrets: every credential the daemon reads reaches it from Secrets Manager,
never as plain text in the task definition, and every secret ARN the module accepts is one IAM
can match.

Read from the module's source (no terraform needed, milliseconds); tests/test_deploy.py's plan
shows Terraform itself refusing the same inputs, and its apply the injected secrets.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import SecretStr

from triage.settings import Settings, env_name

MODULE = Path(__file__).resolve().parents[1] / "deploy" / "terraform"

#: A secret's full ARN (what describe-secret shows: the name, then `-` and six characters),
#: a partial one (the name alone), and one with ECS's JSON-key suffix.
FULL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:triage/openai-AbCdEf"
PARTIAL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:triage/openai"
KEYED = FULL + ":api_key::"


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
    read) and one with ECS's JSON-key suffix."""
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
        if not patterns or accepts != {FULL: True, PARTIAL: False, KEYED: False}:
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
    """main.tf adds extra_secrets to the injected secrets, which the execution role's
    ReadInjectedSecrets statement names one by one."""
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    iam = (MODULE / "iam.tf").read_text(encoding="utf-8")
    injected = main[main.index("injected_secrets = ") : main.index("# The daemon's settings")]
    assert "var.extra_secrets" in injected
    assert "resources = [for s in local.injected_secrets : s.valueFrom]" in iam


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
