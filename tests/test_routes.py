"""The routes file: matching, per-sink targets, and one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import alert
from triage.errors import ConfigError
from triage.models import Alert, Priority
from triage.normalize import normalize_body
from triage.routes import KNOWN_SOURCES, load_router
from triage.settings import Settings

ROUTES = """
[[route]]
name = "payments-urgent"
sinks = ["slack", "github", "backend"]
[route.match]
team = ["Payments", "billing"]
priority = ["critical", "high"]
labels = { env = "prod", cluster = "*" }
[route.github]
repository = "acme/payments"
labels = ["payments"]
assignees = ["alice"]
[route.slack]
webhook_url_env = "SLACK_PAYMENTS_WEBHOOK"

[[route]]
name = "grafana-to-github"
sinks = ["github"]
match = { source = "grafana" }
"""


def write(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    return Settings(routes_file=path, sinks="backend")


def with_labels(a: Alert, **labels: str) -> Alert:
    return a.model_copy(update={"labels": labels})


def test_first_matching_route_wins_with_its_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An alert matching every condition of a route gets its sinks (in run order) and targets."""
    monkeypatch.setenv("SLACK_PAYMENTS_WEBHOOK", "https://hooks.slack.com/services/T/B/x")
    router = load_router(write(tmp_path, ROUTES))
    route = router.route(with_labels(alert(), env="prod", cluster="eu-1"), Priority.HIGH)
    assert route.name == "payments-urgent"
    assert route.sinks == ("backend", "github", "slack")
    github = route.target("github")
    assert (github.repository, github.labels, github.assignees) == (
        "acme/payments",
        ("payments",),
        ("alice",),
    )
    assert route.target("slack").webhook_url == "https://hooks.slack.com/services/T/B/x"
    assert router.sink_names == ("backend", "github", "slack")


@pytest.mark.parametrize(
    ("labels", "priority"),
    [
        ({"env": "prod", "cluster": "eu-1"}, Priority.MEDIUM),  # priority not listed
        ({"env": "staging", "cluster": "eu-1"}, Priority.HIGH),  # label value differs
        ({"env": "prod"}, Priority.HIGH),  # "*" needs the label present
    ],
)
def test_an_unmet_condition_falls_through_to_the_default(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    labels: dict[str, str],
    priority: Priority,
) -> None:
    """One condition not met means the route does not apply; no route applying means TRIAGE_SINKS."""
    monkeypatch.setenv("SLACK_PAYMENTS_WEBHOOK", "https://hooks.slack.com/services/T/B/x")
    route = load_router(write(tmp_path, ROUTES)).route(with_labels(alert(), **labels), priority)
    assert route.name == "default"
    assert route.sinks == ("backend",)


def test_without_a_routes_file_everything_goes_to_the_default_sinks() -> None:
    """No TRIAGE_ROUTES_FILE: every alert goes to TRIAGE_SINKS, in run order."""
    router = load_router(Settings(sinks="slack,backend"))
    assert router.route(alert(), Priority.LOW).sinks == ("backend", "slack")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[route]\n", "not valid TOML"),
        ('[[route]]\nname = "x"\nsinks = ["pager"]\n', "route 'x'.sinks"),
        ('[[route]]\nname = "x"\nsinks = ["github"]\nmatch = { priority = "P9" }\n', "priority"),
        ('[[route]]\nname = "x"\nsinks = ["github"]\nmatch = { teem = "a" }\n', "teem"),
        ('[[route]]\nsinks = ["backend"]\n', "route #1.name"),
        ('[[route]]\nname = "x"\nsinks = []\n', "route 'x'.sinks"),
        (
            '[[route]]\nname = "x"\nsinks = ["github"]\ngithub = { repository = "no-slash" }\n',
            "repository",
        ),
        (
            '[[route]]\nname = "x"\nsinks = ["slack"]\nslack = { webhook_url_env = "NOPE_UNSET" }\n',
            "NOPE_UNSET is not set",
        ),
        (
            '[[route]]\nname = "x"\nsinks = ["backend"]\n[[route]]\nname = "x"\nsinks = ["backend"]\n',
            "used twice",
        ),
    ],
)
def test_mistakes_fail_with_one_line_naming_them(tmp_path: Path, text: str, expected: str) -> None:
    """Each kind of mistake in the routes file is a ConfigError with one line saying where."""
    with pytest.raises(ConfigError) as caught:
        load_router(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    assert "routes.toml" in message
    assert expected in message


def test_missing_routes_file_is_a_config_error(tmp_path: Path) -> None:
    """A routes file that does not exist stops startup with its path named."""
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_router(Settings(routes_file=tmp_path / "missing.toml"))


def test_slack_default_webhook_is_needed_only_where_a_route_lacks_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SLACK_WEBHOOK_URL is required when Slack is a default sink or a route names no webhook."""
    monkeypatch.setenv("SLACK_PAYMENTS_WEBHOOK", "https://hooks.slack.com/services/T/B/x")
    assert not load_router(write(tmp_path, ROUTES)).slack_needs_default
    bare = '[[route]]\nname = "x"\nsinks = ["slack"]\n'
    assert load_router(write(tmp_path, bare)).slack_needs_default
    assert load_router(Settings(sinks="backend,slack")).slack_needs_default


PAYLOADS = Path(__file__).parent / "payloads"


def test_a_route_can_match_the_source_of_every_sample_alert() -> None:
    """Every source a sample payload normalises to is one a route's `match.source` accepts
    (a source missing from the list made a route naming it refused at start-up)."""
    sources = set()
    for path in sorted(PAYLOADS.rglob("*.json")):
        try:
            normalized = normalize_body(path.read_bytes())
        except Exception:  # the hostile samples are refused: they name no source
            continue
        sources |= {a.source for a in normalized.alerts}
    assert {"aws", "datadog", "generic", "cloudwatch"} <= sources
    assert sources <= set(KNOWN_SOURCES), sources - set(KNOWN_SOURCES)
