"""The operators' command line and configuration, round 7 (helper 540): what a new team and an
on-call engineer at 3 a.m. meet. A credential's `_FILE` holding the env file's whole line
(`GITHUB_TOKEN=ghp_…`) is refused, and a refusal after the file was read names it; a route
sending to GitHub with no credentials is named; a verb typed without its command (`triage
close`) names the command meant; TRIAGE_SINKS as a JSON list, a route's `sinks` as one string
and a label given a list say what to write; a receive backoff of 0 is refused; `triage check`
says the first matching route takes an alert; a stored title with a lone surrogate no longer
breaks a regex filter, and a GITHUB_API_URL without its scheme is one FAIL, not also a proxy."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from factories import alert
from test_store import LEASE, POLICY
from triage.cli import main
from triage.errors import ConfigError
from triage.incidents.sqlite import SQLiteStore
from triage.routes import load_router
from triage.secrets import BackendToken
from triage.settings import load_settings

#: A classic GitHub token's shape: what an operator pastes into a secret's file.
GITHUB_TOKEN = "ghp_" + "R7x540" * 6

#: Settings reaching nothing (every dependency on a closed loopback port), as round 6's.
LOCAL = {
    "ALERT_TRIAGE_QUEUE_URL": "http://127.0.0.1:9/000000000000/alerts",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "BACKEND_BASE_URL": "http://127.0.0.1:9",
    "BACKEND_TOKEN": "tok-540-8e2d0b6a4c1f3e5d",
}


def _local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The `LOCAL` settings, with a SQLite store in `tmp_path`."""
    for name, value in LOCAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")


# --- A credential's file holding the env file's line -----------------------------------------


@pytest.mark.parametrize(
    ("variable", "line"),
    [
        ("GITHUB_TOKEN", f"GITHUB_TOKEN={GITHUB_TOKEN}\n"),
        ("TRIAGE_API_TOKEN", "export TRIAGE_API_TOKEN=op-token-540-5b7d9f1a3c\r\n"),
        ("OPENAI_API_KEY", "openai_api_key = 'sk-540abcdefghijklmnopqrstu'\n"),
    ],
)
def test_a_credential_file_holding_its_env_file_line_is_refused(
    variable: str, line: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A `_FILE` made by copying the env file's line (`NAME=value`, `export NAME=…`) held the
    name and `=` inside the credential, sent as the token at every call (every request a 401,
    the operator API's token one no client holds): refused at start-up, naming the file's
    variable and what to store, never the value."""
    secret = tmp_path / "secret"
    secret.write_text(line, "utf-8")
    monkeypatch.setenv(f"{variable}_FILE", str(secret))
    with pytest.raises(ConfigError) as refused:
        load_settings()
    said = str(refused.value)
    assert f"{variable}_FILE" in said and "the value alone" in said, said
    value = line.split("=", 1)[1].strip().strip("'")
    assert value not in said and value[:8] not in said, said


def test_a_backend_token_file_holding_its_env_file_line_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """BACKEND_TOKEN_FILE, read at each use (rotation without restart), is refused for the
    env file's line as the others are at start-up, never quoting the token."""
    secret = tmp_path / "secret"
    secret.write_text("BACKEND_TOKEN=tok-540-2f4a6c8e0b1d3f5a\n", "utf-8")
    monkeypatch.delenv("BACKEND_TOKEN", raising=False)
    monkeypatch.setenv("BACKEND_TOKEN_FILE", str(secret))
    with pytest.raises(ConfigError) as refused:
        asyncio.run(BackendToken(load_settings()).get())
    said = str(refused.value)
    assert "BACKEND_TOKEN_FILE" in said and "the value alone" in said, said
    assert "tok-540" not in said, said


def test_a_credential_file_holding_the_value_alone_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The value alone, with an editor's byte order mark and CRLF, is the credential, and so
    is one holding `=` of its own (a base64 padding): only the variable's own name before `=`
    is the env file's line."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"\xef\xbb\xbf" + GITHUB_TOKEN.encode() + b"\r\n")
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(secret))
    token = load_settings().github_token
    assert token is not None and token.get_secret_value() == GITHUB_TOKEN
    secret.write_text("op-token-540-QUJDREVGR0g=\n", "utf-8")
    monkeypatch.delenv("GITHUB_TOKEN_FILE")
    monkeypatch.setenv("TRIAGE_API_TOKEN_FILE", str(secret))
    api = load_settings().api_token
    assert api is not None and api.get_secret_value() == "op-token-540-QUJDREVGR0g="


# --- A route sending to GitHub with no credentials ---------------------------------------------


def test_a_route_sending_to_github_without_credentials_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRIAGE_SINKS without github, no GITHUB_TOKEN nor App, and a route that sends to GitHub:
    the `github` line names that route (it said only that "the github sink" needs a token,
    which a team that never listed github in TRIAGE_SINKS cannot place)."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments"\nsinks = ["backend", "github"]\n'
        '[route.match]\nteam = ["payments"]\n[route.github]\nrepository = "acme/payments"\n',
        "utf-8",
    )
    _local(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    assert main(["check"]) == 1
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["github"]]
    assert line.startswith("FAIL  github   GITHUB_TOKEN is not set"), line
    assert "route 'payments'" in line and "GITHUB_APP_ID" in line, line


