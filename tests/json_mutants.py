"""Seeded structural mutants of a JSON body, as hostile or broken senders write them.

`mutants(body, seed, count)` yields `Mutant`s: the mutated body's text and the path of
mutations that made it ("swap alerts.0.labels -> []; literal detail.value -> NaN"), so a
failure names the seed and the steps that reproduce it. One `random.Random(seed)` decides
everything, so the same seed gives the same mutants on every run and machine.

The mutations: a value's type swapped (text, number, boolean, null, array, object), a key
removed, a list emptied or given 10,000 items, a string made 1 MB or full of control, bidi
and lone-surrogate characters, numbers at and past a float's range (1e308, -0, 10**400 as an
integer literal) and text that looks like one ("²", 5,000 digits, "1e400"), the NaN and Infinity literals Python's json accepts, timestamps out of range
(year 0, year 99999, negative epochs, epochs in s, ms, µs and ns), nesting 1,000 levels deep
(and just under the decoder's limit), duplicate keys, a hostile key added, and an object
turned into a JSON string holding its JSON. A JSON string that holds a JSON object (an SNS
envelope's Message) is mutated inside the same ways, and written back as a string.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: What `nesting` builds: past the decoder's limit (64), and just under it.
DEEP_LEVELS = 1_000
DECODER_DEPTH = 64
#: A list flooded with this many items; a string made this long as JSON writes it (a body
#: stays under the decoder's 1 MiB only when the rest of it is small, so both sides of the
#: size limit are reached).
FLOOD_ITEMS = 10_000
HUGE_BYTES = 1_000_000
#: Lists are walked for paths only this far: a flooded list must not flood the choice too.
ITEMS_WALKED = 3
#: How many mutations one mutant stacks, drawn from these: mostly one, so a failure's cause
#: is plain, sometimes a few, so mutations meet.
STEP_COUNTS = (1, 1, 1, 2, 3)
#: A fixed "now" for epochs, so mutants do not change with the day they run.
EPOCH_S = 1_795_424_400  # 2026-11-23T09:00:00Z


@dataclass(frozen=True, slots=True)
class Raw:
    """JSON text written as it is: literals no Python value serialises to (NaN, 1e400)."""

    text: str


@dataclass(frozen=True, slots=True)
class Dup:
    """An object written with a key twice: JSON allows it, Python's json keeps the last."""

    pairs: tuple[tuple[str, Any], ...]


@dataclass(slots=True)
class Inner:
    """A JSON string that holds a JSON object (an SNS Message): mutated as a tree, written
    back as the string of its text."""

    value: Any


@dataclass(frozen=True, slots=True)
class Mutant:
    """A mutated body, the steps that made it, and the `Sentry-Hook-Resource` header it came
    with (a header decides how a Sentry body is read, so it is fuzzed too), if any."""

    number: int  # counted from 0: `mutants(body, seed, number + 1)` ends with this one
    body: str
    steps: tuple[str, ...]
    sentry_resource: str | None = None

    def describe(self, seed: str) -> str:
        header = "" if self.sentry_resource is None else f"; header {self.sentry_resource!r}"
        return f"mutant {self.number} of seed {seed!r}: " + "; ".join(self.steps) + header


Path = tuple[Any, ...]

