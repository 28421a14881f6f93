"""Every `triage` command, option and setting given a value a person mistypes: a non-zero exit
(2 for usage), one line naming what was wrong and what is accepted (a typo of a real word is
answered with it), no traceback and no secret repeated.

Each case runs the real entry point (`triage.cli.main`) in this process, as `python -m triage`
would, with the test's isolated environment."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from triage.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """The line that says why (argparse prints its usage above it)."""
        return self.stderr.strip().splitlines()[-1]


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    env: dict[str, str] | None = None,
) -> Ran:
    """`triage ARGV` in this process with `env` set; a usage error's SystemExit is its exit."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors and --help
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return Ran(code, out, err)


# --- command-line words: a typo of a choice is answered with the choice ----------------------

CHOICE_TYPOS = [
    (["rnu"], "'run'"),
    (["silnce", "list"], "'silence'"),
    (["incidents", "lsit"], "'list'"),
    (["silence", "expier", "x"], "'expire'"),
    (["incidents", "list", "--state", "opne"], "'open'"),
    (["incidents", "list", "--output", "jsno"], "'json'"),
    (["incidents", "show", "abc", "--output", "txt"], "'text'"),
    (["dlq", "peak"], "'peek'"),
    (["dlq", "redirve"], "'redrive'"),
    (["demo", "--llm", "stbu"], "'stub'"),
]


@pytest.mark.parametrize(
    ("argv", "meant"), CHOICE_TYPOS, ids=[" ".join(a) for a, _ in CHOICE_TYPOS]
)
def test_a_mistyped_word_is_a_usage_error_suggesting_the_word_meant(
    argv: list[str],
    meant: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mistyped command, verb or option value exits 2 with one line that names the word
    meant, beside the words accepted."""
    ran = run(capsys, monkeypatch, *argv)
    assert ran.code == 2
    assert f"did you mean {meant}?" in ran.last_line
    assert "choose from" in ran.last_line


def test_a_word_like_no_choice_gets_no_suggestion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word close to no choice is refused with the choices alone, no guess."""
    ran = run(capsys, monkeypatch, "incidents", "list", "--state", "zzzzzz")
    assert ran.code == 2
    assert "did you mean" not in ran.last_line and "choose from" in ran.last_line


# --- settings: a word outside a setting's set --------------------------------------------------

SETTING_TYPOS = [
    ("TRIAGE_LOG_FORMAT", "jsno", "'json'"),
    ("TRIAGE_LOG_LEVEL", "warn", "'warning'"),
    ("TRIAGE_METRICS", "cloudwath", "'cloudwatch'"),
    ("TRIAGE_LLM_PROVIDER", "opeanai", "'openai'"),
    ("TRIAGE_SLACK_MIN_PRIORITY", "hihg", "'high'"),
    ("TRIAGE_SINKS", "backend,githb", "'github'"),
]


@pytest.mark.parametrize(("variable", "value", "meant"), SETTING_TYPOS)
def test_a_mistyped_setting_word_names_the_setting_and_the_word_meant(
    variable: str,
    value: str,
    meant: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A setting given a typo of one of its words stops any command with exit 2 and one line
    naming the variable, the word meant and the words it takes."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}: ")
    assert f"did you mean {meant}?" in line


def test_a_setting_that_is_no_boolean_says_which_words_are(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A yes/no setting given another word names the words it takes."""
    ran = run(capsys, monkeypatch, "check", env={"TRIAGE_GITHUB_STORM_DIGEST": "maybe"})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith("triage: config: TRIAGE_GITHUB_STORM_DIGEST: ")
    assert "true or false" in line


#: A credential-shaped value, as when a token is pasted on the wrong line of an env file.
SECRET = "ghp_Zq8RkW3nV7pL2xT9sB4mC6yJ1hF5dG0aE8uK"

MISPLACED_SECRETS = [
    ("GITHUB_APP_INSTALLATION_ID", SECRET),
    ("TRIAGE_CONCURRENCY", SECRET),
    ("TRIAGE_LOG_LEVEL", SECRET),
    ("TRIAGE_METRICS", SECRET),
    ("TRIAGE_SLACK_MIN_PRIORITY", SECRET),
    ("TRIAGE_GITHUB_STORM_DIGEST", SECRET),
    ("TRIAGE_SINKS", SECRET),
    ("AWS_REGION", SECRET),
    ("GITHUB_REPOSITORY", SECRET),
    ("TRIAGE_STORE_URL", f"postgres://triage:{SECRET}@db.internal/triage"),
    ("OPENAI_BASE_URL", f"https://user:{SECRET}@llm.internal/v1"),
    ("TRIAGE_API_TOKEN", SECRET[:10]),
    ("OPENAI_API_KEY", f"{SECRET} {SECRET}"),
    ("SLACK_WEBHOOK_URL", f"https://hooks.slack.com/services/{SECRET}\x07"),
]


@pytest.mark.parametrize(("variable", "value"), MISPLACED_SECRETS)
def test_a_refused_setting_never_repeats_a_secret(
    variable: str,
    value: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused value that may be a credential is named by its variable, never repeated."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}")
    assert SECRET[:10] not in ran.stderr + ran.stdout


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TRIAGE_CONCURRENCY", "eight", "expected a whole number"),
        ("TRIAGE_CONCURRENCY", "8.5", "expected a whole number"),
        ("TRIAGE_LLM_TIMEOUT_S", "20s", "expected a number"),
        ("TRIAGE_CONCURRENCY", "0", "greater than or equal to 1"),
        ("TRIAGE_HTTP_PORT", "70000", "less than or equal to 65535"),
        ("TRIAGE_SHUTDOWN_GRACE_S", "-1", "greater than or equal to 0"),
        ("TRIAGE_SHUTDOWN_GRACE_S", "inf", "finite number"),
        ("SQS_WAIT_TIME", "20.5", "whole seconds"),
    ],
)
def test_a_number_setting_says_what_it_takes(
    variable: str,
    value: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A number setting given a word, a fraction, or a number out of its range names the
    variable and what it takes."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}: ") and said in line
