"""Alertmanager's fourth matcher, `!~` (the whole value does not match the regular expression):
parsed from the command line, the API and the store, matched with RE2 under the budgets `=~`
has, held to the "one matcher an absent value fails" rule, stored so that an older release
skips it (`min_reader`) rather than reading it some other way, and warned about as the other
operators are; and the mistakes a pattern or a negation invites (whitespace around it, a
secret's label, a value that differs only in case), refused or warned about for every
operator. In process, against in-memory and SQLite stores: milliseconds."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import T0, alert
from test_operator_api import BEARER, NOW, serving
from test_operator_silence_warnings import _seeded
from test_operator_silence_warnings import store_url as store_url  # the seeded SQLite store
from test_silences import Rig
from triage.cli import main
from triage.incidents import Action, codec
from triage.incidents.codec import MIN_READER, RECORD_FORMAT
from triage.incidents.silences import (
    Matcher,
    Op,
    Silence,
    check_regex_budget,
)
from triage.incidents.store import SILENCES, SILENCES_KEY, Record, _silences_of, _silences_record
from triage.ops.operator import new_silence, silence_json
from triage.redact import Redactor

HOUR = timedelta(hours=1)


def _silence(*matchers: str) -> Silence:
    return Silence.new([Matcher.parse(m) for m in matchers], T0, T0 + HOUR, "c", "a")


def _labelled(**labels: str) -> Any:
    return alert().model_copy(update={"labels": labels})


def test_not_regex_holds_when_the_whole_value_does_not_match() -> None:
    """`env!~prod|staging` holds for env=dev, env=production (anchored, as `=~`) and an
    absent env (""), and not for env=prod."""
    matcher = Matcher.parse("env!~prod|staging")
    assert (matcher.name, matcher.op, matcher.value) == ("env", Op.NRE, "prod|staging")
    assert [matcher.holds(_labelled(env=v)) for v in ("dev", "production", "prod")] == [
        True,
        True,
        False,
    ]
    assert matcher.holds(alert())


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("title!~a=b", ("title", Op.NRE, "a=b")),
        ("title!~=~x", ("title", Op.NRE, "=~x")),
        ("title=a!~b", ("title", Op.EQ, "a!~b")),
        ("title!=a!~b", ("title", Op.NE, "a!~b")),
        ("title=~a!~b", ("title", Op.RE, "a!~b")),
        ("env!=~prod", ("env", Op.NE, "~prod")),
    ],
)
def test_the_first_operator_written_is_the_matchers(typed: str, parts: tuple[str, Op, str]) -> None:
    """The leftmost operator splits a matcher (a name holds none of `!=~`), so `!~` in a value
    stays in the value, and every matcher an earlier release stored reads as it did."""
    matcher = Matcher.parse(typed)
    assert (matcher.name, matcher.op, matcher.value) == parts
    assert str(matcher) == typed


def test_a_not_regex_pattern_is_held_to_the_rules_of_a_regex() -> None:
    """A pattern RE2 cannot compile, or compiles too large, is refused naming `!~`; `(a+)+`
    over a title Python's re would backtrack on for hours answers at once."""
    with pytest.raises(ValueError, match=r"title!~: not an RE2 regular expression"):
        Matcher.parse("title!~(")
    with pytest.raises(ValueError, match=r"title!~: too costly"):
        Matcher.parse("title!~(.?){300}")
    hostile = alert().model_copy(update={"title": "a" * 2000 + "!"})
    assert Matcher.parse("title!~(a+)+").holds(hostile)


def test_not_regex_patterns_share_the_regex_budget() -> None:
    """`!~` patterns count in the silences' shared budget (past 20,000 instructions is
    refused), and a pattern written with both `=~` and `!~` counts once."""
    costly = [_silence("team=x", f"title!~(.?){{150}}x{n}") for n in range(13)]
    check_regex_budget(costly[:-1])
    with pytest.raises(ValueError, match="at most 20000"):
        check_regex_budget(costly)
    both = [_silence("team=x", f"title=~(.?){{150}}x{n}") for n in range(12)]
    check_regex_budget([*both, *costly[:-1]])


