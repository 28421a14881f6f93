"""The three files an operator writes (routes, ingest tokens, patterns) and the backend token's
variable answer a mistake as the settings and command line do: one line saying what was meant,
with the word a typo was of, and never a value that may be a credential."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from triage.cli import main
from triage.errors import ConfigError
from triage.ingest_tokens import parse_tokens
from triage.routes import load_router
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.summarise.deterministic import load_patterns

ROUTE = '[[route]]\nname = "a"\n'


def route_error(tmp_path: Path, text: str) -> str:
    """The one line load_router raises for a routes file holding `text`."""
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_router(Settings(routes_file=path))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"TRIAGE_ROUTES_FILE {path}: ")
    return message


ROUTE_FAULTS = [
    (ROUTE + 'sinks = ["githb"]\n', "route 'a'.sinks: unknown sink 'githb'", "'github'"),
    (
        ROUTE + 'sinks = ["backend"]\nmatch = { source = "grafna" }\n',
        "route 'a'.match.source: unknown source 'grafna'",
        "did you mean 'grafana'?",
    ),
    (
        ROUTE + 'sinks = ["backend"]\n[route.match]\nteem = ["x"]\n',
        "route 'a'.match.teem: unknown key",
        "did you mean 'team'?",
    ),
    (ROUTE + 'snks = ["backend"]\n', "route 'a'.snks: unknown key", "did you mean 'sinks'?"),
    (  # no key near it: the table's keys are listed instead
        ROUTE + 'sinks = ["backend"]\nzzz = 1\n',
        "route 'a'.zzz: unknown key; known: name, sinks, match",
        "",
    ),
    (
        ROUTE + 'sinks = ["github"]\n[route.github]\nrepositry = "a/b"\n',
        "route 'a'.github.repositry: unknown key",
        "did you mean 'repository'?",
    ),
    ('[[rout]]\nname = "a"\nsinks = ["backend"]\n', "rout: unknown key", "did you mean 'route'?"),
    (
        ROUTE + 'sinks = ["backend"]\nmatch = { priority = "hgih" }\n',
        "route 'a'.match.priority.0:",
        "did you mean 'high'?",
    ),
    (
        ROUTE + 'sinks = ["github"]\n[route.github]\nrepository = "payments"\n',
        "route 'a'.github.repository: must be owner/name",
        "",
    ),
    (
        ROUTE + 'sinks = ["github"]\n[route.github]\nassignees = ["a b"]\n',
        "route 'a'.github.assignees.0: must be a GitHub login",
        "",
    ),
    (
        ROUTE + 'sinks = ["slack"]\n[route.slack]\nwebhook_url = "http://h/x"\n',
        "route 'a'.slack.webhook_url: must be an https:// URL",
        "",
    ),
    (
        ROUTE + 'sinks = ["backend"]\ngroup_window_s = -1\n',
        "route 'a'.group_window_s: must be at least 0",
        "",
    ),
    (
        '[[route]]\nname = "a\\u0001"\nsinks = ["backend"]\n',
        "route 'a\\x01'.name: must be words without control characters",
        "",
    ),
]


@pytest.mark.parametrize(("text", "starts", "meant"), ROUTE_FAULTS)
def test_a_routes_file_mistake_says_what_was_meant(
    tmp_path: Path, text: str, starts: str, meant: str
) -> None:
    """Each mistake in a routes file is one line in triage's words (no regex, no pydantic
    phrase), with the word a typo was of."""
    message = route_error(tmp_path, text)
    assert starts in message
    assert meant in message
    for pydantic_words in ("should match pattern", "greater than", "Extra inputs", "Field req"):
        assert pydantic_words not in message


def test_an_unknown_category_names_the_one_meant(tmp_path: Path) -> None:
    """A route's category misspelt is answered with the bundled pattern's category."""
    text = ROUTE + 'sinks = ["backend"]\nmatch = { category = "disk-ful" }\n'
    message = route_error(tmp_path, text)
    assert "unknown category 'disk-ful'" in message and "did you mean 'disk-full'?" in message


def test_check_in_process_says_what_a_routes_key_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage check` shows the routes file's mistake with the key it was a typo of."""
    path = tmp_path / "routes.toml"
    path.write_text(ROUTE + 'sinks = ["backend"]\n[route.match]\nteem = ["x"]\n', "utf-8")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "OPENAI_API_KEY", "ALERT_TRIAGE_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(path))
    capsys.readouterr()
    code = main(["check"])
    out, err = capsys.readouterr()
    assert code != 0 and "Traceback" not in err
    (line,) = [line for line in (out + err).splitlines() if "TRIAGE_ROUTES_FILE" in line]
    assert "route 'a'.match.teem: unknown key; did you mean 'team'?" in line


