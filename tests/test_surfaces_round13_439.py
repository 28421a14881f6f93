"""Operator-surface bugs of round 13: a group's `incidents list` line says its alerts and its
occurrences once each; `triage check` says a backend probe that cannot tell as `unknown` (text
and `--output json`), and fails GitHub credentials that cannot open issues as a read proves it
(a classic token's scopes, an App installation's permissions); a query's `+01:00` read as
typed; a prefix too short said so; every filter read in any case and with spaces around it."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from github_stub import GitHubServer, StubApp
from test_check_backend_routes import TOKEN, FrameworkOptions
from test_check_github_labels import LabelledGitHub, _rsa_pem
from test_operator_api import BEARER, serving
from test_operator_cli import triage
from test_operator_filters import seed
from test_surfaces_leftovers_431 import _group
from triage.app import open_configured_store
from triage.aws import Aws
from triage.incidents import Store
from triage.ops.check import run_checks
from triage.ops.operator import (
    MIN_PREFIX,
    Filter,
    find_incident,
    incident_json,
    list_incidents,
)
from triage.ops.operator_text import incident_line
from triage.redact import Redactor
from triage.settings import Settings, load_settings


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """A SQLite store of eight open incidents, the one TRIAGE_STORE_URL names."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    opened = await open_configured_store(settings, aws)
    await seed(opened, 8)
    yield opened
    await opened.aclose()
    await aws.aclose()


# --- a group's line in `incidents list --output text` -------------------------------------------


async def test_a_groups_list_line_says_its_alerts_and_occurrences_once_each(store: Store) -> None:
    """`incidents list --output text` says a group's alerts (and how many fire) and its
    occurrences each once, as its page row and `incidents show` do, rather than its
    occurrences as "7 alerts" while the group holds 3."""
    group = await _group(store)
    shown = incident_json(group, Redactor())
    now = datetime.now(UTC)
    line = incident_line(shown, group.opened_at, now)
    members, firing = shown["members"], shown["members_firing"]
    assert f"{members} alerts, {firing} firing" in line, line
    assert f"{group.occurrences} occurrences" in line, line
    assert len(re.findall(r"\balerts?\b", line.replace(shown["title"], ""))) == 1, line


# --- `triage check`: a backend probe that cannot tell -------------------------------------------


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[FrameworkOptions]:
    """A loopback ticket backend whose OPTIONS answers 204 with no `Allow`, as nginx's
    `return 204` in front of a backend does whether the backend is up or not."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    with FrameworkOptions(TOKEN) as server:
        yield server


async def test_check_says_a_backend_probe_that_cannot_tell_as_neither_ok_nor_failed(
    gateway: FrameworkOptions, tmp_path: Path
) -> None:
    """A backend whose OPTIONS answer proves nothing (a gateway's own 204) is shown as
    `unknown`, not `ok`, and is not counted as passed; the check still exits 0, as nothing
    is known to fail (README: exit 1 only when a check failed, here the queue left unset)."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("backend",),
        llm_provider="none",
        backend_base_url=gateway.url,
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    out = io.StringIO()
    code = await run_checks(settings, out)
    lines = out.getvalue().splitlines()
    [probe] = [line for line in lines if "proves nothing" in line]
    assert probe.split()[:2] == ["unknown", "backend"], probe
    verdicts = [line.split()[0] for line in lines[:-1]]
    passed = verdicts.count("ok") + verdicts.count("warn")
    assert lines[-1].startswith(f"{passed} of {len(verdicts)} checks passed"), lines[-1]
    assert lines[-1].endswith(", 1 could not tell"), lines[-1]
    assert code == (1 if "FAIL" in verdicts else 0)


async def test_check_in_json_says_a_probe_that_cannot_tell_as_unknown(
    gateway: FrameworkOptions, tmp_path: Path
) -> None:
    """`triage check --output json` writes each check as `{"check", "verdict", "detail"}`,
    the gateway-answered backend probe's verdict `unknown`, and a last object counting it
    apart from the passed ones, as the text's last line does."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("backend",),
        llm_provider="none",
        backend_base_url=gateway.url,
    )
    out = io.StringIO()
    await run_checks(settings, out, output="json")
    *lines, summary = [json.loads(line) for line in out.getvalue().splitlines()]
    [probe] = [line for line in lines if "proves nothing" in line["detail"]]
    assert (probe["check"], probe["verdict"]) == ("backend", "unknown")
    verdicts = [line["verdict"] for line in lines]
    assert summary["unknown"] == 1 and summary["total"] == len(lines)
    assert summary["passed"] == verdicts.count("ok") + verdicts.count("warn")


# --- `triage check`: a classic token whose scopes cannot open issues ----------------------------

#: A classic personal access token (GitHub's `ghp_` prefix), whose answers carry its scopes.
CLASSIC = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"


class ScopedGitHub(GitHubServer):
    """The loopback GitHub stub answering every call with the token's classic scopes
    (`X-OAuth-Scopes`), as GitHub does for a classic token."""

    scopes = ""

    def _rate_headers(self) -> dict[str, str]:
        return {**super()._rate_headers(), "X-OAuth-Scopes": self.scopes}


async def _github_line(scopes: str, tmp_path: Path) -> tuple[str, list[str]]:
    """The `github` line of `triage check` with a classic token holding `scopes`, and the
    methods of the calls that were not reads."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("github",),
        llm_provider="none",
        github_repository="acme/ops",
        github_token=CLASSIC,
        github_api_url="http://127.0.0.1:1",
    )
    with ScopedGitHub(tokens={CLASSIC: "triage-bot"}, repositories=("acme/ops",)) as github:
        github.scopes = scopes
        # The create's answer proves nothing either way (an outage behind GitHub's edge).
        github.fail_next(status=502, method="POST", path="/issues")
        out = io.StringIO()
        await run_checks(settings.model_copy(update={"github_api_url": github.url}), out)
        writes = [c["method"] for c in github.calls if c["method"] != "GET"]
    [line] = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["github"]]
    return line, writes


