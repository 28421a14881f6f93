"""What the CLI writes to a terminal (`view.json_line`, `view.terminal_line`) beyond controls
and format characters: a pile of combining marks, which terminals draw over the lines above
and below, is written as escapes past the first eight."""

from __future__ import annotations

import json

from triage.display import MARKS_MAX
from triage.view import json_line, terminal_line

PILE = "\u0300\u0301\u0302\u0303" * 25


def test_a_pile_of_combining_marks_is_escaped_past_the_first_eight() -> None:
    """Zalgo text keeps its first eight marks as characters and the rest as \\u escapes, on
    stderr's lines and in JSON lines that still read back to the text as stored; what real
    scripts stack (Vietnamese, a keycap) is written as it is."""
    line = terminal_line(f"a{PILE}b")
    assert line.startswith("a" + PILE[:MARKS_MAX] + "\\u0300\\u0301")
    assert line.endswith("\\u0303b")
    value = {"title": f"a{PILE}b"}
    written = json_line(value)
    assert json.loads(written) == value
    assert written.count("\\u0300") == 25 - MARKS_MAX // 4
    real = "Vi\u1ec7t 1\ufe0f\u20e3"
    assert terminal_line(real) == real and json_line(real) == json.dumps(real, ensure_ascii=False)