@pytest.mark.parametrize(
    ("matchers", "refused"),
    [
        (["env!~prod"], True),  # an absent env is "", which is not prod: every alert
        (["env!~.+"], True),  # every alert without an env
        (["env!~prod", "title!~x.*"], True),
        (["env!~"], False),  # only alerts with a non-empty env
        (["env!~.*"], False),  # fails every value: silences nothing, but silences no one
        (["env!~prod", "team=payments"], False),
    ],
)
def test_a_silence_needs_a_matcher_an_absent_value_fails(
    matchers: list[str], refused: bool
) -> None:
    """As Alertmanager, an absent label is "" for `!~` too: a silence whose every matcher an
    absent value satisfies would silence every alert, and is refused."""
    if refused:
        with pytest.raises(ValueError, match="every alert"):
            _silence(*matchers)
    else:
        assert [str(m) for m in _silence(*matchers).matchers] == matchers


def test_a_silence_with_not_regex_is_stored_for_readers_of_its_format() -> None:
    """A silence holding `!~` is stored with `min_reader` (the format that reads `!~`) and
    reads back equal; one without it carries no `min_reader`, so older releases still read
    it."""
    negated = _silence("team=payments", "env!~prod")
    stored = negated.to_json()
    assert stored["matchers"] == ["team=payments", "env!~prod"]
    assert stored[MIN_READER] == RECORD_FORMAT >= 2
    assert Silence.from_json(json.loads(json.dumps(stored))) == negated
    again = Silence.from_json(json.loads(json.dumps(stored))).to_json()
    assert again == stored
    assert MIN_READER not in _silence("team=payments", "env!=prod").to_json()


