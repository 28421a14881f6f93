"""Configuration round 5 (helper 502): `triage check` naming every problem when the settings
are refused, a routes file that routes nothing, `.env.example`'s credential files, and a red
team of settings as env files, queue URLs, DLQs and concurrency write them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from triage.cli import main
from triage.settings import credential_file_variables

ROOT = Path(__file__).resolve().parents[1]
#: A queue on a local SQS where nothing listens: the check's call fails at once.
LOCAL_QUEUE = "http://127.0.0.1:9/000000000000/alerts"
#: A backend token long enough to be taken for one, which no check may print.
TOKEN = "tok-502-9f3c1a7e5b2d4c6e"


def _local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings a check can run on without reaching past this machine: a queue, a backend and a
    SQLite store on loopback, where nothing answers."""
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", LOCAL_QUEUE)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BACKEND_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str], str]:
    """`triage check` in process: its exit code, each check's first line by name, stderr."""
    code = main(["check", *args])
    out, err = capsys.readouterr()
    lines: dict[str, str] = {}
    for line in out.splitlines()[:-1]:
        name = line.split()[1]
        lines.setdefault(name, line)
    return code, lines, err


# --- `triage check` with refused settings names every problem it can find -----------------


def test_check_with_a_refused_setting_still_checks_the_routes_and_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused TRIAGE_CONCURRENCY no longer hides a broken routes file and an unreachable
    queue: one run names all three, and exits 2 as a configuration error."""
    _local_stack(monkeypatch, tmp_path)
    routes = tmp_path / "routes.toml"
    routes.write_text('[[route]]\nname = "a"\nsinks = ["backnd"]\n', "utf-8")
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    monkeypatch.setenv("TRIAGE_CONCURRENCY", "0")
    code, lines, err = _report(capsys)
    assert code == 2
    assert err.startswith("triage: config: TRIAGE_CONCURRENCY: must be at least 1"), err
    assert lines["config"].startswith("FAIL") and "TRIAGE_CONCURRENCY" in lines["config"]
    assert lines["routes"].startswith("FAIL") and "did you mean 'backend'" in lines["routes"]
    assert lines["queue"].startswith("FAIL"), lines
    assert lines["token"].startswith("ok"), lines
    assert TOKEN not in json.dumps(lines)


def test_a_check_reading_a_refused_setting_is_skipped_not_passed_on_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With AWS_REGION refused, the store and queue checks are `skip` lines naming it (their
    default region proves nothing), and the summary counts them apart from the passed."""
    _local_stack(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q")
    monkeypatch.setenv("TRIAGE_STORE_URL", "dynamodb://incidents")
    monkeypatch.setenv("AWS_REGION", "us-east1")
    code = main(["check"])
    out = capsys.readouterr().out
    assert code == 2
    assert "skip  queue    skipped: it reads AWS_REGION, refused above" in out, out
    assert "skip  store    skipped: it reads AWS_REGION, refused above" in out, out
    assert out.splitlines()[-1].endswith("2 skipped (a setting refused)"), out


def test_check_with_refused_settings_in_json_counts_the_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output json` with a refused setting: a line per check on stdout and a summary that
    counts the skipped, so a script sees every problem too."""
    _local_stack(monkeypatch, tmp_path)
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_REGION", "us-east1")
    assert main(["check", "--output", "json"]) == 2
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    verdicts = {row["check"]: row["verdict"] for row in rows[:-1]}
    assert verdicts["config"] == "FAIL" and verdicts["queue"] == "skip", rows
    assert rows[-1]["skipped"] == 1 and rows[-1]["failed"] >= 1, rows


def test_check_with_a_credentials_file_unread_says_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refusal no setting can be left out for (a credential's file missing) is one FAIL line
    and exit 2, not a traceback."""
    _local_stack(monkeypatch, tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(tmp_path / "missing"))
    assert main(["check"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("FAIL  config   GITHUB_TOKEN_FILE"), out
    assert out.splitlines()[-1] == "0 of 1 checks passed", out


# --- A routes file that routes nothing ------------------------------------------------------


@pytest.mark.parametrize("text", ["# every route commented out\n# [[route]]\n", "route = []\n"])
def test_check_warns_of_a_routes_file_holding_no_route(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:
    """A routes file of comments only (or `route = []`) is taken as no routes file, and the
    routes line is a `warn` saying every incident goes to TRIAGE_SINKS and how to say so."""
    _local_stack(monkeypatch, tmp_path)
    routes = tmp_path / "routes.toml"
    routes.write_text(text, "utf-8")
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    _, lines, _ = _report(capsys)
    assert lines["routes"] == (
        f"warn  routes   TRIAGE_ROUTES_FILE {routes} holds no [[route]]: every incident goes "
        "to TRIAGE_SINKS (backend); add a [[route]], or unset TRIAGE_ROUTES_FILE to go "
        "without one"
    )


# --- .env.example ---------------------------------------------------------------------------


def test_env_example_names_every_credentials_file_variable() -> None:
    """Each `<VARIABLE>_FILE` a credential may be read from is in .env.example (commented,
    as setting it beside its variable is refused), the backend token's too."""
    text = (ROOT / ".env.example").read_text("utf-8")
    shown = set(re.findall(r"^# ([A-Z_]+_FILE)=/run/secrets/", text, re.M))
    assert shown == {*credential_file_variables(), "BACKEND_TOKEN_FILE"}


# --- Red team: settings as env files write them ---------------------------------------------


def test_an_export_prefix_kept_in_a_variables_name_is_warned_of(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`export TRIAGE_CONCURRENCY=8` in an ECS environment file reaches the process as a
    variable named `export TRIAGE_CONCURRENCY`: the setting keeps its default, so a warning
    names the prefix and the setting it was meant for."""
    from triage.settings import unknown_variables

    environ = {"export TRIAGE_CONCURRENCY": "8", "export OPENAI_API_KEY": "sk-proj-x"}
    messages = unknown_variables(environ)
    assert messages == [
        f"export {name} is not a setting and is ignored: an env file's `export ` stayed in the "
        f"variable's name (ECS environment files keep it); write {name}=… without it"
        for name in ("OPENAI_API_KEY", "TRIAGE_CONCURRENCY")
    ]
    assert "sk-proj" not in json.dumps(messages)


def test_a_space_kept_around_a_variables_name_is_warned_of_as_such() -> None:
    """`TRIAGE_CONCURRENCY = 8` in an ECS environment file names a variable with a space after
    it: the warning says the name has a space (it said "did you mean TRIAGE_CONCURRENCY?",
    the same name to the eye)."""
    from triage.settings import unknown_variables

    assert unknown_variables({"TRIAGE_CONCURRENCY ": "8"}) == [
        "'TRIAGE_CONCURRENCY ' is not a setting and is ignored: a space stayed around the "
        "variable's name (an env file's `NAME = value`); write TRIAGE_CONCURRENCY=… without it"
    ]


@pytest.mark.parametrize(
    "variable",
    ["OPENAI_MODEL", "CLOUDWATCH_NAMESPACE", "TRIAGE_BEDROCK_MODEL_ID", "TRIAGE_ROUTES_FILE"],
)
def test_an_env_files_inline_comment_kept_in_a_value_is_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """`OPENAI_MODEL=gpt-4o-mini # cheap` through `docker run --env-file` or an ECS environment
    file keeps ` # cheap` in the value (only a shell or compose drops it): every model call
    would be refused, metrics would go to another namespace. One line naming the variable,
    without the value."""
    from triage.errors import ConfigError
    from triage.settings import load_settings

    monkeypatch.setenv(variable, "some-value # the team's note")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message == (
        f"{variable}: ends with ` # …`, an env file's comment that `docker run --env-file` and "
        "ECS environment files keep in the value: put the comment on a line of its own (or "
        "quote the whole value when ` #` is its own)"
    ), message


def test_a_hash_inside_a_quoted_value_is_the_values_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `#` inside a quoted value, or inside a word, is no comment: a model or token keeps it."""
    from triage.settings import load_settings

    monkeypatch.setenv("OPENAI_MODEL", '"ft:gpt-4o-mini:acme#7"')
    monkeypatch.setenv("CLOUDWATCH_NAMESPACE", "Alert#Triage")
    settings = load_settings()
    assert settings.openai_model == "ft:gpt-4o-mini:acme#7"
    assert settings.cloudwatch_namespace == "Alert#Triage"


def test_a_namespace_holding_a_hash_after_a_space_is_taken_when_quoted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CloudWatch namespaces may hold ` #`: quoted whole, the value is the namespace's own."""
    from triage.settings import load_settings

    monkeypatch.setenv("CLOUDWATCH_NAMESPACE", '"Team #1"')
    assert load_settings().cloudwatch_namespace == "Team #1"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPENAI_API_KEY", "${OPENAI_KEY}"),
        ("GITHUB_TOKEN", "$GITHUB_PAT"),
        ("SLACK_WEBHOOK_URL", "${SLACK_HOOK}"),
        ("OPENAI_MODEL", "${MODEL}"),
        ("BACKEND_TOKEN_SECRET_ID", "${BACKEND_SECRET}"),
    ],
)
def test_a_variable_reference_left_unexpanded_is_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """`OPENAI_API_KEY=${OPENAI_KEY}` in a file `docker run --env-file` or ECS reads (neither
    expands references; a shell and compose do) reaches triage as the reference itself: sent
    as a key every call is refused. Refused at start-up naming the variable, not the value."""
    from triage.errors import ConfigError
    from triage.settings import load_settings

    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        f"{variable}: is a $VARIABLE reference no one expanded (`docker run --env-file` and ECS "
        "environment files do not; a shell and compose do): give the value itself"
    )