@pytest.mark.parametrize("scopes", ["", "read:org, gist", "repo:status, read:user"])
async def test_check_fails_a_classic_token_whose_scopes_cannot_open_issues(
    scopes: str, tmp_path: Path
) -> None:
    """A classic token with neither `repo` nor `public_repo` reads a public repository's
    issues but is refused every new one: the check fails, naming its scopes and the one to
    add, from the read alone (no test create), rather than a warning that write access is
    not known because the create's answer told nothing."""
    line, writes = await _github_line(scopes, tmp_path)
    assert line.startswith("FAIL  github   acme/ops:"), line
    assert "X-OAuth-Scopes" in line and "public_repo" in line, line
    assert writes == []


async def test_check_does_not_judge_a_token_whose_scopes_may_open_issues(
    tmp_path: Path,
) -> None:
    """A classic token holding `public_repo` (the repository not known to be private) is not
    failed for its scopes: the create is asked, and its answer (an outage) judged as before."""
    line, writes = await _github_line("public_repo, read:org", tmp_path)
    assert line.startswith("warn  github"), line
    assert "X-OAuth-Scopes" not in line, line
    assert writes == ["POST"]


async def test_check_fails_an_app_whose_installation_may_not_write_issues(tmp_path: Path) -> None:
    """A GitHub App whose installation has `issues: read` is refused every new issue: when
    the untitled create's answer tells nothing (an outage's 502), the installation's
    permissions, read with the App's JWT, fail the check rather than a warning that write
    access is not known."""
    private, public = _rsa_pem()
    app = StubApp(app_id="4242", slug="triage-app", public_key=public, installation_id=77)
    with LabelledGitHub(repositories=("acme/ops",), app=app) as github:
        github.installation_permissions = {"issues": "read", "metadata": "read"}
        github.fail_next(status=502, method="POST", path="/issues")
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("github",),
            llm_provider="none",
            github_api_url=github.url,
            github_repository="acme/ops",
            github_app_id="4242",
            github_app_private_key=private,
            github_app_installation_id=77,
        )
        out = io.StringIO()
        await run_checks(settings, out)
    [line] = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["github"]]
    assert line.startswith("FAIL  github"), line
    assert "issues: read" in line and "issues: write" in line, line


# --- a time with a positive UTC offset in a query ---------------------------------------------