def test_an_older_release_skips_a_not_regex_silence_and_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A release of the format before `!~` does not honour such a silence (one
    `silence.unreadable` line naming the format it needs), honours the others, and writes
    it back unchanged when it changes the record."""
    plain, negated = _silence("team=search"), _silence("team=payments", "env!~prod")
    body = {"silences": [plain.to_json(), negated.to_json()]}
    record = Record(SILENCES_KEY, SILENCES, 1, json.dumps(body))
    monkeypatch.setattr(codec, "RECORD_FORMAT", 1)
    with structlog.testing.capture_logs() as logs:
        assert [s.id for s in _silences_of(record)] == [plain.id]
    [line] = [e for e in logs if e["event"] == "silence.unreadable"]
    assert line["silence"] == negated.id and "needs record format 2" in line["error"]
    written = json.loads(_silences_record(record, [plain]).body)["silences"]
    assert written == body["silences"]


async def test_the_pipeline_honours_not_regex() -> None:
    """Through the pipeline: `team=payments` + `title!~db-.*` holds the api alert back and
    lets a db alert of the same team open its ticket."""
    r = Rig()
    await r.silence("team=payments", "title!~db-.*")
    assert await r.send(0) is Action.SILENCED  # api-5xx: stored, nothing sent
    assert r.sink.kinds() == []
    assert await r.send(1, name="db-disk") is Action.OPEN
    assert r.sink.kinds() == ["open"]


def test_the_command_line_adds_and_lists_not_regex(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence add --match 'env!~staging|dev'` exits 0 and prints the matcher as
    typed, and `silence list` shows it."""
    code = main(
        ["silence", "add", "--match", "team=payments", "--match", "env!~staging|dev",
         "--for", "1h", "--comment", "db work", "--author", "op"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert json.loads(out)["matchers"] == ["team=payments", "env!~staging|dev"]
    assert main(["silence", "list"]) == 0
    assert json.loads(capsys.readouterr().out)["matchers"] == ["team=payments", "env!~staging|dev"]


async def test_the_api_takes_not_regex_and_refuses_a_bad_one(tmp_path: Path) -> None:
    """POST /api/v1/silences takes `!~` (201, the matcher as typed; listed by GET) and answers
    a pattern RE2 refuses with a 400 naming it."""
    store = await _seeded(tmp_path / "t.db")
    body = {"matchers": ["team=payments", "env!~staging"], "duration": "1h", "comment": "db"}
    try:
        async with serving(store) as client:
            made = await client.post("/api/v1/silences", json=body, headers=BEARER)
            listed = await client.get("/api/v1/silences", headers=BEARER)
            body["matchers"] = ["team=payments", "env!~(a"]
            bad = await client.post("/api/v1/silences", json=body, headers=BEARER)
    finally:
        await store.aclose()
    assert made.status_code == 201
    assert made.json()["matchers"] == ["team=payments", "env!~staging"]
    assert listed.json()["silences"][0]["matchers"] == ["team=payments", "env!~staging"]
    assert bad.status_code == 400 and "env!~" in bad.json()["error"]


def test_the_refusal_of_bang_equals_tilde_suggests_not_regex(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`env!=~prod` (Alertmanager's `!~` misremembered) is still refused (exit 2), and the
    line names the matcher meant: `env!~prod`."""
    code = main(
        ["silence", "add", "--match", "team=payments", "--match", "env!=~prod", "--for", "1h",
         "--comment", "db work"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "did you mean 'env!~prod'?" in err


def test_a_not_regex_pattern_is_stored_as_typed() -> None:
    """A `!~` pattern is kept as typed, as an `=~` one is: redacted, `.*token=.*` would be
    another pattern (`.*token=[REDACTED:password]`, a character class) or none at all."""
    for typed in ("title!~.*token=.*", "title=~.*token=.*"):
        made = new_silence(["team=payments", typed], "1h", "why", "al", NOW)
        assert made.to_json()["matchers"] == ["team=payments", typed]


def test_the_listing_redacts_a_not_regex_pattern() -> None:
    """A credential typed into a `!~` pattern is not shown by the listing (the API, the
    command line), as one in an `=~` pattern is not."""
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    made = new_silence(["team=payments", f"title!~.*{key}.*"], "1h", "why", "al", NOW)
    shown = silence_json(made, Redactor(), NOW)
    assert key not in json.dumps(shown) and shown["matchers"][1].startswith("title!~.*[REDACTED")


@pytest.mark.parametrize(
    ("matcher", "warned"),
    [
        ("Env!~", "did you mean 'env'?"),
        ("canary!~true", None),
        ("canary!=true", None),
        ("Env!~prod", "did you mean 'env'?), so it holds for every alert without 'Env'"),
        ("Env!=prod", "did you mean 'env'?), so it holds for every alert without 'Env'"),
    ],
)
def test_a_negated_matcher_on_a_label_no_incident_has_warns_when_it_may_be_a_typo(
    store_url: str, capsys: pytest.CaptureFixture[str], matcher: str, warned: str | None
) -> None:
    """A `!~` on a label no stored incident has is warned about when an absent label fails
    it (`Env!~`: only alerts with an Env); one an absent label satisfies (`!~` or `!=`) only
    when a name incidents have is near it (`Env` for `env`: it excludes nothing), as
    `canary!~true` excludes what no alert has yet, which is no mistake."""
    code = main(
        ["silence", "add", "--match", "team=payments", "--match", matcher, "--for", "1h",
         "--comment", "db work"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 0
    label_lines = [line for line in err.splitlines() if "no incident in the store" in line]
    assert len(label_lines) == (1 if warned else 0)
    assert all(warned in line for line in label_lines if warned)


def test_a_not_regex_that_excludes_every_open_incident_says_so(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`team=payments` + `env!~prod` where the one open incident has env=prod is made, with
    the warning that it matches no open incident; `env!~.*` (fails every value) too."""
    for negated in ("env!~prod", "env!~.*"):
        code = main(
            ["silence", "add", "--match", "team=payments", "--match", negated, "--for", "1h",
             "--comment", "db work"]
        )  # fmt: skip
        _, err = capsys.readouterr()
        assert code == 0 and "matches none of the 1 open incidents" in err


@pytest.mark.parametrize("typed", ["env!~ prod", "env !~ prod", "env=~prod ", "env!~\tprod"])
def test_a_pattern_with_whitespace_around_it_is_refused(typed: str) -> None:
    """A pattern copied as `env !~ prod` (Alertmanager trims around the operator, we do not)
    is refused naming the trimmed one: alert values are trimmed, so ` prod` matches none and
    `env!~ prod` would exclude nothing, quietly silencing every other env too."""
    with pytest.raises(ValueError, match=r"whitespace.*no alert value") as refused:
        new_silence(["team=payments", typed], "1h", "why", "al", NOW)
    assert repr(typed.replace(" ", "").replace("\t", "")) in str(refused.value)


@pytest.mark.parametrize(
    ("matcher", "hint"),
    [
        ("env!~Prod|staging", "it excludes none of the open incidents with env=prod"),
        ("env!=Prod", "it excludes none of the open incidents with env=prod"),
        ("env!~prod|staging", None),
        ("env!~dev", None),
    ],
)
def test_a_negation_that_differs_only_in_case_is_named(
    store_url: str, capsys: pytest.CaptureFixture[str], matcher: str, hint: str | None
) -> None:
    """`env!~Prod|staging` (or `env!=Prod`) where open incidents have env=prod excludes
    none of them, so it quiets them: the silence is made with a warning naming the value."""
    code = main(
        ["silence", "add", "--match", "team=payments", "--match", matcher, "--for", "1h",
         "--comment", "db work"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 0
    hints = [line for line in err.splitlines() if "case-sensitive" in line]
    assert hints == ([f"triage: silence: warning: matcher {matcher!r}: values are "
                      f"case-sensitive, and {hint}"] if hint else [])  # fmt: skip


def test_a_value_under_a_secret_label_is_stored_as_alerts_show_it() -> None:
    """`db_password=hunter2` is stored as alerts with such a label are shown and matched,
    `[REDACTED:password]`: the secret never reaches the store, and the matcher holds for
    the alert it was typed for (stored as typed it held for none, a `!=` for every one)."""
    made = new_silence(["team=payments", "db_password=hunter2"], "1h", "why", "al", NOW)
    assert made.to_json()["matchers"] == ["team=payments", "db_password=[REDACTED:password]"]
    assert made.matches(_labelled(db_password="hunter2"))
    negated = new_silence(["team=payments", "db_password!=hunter2"], "1h", "why", "al", NOW)
    assert not negated.matches(_labelled(db_password="hunter2"))


@pytest.mark.parametrize("typed", ["db_password!~hunter.*", "api_key=~test-.*"])
def test_a_pattern_on_a_secret_label_is_refused(typed: str) -> None:
    """A regular expression on a label named as a secret's is refused, naming what to write:
    its values are matched redacted, so `db_password!~hunter.*` would exclude nothing."""
    name = typed.split("!")[0].split("=")[0]
    with pytest.raises(
        ValueError, match=rf"alerts with one write {name}!=, for alerts without one write {name}="
    ):
        new_silence(["team=payments", typed], "1h", "why", "al", NOW)


def test_a_pattern_that_matches_only_ignoring_case_is_named(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`env=~Prod.*` where open incidents have env=prod matches none of them; the warning
    names the value, as it does for `env=Prod`."""
    code = main(
        ["silence", "add", "--match", "team=payments", "--match", "env=~Prod.*", "--for", "1h",
         "--comment", "db work"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 0
    assert [line for line in err.splitlines() if "case-sensitive" in line] == [
        "triage: silence: warning: matcher 'env=~Prod.*': values are case-sensitive, and open "
        "incidents have env=prod"
    ]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ('env!~"prod|staging"', "env!~prod|staging"),
        ('env!="prod"', "env!=prod"),
        ('env=~"prod.*"', "env=~prod.*"),
        ('team="payments"', "team=payments"),
        ('env!~"pr\\"od"', 'env!~pr"od'),
    ],
)
def test_a_value_in_alertmanagers_quotes_is_refused(typed: str, meant: str) -> None:
    """`env!~"prod|staging"` as amtool writes it is refused naming the unquoted matcher:
    here the quotes would be part of the value, no alert value has them, so a negation
    would exclude nothing and quiet the very alerts it names."""
    with pytest.raises(ValueError, match="double quotes") as refused:
        new_silence(["team=payments", typed], "1h", "why", "al", NOW)
    assert f"did you mean {meant!r}?" in str(refused.value)


def test_alertmanagers_list_of_matchers_in_one_is_refused_as_such() -> None:
    """`env="prod", team="db"` (Alertmanager's matcher list, pasted as one) is refused
    saying to give each matcher on its own, not with a quoted value's hint that joins them."""
    with pytest.raises(ValueError, match="each matcher on its own") as refused:
        new_silence(['env="prod", team="db"'], "1h", "why", "al", NOW)
    assert "did you mean" not in str(refused.value)


@pytest.mark.parametrize("typed", ['{env!~"prod|staging"}', '{team="db", env="prod"}'])
def test_alertmanagers_selector_in_braces_is_refused_as_such(typed: str) -> None:
    """`{env!~"prod|staging"}` (a selector copied from Alertmanager's page) is refused saying
    to give each matcher on its own, without braces or quotes, not that `{env` is no name."""
    with pytest.raises(ValueError, match="braces") as refused:
        new_silence([typed], "1h", "why", "al", NOW)
    assert "not a field or label name" not in str(refused.value)