def test_crlf_line_ends_of_an_env_file_are_no_part_of_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Windows env file's CR stays in each value through `docker run --env-file`: a queue URL,
    a number, a word and a credential are read without it."""
    from triage.settings import load_settings

    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q\r")
    monkeypatch.setenv("TRIAGE_CONCURRENCY", "8\r")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "debug\r")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-0a1b2c3d4e5f6a7b8c9d\r")
    settings = load_settings()
    assert settings.queue_url == "https://sqs.us-east-1.amazonaws.com/1/q"
    assert (settings.concurrency, settings.log_level) == (8, "debug")
    key = settings.openai_api_key
    assert key is not None and key.get_secret_value() == "sk-proj-0a1b2c3d4e5f6a7b8c9d"


# --- Red team: queue URLs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("https://sqs.us-east-1.amazonaws.com/123456789012/alerts\u200b", "U+200B at 56"),
        ("https://sqs.us\u2011east-1.amazonaws.com/123456789012/alerts", "U+2011 at 15"),
        ("https://sqs.us-east-1.amazonaws.com/\uff11\uff12\uff13456789012/alerts", "U+FF11 at 37"),
    ],
)
def test_a_queue_url_with_a_character_no_queue_url_has_is_refused(
    monkeypatch: pytest.MonkeyPatch, url: str, where: str
) -> None:
    """A queue URL pasted from a page or a chat with a zero-width space, a non-breaking hyphen
    or full-width digits is refused at start-up naming the character and where it is, not
    taken and answered QueueDoesNotExist (or no endpoint) at every receive."""
    from triage.errors import ConfigError
    from triage.settings import load_settings

    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", url)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        f"ALERT_TRIAGE_QUEUE_URL: has a character no queue URL has ({where}), as a page or "
        "a chat may add to a pasted one: type it again, or paste it from "
        "`aws sqs get-queue-url`"
    )


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://queue.amazonaws.com/123456789012/alerts", "us-east-1"),
        ("https://sqs-fips.us-east-2.amazonaws.com/123456789012/alerts", "us-east-2"),
        ("https://sqs.eu-west-1.amazonaws.com./123456789012/alerts", "eu-west-1"),
        ("https://vpce-0a1b-c2d3.sqs.eu-west-1.vpce.amazonaws.com/123456789012/q", "eu-west-1"),
    ],
)
def test_a_queue_url_of_another_region_is_refused_in_every_form_aws_writes(
    monkeypatch: pytest.MonkeyPatch, url: str, region: str
) -> None:
    """The legacy us-east-1 host, a FIPS endpoint's, a fully qualified host (its last dot) and
    a VPC endpoint's name their region too: one of another region than AWS_REGION is refused
    as `sqs.REGION.amazonaws.com`'s is, not answered QueueDoesNotExist at every receive."""
    from triage.errors import ConfigError
    from triage.settings import load_settings

    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", url)
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        f"ALERT_TRIAGE_QUEUE_URL names a queue in {region} but AWS_REGION is ap-south-1: SQS "
        f"calls go to AWS_REGION's endpoint; set AWS_REGION={region}"
    )
    monkeypatch.setenv("AWS_REGION", region)
    assert load_settings().queue_url == url


