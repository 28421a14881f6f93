"""structlog set-up: JSON lines for machines (default) or coloured console lines for people.

Events are short dotted names (`message.acked`); context such as `message_id` and `fingerprint`
is bound per task with contextvars, so every line of one message carries them. Every line names
its `logger` (the module) and `service`.

Logs leave the process too, so every value is redacted on the way out (an error message may
quote alert text; a library may print a URL with a token in it), a library's message text
included, and a lone surrogate in it is U+FFFD (no strict JSON reader takes its escape). Libraries' own loggers (botocore, httpx2, asyncio) go through the same processors, and
so do Python's warnings, uncaught exceptions (main thread, other threads, `__del__`) and
asyncio's "Task exception was never retrieved": one JSON object per line on stderr, whoever
wrote it. A library repeating a warning on every retry is heard once a minute (`RepeatFilter`),
and text quoted in a line can never start a line of its own, in either format. A log call never
fails its caller: a value without text is shown as its type, and a library's message its
arguments do not fit as its format (`Formattable`). A JSON line is JSON proper (NaN is text)
and at most MAX_LINE_BYTES, so no log driver ships it in pieces (`bounded_json`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

import structlog

if TYPE_CHECKING:
    from triage.redact import Redactor

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

#: Fields only triage itself writes: identifiers and timestamps, never alert text. Not
#: `message_id`: SQS's MessageId is what the queue's endpoint (a stand-in, a proxy) wrote.
_OURS = frozenset({"event", "level", "timestamp", "logger", "service", "fingerprint", "action"})

#: The longest JSON line written, in bytes without its newline. Docker's log copier cuts lines
#: at 16 KiB, and the awslogs driver in non-blocking mode (deploy/ecs) ships each piece as an
#: event of its own, none of them JSON; a longer line has its long values cut (`bounded_json`).
MAX_LINE_BYTES = 16_000


_T = TypeVar("_T")


def start_background(work: Coroutine[Any, Any, _T], *, name: str) -> asyncio.Task[_T]:
    """Start `work` as a task of the process, in an empty context. A task copies the context
    of whoever started it: a reload, probe, flush or build started while a message is worked
    would log under that message's `message_id`, `trace_id` and `fingerprint` (and be a child
    of its span), so a search for the message finds lines that are not its, and the lines of
    everyone else who waits on the shared work are filed under one message. Every task the
    process starts outside a message's own work is started here."""
    return asyncio.get_running_loop().create_task(work, name=name, context=contextvars.Context())


@functools.cache
def _redactor() -> Redactor:
    """The one redactor of log lines, made (and triage.redact's rule tables imported) at the
    first line logged, not when logging is configured: `triage health`, which logs nothing
    when all is well, runs every 30 s on a fraction of a CPU. It asks the registry of held
    credentials on every call, so a token read after start-up counts."""
    from triage.redact import Redactor

    return Redactor()


