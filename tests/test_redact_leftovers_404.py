"""Leftovers of round 9 (helper 404): a NuGet key given by its place, an expect one-liner's
unquoted answer, a secret's list opened before a comment or nesting lists, and an empty list
under a secret's name, each with the neighbours that must stay as they are."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Zq8vTn3Rk7Wp2Ys"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- NuGet's API key by its place --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"nuget setapikey {PASSWORD} -Source https://nuget.example.com/v3/index.json",
            f"nuget setapikey {P} -Source https://nuget.example.com/v3/index.json",
        ),
        (f"C:\\tools\\nuget.exe setapikey {PASSWORD}", f"C:\\tools\\nuget.exe setapikey {P}"),
        (
            f"dotnet nuget setapikey {PASSWORD} --source nuget.org",
            f"dotnet nuget setapikey {P} --source nuget.org",
        ),
        (
            f"nuget setapikey -Source https://feed.example.com {PASSWORD}",
            f"nuget setapikey -Source https://feed.example.com {P}",
        ),
        (
            f"nuget push out/App.1.2.0.nupkg {PASSWORD} -Source https://feed.example.com",
            f"nuget push out/App.1.2.0.nupkg {P} -Source https://feed.example.com",
        ),
    ],
)
def test_a_nuget_key_by_its_place_is_blanked(text: str, expected: str) -> None:
    """nuget setapikey's key, and nuget push's key after the package, are blanked."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "nuget setapikey -Source https://feed.example.com",
        "nuget setapikey $NUGET_KEY -Source https://feed.example.com",
        "nuget push out/App.1.2.0.nupkg -Source https://feed.example.com",
        "nuget push failed for App.1.2.0.nupkg",
        "nuget setapikey failed with exit code 1",
        "dotnet nuget push out/App.1.2.0.nupkg --source nuget.org",
    ],
)
def test_a_nuget_command_without_a_literal_key_stays(text: str) -> None:
    """A NuGet command with no key, a variable's, or prose about one keeps every word."""
    assert _text(text) == text


# --- an expect one-liner's unquoted answer -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"expect -c 'spawn ssh u@h; expect assword:; send {PASSWORD}\\r'",
            f"expect -c 'spawn ssh u@h; expect assword:; send {P}\\r'",
        ),
        (
            f"expect -c 'spawn ssh u@h; expect *assword*; send -- {PASSWORD}\\r; interact'",
            f"expect -c 'spawn ssh u@h; expect *assword*; send -- {P}\\r; interact'",
        ),
        (
            f'expect -c \'spawn ssh u@h; expect "assword:"; send "{PASSWORD}\\r"\'',
            f'expect -c \'spawn ssh u@h; expect "assword:"; send "{P}\\r"\'',
        ),
    ],
)
def test_an_expect_answer_to_a_password_prompt_is_blanked(text: str, expected: str) -> None:
    """An expect script's answer to a password prompt is blanked, quoted or not."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "expect -c 'spawn ssh u@h; expect assword:; send $env(PW)\\r'",
        "expect -c 'spawn ssh u@h; expect login:; send admin\\r'",
        "expect -c 'spawn ssh u@h; expect assword:; send [REDACTED:password]\\r'",
    ],
)
def test_an_expect_answer_that_is_no_literal_password_stays(text: str) -> None:
    """A variable's answer, or one to a login prompt, is kept."""
    assert _text(text) == text


# --- a list under a secret's name --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'"api_keys": [ # rotated weekly\n  "{PASSWORD}",\n  "Hk4mRt8Vx2Lq9Wn"\n]',
            f'"api_keys": [ # rotated weekly\n  {P}\n]',
        ),
        (
            f'const apiKeys = [ // rotated weekly\n    "{PASSWORD}",\n];',
            f"const apiKeys = [ // rotated weekly\n    {P}\n];",
        ),
    ],
)
def test_a_list_opened_before_a_comment_is_blanked_item_by_item(text: str, expected: str) -> None:
    """A secret's list whose `[` a comment follows loses its items, the comment kept."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'"api_keys": [\n  ["{PASSWORD}", "x"],\n  ["Hk4mRt8Vx2Lq9Wn"]\n]',
            f'"api_keys": [{P}\n]',
        ),
        (f'api_keys = [\n    ["{PASSWORD}", "x"],\n]', f"api_keys = [{P}\n]"),
    ],
)
def test_a_list_of_lists_under_a_secret_name_is_blanked(text: str, expected: str) -> None:
    """A list of lists opened at a secret name's line end loses every inner item."""
    assert _text(text) == expected


def test_a_yaml_list_nested_under_a_secret_name_loses_its_items() -> None:
    """A YAML block's list of lists under a secret's name keeps none of its items."""
    text = f'secrets:\n  api_keys: [\n    [ "{PASSWORD}", "Hk4mRt8Vx2Lq9Wn" ]\n  ]'
    shown = _text(text)
    assert PASSWORD not in shown
    assert "Hk4mRt8Vx2Lq9Wn" not in shown


# --- an empty value under a secret's name ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"passwords": []',
        "passwords: []",
        '{"api_keys": [ ], "user": "deploy"}',
        "tokens = []",
        "api_keys: [ ]",
    ],
)
def test_an_empty_list_under_a_secret_name_stays(text: str) -> None:
    """An empty list holds no secret: its brackets stay as written."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'"passwords": ["{PASSWORD}"]', f'"passwords": ["{P}"]'),
        (f"passwords: [{PASSWORD}]", f"passwords: [{P}]"),
        (f'{{"api_keys": ["{PASSWORD}"], "n": 1}}', f'{{"api_keys": ["{P}"], "n": 1}}'),
    ],
)
def test_a_list_holding_an_item_under_a_secret_name_is_still_blanked(
    text: str, expected: str
) -> None:
    """Only an empty list stays: one holding an item loses it."""
    assert _text(text) == expected
