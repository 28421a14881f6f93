"""Routes whose values mean nothing (an empty or blank matcher, a value listed twice, two
webhooks for one post, a file without routes) are refused at start with one line naming the
file, the route and the field, instead of matching every alert or none in silence."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import factories
from triage.errors import ConfigError
from triage.models import Priority
from triage.normalize.common import LABEL_KEY_MAX, LABEL_VALUE_MAX
from triage.ops.check import run_checks
from triage.routes import load_router
from triage.settings import Settings

ROUTE = '[[route]]\nname = "a"\nsinks = ["github"]\n'


def _path(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    """The one-line ConfigError the routes file `text` gets, without its file prefix."""
    path = _path(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_router(Settings(routes_file=path))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"TRIAGE_ROUTES_FILE {path}: "), message
    return message.removeprefix(f"TRIAGE_ROUTES_FILE {path}: ")


@pytest.mark.parametrize("key", ["team", "source", "priority", "category"])
@pytest.mark.parametrize("value", ["[]", '[""]', '["  "]', '""', '"\\t"'])
def test_an_empty_or_blank_word_matcher_is_refused(tmp_path: Path, key: str, value: str) -> None:
    """`team = []` matched every alert and `team = [""]` every alert without a team: both are
    refused naming the route and the key (as is the same for source, priority, category)."""
    message = _error(tmp_path, f"{ROUTE}[route.match]\n{key} = {value}\n")
    assert message.startswith(f"route 'a'.match.{key}: "), message
    assert "empty" in message or "blank" in message, message


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("{}", "route 'a'.match.labels: must not be empty (leave labels out to match any alert)"),
        ('{ "" = "x" }', "route 'a'.match.labels: a blank label name matches no alert"),
        ('{ " " = "*" }', "route 'a'.match.labels: a blank label name matches no alert"),
        (
            '{ env = "" }',
            "route 'a'.match.labels.env: an empty value matches no alert (alerts have no "
            'empty labels); "*" matches any value',
        ),
        (
            '{ env = "  " }',
            "route 'a'.match.labels.env: an empty value matches no alert (alerts have no "
            'empty labels); "*" matches any value',
        ),
    ],
)
def test_an_empty_label_matcher_is_refused(tmp_path: Path, labels: str, expected: str) -> None:
    """An empty labels table matched every alert; a blank label name or value matches none
    (sources drop empty labels and trim the rest): each is refused in one line."""
    assert _error(tmp_path, f"{ROUTE}[route.match]\nlabels = {labels}\n") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'{ROUTE}match = {{ team = ["pay", "PAY"] }}\n',
            "route 'a'.match.team: lists 'pay' twice",
        ),
        (
            f'{ROUTE}match = {{ source = ["grafana", "grafana"] }}\n',
            "route 'a'.match.source: lists 'grafana' twice",
        ),
        (
            f'{ROUTE}match = {{ priority = ["P0", "critical"] }}\n',
            "route 'a'.match.priority: lists 'critical' twice",
        ),
        (
            f'{ROUTE}match = {{ category = ["disk-full", "disk-full"] }}\n',
            "route 'a'.match.category: lists 'disk-full' twice",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["github", "github"]\n',
            "route 'a'.sinks: lists 'github' twice",
        ),
        (f'{ROUTE}group_by = ["ns", "ns"]\n', "route 'a'.group_by: lists 'ns' twice"),
        (
            f'{ROUTE}[route.github]\nlabels = ["x", "x"]\n',
            "route 'a'.github.labels: lists 'x' twice",
        ),
        (
            f'{ROUTE}[route.github]\nassignees = ["alice", "Alice"]\n',
            "route 'a'.github.assignees: lists 'alice' twice",
        ),
        (
            f'{ROUTE}escalate_after_s = 60\n[route.escalate]\ngithub_assignees = ["bo", "BO"]\n',
            "route 'a'.escalate.github_assignees: lists 'bo' twice",
        ),
    ],
)
def test_a_value_listed_twice_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    """A value given twice in one list (as the sources and GitHub compare it: teams and logins
    in any case, P0 as critical) is a copy-paste slip that hides the value meant: refused."""
    assert _error(tmp_path, text) == expected


def test_an_empty_group_by_is_refused(tmp_path: Path) -> None:
    """`group_by = []` says the route groups but groups nothing: refused, naming the key."""
    message = _error(tmp_path, f"{ROUTE}group_by = []\n")
    assert message == "route 'a'.group_by: must not be empty (leave group_by out for no grouping)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[route]]\nname = "a"\nsinks = ["slack"]\n[route.slack]\n'
            'webhook_url = "https://h/x"\nwebhook_url_env = "HOOK"\n',
            "route 'a'.slack: give webhook_url or webhook_url_env, not both",
        ),
        (
            f"{ROUTE}escalate_after_s = 60\n[route.escalate]\n"
            'slack_webhook_url = "https://h/x"\nslack_webhook_url_env = "HOOK"\n',
            "route 'a'.escalate: give slack_webhook_url or slack_webhook_url_env, not both",
        ),
    ],
)
def test_two_webhooks_for_one_post_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    """A webhook URL and a variable naming another one: one of them was silently ignored."""
    monkeypatch.setenv("HOOK", "https://hooks.example/other")
    assert _error(tmp_path, text) == expected


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (f'{ROUTE}match = {{ team = "{"t" * (LABEL_VALUE_MAX + 1)}" }}\n', "match.team"),
        (
            f'{ROUTE}match = {{ labels = {{ env = "{"v" * (LABEL_VALUE_MAX + 1)}" }} }}\n',
            "match.labels.env",
        ),
        (
            f'{ROUTE}match = {{ labels = {{ {"k" * (LABEL_KEY_MAX + 1)} = "*" }} }}\n',
            "match.labels",
        ),
        (f'{ROUTE}group_by = ["{"k" * (LABEL_KEY_MAX + 1)}"]\n', "group_by"),
        (f'{ROUTE}match = {{ team = "a\\u0007b" }}\n', "match.team"),
    ],
)
def test_a_value_no_alert_can_have_is_refused(tmp_path: Path, text: str, field: str) -> None:
    """A team or label longer than an alert keeps (sources cut them), or with a control
    character (sources remove them), can never be equal to an alert's: refused."""
    assert _error(tmp_path, text).startswith(f"route 'a'.{field}: ")


