"""TRIAGE_ROUTES_FILE values of the wrong TOML type, or options a route would ignore: one
ConfigError line naming the route and the key, never a value taken another way in silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import ConfigError
from triage.routes import load_router
from triage.settings import Settings

ROUTE = '[[route]]\nname = "a"\nsinks = ["github"]\n'


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "routes.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_router(Settings(routes_file=path))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"TRIAGE_ROUTES_FILE {path}: "), message
    return message.removeprefix(f"TRIAGE_ROUTES_FILE {path}: ")


@pytest.mark.parametrize("value", ["true", '"30"'])
@pytest.mark.parametrize("key", ["group_window_s", "escalate_after_s", "resolve_after_s"])
def test_a_duration_that_is_no_number_is_refused(tmp_path: Path, key: str, value: str) -> None:
    """A boolean (which was taken as 1 second) or a quoted number (a string) as a duration is
    refused, naming the key, as a duration in words is."""
    extra = '\n[route.escalate]\ngithub_label = "x"\n' if key == "escalate_after_s" else ""
    text = f'{ROUTE}group_by = ["x"]\n{key} = {value}\n{extra}'
    assert (
        _error(tmp_path, text) == f"route 'a'.{key}: expected a number of seconds (14400 for 4 h)"
    )


@pytest.mark.parametrize("value", ["30", "30.5"])
def test_a_duration_written_as_a_toml_number_loads(tmp_path: Path, value: str) -> None:
    """An integer or a float is a number of seconds."""
    path = tmp_path / "routes.toml"
    path.write_text(f'{ROUTE}group_by = ["x"]\ngroup_window_s = {value}\n')
    (rule,) = load_router(Settings(routes_file=path)).rules
    assert rule.route.group_window_s == float(value)


def test_a_group_window_without_group_by_is_refused(tmp_path: Path) -> None:
    """group_window_s on a route that does not group would be ignored in silence: most likely
    group_by was left out."""
    message = _error(tmp_path, f"{ROUTE}group_window_s = 30\n")
    assert message == "route 'a': group_window_s is given but the route has no group_by"


def test_a_name_that_is_no_string_labels_the_route_by_its_place(tmp_path: Path) -> None:
    """`name = true` is refused naming the route `#1`, not `True`."""
    message = _error(tmp_path, '[[route]]\nname = true\nsinks = ["github"]\n')
    assert message == "route #1.name: expected a string"
