"""The operator API's token (TRIAGE_API_TOKEN) as configuration: a token no operator could
present (still wrapped in quotes, or pasted with its header's scheme) stops start-up and
`triage check` with one line naming the setting, never the token, as the gateway's tokens do
(tests/test_ingest_tokens*.py); every request would otherwise be a 401 with no hint."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from triage.cli import main
from triage.errors import ConfigError
from triage.settings import load_settings

#: The token's own characters: what no error may show.
BODY = "Op3r4t0rT0k3nBody" + "x" * 8

#: As the variable is set (the documented rule takes one pair of " or ' off an env value
#: first): what is left is still wrapped, or starts with a scheme.
STILL_WRAPPED = [
    f"`{BODY}`",  # a Markdown code span
    f"\u201c{BODY}\u201d",  # a chat's typographic double quotes
    f"\u2018{BODY}\u2019",  # and single ones
    f"\"'{BODY}'\"",  # quoted twice: one pair is left after the first is taken off
    f"'\"{BODY}\"'",
    f'"{BODY[:8]}"{BODY[8:]}"',  # a quote inside: the env rule leaves the outer pair
]
WITH_SCHEME = [f"Bearer {BODY}", f"bearer {BODY}", f"Basic {BODY}", f'"Bearer {BODY}"']


@pytest.mark.parametrize("value", STILL_WRAPPED)
def test_a_token_wrapped_in_quotes_stops_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """TRIAGE_API_TOKEN still wrapped in quotes is one ConfigError naming the variable and
    the quotes, never the token."""
    monkeypatch.setenv("TRIAGE_API_TOKEN", value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("TRIAGE_API_TOKEN: ") and "wrapped in quotes" in message
    assert BODY[:12] not in message


@pytest.mark.parametrize("value", WITH_SCHEME)
def test_a_token_pasted_with_its_scheme_stops_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """TRIAGE_API_TOKEN pasted with `Bearer ` (or `Basic `) is one ConfigError saying to
    store the token alone, never showing it."""
    monkeypatch.setenv("TRIAGE_API_TOKEN", value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("TRIAGE_API_TOKEN: ") and "store the token alone" in message
    assert BODY[:12] not in message


@pytest.mark.parametrize("value", [f'"{BODY}"', f"'{BODY}'", f"`{BODY}`", f"Bearer {BODY}"])
def test_a_token_given_in_code_is_held_to_the_same_rule(value: str) -> None:
    """A token given as a keyword (no env rule takes quotes off it) is refused the same way:
    quotes and a scheme are never part of what an operator presents."""
    with pytest.raises(ConfigError, match=r"^TRIAGE_API_TOKEN: ") as refused:
        load_settings(api_token=SecretStr(value))
    assert BODY[:12] not in str(refused.value)


@pytest.mark.parametrize(
    ("value", "read"),
    [
        (f'"{BODY}"', BODY),  # one pair of env-file quotes: taken off, as for every setting
        (f"'{BODY}'", BODY),
        (f'{BODY}"', f'{BODY}"'),  # a quote at one end only is part of a generated token
        (f"`{BODY}", f"`{BODY}"),
        (f"Bearer{BODY}", f"Bearer{BODY}"),  # no scheme without its space
    ],
)
def test_a_token_that_is_no_paste_fault_is_read(
    monkeypatch: pytest.MonkeyPatch, value: str, read: str
) -> None:
    """What an operator can present is read: one pair of env-file quotes is taken off (the
    documented rule of every value), and a quote at one end only stays part of the token."""
    monkeypatch.setenv("TRIAGE_API_TOKEN", value)
    token = load_settings().api_token
    assert token is not None and token.get_secret_value() == read


def test_check_fails_on_a_quoted_token_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage check` exits 2 on a TRIAGE_API_TOKEN wrapped in quotes, with one line naming
    the variable and never the token (before reaching any dependency)."""
    monkeypatch.setenv("TRIAGE_API_TOKEN", f"`{BODY}`")
    assert main(["check"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("triage: config: TRIAGE_API_TOKEN: ")
    assert "wrapped in quotes" in line and BODY[:12] not in line


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "GITHUB_TOKEN"])
@pytest.mark.parametrize(
    ("value", "said"),
    [
        (f"`{BODY}`", "wrapped in quotes"),
        (f"\u201c{BODY}\u201d", "wrapped in quotes"),
        (f'"Bearer {BODY}"', "store the token alone"),
        (f"Bearer {BODY}", "store the token alone"),
    ],
)
def test_the_model_key_and_the_github_token_are_held_to_the_same_rule(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    """OPENAI_API_KEY and GITHUB_TOKEN still wrapped in quotes or pasted with `Bearer ` stop
    start-up the same way, naming the variable and never the key: every call to the model or
    to GitHub was refused (401) with no hint why."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith(f"{variable}: ") and said in message
    assert BODY[:12] not in message
