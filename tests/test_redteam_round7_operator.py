"""Red team, round 7: the operator and the configuration. A setting, a routes file or an
operator command that is wrong must be refused with one line naming what is wrong, never
accepted to do nothing, or something else, in silence. Each strict xfail is a bug found
today; it passes once the bug is fixed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from factories import alert
from test_redteam_round6_config import _api_get, _open_two_incidents
from triage.app import github_links_from_answers
from triage.cli import main
from triage.errors import ConfigError
from triage.models import Priority
from triage.routes import load_router
from triage.settings import load_settings
from triage.summarise.endpoint import endpoint


def test_an_operator_command_refuses_a_store_no_daemon_can_share(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence add` against an in-memory SQLite store exits non-zero naming
    TRIAGE_STORE_URL: the silence would live only as long as the command, and the daemon
    would never see it, while the operator reads that the noise is handled."""
    monkeypatch.setenv("TRIAGE_STORE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    code = main(["silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "c"])
    err = capsys.readouterr().err
    assert code != 0
    assert "TRIAGE_STORE_URL" in err, err


def test_an_aws_region_in_capitals_is_refused_or_read_as_the_region_it_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An AWS_REGION typed in capitals (as the console shows a region's name in a heading,
    or a template's upper-casing) is either read as the region it names or refused at start
    with a line naming AWS_REGION, never passed to botocore, which signs for it as written."""
    monkeypatch.setenv("AWS_REGION", "EU-WEST-1")
    try:
        region, refusal = load_settings().aws_region, ""
    except ConfigError as exc:
        region, refusal = "", str(exc)
    assert region == "eu-west-1" or "AWS_REGION" in refusal, (region, refusal)


async def test_a_blank_state_filter_over_the_api_is_refused_as_other_blank_filters_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`?state=` with nothing after it is a 400 naming state, as `?team=`, `?source=` and
    `?priority=` are: a dashboard whose state variable came out empty (meant: all) must not
    be shown the open incidents alone as if that were what it asked for."""
    await _open_two_incidents(monkeypatch, tmp_path / "triage.db")
    blank_team = await _api_get("/api/v1/incidents?team=")
    assert blank_team.status_code == 400  # the behaviour the state filter should share
    blank_state = await _api_get("/api/v1/incidents?state=")
    assert blank_state.status_code == 400, blank_state.text
    assert "state" in blank_state.json()["error"]


def test_a_route_label_value_with_a_star_inside_is_refused_or_matched_as_a_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A routes file's label value with `*` in it beside other text (`prod-*`, as Alertmanager
    and shell globs are written) is either refused at start, saying only "*" alone matches
    any value, or matches `prod-eu`: taken as a literal it is a route that quietly matches no
    alert, and its alerts go to the default sinks."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "prod"\nsinks = ["backend"]\n'
        '[route.match]\nlabels = { env = "prod-*" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    prod_eu = alert("checkout").model_copy(update={"labels": {"env": "prod-eu"}})
    try:
        chosen, refusal = load_router(load_settings()).route(prod_eu, Priority.HIGH).name, ""
    except ConfigError as exc:
        chosen, refusal = "", str(exc)
    assert chosen == "prod" or ("prod-*" in refusal and '"*"' in refusal), (chosen, refusal)


async def test_a_blank_author_is_refused_or_taken_as_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A silence added with an author of spaces only is either refused or credited to the
    user running the command, as `--author ''` is: a blank author leaves `silence list` and
    the status page unable to say who quieted the alerts."""
    await _open_two_incidents(monkeypatch, tmp_path / "triage.db")
    monkeypatch.setenv("USER", "oncall-alice")

    def add() -> int:
        argv = ["silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "c"]
        return main([*argv, "--author", "   "])

    code = await asyncio.to_thread(add)
    out = capsys.readouterr().out
    if code == 0:
        assert json.loads(out.splitlines()[0])["author"].strip(), out
    else:
        assert code == 2


def test_a_secret_id_that_is_an_ssm_parameter_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BACKEND_TOKEN_SECRET_ID holding an SSM Parameter Store ARN (where many teams keep a
    token) stops start-up with a line naming the setting and Secrets Manager: Secrets
    Manager cannot read a parameter, and "cannot be read: ResourceNotFoundException" would
    send the operator to look for a secret whose parameter they can see exists."""
    monkeypatch.setenv(
        "BACKEND_TOKEN_SECRET_ID", "arn:aws:ssm:us-east-1:123456789012:parameter/triage/token"
    )
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "BACKEND_TOKEN_SECRET_ID" in str(refused.value)
    assert "Secrets Manager" in str(refused.value)


def test_a_route_can_name_a_category_written_with_spaces_around_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route naming a patterns file's category loads, or is refused with advice that works,
    when the category was written with spaces around it (`category = " disk-full "`): the
    routes file trims what it reads, the patterns file did not, and the did-you-mean points
    at the spelling that is refused again."""
    patterns = tmp_path / "patterns.toml"
    patterns.write_text(
        "[[pattern]]\ncategory = ' disk-full '\npattern = 'no space left'\n"
        "severity_hint = 'high'\nsteps = ['free some space']\n",
        encoding="utf-8",
    )
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "disk"\nsinks = ["backend"]\n[route.match]\ncategory = ["disk-full"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TRIAGE_PATTERNS_FILE", str(patterns))
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    load_router(load_settings())


def test_github_s_web_address_given_as_its_api_is_named_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GITHUB_API_URL set to https://github.com, where people open issues, is refused or
    warned about naming https://api.github.com, the API it meant: "a proxy? set
    GITHUB_WEB_URL" sends the operator to a second setting, while every call goes to the
    web site and fails."""
    monkeypatch.setenv("GITHUB_API_URL", "https://github.com")
    try:
        said = github_links_from_answers(load_settings()) or ""
    except ConfigError as exc:
        said = str(exc)
    assert "api.github.com" in said, said


def test_openai_s_own_host_without_its_version_path_reaches_its_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OPENAI_BASE_URL written as OpenAI's host alone (`https://api.openai.com`, as its
    dashboard names it) either reaches the API at `/v1`, which every OpenAI path starts with,
    or is refused at start saying so: sent as given, every ticket's summary is a 404 and
    falls back to the deterministic summariser."""
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com")
    try:
        base, refusal = endpoint(load_settings().openai_base_url).base_url, ""
    except ConfigError as exc:
        base, refusal = "", str(exc)
    assert base == "https://api.openai.com/v1" or "/v1" in refusal, (base, refusal)