def test_an_unknown_ingest_source_names_the_one_meant() -> None:
    """A misspelt source in the ingest tokens is answered with the source it was a typo of."""
    with pytest.raises(ConfigError) as caught:
        parse_tokens('{"grafna": "0123456789abcdef0123"}', "TRIAGE_INGEST_TOKENS")
    assert "unknown source(s) grafna; did you mean 'grafana'?" in str(caught.value)


def test_a_token_written_as_a_source_is_not_suggested_from() -> None:
    """A key that is no name (a token as the key) is shown by its length, with no suggestion."""
    key = "Zq8RkW3nV7pL2xT9sB4mC6yJ1hF5dG0aE8uK"
    with pytest.raises(ConfigError) as caught:
        parse_tokens('{"' + key + '": "generic"}', "TRIAGE_INGEST_TOKENS")
    assert key not in str(caught.value) and "(36 characters)" in str(caught.value)


def patterns_error(path: Path) -> str:
    """The one line load_patterns raises for `path`."""
    with pytest.raises(ConfigError) as caught:
        load_patterns(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"TRIAGE_PATTERNS_FILE {path}")
    return message


def test_a_patterns_file_that_is_a_directory_says_so_plainly(tmp_path: Path) -> None:
    """A directory named as the patterns file: the OS's reason once, not `[Errno 21] …: path`."""
    message = patterns_error(tmp_path)
    assert message == f"TRIAGE_PATTERNS_FILE {tmp_path}: Is a directory"


def test_a_missing_patterns_file_says_so_plainly(tmp_path: Path) -> None:
    """A patterns file that does not exist: the OS's reason, the path said once."""
    missing = tmp_path / "nope.toml"
    assert patterns_error(missing) == f"TRIAGE_PATTERNS_FILE {missing}: No such file or directory"


def test_a_patterns_file_not_utf8_names_the_byte(tmp_path: Path) -> None:
    """Latin-1 bytes in the patterns file: 'not UTF-8 (byte N)', as the routes file says."""
    path = tmp_path / "patterns.toml"
    path.write_bytes('[[pattern]]\ncategory = "café"\n'.encode("latin-1"))
    assert patterns_error(path) == f"TRIAGE_PATTERNS_FILE {path}: not UTF-8 (byte 27)"


def test_a_patterns_file_with_a_bom_is_read(tmp_path: Path) -> None:
    """An editor's byte order mark is no mistake, as in the routes file."""
    path = tmp_path / "patterns.toml"
    text = '[[pattern]]\ncategory = "x"\npattern = "x"\nseverity_hint = "low"\nsteps = []\n'
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert [p.category for p in load_patterns(path)] == ["x"]


def test_a_patterns_file_toml_error_says_not_valid_toml(tmp_path: Path) -> None:
    """A TOML syntax error in the patterns file is prefixed 'not valid TOML:'."""
    path = tmp_path / "patterns.toml"
    path.write_text("[[pattern]\n", encoding="utf-8")
    assert patterns_error(path).startswith(f"TRIAGE_PATTERNS_FILE {path}: not valid TOML: ")