def test_github_in_triage_sinks_without_credentials_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRIAGE_SINKS listing github with no credentials names TRIAGE_SINKS as what sends there."""
    _local(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_SINKS", "backend,github")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/ops")
    assert main(["check"]) == 1
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["github"]]
    assert "GITHUB_TOKEN is not set" in line and "TRIAGE_SINKS" in line, line


# --- A stored title that is not valid Unicode ----------------------------------------------------


def _store_with_a_lone_surrogate(path: Path) -> str:
    """A SQLite store holding one open incident whose stored title carries a lone UTF-16
    surrogate (`\\ud800`, as JSON escapes it: a hand-edited record, another writer's); its
    fingerprint."""

    fired = alert("svc-540")

    async def seed() -> None:
        store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
        await store.open()
        await store.begin(fired, "m-540", store.now())
        await store.aclose()

    asyncio.run(seed())
    with sqlite3.connect(path) as db:
        (body,) = db.execute("SELECT body FROM incidents").fetchone()
        record = json.loads(body)
        record["title"] = "disk \ud800 full"
        # ensure_ascii: the surrogate is stored as its JSON escape, as sqlite3 takes it.
        db.execute("UPDATE incidents SET body = ?", (json.dumps(record),))
    return fired.fingerprint


def test_a_listing_filtered_by_a_regex_reads_a_title_with_a_lone_surrogate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list --match 'title=~disk.*'` lists the incident whose title holds a lone
    surrogate (shown as U+FFFD), exit 0: it printed the encoder's error (`'utf-8' codec can't
    encode character '\\ud800'…`) and listed nothing, and a silence added said it beside a
    traceback."""
    path = tmp_path / "triage.db"
    fingerprint = _store_with_a_lone_surrogate(path)
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{path}")
    code = main(["incidents", "list", "--match", "title=~disk.*"])
    out, err = capsys.readouterr()
    assert "codec" not in err, err
    assert code == 0 and [json.loads(x)["fingerprint"] for x in out.splitlines()] == [fingerprint]


# --- A command group's verb typed as a command ----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["close", "9f3c", "--comment", "fixed"], "'triage incidents close'"),
        (["show", "9f3c"], "'triage incidents show'"),
        (["expire", "ec582d388484"], "'triage silence expire'"),
        (["redrive"], "'triage dlq redrive'"),
        (["list"], "'triage incidents list' or 'triage silence list'"),
    ],
)
def test_a_verb_typed_without_its_command_names_the_command_meant(
    typed: list[str], meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage close FP` (the README's own shorthand for `triage incidents close`) was refused
    listing the commands, none of which says where `close` is: the refusal names the whole
    command meant, exit 2."""
    with pytest.raises(SystemExit) as stopped:
        main(typed)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"did you mean {meant}?" in err, err


def test_a_word_that_is_no_verb_gets_no_command_named(capsys: pytest.CaptureFixture[str]) -> None:
    """A word that is neither a command nor a verb of one is refused as before, naming none."""
    with pytest.raises(SystemExit):
        main(["frobnicate"])
    assert "did you mean" not in capsys.readouterr().err


# --- TRIAGE_SINKS written as another tool's list --------------------------------------------


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ('["backend","github"]', "backend,github"),
        ("backend;github", "backend,github"),
        ("backend, 'github'", "backend,github"),
        ("backend github", "backend,github"),
    ],
)
def test_sinks_written_as_a_json_list_or_apart_by_semicolons_say_the_comma_list(
    written: str, meant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRIAGE_SINKS as a JSON list (pydantic-settings' own form for a list) or apart by `;`
    named pieces such as `"github"], ["backend"` or advised `backend` alone, dropping github:
    the refusal gives the comma list that was meant, every sink kept."""
    monkeypatch.setenv("TRIAGE_SINKS", written)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert f"separate sinks with commas: '{meant}'" in str(refused.value), refused.value


# --- A GitHub API URL without its scheme ------------------------------------------------------


def test_a_github_api_url_without_its_scheme_is_one_line_not_a_proxy_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GITHUB_API_URL=api.github.com (the scheme left out) is a FAIL saying it must start with
    http:// or https://, and no second `github` line calling it a proxy and asking for
    GITHUB_WEB_URL, which would send the operator after a setting that is not wrong."""
    _local(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_SINKS", "backend,github")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/ops")
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", "api.github.com")
    assert main(["check"]) == 1
    lines = [x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["github"]]
    assert len(lines) == 1 and "must start with http:// or https://" in lines[0], lines


# --- A routes file's label given a list of values -------------------------------------------


def test_a_route_label_given_a_list_of_values_says_a_label_takes_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`labels = { env = ["prod", "staging"] }`, written as `team` and `source` take lists, was
    refused as "expected a string", which leaves a new team guessing: the refusal names the
    label, says it takes one value ("*": any), and how to match several."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "prod"\nsinks = ["backend"]\n'
        '[route.match]\nlabels = { env = ["prod", "staging"] }\n',
        "utf-8",
    )
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    with pytest.raises(ConfigError) as refused:
        load_router(load_settings())
    said = str(refused.value)
    assert "route 'prod'" in said and "label 'env' takes one value" in said, said
    assert "routes of their own" in said, said


def test_a_routes_sinks_written_as_one_string_shows_the_list_to_write(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`sinks = "backend,github"`, written as TRIAGE_SINKS is, was refused as "expected an
    array": the refusal shows the TOML list meant, every sink kept."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "web"\nsinks = "backend,github"\n'
        '[route.match]\nteam = ["web"]\n[route.github]\nrepository = "acme/web"\n',
        "utf-8",
    )
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    with pytest.raises(ConfigError) as refused:
        load_router(load_settings())
    said = str(refused.value)
    assert "route 'web'.sinks" in said and 'sinks = ["backend", "github"]' in said, said


# --- A backoff of 0 -----------------------------------------------------------------------------


def test_a_receive_backoff_of_0_is_refused_as_a_tight_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRIAGE_RECEIVE_RETRY_BASE_S=0 (meant as "no wait", or "off") doubles to 0 for ever: an
    SQS that refuses at once (a permission gone, an endpoint down) was asked again without
    pause, a busy loop of calls for the whole outage. Refused, saying why, with the least
    value that pauses."""
    monkeypatch.setenv("TRIAGE_RECEIVE_RETRY_BASE_S", "0")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    said = str(refused.value)
    assert said.startswith("TRIAGE_RECEIVE_RETRY_BASE_S: must be more than 0"), said
    assert "without pause" in said, said
    monkeypatch.setenv("TRIAGE_RECEIVE_RETRY_BASE_S", "0.01")
    assert load_settings().receive_retry_base_s == 0.01


# --- Which of two routes takes an alert -------------------------------------------------------


def test_the_routes_line_says_the_first_matching_route_decides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two routes that can both match an alert (a team's, and prod's by label): `triage check`
    says the first that matches decides and where the rest go, which a new team otherwise
    finds only in the README's routing section."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments"\nsinks = ["backend"]\n[route.match]\nteam = ["payments"]\n'
        '[[route]]\nname = "prod"\nsinks = ["backend"]\n[route.match]\nlabels = { env = "prod" }\n',
        "utf-8",
    )
    _local(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    main(["check"])
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["routes"]]
    assert "2 route(s), tried in order: the first that matches an alert takes it" in line, line
    assert "none: TRIAGE_SINKS (backend)" in line, line


def test_a_refused_credential_read_from_its_file_names_the_file_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A token file of two lines (a note under the token) was refused naming TRIAGE_API_TOKEN,
    a variable the operator never set: the refusal says it was read from TRIAGE_API_TOKEN_FILE,
    and never quotes the file."""
    secret = tmp_path / "secret"
    secret.write_text("op-token-540-7c9e1b3d5f\nrotated 2026-12-01\n", "utf-8")
    monkeypatch.setenv("TRIAGE_API_TOKEN_FILE", str(secret))
    with pytest.raises(ConfigError) as refused:
        load_settings()
    said = str(refused.value)
    assert said.startswith("TRIAGE_API_TOKEN (read from TRIAGE_API_TOKEN_FILE): "), said
    assert "op-token" not in said and "rotated" not in said, said
