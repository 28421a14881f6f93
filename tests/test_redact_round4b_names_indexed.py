"""A secret's name with a form's array index after it (PHP's and Rails' `password[]=`, a
query string's `api_key[0]=`), in text: its value goes as under the bare name, for the names
of secrets and for those judged by their value's shape (`pass[]`, `jwt[0]`).
"""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Xk7pL2mR9tQwE4rT"


@pytest.mark.parametrize(
    "text",
    [
        f"password[]={PASSWORD}",
        f"password[0]={PASSWORD}&user=bob",
        f"api_key[]={PASSWORD}",
        f"token[]: {PASSWORD}",
        f'{{"password[]": "{PASSWORD}"}}',
        f"pass[]={PASSWORD}&x=1",
        f"jwt[0]={PASSWORD}",
        f'{{"pass[]": "{PASSWORD}"}}',
        f"session[]=Zq8vN3xK7pQ2wE5r{PASSWORD}",
    ],
)
def test_a_value_under_an_indexed_secret_name_is_blanked(text: str) -> None:
    """The value after `name[]` or `name[<digits>]` leaves no trace; the name stays."""
    shown = Redactor().text(text)
    assert PASSWORD not in shown, shown
    assert "[]" in shown or "[0]" in shown, shown


@pytest.mark.parametrize(
    "text",
    ["pass[]=142", "tokens[3]: 1200", "password[]=${DB_PASSWORD}", "pass[0]=ok", "jwt[]=RS256"],
)
def test_a_count_a_word_or_a_reference_under_an_indexed_name_stays(text: str) -> None:
    """What stays under the bare name stays under the indexed one."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f'{{"pass": ["{PASSWORD}", "x"]}}',
        f"pass: [{PASSWORD}, x]",
        f"jwt = ['ok', '{PASSWORD}']",
        f'{{\\"pass\\": [\\"{PASSWORD}\\"]}}',
        f'{{"pass[]": ["{PASSWORD}"]}}',
    ],
)
def test_an_item_of_a_list_under_a_shape_judged_name_is_blanked_in_text(text: str) -> None:
    """A list after `pass`, `jwt` (JSON, YAML's flow style, JSON inside a JSON string) loses
    each item of a secret's shape, as `Redactor.value` blanks it; the list's other items and
    brackets stay."""
    shown = Redactor().text(text)
    assert PASSWORD not in shown, shown
    assert "[" in shown and "]" in shown, shown


@pytest.mark.parametrize(
    "text",
    [
        '{"pass": ["142", "ok"]}',
        "pass: [3, 4]",
        'jwt: ["RS256", "HS256"]',
        "session: [morning, late]",
    ],
)
def test_words_and_counts_in_a_list_under_a_shape_judged_name_stay(text: str) -> None:
    """Counts, algorithms' names and words in such a list stay."""
    assert Redactor().text(text) == text