OTHER_TYPES: list[Any] = [
    "", "text", 0, 1, -1, 1.5, True, False, None, [], ["x"], [None], [[]], {}, {"k": "v"},
    {"": None},
]  # fmt: skip
HOSTILE_TEXT: list[str] = [
    "\x00", "a\x00b", "\x1b[31mred\x1b[0m\x1b]8;;https://evil.example\x07x", "\u202eevil\u202c",
    "\u2066x\u2069", "\ud800", "lone \udfff here", "a\udc80b", "\u0301", "\u200d", "\ufeff",
    "\r\n\r\n", "   ", "\u2028\u2029", "\U0001f468\u200d\U0001f469", "\x7f\x85\x9f", "\t",
    "{{ .Labels }}", "None", "null", "[]", "{}", "\\", '"', "\u0000\u202e" * 50,
    "é\u0301" * 300, "\U000e0001\U000e007f", "x" * 5_000,
]  # fmt: skip
NUMBERS: list[Any] = [
    1e308, -1e308, -0.0, 0, 10**400, -(10**400), 2**63, 2**64, -(2**63) - 1, 1e-320,
    5e-324, 1.7976931348623157e308, 123456789012345678901234567890, 4504689410.0, 0.1,
]  # fmt: skip
#: Text a reader may take for a number: digits str.isdigit() takes and int() refuses (²), more
#: digits than int() reads (4,300), other scripts' digits, and the words float() reads.
NUMERIC_TEXT = [
    "²", "\uff11\uff12\uff13", "٣", "1" * 5_000, "9" * 40, "1_000", "0x1f", " 7 ", "-0", "NaN", "inf",
    "-Infinity", "1e400", "1e-400", "12abc", "1.5", "", "-1",
]  # fmt: skip
LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "-0", "1" + "0" * 400,
            "1" * 5_000, "1E-400", "-0.0e-0"]  # fmt: skip
TIMES: list[Any] = [
    "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
    "99999-01-01T00:00:00Z", "+099999-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
    "2026-13-45T25:61:61Z", "2026-11-23T09:00:00.12345678912345Z", "Mon, 32 Nov 2026 25:00:00 GMT",
    "2026-11-23 09:00:00.123456789 +9999 UTC", "1e400", "-1", "0", str(EPOCH_S * 1000),
    "9" * 40, "2026-11-23T09:00:00Z" * 10, -1, -1e12, -(10**20), 0, EPOCH_S, EPOCH_S * 1000,
    EPOCH_S * 1_000_000, EPOCH_S * 1_000_000_000, 253_402_300_800, 1e19, 1e30, 1e308, 10**30,
    EPOCH_S + 0.999999999, "Mon Nov 23 2026 10:00:00 GMT+9999 (x)", "2026/02/30 10:00:00",
]  # fmt: skip
#: Keys that hold a time in the samples' formats.
_TIME_KEY = re.compile(
    r"time|date|_at$|[a-z]At$|since|until|start|end|^ts$|when|created|updated|fired|occurred",
    re.IGNORECASE,
)
SENTRY_RESOURCES = [
    "issue", "event_alert", "metric_alert", "activity_alert", "installation", "comment", "error",
    " ISSUE ", "x" * 70, "\x00issue", "",
]  # fmt: skip
HOSTILE_KEYS = ["", "\x00", "\u202e", "k" * 10_000, "__proto__", "alerts", "labels", "0"]


def mutants(body: str, seed: str, count: int) -> Iterator[Mutant]:
    """`count` mutants of `body` (a JSON text), each one to three mutations deep. The first
    mutations visit every place of the body in a shuffled order, so each field is mutated
    however few mutants there are per place; the others fall anywhere."""
    rng = random.Random(seed)
    tree = _lift(json.loads(body))
    places: list[Path] = [(), *_paths(tree)]
    rng.shuffle(places)
    for i in range(count):
        mutated = tree
        steps: list[str] = []
        for n in range(rng.choice(STEP_COUNTS)):
            # One flood or huge string per mutant: a flood of megabytes would be gigabytes.
            big_done = any(step.startswith(_BIG) for step in steps)
            at = places[i % len(places)] if n == 0 else None
            mutated, step = _mutate_once(rng, mutated, _SMALL_OPS if big_done else _OPS, at)
            steps.append(step)
        header = rng.choice(SENTRY_RESOURCES) if rng.random() < 0.15 else None
        yield Mutant(i, render(mutated), tuple(steps), header)