class Unfailing:
    """A text stream whose writes never raise: once its reader is gone (a closed pipe, a full
    disk, a closed file) they are dropped. Alerts are handled whether or not anyone reads the
    daemon's logs and metrics; a daemon that died of a closed stdout would handle none. A
    non-blocking pipe that is full for a moment loses that write only, not every later one."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False
        #: A full pipe took part of the last write: the next starts a line of its own.
        self._cut_off = False

    def write(self, text: str) -> int:
        if not self.broken:
            if self._cut_off:
                text, self._cut_off = "\n" + text, False
            try:
                return self._stream.write(text)
            except BlockingIOError as exc:
                # A non-blocking pipe, full for now: its reader is there, and the next write
                # may go through. This text is lost (what of it went, ended apart).
                self._cut_off = exc.characters_written > 0
            except (OSError, ValueError):  # ValueError: I/O on a closed file
                self.broken = True
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BlockingIOError:
                pass  # full for now (`write`): what is buffered goes with a later flush
            except (OSError, ValueError):
                self.broken = True

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False


class _NamedPrintLogger(structlog.PrintLogger):
    """A PrintLogger that knows its name, so `add_logger_name` can report the module, and
    writes each line in one piece."""

    def __init__(self, file: TextIO, name: str, lock: threading.Lock) -> None:
        super().__init__(file)
        self.name = name
        self._stream = file
        #: Shared by every logger of one configuration: their lines never mix.
        self._write_lock = lock

    def msg(self, message: str) -> None:
        """Write `message` and its line break in one write. `print` (PrintLogger's) writes them
        apart, and a library's line written from another thread in between (its handler holds
        a lock of its own) joined both on one line, neither of them JSON."""
        with self._write_lock:
            self._stream.write(message + "\n")
            self._stream.flush()

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def redact_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """A structlog processor: every value of the event redacted, bar triage's own identifiers.
    A library's message (`event` of a stdlib record) is its own text, and redacted too, as is
    a triage line's `event` that is not a fixed name (`_fixed_name`). A value
    that is not JSON (an exception, bytes, a path) is redacted as its text: the renderer would
    otherwise write its repr, secrets and all."""
    from triage.display import whole_unicode
    from triage.redact import secret_named

    redactor = _redactor()
    name = str(event.get("logger", ""))
    ours = name == "triage" or name.startswith("triage.")
    cut_chars = 0
    for key, value in event.items():
        if (key in _OURS and key != "event") or (key == "event" and ours and _fixed_name(value)):
            continue
        if secret_named(key):  # `x_api_key=…`: blanked by its name, as a JSON key's value is
            redacted = redactor.value({key: _plain(value)})[redactor.text(key)]
        elif isinstance(value, str) and len(value) > 2 * _READ_EACH_END:
            redacted, cut = _redacted_ends(redactor, value)
            cut_chars += cut
        elif isinstance(value, str):
            redacted = redactor.text(value)
        elif isinstance(value, dict | list | tuple):
            cuts: list[int] = []
            redacted = redactor.value(_plain(value, shorten=_shortening(redactor, cuts)))
            cut_chars += sum(cuts)
        elif not isinstance(value, _SCALARS):
            redacted = redactor.text(_text(value))
        else:
            redacted = _scalar(value)
        # A lone surrogate (text quoted from a JSON `\\ud800`) is U+FFFD, as the API writes it:
        # its escape is JSON that strict readers (Rust's serde_json, so Vector) refuse, and a
        # log pipeline would drop the whole line.
        event[key] = whole_unicode(redacted)
    if cut_chars:
        event["cut_chars"] = cut_chars
    return event


#: Of a text value longer than twice this, only this much of each end is redacted and kept: a
#: line keeps MAX_LINE_BYTES of it at most, and redacting a megabyte of hostile text (an error
#: quoting a service's answer) held the event loop for seconds, long enough for `/healthz`.
_READ_EACH_END = 18_000
#: Characters dropped after redaction beside each cut: a secret (or a keyword's value) lying
#: across a cut is a part the redactor cannot know on each side, and is dropped with them. The
#: tail's read may begin inside a private key, whose rest no rule knows without its first
#: line or bytes: an armoured PGP secret key runs to 7,000 characters, an RSA-8192 PEM in
#: base64 (a kubeconfig's `client-key-data`) to 8,700, so this is more than either.
_DROPPED_AT_CUT = 10_000


def _redacted_ends(redactor: Redactor, value: str) -> tuple[str, int]:
    """`value`'s first and last `_READ_EACH_END` characters, each redacted on its own, around
    `_CUT_MARK`, less `_DROPPED_AT_CUT` of each beside the cut; and how many characters went.
    What is dropped is counted in redacted text, where an unredacted part of a secret is the
    raw text itself, so it goes whole when it is shorter than that."""
    head = redactor.text(value[:_READ_EACH_END])[:-_DROPPED_AT_CUT]
    tail = redactor.text(value[-_READ_EACH_END:])[_DROPPED_AT_CUT:]
    return head + _CUT_MARK + tail, len(value) - 2 * (_READ_EACH_END - _DROPPED_AT_CUT)


#: A triage event name as the code writes it (`message.acked`, `http.refused_suppressed`):
#: lower-case words joined by dots, nothing an alert or a service could have put in it.
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")


def _fixed_name(value: object) -> bool:
    """`value` is one of triage's fixed event names, which redaction can skip. A triage line's
    event is not always one: printf arguments (`log.info("sent %s", x)`) are formatted into
    it, and a stdlib record of a `triage.` logger carries its formatted message there."""
    return isinstance(value, str) and len(value) <= 100 and _EVENT_NAME.fullmatch(value) is not None


#: An int longer than this is written as its size: Python refuses to write one of over
#: 4,300 digits in decimal (and the renderer raised out of the log call).
_MAX_INT_BITS = 14_000


def _scalar(value: Any) -> Any:
    """`value` as JSON holds it: a float that is not finite as its text (`nan`, `inf`: JSON
    has no such number, and a line holding one is no JSON to a log pipeline), an int too long
    to write as its size; any other as it is."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return f"<int of {value.bit_length()} bits>"
    return value


