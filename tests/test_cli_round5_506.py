"""The operators' command line, round 5: what an on-call engineer meets at 3 a.m. A silence
that quiets every alert leaves a warning in the log as the API's does; output to a terminal
or pipe that cannot take UTF-8, or to a full disk, is one line and an exit code, never a
traceback; `triage send` refuses a body the daemon could not read before sending anything;
an option pasted from a chat with a typographic dash is named as such."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon_harness import SRC
from factories import alert
from test_operator_api import NOW
from test_operator_silence_warnings import store_url
from test_store import LEASE, POLICY
from triage.cli import main
from triage.incidents.sqlite import SQLiteStore

__all__ = ["store_url"]  # the fixture, imported to be used here

#: A title an alert may well carry: an emoji, CJK and a word of Cyrillic.
WIDE_TITLE = "disk 🔥 満杯 диск " + "x" * 300


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_silence_of_every_alert_leaves_a_warning_in_the_log(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`silence add --match title!=` logs `cli.silence_added` as a warning with
    `matches_every_alert: true` and its `ends_at`, as the API's `api.silence_added` does."""
    monkeypatch.setenv("TRIAGE_LOG_FORMAT", "json")
    args = ["silence", "add", "--for", "1h", "--comment", "db work", "--author", "op"]
    assert main([*args, "--match", "title!="]) == 0
    out, err = capsys.readouterr()
    [added] = _json_lines(out)
    [logged] = [x for x in _json_lines(err) if x.get("event") == "cli.silence_added"]
    assert logged["level"] == "warning" and logged["matches_every_alert"] is True
    assert logged["silence"] == added["id"] and logged["ends_at"] == added["ends_at"]


def test_a_narrow_silence_leaves_no_every_alert_warning_in_the_log(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A silence on one team is no warning: the log line is the every-alert case's only."""
    monkeypatch.setenv("TRIAGE_LOG_FORMAT", "json")
    args = ["silence", "add", "--for", "1h", "--comment", "db work", "--author", "op"]
    assert main([*args, "--match", "team=payments"]) == 0
    err = capsys.readouterr().err
    assert not [x for x in _json_lines(err) if x.get("matches_every_alert")], err


@pytest.fixture
def wide_store(store_url: str) -> str:
    """The seeded store with one more open incident whose title holds emoji and CJK."""
    path = store_url[len("sqlite:///") :]

    async def seed() -> None:
        store = SQLiteStore(path, POLICY, LEASE, POLICY.reopen_window * 24)
        await store.open()
        await store.begin(alert(WIDE_TITLE), "m-wide", NOW)
        await store.aclose()

    asyncio.run(seed())
    return store_url


def _triage(
    args: list[str], env: dict[str, str], stdout: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[bytes]:
    """`python -m triage ARGS` as its own process, with `env` over a bare environment."""
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), "HOME": "/nonexistent", **env},
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_an_output_that_cannot_take_utf8_gets_every_incident_escaped(
    wide_store: str, encoding: str
) -> None:
    """With `PYTHONIOENCODING=ascii` (or latin-1, a non-UTF-8 locale) an incident titled with
    emoji and CJK is listed, not a traceback: its JSON line reads back as the title stored,
    and `--output text` says it with escapes."""
    env = {"TRIAGE_STORE_URL": wide_store, "PYTHONIOENCODING": encoding, "LANG": "C"}
    listed = _triage(["incidents", "list"], env)
    assert listed.returncode == 0, listed.stderr.decode()
    titles = [x["title"] for x in _json_lines(listed.stdout.decode(encoding))]
    assert any(t.startswith("disk 🔥 満杯 диск x") for t in titles), titles
    text = _triage(["incidents", "list", "--output", "text"], env)
    assert text.returncode == 0 and b"Traceback" not in text.stderr, text.stderr.decode()
    assert b"disk \\ud83d\\udd25" in text.stdout, text.stdout


