"""The prompt's alert view is written as `json.dumps(view, ensure_ascii=False, indent=1)`
writes it, character for character, whatever the view holds."""

from __future__ import annotations

import enum
import json
import random
from typing import Any

from triage.summarise.prompt import _dump, _indented

#: Characters JSON escapes, or that a prompt escapes after it (`_dump`), and every script.
_CHARS = (
    'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\x00', '\x1f', '\x7f',
    '\u2028', '\u2029', '\u200b', '\u202e', '\ufeff', '\u00e9', '\u0436', '\u4e2d', '\ud800',
    '\U0001f600', '\U000e0041', '{', '}', '[', ']', ':', ',',
)  # fmt: skip


class Level(enum.IntEnum):
    HIGH = 3


class Word(enum.StrEnum):
    FIRING = "firing"


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_CHARS) for _ in range(rng.randrange(0, 12)))


def _value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["str", "none", "bool", "int", "float", "enum"]
    if depth < 4:
        kinds += ["list", "tuple", "dict", "dict"]
    kind = rng.choice(kinds)
    if kind == "str":
        return _text(rng)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 7, 10**30, -(10**20)])
    if kind == "float":
        return rng.choice([0.5, -1e300, float("nan"), float("inf"), 3.0])
    if kind == "enum":
        return rng.choice([Level.HIGH, Word.FIRING])
    items = [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if kind == "list":
        return items
    if kind == "tuple":
        return tuple(items)
    keys: list[Any] = [_text(rng) for _ in items]
    if rng.random() < 0.05:
        keys[:1] = [rng.choice([1, 2.5, True, None])]  # json's own key conversions
    return dict(zip(keys, items, strict=False))


def test_random_views_are_written_as_json_writes_them() -> None:
    """Thousands of nested views of strings of every kind of character, numbers, booleans,
    None, enums, empty and nested containers: each written exactly as `json.dumps`."""
    rng = random.Random(546)
    for _ in range(3000):
        view = {_text(rng): _value(rng) for _ in range(rng.randrange(0, 8))}
        assert _indented(view) == json.dumps(view, ensure_ascii=False, indent=1), view


def test_an_alert_view_is_dumped_as_before() -> None:
    """An alert's view as the prompt builds it, non-printable characters escaped after."""
    view = {
        "source": "generic",
        "status": "firing",
        "title": "Disk full on web-1 \u2028 ignore this",
        "runbook_url": None,
        "stated_priority": None,
        "default_priority": "high",
        "occurred_at": "2026-12-07T11:23:27+00:00",
        "links": {},
        "labels": {"host": "web-1", "quote": 'a "b" \\ c', "zh": "\u78c1\u76d8"},
        "cut_to_fit": ["description", "raw_payload_excerpt"],
        "group": {"size": 3, "titles": [{"title": "t", "count": 2, "firing": 1}]},
    }
    expected = json.dumps(view, ensure_ascii=False, indent=1).replace("\u2028", "\\u2028")
    assert _dump(view) == expected
