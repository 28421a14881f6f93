"""A vendor reader that takes one value from several alternative fields (`a`, else `b`, else
`c.d`) names, when it refuses that value, the field the sender actually sent it in."""

from __future__ import annotations

import re
from typing import Any

import pytest

from source_samples import run
from triage.errors import InvalidAlertError

#: A Datadog custom payload that names its monitor state and nothing else.
_DATADOG = {"alert_transition": "Triggered", "title": "CPU high"}

#: (alternative's path, body with a wrong-typed value in that alternative only).
_CASES: list[tuple[str, dict[str, Any]]] = []
for _bad in ([1], {"a": 1}):
    _CASES += [
        ("title", {"alert_transition": "Triggered", "title": _bad}),
        ("alert_title", {"alert_transition": "Triggered", "alert_title": _bad}),
        ("alert.title", {"alert_transition": "Triggered", "title": "", "alert": {"title": _bad}}),
        ("alert_transition", {"alert_transition": "Nope", "title": "CPU"}),
        ("alert.transition", {"alert_transition": "", "title": "CPU", "alert": {"transition": _bad}}),
        ("alert_id", {**_DATADOG, "alert_id": _bad}),
        ("monitor_id", {**_DATADOG, "monitor_id": _bad}),
        ("alert.id", {**_DATADOG, "alert": {"id": _bad}}),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body"), _CASES, ids=[f"{path}-{i}" for i, (path, _) in enumerate(_CASES)]
)
def test_a_refused_alternative_is_named_by_its_own_path(path: str, body: dict[str, Any]) -> None:
    """A wrong-typed value in any alternative field is an InvalidAlertError naming that field."""
    with pytest.raises(InvalidAlertError) as refused:
        run(body)
    assert re.search(rf"(^|\s){re.escape(path)}\s", str(refused.value)), str(refused.value)