@pytest.mark.parametrize("name", ["since", "before"])
async def test_a_query_time_with_a_plus_offset_typed_bare_is_read_as_that_time(
    store: Store, name: str
) -> None:
    """`?since=2026-12-05T07:00+01:00` typed into curl or a browser's address bar (its `+`
    unencoded, which a query reads as a space) filters by that time at the API, as
    `%2B01:00` does, rather than a 400 saying it expects such a time."""
    moment = (datetime.now(UTC) - timedelta(days=1)).astimezone(timezone(timedelta(hours=1)))
    typed = moment.isoformat(timespec="minutes")
    assert "+01:00" in typed
    encoded = typed.replace("+", "%2B")
    async with serving(store) as client:
        bare = await client.get(f"/api/v1/incidents?{name}={typed}", headers=BEARER)
        escaped = await client.get(f"/api/v1/incidents?{name}={encoded}", headers=BEARER)
    assert escaped.status_code == 200, escaped.text
    assert bare.status_code == 200, bare.text
    assert bare.json()["total"] == escaped.json()["total"]


# --- a fingerprint prefix too short to take ----------------------------------------------------


async def test_a_prefix_too_short_says_so_not_that_no_incident_has_it(store: Store) -> None:
    """`incidents show abc` (and the API's and page's) where incidents do start with `abc`
    says the prefix is too short, with the least it takes and how many start with it, rather
    than "no incident abc" alone, which reads as none being there."""
    [first, *_] = await list_incidents(store, Filter("open"))
    short = first.fingerprint[: MIN_PREFIX - 1]
    with pytest.raises(LookupError) as refused:
        await find_incident(store, short)
    said = str(refused.value)
    assert f"at least {MIN_PREFIX} characters" in said, said
    assert re.search(r"\(\d+ incidents? start with it\)", said), said


# --- every filter read alike: case and spaces around it ----------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("source=CloudWatch", "source=cloudwatch"),
        ("source=%20SENTRY%20", "source=sentry"),
        ("state=Open", "state=open"),
        ("state=%20all", "state=all"),
        ("flapping=%20True", "flapping=true"),
    ],
)
async def test_a_filter_in_capitals_or_with_spaces_is_read_as_team_and_priority_are(
    store: Store, typed: str, canonical: str
) -> None:
    """`?source=CloudWatch`, `?state=Open` or `?flapping=%20true` lists what the lower-case,
    trimmed word lists, as `?priority=Critical` and `?team=%20Payments` do, rather than a
    400 saying "did you mean 'cloudwatch'?" for the one word it can be."""
    async with serving(store) as client:
        given = await client.get(f"/api/v1/incidents?{typed}", headers=BEARER)
        meant = await client.get(f"/api/v1/incidents?{canonical}", headers=BEARER)
    assert meant.status_code == 200, meant.text
    assert given.status_code == 200, given.text
    assert given.json()["incidents"] == meant.json()["incidents"]


@pytest.mark.parametrize("blank", ["%20", "%09%20"])
async def test_a_flag_given_only_spaces_is_refused_as_an_empty_one(
    store: Store, blank: str
) -> None:
    """`?flapping=%20` (a dashboard variable holding a space) is a 400 as `?flapping=` is,
    not read as the bare name's yes once its spaces are trimmed."""
    async with serving(store) as client:
        answer = await client.get(f"/api/v1/incidents?flapping={blank}", headers=BEARER)
    assert answer.status_code == 400, answer.text
    assert "flapping is empty" in answer.json()["error"]


async def test_the_command_line_reads_a_source_in_capitals_as_the_api_does(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list --source CloudWatch` lists the cloudwatch incidents."""
    code, listed, err = await asyncio.to_thread(
        triage, capsys, "incidents", "list", "--source", "CloudWatch"
    )
    assert code == 0, err
    assert listed and {shown["source"] for shown in listed} == {"cloudwatch"}


async def test_the_command_line_reads_a_state_in_capitals_as_the_api_does(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list --state " All"` lists every incident, as `?state=%20All` does,
    rather than argparse's "invalid choice"."""
    code, listed, err = await asyncio.to_thread(
        triage, capsys, "incidents", "list", "--state", " All"
    )
    assert code == 0, err
    assert len(listed) == 8