# --- Red team: concurrency ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("0", "must be at least 1"),
        ("-1", "must be at least 1"),
        ("1e9", "must be at most 1024"),
        ("1E3", None),
        ("2.5e0", "expected a whole number"),
        ("8 workers", "expected a whole number"),
    ],
)
def test_concurrency_out_of_its_range_or_in_exponent_form_is_said_as_its_bound(
    monkeypatch: pytest.MonkeyPatch, value: str, said: str | None
) -> None:
    """TRIAGE_CONCURRENCY=1e9 is a whole number, past the bound: refused saying the bound (it
    said "expected a whole number"), as 0 and -1 say theirs; 1E3 is read as 1000."""
    from triage.errors import ConfigError
    from triage.settings import load_settings

    monkeypatch.setenv("TRIAGE_CONCURRENCY", value)
    if said is None:
        assert load_settings().concurrency == 1000
        return
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == f"TRIAGE_CONCURRENCY: {said}"


def test_a_backend_token_left_as_an_unexpanded_reference_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BACKEND_TOKEN=${TICKETS_TOKEN} from an ECS environment file is refused when the token
    is first read, naming the variable, not sent as `Bearer ${TICKETS_TOKEN}`."""
    import asyncio

    from triage.errors import ConfigError
    from triage.secrets import BackendToken
    from triage.settings import load_settings

    monkeypatch.setenv("BACKEND_TOKEN", "${TICKETS_TOKEN}")
    with pytest.raises(ConfigError) as caught:
        asyncio.run(BackendToken(load_settings()).get())
    assert str(caught.value).startswith("$BACKEND_TOKEN is a $VARIABLE reference no one expanded")