@pytest.mark.parametrize("key", ["BACKEND_TOKEN", "TICKETS_API_TOKEN"])
def test_no_backend_token_never_quotes_the_variable_setting(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'no backend token' names BACKEND_TOKEN_ENV_KEY's variable without quoting a value set
    for it (only the default name, a constant, is spelt out)."""
    monkeypatch.delenv(key, raising=False)
    provider = BackendToken(Settings(backend_token_env_key=key))
    with pytest.raises(ConfigError) as caught:
        asyncio.run(provider.get())
    message = str(caught.value)
    if key == "BACKEND_TOKEN":
        assert "set BACKEND_TOKEN or BACKEND_TOKEN_SECRET_ID" in message
    else:
        assert key not in message
        assert "the variable BACKEND_TOKEN_ENV_KEY names" in message


def test_an_unusable_backend_token_never_quotes_the_variable_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A token with whitespace, read from a custom variable, is refused without naming it."""
    monkeypatch.setenv("TICKETS_API_TOKEN", "abc def")
    provider = BackendToken(Settings(backend_token_env_key="TICKETS_API_TOKEN"))
    with pytest.raises(ConfigError) as caught:
        asyncio.run(provider.get())
    assert "TICKETS_API_TOKEN" not in str(caught.value)
    assert "the variable BACKEND_TOKEN_ENV_KEY names" in str(caught.value)


def test_an_unusable_token_in_the_default_variable_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default variable, a constant, is still named as $BACKEND_TOKEN."""
    monkeypatch.setenv("BACKEND_TOKEN", "abc def")
    with pytest.raises(ConfigError, match=r"^\$BACKEND_TOKEN is not a usable bearer token"):
        asyncio.run(BackendToken(Settings()).get())


HOOK = "https://hooks.slack.com/services/T0000/B0000/Zq8RkW3nV7pL2xT9sB4mC6yJ"


@pytest.mark.parametrize(
    "text",
    [
        ROUTE + f'sinks = ["slack"]\n[route.slack]\nwebhook_url_env = "{HOOK}"\n',
        ROUTE + 'sinks = ["github"]\nescalate_after_s = 60\n'
        f'[route.escalate]\nslack_webhook_url_env = "{HOOK}"\n',
    ],
)
def test_a_webhook_written_as_its_variable_is_never_repeated(tmp_path: Path, text: str) -> None:
    """The webhook URL itself on the `…_env` line (the likely slip) is refused as no variable
    name, in a line that does not repeat it (it used to say '<the URL> is not set')."""
    message = route_error(tmp_path, text)
    assert "must be the name of the variable that holds the URL" in message
    assert HOOK not in message and "Zq8Rk" not in message


def one_pattern(tmp_path: Path, **fields: str) -> Path:
    """A patterns file of one entry: a good one, with `fields` written over it (TOML values)."""
    entry = {"category": '"x"', "pattern": '"disk"', "severity_hint": '"low"', "steps": "[]"}
    entry.update(fields)
    path = tmp_path / "patterns.toml"
    body = "".join(f"{key} = {value}\n" for key, value in entry.items())
    path.write_text("[[pattern]]\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"severity_hint": '"hgih"'},
            "(x): severity_hint must be critical, high, medium or low; did you mean 'high'?",
        ),
        ({"severity_hint": '"P1"'}, "(x): severity_hint must be critical, high, medium or low"),
        ({"pattern": '"(disk"'}, "(x): pattern is no regular expression: missing )"),
    ],
)
def test_a_patterns_entry_mistake_says_what_was_meant(
    tmp_path: Path, fields: dict[str, str], expected: str
) -> None:
    """A bad severity_hint names the levels (and the one a typo meant); a bad regex says it is
    the pattern that is wrong, not a bare `re` message or 'is not a valid Priority'."""
    path = one_pattern(tmp_path, **fields)
    message = patterns_error(path)
    assert message.startswith(f"TRIAGE_PATTERNS_FILE {path}: [[pattern]] #1 ")
    assert expected in message and "Priority" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[pattern]]\ncategory = "x"\npattern = "disk"\nseverty_hint = "low"\nsteps = []\n',
            "#1 (x): missing key 'severity_hint' (written as 'severty_hint'?)",
        ),
        ('[[pattern]]\ncategory = "x"\n', "#1 (x): missing key 'pattern'"),
        ('pattern = ["disk"]\n', "#1: must be a table ([[pattern]])"),
        ('pattern = "disk"\n', ": pattern must be an array of tables ([[pattern]])"),
        (
            '[[patterns]]\ncategory = "x"\npattern = "d"\nseverity_hint = "low"\nsteps = []\n',
            ": no [[pattern]] entries (written as [[patterns]]?)",
        ),
    ],
)
def test_a_patterns_file_shape_mistake_says_what_was_meant(
    tmp_path: Path, text: str, expected: str
) -> None:
    """A misspelt key, an entry that is no table and a misspelt [[pattern]] are named as such,
    not 'missing key string indices must be integers' or a bare 'no entries'."""
    path = tmp_path / "patterns.toml"
    path.write_text(text, encoding="utf-8")
    message = patterns_error(path)
    assert expected in message and "indices" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ROUTE, "route 'a'.sinks: required"),
        (ROUTE + 'sinks = "backend"\n', "route 'a'.sinks: expected an array"),
        (ROUTE + "sinks = []\n", "route 'a'.sinks: must not be empty"),
        (ROUTE + 'sinks = ["backend"]\nmatch = "x"\n', "route 'a'.match: expected a table"),
        (
            ROUTE + 'sinks = ["backend"]\nmatch = { labels = "x" }\n',
            "route 'a'.match.labels: expected a table",
        ),
        (ROUTE + "sinks = [1]\n", "route 'a'.sinks.0: expected a string"),
        ('route = "x"\n', "route: expected an array"),
        (ROUTE + 'sinks = ["backend"]\nmatch = { team = 5 }\n', "route 'a'.match.team:"),
        (ROUTE + 'sinks = ["backend"]\nmatch = { category = 5 }\n', "route 'a'.match.category:"),
        (
            '[[route]]\nname = "' + "x" * 201 + '"\nsinks = ["backend"]\n',
            f"route '{'x' * 40}…'.name: must be at most 200 characters",
        ),
    ],
)
def test_a_routes_file_of_the_wrong_shape_says_so_in_toml_words(
    tmp_path: Path, text: str, expected: str
) -> None:
    """A value of the wrong TOML type is one line in TOML's words (array, table, string), never
    pydantic's (tuple, dictionary, instance of _Match) nor a TypeError traceback; a long route
    name is cut where it only labels the route."""
    message = route_error(tmp_path, text)
    assert expected in message
    for python_words in ("tuple", "dictionary", "_Match", "Field required", "String should"):
        assert python_words not in message


@pytest.mark.parametrize("key", ["0123456789abcdef", "Zq8RkW3nV7pL2xT9", "abcdEFGHijklMNOP"])
def test_a_short_token_written_as_a_source_is_shown_by_its_length(key: str) -> None:
    """A token of 16 to 20 name characters as the key (digits, mixed case) is no misspelt
    source: it is shown by its length only, and suggests nothing."""
    with pytest.raises(ConfigError) as caught:
        parse_tokens('{"' + key + '": "generic"}', "TRIAGE_INGEST_TOKENS")
    assert key not in str(caught.value) and f"({len(key)} characters)" in str(caught.value)


@pytest.mark.parametrize(("key", "meant"), [("Grafna", "grafana"), ("SENTRI", "sentry")])
def test_a_source_in_capitals_is_still_a_misspelt_name(key: str, meant: str) -> None:
    """A source name written in capitals or capitalised is shown, with the one it meant."""
    with pytest.raises(ConfigError) as caught:
        parse_tokens('{"' + key + '": "0123456789abcdef0123"}', "TRIAGE_INGEST_TOKENS")
    assert f"unknown source(s) {key}; did you mean {meant!r}?" in str(caught.value)