def test_matchers_are_trimmed_as_alerts_are(tmp_path: Path) -> None:
    """Whitespace around or inside a team or label value is collapsed as the normaliser
    collapses an alert's, so `team = " payments "` matches team "payments" (it matched none)."""
    text = f'{ROUTE}match = {{ team = " Pay  Ments ", labels = {{ " env " = " prod  eu " }} }}\n'
    router = load_router(Settings(routes_file=_path(tmp_path, text)))
    alert = factories.alert().model_copy(update={"team": "pay ments", "labels": {"env": "prod eu"}})
    assert router.route(alert, Priority.HIGH).name == "a"


async def test_triage_check_names_the_empty_matcher(tmp_path: Path) -> None:
    """`triage check` fails its routes line with the same one line naming the file, the route
    and the field, as start-up does."""
    path = _path(
        tmp_path, '[[route]]\nname = "pay"\nsinks = ["backend"]\n[route.match]\nteam = []\n'
    )
    settings = Settings(
        routes_file=path,
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("backend",),
        llm_provider="none",
        backend_base_url="http://127.0.0.1:9",
    )
    out = io.StringIO()
    assert await run_checks(settings, out) == 1
    (line,) = [ln for ln in out.getvalue().splitlines() if ln.split()[1:2] == ["routes"]]
    assert line == (
        f"FAIL  routes   TRIAGE_ROUTES_FILE {path}: route 'pay'.match.team: must not be empty "
        "(leave team out to match any alert)"
    )
