"""While the raw excerpt is fitted into the prompt, the view's other fields are written once
(`prompt._entries`) and the JSON is the same, character for character, as writing the whole
view again (`_dump`)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from test_prompt_json_546 import _text, _value
from triage.summarise import prompt
from triage.summarise.prompt import _CUT_KEY, _EXCERPT_KEY, _dump, _entries


def test_random_views_are_written_as_the_whole_view_is() -> None:
    """Thousands of random views with an excerpt and a cut note, their other entries written
    beforehand: the same JSON as the whole view written at once, and as `json.dumps` where
    the view is plain JSON (floats, enums and odd keys fall back to `json` whole)."""
    rng = random.Random(570)
    for _ in range(3000):
        view: dict[Any, Any] = {_text(rng): _value(rng) for _ in range(rng.randrange(1, 8))}
        fields = _entries(view)
        view[_CUT_KEY] = [_EXCERPT_KEY] if rng.random() < 0.5 else []
        view[_EXCERPT_KEY] = _text(rng)
        if rng.random() < 0.5:
            del view[_CUT_KEY]
        assert _dump(view, fields) == _dump(view), view


def test_a_view_json_cannot_write_in_part_is_written_whole() -> None:
    """A view holding a float (which `json` writes, not `_json`) has no entries written
    beforehand, and is written by `json.dumps` as before."""
    view = {"title": "t", "ratio": 0.5}
    assert _entries(view) is None
    view[_EXCERPT_KEY] = "{}"
    assert _dump(view, None) == json.dumps(view, ensure_ascii=False, indent=1)


def test_fitting_the_excerpt_writes_each_field_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fitting an excerpt over several tries writes the labels (a field the excerpt does not
    change) once for the view without the excerpt and once for all the tries, not once each."""
    written: list[str] = []
    real = prompt._json

    def counting(value: Any, newline: str) -> str:
        if isinstance(value, dict) and "host" in value:
            written.append(newline)
        return real(value, newline)

    monkeypatch.setattr(prompt, "_json", counting)
    view: dict[str, Any] = {"title": "Disk full", "labels": {"host": "web-1"}}
    shown = json.dumps({"message": "\\u00e9\\" * 400})
    body = prompt._dump(view)
    fields = prompt._entries(view)
    tries = []
    for room in (2000, 1500, 1000):
        view[_EXCERPT_KEY] = shown[:room]
        tries.append(prompt._dump(view, fields))
    assert len(written) == 2  # `body` and `_entries`: the three tries wrote none
    assert all(text.startswith(body[:-2]) for text in tries)
