"""While the raw excerpt is fitted into the prompt, the view's other fields are written once
(`prompt._entries`) and the JSON is the same, character for character, as writing the whole
view again (`_dump`)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from test_prompt_json_546 import _text, _value
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import prompt
from triage.summarise.prompt import _CUT_KEY, _EXCERPT_KEY, _dump, _entries
from triage.view import redact_alert


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
    """A view whose excerpt takes several tries to fit (its escapes take more room than
    its characters) writes its labels once: not again for the view without the excerpt, nor
    for each try; and the prompt is the JSON of the view it returns."""
    written: list[str] = []
    real = prompt._json

    def counting(value: Any, newline: str) -> str:
        if isinstance(value, dict) and "instance" in value:
            written.append(newline)
        return real(value, newline)

    raw = {"message": '"\\' * 600, "instance": "db-7:9100"}
    alert = Alert(
        source="grafana",
        status=Status.FIRING,
        title="DiskAlmostFull: Disk on db-7 is almost full",
        description="No space left on /var/lib/postgresql",
        labels={"alertname": "DiskAlmostFull", "instance": "db-7:9100"},
        occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        identity={"dedup_key": "disk-db-7"},
        raw=raw,
    )
    shown = redact_alert(alert, Redactor(), excerpt_chars=4000)
    tries: list[str] = []
    fitted = prompt._dump

    def trying(view: dict[str, Any], fields: dict[str, str] | None = None) -> str:
        text = fitted(view, fields)
        tries.append(text)
        return text

    monkeypatch.setattr(prompt, "_json", counting)
    monkeypatch.setattr(prompt, "_dump", trying)
    view, body = prompt._fitted(shown, Redactor(), 1000)
    assert len(tries) >= 3  # the view without the excerpt, then two tries or more
    assert written == ["\n "]
    assert body == json.dumps(view, ensure_ascii=False, indent=1)