def _text(value: object) -> str:
    """`str(value)`, or `<unprintable TYPE>` when it raises: logging a value must never fail
    the code that logged it (an exception class with a broken `__str__`)."""
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


#: Values with nothing in them to redact (`_scalar` writes them as JSON holds them).
_SCALARS = (bool, int, float, type(None))


def _plain(value: Any, depth: int = 0, shorten: Callable[[str], str] | None = None) -> Any:
    """`value` with every leaf that is not JSON (an exception, bytes) turned into its text, so
    redaction sees it; `Redactor.value` bounds the depth it then walks. `shorten`, when given,
    is what becomes of each text leaf (`_shortening`)."""
    if isinstance(value, _SCALARS):
        return _scalar(value)
    if isinstance(value, str):
        return value if shorten is None else shorten(value)
    if depth > 64:
        return value
    if isinstance(value, dict):
        return {k: _plain(v, depth + 1, shorten) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1, shorten) for v in value]
    text = _text(value)
    return text if shorten is None else shorten(text)


def _shortening(redactor: Redactor, cuts: list[int]) -> Callable[[str], str]:
    """What becomes of a text leaf of a structure before the structure is redacted: a long
    one its redacted ends (`_redacted_ends`, each cut's size added to `cuts`), so a megabyte
    in a service's parsed answer costs no more than one in a field of its own. The ends are
    read once more with the structure, whose keys may blank them (`{"password": …}`)."""

    def shorten(text: str) -> str:
        if len(text) <= 2 * _READ_EACH_END:
            return text
        shortened, cut = _redacted_ends(redactor, text)
        cuts.append(cut)
        return shortened

    return shorten


#: Fields a line too long keeps whole: they say what happened and to which message.
_KEPT_WHOLE = frozenset({*_OURS, "message_id", "trace_id", "source", "cut_chars"})
#: What stands for the middle of a value cut to fit a line.
_CUT_MARK = " [...] "


def bounded_json(render: structlog.typing.Processor) -> structlog.typing.Processor:
    """`render` (the JSON renderer) with every line at most MAX_LINE_BYTES: past it, the long
    values share the room left fairly, each cut in its middle (a traceback keeps its end,
    where the error is), and `cut_chars` says how many characters went. The renderer writes
    ASCII only (JSON's escapes), so a character is a byte."""

    def render_bounded(logger: Any, name: str, event: MutableMapping[str, Any]) -> Any:
        line = render(logger, name, event)
        if len(line) <= MAX_LINE_BYTES:
            return line  # nearly every line: nothing more to do
        said = _text(event.get("event", ""))
        cut_chars = int(event.get("cut_chars", 0))  # cut before redaction (`_redacted_ends`)
        for _ in range(4):  # escapes make a cut's length a guess: check, and cut again
            if len(line) <= MAX_LINE_BYTES:
                return line
            sizes = _cuttable_sizes(event)
            room = MAX_LINE_BYTES - (len(line) - sum(sizes.values())) - _CUT_FIELD_ROOM
            for key, share in _fair_shares(sizes, room).items():
                if sizes[key] > share:
                    event[key], cut = _cut(event[key], sizes[key], sizes[key] - share)
                    cut_chars += cut
            event["cut_chars"] = cut_chars
            line = render(logger, name, event)
        if len(line) <= MAX_LINE_BYTES:
            return line
        # A field kept whole is itself too long (an identifier no sender should send): the
        # line keeps the short ones and says what happened, and how much went.
        short = {
            key: value
            for key, value in event.items()
            if key in _KEPT_WHOLE and len(json.dumps(value, default=str)) <= _SHORT_FIELD
        }
        short["event"] = _shortened(said, _SHORT_EVENT)
        short["cut_chars"] = cut_chars + len(line) - len(render(logger, name, short))
        return render(logger, name, short)

    return render_bounded


#: In a line whose kept fields do not fit: the longest field kept, and the event's length.
_SHORT_FIELD = 256
_SHORT_EVENT = 1_000


def _shortened(text: str, chars: int) -> str:
    """`text`, or its start and end around `_CUT_MARK` in about `chars` characters."""
    if len(text) <= chars:
        return text
    return _cut(text, len(text), len(text) - chars)[0]


#: Room kept for the `cut_chars` field a cut line gains.
_CUT_FIELD_ROOM = 32


