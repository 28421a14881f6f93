"""GitHub labels from alert text (team, source) that look like another label: a character that
draws nothing (the blank Braille pattern, Hangul fillers, a lone joiner, a variation selector)
is left out, so the label is the plain one; a letter of another script drawn like a Latin one
inside a Latin word (a Cyrillic a in `pay`) is written as its code, so the label is told apart
from the plain one instead of passing for it. Checked on `text.label_of_team` and
`text.issue_labels`, in-process."""

from __future__ import annotations

import dataclasses

import pytest

from test_escape_every_surface import effect
from triage.sinks.github import text

#: Characters that draw nothing (normalize.common.showing's notion), each of a kind the
#: redactor does not drop: the blank Braille pattern (a symbol), the Hangul fillers (letters),
#: the combining grapheme joiner and Khmer's inherent vowels (marks), a variation selector,
#: Mongolian's free variation selectors, a musical formatting character; and the format
#: characters display.visible keeps (joiners, direction marks, the soft hyphen).
DRAWS_NOTHING = (
    "\u2800",
    "\u3164",
    "\u115f",
    "\u1160",
    "\uffa0",
    "\u034f",
    "\u17b4",
    "\u17b5",
    "\ufe0f",
    "\u180b",
    "\U0001d173",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u00ad",
)


@pytest.mark.parametrize("blank", DRAWS_NOTHING, ids=[f"U+{ord(c):04X}" for c in DRAWS_NOTHING])
@pytest.mark.parametrize("where", ["before", "inside", "after"])
def test_a_team_holding_a_character_that_draws_nothing_is_the_plain_teams_label(
    blank: str, where: str
) -> None:
    """`pay` with a character that draws nothing before, inside or after it is labelled
    `team:pay`: no second label that looks like the first."""
    team = {"before": blank + "pay", "inside": "pa" + blank + "y", "after": "pay" + blank * 2}
    assert text.label_of_team(team[where]) == "team:pay"


def test_a_source_and_a_routes_labels_leave_out_what_draws_nothing_too() -> None:
    """Every label built from text (source, route labels), not only the team's, leaves out a
    character that draws nothing."""
    one = effect("x")
    alert = dataclasses.replace(one.alert, team="pay\u2800", source="\u2800generic\u3164")
    target = dataclasses.replace(one.target, labels=("area:db\u2800",))
    labels = text.issue_labels(dataclasses.replace(one, alert=alert, target=target))
    assert {"team:pay", "source:generic", "area:db"} <= set(labels), labels
    assert not any("\u2800" in label or "\u3164" in label for label in labels), labels


@pytest.mark.parametrize(
    "kept",
    [
        "\N{WOMAN}\u200d\N{PERSONAL COMPUTER}",  # a joined emoji draws as one
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: the non-joiner shows
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England
    ],
    ids=["joined emoji", "persian", "flag"],
)
def test_what_joins_or_spells_a_drawn_character_is_kept(kept: str) -> None:
    """A joiner between two characters of a script or emoji that needs it, and the tag
    characters that spell a subdivision's flag, change what is drawn: they are kept."""
    assert text.label_of_team(kept) == f"team:{kept}"


@pytest.mark.parametrize(
    ("team", "label"),
    [
        ("p\u0430y", "team:p\\u0430y"),  # Cyrillic a
        ("\u03bfps", "team:\\u03bfps"),  # Greek omicron
        ("pay \u0440ay", "team:pay \\u0440ay"),  # Cyrillic er, in the second word
        ("p\uff41y", "team:p\\uff41y"),  # a fullwidth a in a Latin word
    ],
)
def test_a_latin_word_with_a_look_alike_letter_is_told_apart(team: str, label: str) -> None:
    """A Latin word holding a letter of another script drawn like a Latin one is labelled
    with that letter's code: `team:p\\u0430y` cannot pass for `team:pay`, nor use its label."""
    assert text.label_of_team(team) == label
    assert text.label_of_team(team) != text.label_of_team(team.encode("ascii", "ignore").decode())


@pytest.mark.parametrize(
    "team",
    ["платежи", "πληρωμές", "pay-сервис", "café", "AWS移行チーム", "\uff30\uff41\uff59"],
)
def test_a_word_in_one_script_is_labelled_as_written(team: str) -> None:
    """Words in one script (Cyrillic, Greek, Latin with accents, Japanese beside Latin, all
    fullwidth) are labelled as written: only a look-alike inside a Latin word is spelled."""
    assert text.label_of_team(team) == f"team:{team}"


def test_a_label_with_spelled_letters_is_cut_between_codes() -> None:
    """A label whose look-alike letters are spelled as codes is cut to GitHub's 50 characters
    between codes, never inside one (`\\u04` would read as another character)."""
    label = text.label_of_team("p" + "\u0430" * 30)
    assert len(label) <= 50, label
    assert label.startswith("team:p") and label.endswith("\\u0430"), label