@pytest.mark.parametrize(
    "args", [["incidents", "list"], ["incidents", "show", "-", "--output", "text"], ["normalize"]]
)
def test_output_to_a_full_disk_is_one_line_and_exit_1(
    wide_store: str, args: list[str], tmp_path: Path
) -> None:
    """`triage incidents list > /dev/full` (a full disk): exit 1 and one stderr line saying the
    output could not be written and why, never a traceback nor a crash log."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    if args[0] == "normalize":
        body = tmp_path / "alert.json"
        body.write_text(json.dumps({"title": WIDE_TITLE}), encoding="utf-8")
        args = ["normalize", str(body)]
    if "-" in args:  # the wide incident, named by its fingerprint
        listed = _triage(["incidents", "list"], {"TRIAGE_STORE_URL": wide_store})
        [wide] = [x for x in _json_lines(listed.stdout.decode()) if "🔥" in str(x["title"])]
        args = [str(wide["fingerprint"]) if a == "-" else a for a in args]
    with open("/dev/full", "wb") as full:
        ran = _triage(args, {"TRIAGE_STORE_URL": wide_store}, stdout=full.fileno())
    lines = ran.stderr.decode().splitlines()
    assert ran.returncode == 1, lines
    assert lines == [f"triage: {args[0]}: cannot write the output: No space left on device"]


def test_send_refuses_a_body_the_daemon_cannot_read_before_sending_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage send good.json notes.txt` with notes.txt not JSON: exit 1 with one line naming
    the file and the daemon's reason, and no call to SQS (the endpoint here answers nothing:
    reaching it would be another line)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    good, notes = tmp_path / "good.json", tmp_path / "notes.txt"
    good.write_text('{"title": "disk full"}', encoding="utf-8")
    notes.write_text("disk full on db-1, password=hunter2hunter2\n", encoding="utf-8")
    code = main(["send", "--queue-url", "http://127.0.0.1:9/1/q", str(good), str(notes)])
    err = capsys.readouterr().err
    assert code == 1, err
    [line] = err.splitlines()
    assert line.startswith(f"triage: send: {notes}: decode: body is not valid JSON"), line
    assert line.endswith("nothing was sent (`triage normalize FILE` shows what the daemon reads)")
    assert "hunter2" not in err


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("\u2014output", "--output"), ("\u2013output", "--output"), ("\u2212\u2212state", "--state")],
)
def test_an_option_pasted_with_a_typographic_dash_is_named(
    typed: str, meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list —output text` (an em dash a chat or document made of `--`): exit 2 with
    a line naming the dash and the option meant, not `unrecognized arguments`."""
    value = "text" if meant == "--output" else "all"
    with pytest.raises(SystemExit) as caught:
        main(["incidents", "list", typed, value])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"{typed!r} starts with" in err and f"type it as {meant}" in err, err
    assert "unrecognized arguments" not in err


def test_a_comment_that_starts_with_a_dash_word_is_still_taken(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value that only looks like a pasted option (`--comment "—for the migration"`) is the
    value: the dash check reads options, not what an option is given."""
    args = ["silence", "add", "--match", "team=payments", "--for", "1h", "--author", "op"]
    assert main([*args, "--comment", "—for the migration"]) == 0
    [added] = _json_lines(capsys.readouterr().out)
    assert added["comment"] == "—for the migration"


@pytest.mark.parametrize(
    "argv",
    [
        ["incidents", "list", "--since", "2h", "--since", "1d"],
        ["incidents", "list", "--state", "closed", "--output", "text", "--state", "open"],
        ["dlq", "peek", "--max", "5", "--max", "500"],
    ],
)
def test_an_option_given_twice_with_two_values_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--since 2h … --since 1d` (a recalled command with one more option typed on): exit 2
    naming the option and both values, not the last one taken silently over the first."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    option = argv[2]
    first, second = [argv[i + 1] for i, word in enumerate(argv) if word == option]
    err = capsys.readouterr().err
    assert f"{option} given twice ({first!r}, then {second!r}): give it once" in err, err


def test_an_option_given_twice_with_one_value_is_taken(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output text … --output text` says one thing twice: it is taken, as before."""
    argv = ["incidents", "list", "--output", "text", "--state", "all", "--output", "text"]
    assert main(argv) == 0
    assert "payments" in capsys.readouterr().out


def test_a_store_that_cannot_be_reached_is_named_in_its_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage incidents list` with DynamoDB unreachable: exit 1, no traceback, and the error
    line names the store (TRIAGE_STORE_URL) the operator must look at, not only the call."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "TRIAGE_STORE_URL": "dynamodb://incidents-prod",
        "TRIAGE_LOG_LEVEL": "error",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["incidents", "list"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("triage: incidents: store_unavailable: "), line
    assert line.endswith(" (TRIAGE_STORE_URL=dynamodb://incidents-prod)"), line


class _ExpiringSqs:
    """An SQS client whose credentials expire after its first SendMessageBatch."""

    class meta:
        endpoint_url = "http://127.0.0.1:9"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, object]]) -> object:
        from botocore.exceptions import ClientError

        if self.sent:
            error = {"Code": "ExpiredToken", "Message": "The security token is expired"}
            raise ClientError({"Error": error}, "SendMessageBatch")
        self.sent += [str(entry["MessageBody"]) for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}


def test_credentials_expiring_mid_send_say_what_was_sent_and_how_to_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage send` of 11 files whose credentials expire after the first call of ten: exit 1,
    one line saying the credentials expired, that 10 of 11 were sent and which file was not,
    so a rerun after renewing them sends that one only (a rerun of all would count ten
    alerts twice)."""
    from triage.aws import Aws

    sqs = _ExpiringSqs()

    async def client(self: object, name: str, **_: object) -> object:
        return sqs

    monkeypatch.setattr(Aws, "client", client)
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    files = []
    for n in range(11):
        body = tmp_path / f"alert-{n:02}.json"
        body.write_text(json.dumps({"title": f"disk {n}"}), encoding="utf-8")
        files.append(str(body))
    code = main(["send", "--queue-url", "http://127.0.0.1:9/1/q", *files])
    err = capsys.readouterr().err
    assert code == 1 and len(sqs.sent) == 10, err
    [line] = err.splitlines()
    assert "ExpiredToken" in line and "the AWS credentials expired: renew them" in line, line
    assert f"sent 10 of 11 message(s) before it stopped; not sent: {files[10]}" in line, line
