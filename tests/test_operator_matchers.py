"""Matchers an operator mistypes as another operator (`env!=~prod` for `!~`, `env==prod`,
`env=!prod`) are refused when a silence is made, through `triage silence add` in
process against a SQLite store on disk: read literally, they would quiet every alert of the
silence's other matchers, or none."""

from __future__ import annotations

import json

import pytest

from test_operator_api import NOW
from test_operator_silence_warnings import store_url as store_url  # the seeded SQLite store
from triage.cli import main
from triage.ops.operator import new_silence


@pytest.mark.parametrize("typed", ["env!=~prod", "env==prod", "env=!prod", "env!==x"])
def test_a_matcher_whose_operator_is_mistyped_is_refused(
    store_url: str, capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    """`silence add` with such a matcher is exit 2, one line naming it; nothing is made."""
    code = main(
        ["silence", "add", "--match", "team=payments", "--match", typed, "--for", "1h",
         "--comment", "db work"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and typed in err
    assert main(["silence", "list", "--all"]) == 0 and capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "typed", ["env=prod", "env!=prod", "path=~~/.*", "title=~=.*", "n=a~b", "env!~prod", "p!~~/.*"]
)
def test_the_four_operators_as_written_are_taken(typed: str) -> None:
    """`=`, `!=`, `=~` and `!~` with ordinary values (a regex may start with ~ or =) are
    taken."""
    made = new_silence(["team=payments", typed], "1h", "why", "al", NOW)
    assert [str(m) for m in made.matchers][1] == typed
    assert json.dumps(made.to_json())
