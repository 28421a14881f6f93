"""The round 7 operator and configuration fixes, beyond the red team's own tests
(test_redteam_round7_operator.py): the same refusals and readings on the other paths that
take the same value (the API beside the command line, the ingest gateway's secret beside the
backend's, `incidents` beside `silence`), and that the forms that were right stay taken."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from factories import alert
from test_operator_api import BEARER, serving
from test_redteam_round6_config import _open_two_incidents
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.errors import ConfigError
from triage.models import Priority
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import load_settings
from triage.summarise.deterministic import load_patterns
from triage.summarise.endpoint import endpoint
from triage.view import redact_alert


def test_listing_incidents_of_an_in_memory_store_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list` over sqlite:///:memory: exits 2 naming TRIAGE_STORE_URL: an empty
    list of a store of the command's own reads as "nothing open" of the daemon's."""
    monkeypatch.setenv("TRIAGE_STORE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    code = main(["incidents", "list"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "TRIAGE_STORE_URL" in err and "daemon" in err, err


def test_a_region_in_capitals_is_refused_with_the_spelling_aws_knows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS_DEFAULT_REGION=Eu-West-1 stops start-up with one line giving eu-west-1, the name
    AWS signs for."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "Eu-West-1")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "eu-west-1" in str(refused.value)
    assert "AWS_REGION" in str(refused.value)


async def test_a_blank_author_over_the_api_is_the_api_s_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A POST /api/v1/silences whose author is spaces only is credited to "api", as one
    with no author is: never stored blank."""
    await _open_two_incidents(monkeypatch, tmp_path / "triage.db")
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    body = {"matchers": ["team=payments"], "duration": "1h", "comment": "c", "author": "  "}
    try:
        async with serving(store) as client:
            answer = await client.post("/api/v1/silences", json=body, headers=BEARER)
    finally:
        await store.aclose()
        await aws.aclose()
    assert answer.status_code == 201, answer.text
    assert answer.json()["author"] == "api"


async def test_an_author_with_spaces_around_it_is_kept_without_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--author ' alice '` is stored as alice: the same silence added again without the
    spaces is then the same silence, not a twin of another author."""
    await _open_two_incidents(monkeypatch, tmp_path / "triage.db")
    argv = ["silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "c"]
    code = await asyncio.to_thread(main, [*argv, "--author", " alice "])
    out = capsys.readouterr().out
    assert code == 0
    assert '"author": "alice"' in out or '"author":"alice"' in out, out


def test_the_ingest_gateway_s_secret_id_as_an_ssm_parameter_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TRIAGE_INGEST_TOKENS_SECRET_ID holding an SSM parameter's ARN stops start-up naming
    the setting and Secrets Manager, as BACKEND_TOKEN_SECRET_ID's does."""
    monkeypatch.setenv(
        "TRIAGE_INGEST_TOKENS_SECRET_ID", "arn:aws:ssm:eu-west-1:123456789012:parameter/tokens"
    )
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "TRIAGE_INGEST_TOKENS_SECRET_ID" in str(refused.value)
    assert "Secrets Manager" in str(refused.value)


@pytest.mark.parametrize(
    "secret_id",
    [
        "triage/backend-token",
        "/triage/backend-token",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:triage/token-AbCdEf",
        "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:token-AbCdEf",
    ],
)
def test_a_secret_s_name_or_arn_is_still_taken(
    secret_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Secrets Manager name (with or without a leading /) or ARN, in any partition, is
    taken as written."""
    monkeypatch.setenv("BACKEND_TOKEN_SECRET_ID", secret_id)
    assert load_settings().backend_token_secret_id == secret_id


@pytest.mark.parametrize(
    "web", ["https://www.github.com", "https://GitHub.com/", "http://github.com"]
)
def test_every_spelling_of_github_s_web_site_as_its_api_is_refused(
    web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GITHUB_API_URL naming github.com's web site in any spelling stops start-up with the
    API's address, https://api.github.com."""
    monkeypatch.setenv("GITHUB_API_URL", web)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "GITHUB_API_URL" in str(refused.value)
    assert "https://api.github.com" in str(refused.value)


@pytest.mark.parametrize("api", ["https://api.github.com", "https://ghe.example/api/v3"])
def test_github_s_api_and_an_enterprise_server_s_are_still_taken(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub's API and a GitHub Enterprise Server's are taken as written."""
    monkeypatch.setenv("GITHUB_API_URL", api)
    assert load_settings().github_api_url == api


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("https://api.openai.com/", "https://api.openai.com/v1"),
        ("https://API.OpenAI.com", "https://API.OpenAI.com/v1"),
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("https://llm.example", "https://llm.example"),
    ],
)
def test_openai_s_host_alone_gets_its_version_path_and_no_other_host_does(
    given: str, base: str
) -> None:
    """OpenAI's own host without a path is its API at /v1, with a trailing slash too; a
    path given is kept, and another server's URL is its operator's, left as given."""
    assert endpoint(given).base_url == base


def test_a_pattern_category_written_with_spaces_is_named_without_them(tmp_path: Path) -> None:
    """A patterns file's category with spaces around and inside it is the category as a
    route reads it: trimmed, each run of spaces one."""
    patterns = tmp_path / "patterns.toml"
    patterns.write_text(
        "[[pattern]]\ncategory = '  disk   full '\npattern = 'no space left'\n"
        "severity_hint = 'high'\nsteps = ['free some space']\n",
        encoding="utf-8",
    )
    assert [p.category for p in load_patterns(patterns)] == ["disk full"]


def test_a_pattern_category_in_capitals_is_named_by_a_route_in_any_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A patterns file's `Disk-Full` is the category a route's `disk-full` names (a route's
    words are lower-cased): the routes file loads, and an alert the pattern matches takes
    that route."""
    patterns = tmp_path / "patterns.toml"
    patterns.write_text(
        "[[pattern]]\ncategory = 'Disk-Full'\npattern = 'no space left'\n"
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
    router = load_router(load_settings())
    full = alert("disk").model_copy(update={"title": "no space left on /var"})
    view = redact_alert(full, Redactor())
    assert router.route(full, Priority.HIGH, view).name == "disk"


def test_a_label_value_with_a_star_is_refused_naming_the_route_and_the_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`labels = { region = "eu-*" }` stops start-up naming the route and the label, and
    saying "*" alone is the wildcard."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "europe"\nsinks = ["backend"]\n'
        '[route.match]\nlabels = { region = "eu-*" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    with pytest.raises(ConfigError) as refused:
        load_router(load_settings())
    said = str(refused.value)
    assert "'europe'" in said and "region" in said and '"*"' in said, said


def test_a_star_alone_still_matches_any_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`labels = { env = "*" }` still matches an alert with any env."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "any-env"\nsinks = ["backend"]\n[route.match]\nlabels = { env = "*" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    staging = alert("checkout").model_copy(update={"labels": {"env": "staging"}})
    assert load_router(load_settings()).route(staging, Priority.HIGH).name == "any-env"