def _cuttable_sizes(event: MutableMapping[str, Any]) -> dict[str, int]:
    """The length of each value's JSON that may be cut: all but the fields kept whole (a
    library's message, its `event`, may be: it is the library's text)."""
    return {
        key: len(json.dumps(value, default=str))
        for key, value in event.items()
        if key not in _KEPT_WHOLE or (key == "event" and isinstance(value, str))
    }


def _fair_shares(sizes: dict[str, int], room: int) -> dict[str, int]:
    """Each value's share of `room`: the short ones whole, the rest of it in equal parts."""
    shares: dict[str, int] = {}
    left = max(room, 0)
    ordered = sorted(sizes.items(), key=lambda item: item[1])
    for n, (key, size) in enumerate(ordered):
        shares[key] = min(size, left // (len(ordered) - n))
        left -= shares[key]
    return shares


def _cut(value: Any, encoded: int, excess: int) -> tuple[str, int]:
    """`value`'s text (a structure's JSON) with its middle cut so that its JSON is about
    `excess` shorter; a third of what is kept from its start, the rest from its end. Returns
    the text and how many characters went."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    # Escapes make a character several in the line: cut in proportion.
    per_char = encoded / max(len(text), 1)
    keep = max(0, min(len(text) - 1, int((encoded - excess - 2 * len(_CUT_MARK)) / per_char)))
    head = keep // 3
    tail = keep - head
    return text[:head] + _CUT_MARK + (text[-tail:] if tail else ""), len(text) - keep


#: Values a console line prints below it as they are (a traceback), not quoted.
_BLOCKS = frozenset({"exception", "stack"})


def inert_for_terminal(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """Each text value of a console line with what a terminal would act on (escape sequences,
    C1 controls, bidi overrides) written as `\\uXXXX`. The console prints `event` and a
    traceback unquoted, so text cannot be allowed to start a line of its own there: a line
    break in `event` (a library's message quoting an alert) is written `\\u000a`, and every line
    of a traceback is indented, so only a real log line starts at the margin. A field's value
    may be stored alert text (a title, a team): it is written as `view.terminal_text` writes
    it, its backslash doubled where it would read as such an escape (`db\\\\u001b`), so a
    value spelling `\\u001b` does not pass for one holding ESC."""
    from triage.view import terminal_line, terminal_text

    for key, value in event.items():
        if isinstance(value, dict | list | tuple):
            event[key] = _texts_for_terminal(value, terminal_text)
            continue
        if not isinstance(value, str):
            continue
        if key in _BLOCKS:
            event[key] = "\n".join("  " + terminal_line(line) for line in value.split("\n"))
        elif key == "event":
            event[key] = terminal_line(value)
        elif not value.isascii() or not value.isprintable() or "\\" in value:
            # Not ASCII: printable characters may still pile up (Zalgo marks) or draw
            # nothing, which `terminal_text` writes as escapes, as the event's are.
            event[key] = "\n".join(terminal_text(line) for line in value.split("\n"))
    return event


def _texts_for_terminal(value: Any, shown: Callable[[str], str]) -> Any:
    """`value` (a field's dict, list or tuple, which the console writes as its repr) with each
    text in it that repr would draw as it is, but a terminal should not (a pile of marks, a
    character that draws nothing), written by `shown` (`view.terminal_text`); a backslash too,
    so one spelling `\\u0336` does not pass for an escape of triage's. Repr escapes the rest
    (controls, line breaks)."""
    if isinstance(value, str):
        return shown(value) if not value.isascii() or "\\" in value else value
    if isinstance(value, dict):
        return {
            _texts_for_terminal(k, shown): _texts_for_terminal(v, shown) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_texts_for_terminal(item, shown) for item in value)
    return value


def wants_colour(stream: TextIO) -> bool:
    """Whether lines for `stream` may be coloured: it is a terminal, NO_COLOR is unset or
    empty (no-color.org) and TERM is not `dumb` (Emacs' shell, a CI log), whose reader would
    see the escapes as text."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def configure_logging(
    fmt: str = "json", level: str = "info", stream: TextIO | None = None, *, service: str = "triage"
) -> None:
    """Configure structlog, and stdlib logging for libraries, once per process."""
    stream = cast(TextIO, Unfailing(stream or sys.stderr))

    def add_service(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
        event.setdefault("service", service)
        return event

    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        add_service,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=wants_colour(stream))
        # The console prints the event and a traceback as they are: made inert for a terminal
        # first, as every CLI line is (an exception's message may quote what an alert wrote).
        ending: list[structlog.typing.Processor] = [
            structlog.processors.format_exc_info,
            redact_event,
            inert_for_terminal,
        ]
    else:
        renderer = bounded_json(structlog.processors.JSONRenderer())
        ending = [structlog.processors.format_exc_info, redact_event]

    # One logger per name for this configuration: structlog's lazy proxies (caching off, so
    # a later configure_logging is always obeyed) ask for one on every call they log.
    made: dict[str, _NamedPrintLogger] = {}
    write_lock = threading.Lock()

    def logger_factory(name: str | None = None, *_args: Any) -> _NamedPrintLogger:
        key = name or "triage"
        logger = made.get(key)
        if logger is None:
            logger = made.setdefault(key, _NamedPrintLogger(stream, key, write_lock))
        return logger

    structlog.configure(
        processors=[*shared, *ending, renderer],
        wrapper_class=_formatting_safely(
            structlog.make_filtering_bound_logger(_LEVELS[level]), _LEVELS[level]
        ),
        logger_factory=logger_factory,
        cache_logger_on_first_use=False,
    )
    # Libraries (botocore, httpx2, asyncio) log through stdlib: the same shape and redaction,
    # at the level asked but never below warning unless we are debugging. The handler holds
    # the level too: a library that sets its own logger lower (DEBUG) passes the root's.
    library_level = _library_level(level)
    handler = logging.StreamHandler(stream)
    handler.setLevel(library_level)
    handler.addFilter(Formattable())  # first: the filters after it format the message
    handler.addFilter(RepeatFilter())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, add_repeated],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *ending,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(library_level)
    _route_stray_output()


class Logger:
    """structlog's logger of one name, assembled once per structlog configuration. structlog's
    own lazy proxy (its caching off, so a later `configure` is always obeyed) assembles a bound
    logger for every line, ~2.3 us: three times per repeat of a storm, for debug lines that
    write nothing. This one keeps the bound logger it made while the configuration it was
    made under (processors, wrapper class, logger factory, context class) is still the one in
    force, and makes another at the first line after a change: tests' `capture_logs` and a
    second `configure_logging` are obeyed as before."""

    __slots__ = ("_debug", "_made", "_made_under", "_proxy")

    def __init__(self, name: str) -> None:
        self._proxy = structlog.get_logger(name)
        self._made: Any = None
        self._made_under: dict[str, Any] = {}
        self._debug = True

    def _bound(self) -> Any:
        """The bound logger for the configuration in force."""
        config = structlog.get_config()
        made_under = self._made_under
        if (
            self._made is None
            or config["processors"] is not made_under["processors"]
            or config["wrapper_class"] is not made_under["wrapper_class"]
            or config["logger_factory"] is not made_under["logger_factory"]
            or config["context_class"] is not made_under["context_class"]
        ):
            self._made = made = self._proxy.bind()
            self._made_under = config
            # A wrapper that cannot say its level (not a filtering one) writes every level.
            enabled = getattr(made, "is_enabled_for", None)
            self._debug = enabled is None or bool(enabled(logging.DEBUG))
        return self._made

    @property
    def writes_debug(self) -> bool:
        """Whether a debug line would be written: a caller whose debug line takes work to put
        together (a storm's line per repeat) skips that work when it would not be."""
        self._bound()
        return self._debug

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bound(), name)


def get_logger(name: str) -> Logger:
    """The logger of module `name` (`Logger`): for modules that log on every message."""
    return Logger(name)


#: The methods of structlog's bound logger that take an event and printf arguments (each
#: also as `a<name>`, its async form).
_LEVEL_METHODS = (
    "debug",
    "info",
    "msg",
    "warning",
    "warn",
    "error",
    "exception",
    "critical",
    "fatal",
)


def _formatting_safely(base: type[Any], min_level: int = logging.NOTSET) -> type[Any]:
    """`base` (structlog's filtering bound logger, writing `min_level` and up) whose calls
    format their printf arguments into the event without ever raising (`_interpolated`).
    structlog formats them itself, in the call, before any processor: arguments that did not
    fit the format (`%d` given text, one too few) raised out of the log call into the code
    that logged. A level below `min_level` keeps structlog's own method, which does nothing:
    a line nobody writes needs no formatting (a storm's debug lines, several per message)."""

    def safe(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: Any, event: str, *args: Any, **kw: Any) -> Any:
            return method(self, _interpolated(event, args), **kw)

        return call

    def written(name: str) -> bool:
        level = logging.getLevelName(name.upper())
        return not isinstance(level, int) or level >= min_level

    def safe_log(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: Any, level: int, event: str, *args: Any, **kw: Any) -> Any:
            return method(self, level, _interpolated(event, args), **kw)

        return call

    methods: dict[str, Any] = {"log": safe_log(base.log), "alog": safe_log(base.alog)}
    for name in _LEVEL_METHODS:
        if written(name):
            methods[name] = safe(getattr(base, name))
            methods["a" + name] = safe(getattr(base, "a" + name))
    return type(f"Formatting{base.__name__}", (base,), methods)


def _interpolated(event: str, args: tuple[Any, ...]) -> str:
    """`event % args` as structlog and stdlib logging do it (a mapping alone formats by
    name); when the arguments do not fit, the format and why it was not formatted, as
    `Formattable` writes a library's."""
    if not args:
        return event
    try:
        if len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
            return str(event % args[0])
        return str(event % args)
    except Exception as exc:
        return f"{_text(event)} (not formatted: {type(exc).__name__})"


def _library_level(level: str) -> int:
    """The least level of a line from stdlib logging (libraries, Python's warnings) for
    TRIAGE_LOG_LEVEL `level`: the one asked, and never below warning unless
    it is debug, so a library's chatter at info does not drown triage's own lines."""
    if level == "debug":
        return logging.DEBUG
    return max(_LEVELS[level], logging.WARNING)


class Formattable(logging.Filter):
    """Makes a library's record one whose message formats. Arguments that do not fit the
    format (`%d` given text), or one whose text raises, made the message raise wherever it
    was read: in a filter, that was out of the library's log call into the library (a retry
    handler failing on its own warning), and the line was lost. Such a record is logged as
    its format and why it was not formatted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.getMessage()
        except Exception as exc:
            record.msg = f"{_text(record.msg)} (not formatted: {type(exc).__name__})"
            record.args = ()
        return True


class RepeatFilter(logging.Filter):
    """At most one line a minute for each warning a library keeps repeating. Triage says an
    outage once (`store.unavailable`, `sweep.failed`), but a library says it on every try: the
    OTLP exporter with its collector down wrote a few lines every few seconds, thousands an
    hour. Lines that differ only in their numbers (a retry delay, a port, a task's number)
    count as one; the next line shown after a quiet minute says how many were left out
    (`repeated`). Triage's own lines, and a library's below warning, are never held back."""

    WINDOW_S = 60.0
    #: Distinct lines remembered; past it the oldest is forgotten (and may be shown again).
    MAX_KEYS = 512

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        #: line -> [when last shown, left out since]
        self._seen: dict[tuple[str, int, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if record.levelno < logging.WARNING or name == "triage" or name.startswith("triage."):
            return True
        key = (name, record.levelno, _NUMBERS.sub("#", record.getMessage())[:300])
        now = self._clock()
        with self._lock:
            seen = self._seen.pop(key, None)
            if seen is not None and now - seen[0] < self.WINDOW_S:
                seen[1] += 1
                self._seen[key] = seen  # re-inserted last: the dict's order is its age
                return False
            if len(self._seen) >= self.MAX_KEYS:
                del self._seen[next(iter(self._seen))]
            self._seen[key] = [now, 0]
        if seen is not None and seen[1]:
            record.triage_repeated = int(seen[1])
        return True


_NUMBERS = re.compile(r"\d+(?:\.\d+)?")


def add_repeated(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """A library line shown after `RepeatFilter` left out its repeats says how many."""
    record = event.get("_record")
    repeated = getattr(record, "triage_repeated", 0)
    if repeated:
        event["repeated"] = repeated
    return event


#: What Python itself prints on stderr, sent through the configured loggers instead.
_crash_log = structlog.get_logger("triage.crash")


def _route_stray_output() -> None:
    """Warnings (the `py.warnings` logger) and uncaught exceptions become log lines too."""
    logging.captureWarnings(True)
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread
    sys.unraisablehook = _unraisable


def _uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    _crash_log.critical("process.uncaught_exception", exc_info=(kind, error, traceback))


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    _crash_log.error(
        "thread.uncaught_exception",
        thread=args.thread.name if args.thread else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _unraisable(unraisable: Any) -> None:
    """An exception Python could not raise (in `__del__`, a finaliser, a GC callback)."""
    error = unraisable.exc_value
    _crash_log.error(
        "process.unraisable_exception",
        where=unraisable.err_msg or "Exception ignored",
        exc_info=(type(error), error, unraisable.exc_traceback) if error is not None else None,
    )