def _lift(value: Any) -> Any:
    """The parsed body with every string that holds a JSON object made an `Inner` tree."""
    if isinstance(value, dict):
        return {k: _lift(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lift(v) for v in value]
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            inner = json.loads(value)
        except ValueError:
            return value
        if isinstance(inner, dict):
            return Inner(_lift(inner))
    return value


def render(value: Any) -> str:
    """JSON text of a mutated tree: `Raw` as written, `Dup` with its repeated key, `Inner` as
    the string of its own text. Python's encoder writes the rest (fast, however long a
    flooded list); each special node is written as a placeholder string, replaced after."""
    texts: list[str] = []

    def placeholder(node: Any) -> str:
        if isinstance(node, Raw):
            texts.append(node.text)
        elif isinstance(node, Inner):
            texts.append(_string(render(node.value)))
        elif isinstance(node, Dup):
            texts.append("{" + ",".join(f"{_string(k)}:{render(v)}" for k, v in node.pairs) + "}")
        else:
            raise TypeError(f"no JSON for {type(node).__name__}")
        return f"{_MARK}{len(texts) - 1}{_MARK}"

    written = json.dumps(value, default=placeholder, separators=(",", ":"))
    return _PLACEHOLDER.sub(lambda m: texts[int(m[1])], written) if texts else written


#: What a placeholder looks like in the encoder's output: no hostile text holds the mark.
_MARK = "\x00fuzz-node\x00"
_PLACEHOLDER = re.compile(r'"\\u0000fuzz-node\\u0000(\d+)\\u0000fuzz-node\\u0000"')


#: JSON's string form, \u-escaping what is not ASCII (a lone surrogate as its escape).
_string = json.encoder.encode_basestring_ascii


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every mutable place below `value`: object members, the first list items, inside an
    `Inner` (its step is the marker "⟨json⟩")."""
    if isinstance(value, Inner):
        yield (*prefix, "⟨json⟩")
        yield from _paths(value.value, (*prefix, "⟨json⟩"))
    elif isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value[:ITEMS_WALKED]):
            yield (*prefix, i)
            yield from _paths(child, (*prefix, i))


def _get(tree: Any, path: Path) -> Any:
    node = tree
    for step in path:
        node = node.value if step == "⟨json⟩" else node[step]
    return node


def _set(tree: Any, path: Path, new: Any) -> Any:
    """A tree with the value at `path` replaced; only the containers along `path` are copied,
    so `tree` (shared by every mutant) is never changed."""
    if not path:
        return new
    step, rest = path[0], path[1:]
    if step == "⟨json⟩":
        return Inner(_set(tree.value, rest, new))
    copied = copy.copy(tree)
    copied[step] = _set(tree[step], rest, new)
    return copied


def _depth(path: Path) -> int:
    """How deep the value at `path` sits in the JSON text that carries it (an `Inner`'s own
    text starts again at 1)."""
    tail = path[len(path) - path[::-1].index("⟨json⟩") :] if "⟨json⟩" in path else path
    return len(tail) + 1


def _show(path: Path) -> str:
    return ".".join(map(str, path)) or "<root>"


def _mutate_once(
    rng: random.Random, tree: Any, ops: tuple[Op, ...], at: Path | None
) -> tuple[Any, str]:
    """One mutation of `ops` at `at`, or at a random place (a time most often where the
    sender keeps one); its description."""
    op = rng.choice(ops)
    if at is None:
        places: list[Path] = [(), *_paths(tree)]
        timed = [p for p in places if p and _TIME_KEY.search(str(p[-1]))]
        at = rng.choice(timed if op is _time and timed and rng.random() < 0.8 else places)
    value = _get(tree, at)
    new, what = op(rng, value, at)
    if what is None:  # the operation does not apply here: swap the type instead
        new, what = _swap(rng, value, at)
    return _set(tree, at, new), f"{what} {_show(at)}"


Op = Callable[[random.Random, Any, Path], tuple[Any, str | None]]


def _swap(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    other = rng.choice([v for v in OTHER_TYPES if type(v) is not type(value)])
    return copy.deepcopy(other), f"swap -> {json.dumps(other)}"


def _drop(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        return {k: v for k, v in value.items() if k != key}, f"drop {key!r} of"
    if isinstance(value, Inner) and isinstance(value.value, dict) and value.value:
        key = rng.choice(list(value.value))
        kept = {k: v for k, v in value.value.items() if k != key}
        return Inner(kept), f"drop {key!r} of"
    return None, None


def _empty(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    if isinstance(value, list | dict):
        return type(value)(), "empty"
    return None, None


def _flood(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    if not isinstance(value, list):
        return None, None
    item = value[0] if value and rng.random() < 0.7 else rng.choice([*OTHER_TYPES, "x"])
    return [item] * FLOOD_ITEMS, f"flood x{FLOOD_ITEMS}"


def _huge(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    # Letters, escapes, and the separators readers' patterns split on (a regex that
    # backtracks over a run of them shows as a mutant that never ends).
    unit = rng.choice(("a", "é", "word ", "\u202e", "\x00", "💾", "\\", "=", "| ", " ", "0", ":"))
    # A megabyte as written in the body: fewer characters when each is an escape.
    chars = HUGE_BYTES // (len(_string(unit)) - 2) // len(unit) * len(unit)
    return unit * (chars // len(unit)), f"huge {unit!r}x{chars}"


def _hostile(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    text = rng.choice(HOSTILE_TEXT)
    if isinstance(value, str) and value and rng.random() < 0.5:
        text = value + text  # the real value with a hostile tail: format words still match
    return text, f"hostile text {text[:20]!r}"


def _number(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    number = rng.choice(NUMBERS)
    return number, f"number {str(number)[:20]}"


def _numeric_text(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    text = rng.choice(NUMERIC_TEXT)
    return text, f"numeric text {text[:20]!r}"


def _literal(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    text = rng.choice(LITERALS)
    return Raw(text), f"literal {text[:20]}"


def _time(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    when = rng.choice(TIMES)
    return when, f"time {str(when)[:30]}"


def _nesting(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    levels = rng.choice((DEEP_LEVELS, max(1, DECODER_DEPTH - _depth(path))))
    if rng.random() < 0.5:
        return Raw("[" * levels + "1" + "]" * levels), f"nested [] x{levels}"
    return Raw('{"a":' * levels + "null" + "}" * levels), f"nested {{}} x{levels}"


def _duplicate(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    if not isinstance(value, dict) or not value:
        return None, None
    key = rng.choice(list(value))
    other, _ = _swap(rng, value[key], path)
    pairs = list(value.items())
    # The odd value first (the real one wins) or last (it does).
    where = rng.choice((0, len(pairs)))
    pairs.insert(where, (key, other))
    return Dup(tuple(pairs)), f"duplicate {key!r}={json.dumps(other)} at {where} of"


def _hostile_key(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    if not isinstance(value, dict):
        return None, None
    key = rng.choice(HOSTILE_KEYS)
    extra = rng.choice([*OTHER_TYPES, rng.choice(HOSTILE_TEXT)])
    return {**value, key: copy.deepcopy(extra)}, f"add key {key[:20]!r}={json.dumps(extra)[:20]} to"


def _encoded(rng: random.Random, value: Any, path: Path) -> tuple[Any, str | None]:
    """An object as a JSON string of its text: a forwarder that encoded it again."""
    if isinstance(value, dict):
        return Inner(value), "encoded as a JSON string:"
    if isinstance(value, Inner):  # a Message whose string is encoded once more
        return Raw(json.dumps(render(value))), "encoded twice:"
    return None, None


_OPS: tuple[Op, ...] = (
    _swap, _swap, _drop, _drop, _empty, _flood, _huge, _hostile, _hostile, _number,
    _numeric_text, _literal, _time, _time, _nesting, _duplicate, _hostile_key, _encoded,
)  # fmt: skip
#: The mutations that make a body big, and how their steps start.
_BIG = ("flood", "huge")
_SMALL_OPS = tuple(op for op in _OPS if op not in (_flood, _huge))
