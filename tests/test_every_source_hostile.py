"""Every sample payload under tests/payloads (one added later too), with every text field made
hostile, shows nothing live and leaks no secret wherever triage shows or keeps it.

Each string leaf of a sample (inside an SNS envelope's Message too; a map of text gets a hostile
key as well) is replaced by two credentials of `secret_formats` (rotating, so every format
appears) and markup for every place alert text is shown: GitHub markdown (mentions, references,
images, HTML, fences, a forged fingerprint marker), Slack mrkdwn (`<!channel>`, links, styling),
HTML (a script, an image with an error handler), a terminal's escapes and bidi overrides. A
URL's leaf stays a URL, with the hostile text in its query, so it reaches the links. The alerts
are then rendered in process by the functions each place uses: the redacted view (what the
prompt and every sink render from) with its payload excerpt, the deterministic ticket, the
backend's JSON bodies, the GitHub issue (title, body, labels, comments, digest entry), Slack's
messages, the stored record, the operator API's JSON, the CLI's line and the status page, and
the log lines normalising wrote. No 8-character run of a secret's random part may be in any of
them, and none may hold markup its place would render.

Three variants: every string leaf replaced (most samples then lose what identifies them: a clear
`TriageError` is the right answer); every leaf but those that identify the alert, give its state
or make its format known (`test_normalize_hostile.NOT_DISPLAY`), which still gives alerts; and
those display leaves holding credentials placed across each limit normalisers cut text at, whose
cut piece must not survive either.

Two more properties of the same hostile samples are checked here, with the redactor the
rendering uses (`RememberingRedactor`), so that each text's first pass is made once for all
three: redaction is idempotent on each body, whole and string by string (as
`test_redact_idempotent` proves of the other corpora), and the prompt shows each fresh view as
redacting it again showed it (as `test_prompt_redacts_once` proves of the other corpora).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import structlog

from fixed_point import body_texts, unstable
from hostile_server import answer, hostile
from memory_store import MemoryStore
from prompt_views import differences
from remembering import RememberingRedactor
from secret_formats import FORMATS, Secret, sample
from test_normalize_hostile import NOT_DISPLAY, NOT_DISPLAY_IN
from triage.aws import Aws
from triage.errors import SinkRejectedError, TriageError
from triage.health import Health
from triage.incidents.codec import incident_to_json, view_to_json
from triage.incidents.lifecycle import Incident, State
from triage.incidents.silences import SilenceCache
from triage.incidents.store import Routing
from triage.logs import redact_event
from triage.models import Alert, EffectKind, Ticket
from triage.normalize import Normalized, recognise_body
from triage.ops import check, dlq, escalate
from triage.ops.api import OperatorView
from triage.ops.operator import incident_json
from triage.ops.status_page import StatusPage
from triage.pipeline import _log_normalized
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks import slack
from triage.sinks.backend import _close_body, _open_body, _update_body
from triage.sinks.base import Effect, Target
from triage.sinks.github import text as github
from triage.sqs.inbox import Message
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import RedactedAlert, json_line, redact_alert, redact_ticket

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(
    str(path.relative_to(PAYLOADS))
    for path in PAYLOADS.rglob("*.json")
    if path.relative_to(PAYLOADS).parts[0] != "hostile"
)
#: Shared by the rendering, the fixed points and the prompt views of the hostile samples.
REDACTOR = RememberingRedactor()
SUMMARISER = DeterministicSummariser()

#: Markup for every place alert text is shown; `FORGED` is another incident's marker.
FORGED = "<!-- triage:fingerprint=" + "f" * 32 + " -->"
MARKUP = (
    f"@acme/oncall #123 GH-4 ![x](https://e.example/x.png) <details>d</details> ``` {FORGED} "
    "<!channel> <!here> <@U123> <https://evil.example|click> *bold* "
    '<script>alert(1)</script> "><img src=x onerror=alert(1)> '
    "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x1b[31m \u202egnp.exe\u202c \u2066x\u2069"
)


# --- hostile samples ------------------------------------------------------------------------


#: One credential of each format, made once (making them costs more than the test's checks).
POOL = [(fmt, sample(fmt, "every-source")) for fmt in FORMATS]
#: The credentials known by their shape whose random part is long and comes first (at most 8
#: characters of prefix), to be placed across a field's limit.
ACROSS = [
    (f, s)
    for f, s in POOL
    if f.bare
    and "\n" not in s.text
    and s.random[0] in s.text
    and s.text.index(s.random[0]) <= 8
    and len(s.random[0]) >= 24
]
#: The limits normalisers cut text at (a threshold's operator, its value, a title, a label
#: value or a team, other fields): each gets a credential whose random part it cuts.
LIMITS = (16, 64, 200, 256, 1024)
#: How long the credential across each limit may be, to end before the next one's place.
ROOM = (32, 120, 40, 700, 300)
#: The credentials of `ACROSS` that fit each limit's room, in `LIMITS` order.
FITTING = [[s for _, s in ACROSS if len(s.text) <= room] for room in ROOM]


@dataclass
class Hostile:
    """Makes each field's hostile text: two credentials of the pool in turn, then `MARKUP`;
    or, `across_limits`, credentials placed so that each limit cuts one of them. `start`
    spreads the samples over the pool, so that every format is placed somewhere."""

    start: int = 0
    across_limits: bool = False
    #: With `across_limits`, at most two words between credentials: the same credentials in the
    #: same order, for checks where no limit cuts the text (redaction cuts nothing).
    close: bool = False
    turn: Iterator[int] = field(default_factory=itertools.count)
    placed: list[Secret] = field(default_factory=list)

    def text(self) -> str:
        n = self.start + next(self.turn)
        if self.across_limits:
            return self._across(n)
        told = []
        for k in range(2):
            fmt, secret = POOL[(2 * n + k) % len(POOL)]
            self.placed.append(secret)
            told.append(secret.text if fmt.bare else f"{fmt.name}={secret.text}")
        return " ".join([*told, MARKUP])

    def _across(self, n: int) -> str:
        """Words, and for each limit a credential whose random part starts 10 characters
        before it and goes on past it (one short enough to end before the next limit)."""
        text = ""
        for i, (limit, fitting) in enumerate(zip(LIMITS, FITTING, strict=True)):
            secret = fitting[(len(LIMITS) * n + i) % len(fitting)]
            self.placed.append(secret)
            gap = limit - 10 - secret.text.index(secret.random[0]) - len(text)
            if self.close:
                gap = min(gap, 11)  # " word word"
            text += (" word" * gap)[: gap - 1] + " " + secret.text  # spaced on both sides
        return text

    def leaf(self, value: str) -> str:
        """A URL stays one, the hostile text in its query; any other text is replaced."""
        if re.match(r"https?://[^\s/]+", value) and not self.across_limits:
            return f"{value.split('?')[0]}?q={self.text()}"
        return self.text()


def _kept(name: str, payload: Any) -> set[str]:
    """The dotted paths of `payload` that identify the alert, give its state or make its
    format known (as `decode_body` unwraps it: an array is `alerts`)."""
    try:
        fmt = recognise_body(json.dumps(payload)).format
    except TriageError:
        return set()
    return NOT_DISPLAY.get(fmt, set()) | NOT_DISPLAY_IN.get(name, set())


def _any_index(path: tuple[Any, ...]) -> str:
    return ".".join("0" if isinstance(step, int) else str(step) for step in path)


@dataclass
class _Walk:
    name: str
    hostile: Hostile


def _walk(value: Any, path: tuple[Any, ...], kept: set[str] | None, walk: _Walk) -> Any:
    """`value` with every string leaf not in `kept` (None: keep none) made hostile; a leaf
    holding JSON (an SNS Message) is walked inside too, and written back as JSON. A map of
    text to text (labels, annotations, tags) gets one more entry, its key hostile too."""
    if isinstance(value, dict):
        walked = {k: _walk(v, (*path, k), kept, walk) for k, v in value.items()}
        if path and value and all(isinstance(v, str) for v in value.values()):
            walked[walk.hostile.text()] = walk.hostile.text()
        return walked
    if isinstance(value, list):
        return [_walk(v, (*path, i), kept, walk) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    inner = _json(value)
    if inner is not None:
        inner_kept = None if kept is None else _kept(walk.name, inner)
        return json.dumps(_walk(inner, (), inner_kept, walk))
    if kept is not None and (".".join(map(str, path)) in kept or _any_index(path) in kept):
        return value
    return walk.hostile.leaf(value)


def _json(text: str) -> Any:
    """The JSON object or array `text` holds (a byte order mark before it, as triage reads
    it), else None: prose."""
    text = text.lstrip().removeprefix("\ufeff")
    if not text.startswith(("{", "[")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


#: Keys an SNS envelope is known by: kept whatever the variant keeps inside its Message.
ENVELOPE = {"Type", "TopicArn", "Message"}


#: How a sample is made hostile: every string leaf, or its display leaves only (with markup
#: and credentials), or its display leaves with a credential across a limit.
VARIANTS = ("every", "display", "across-limits")
#: The "across-limits" credentials with at most two words between them (`Hostile.close`).
CLOSE = "across-limits, close"


@functools.cache
def hostile_body(name: str, variant: str) -> tuple[str, list[Secret]]:
    """Sample `name` made hostile as `variant` says, and the secrets placed in it."""
    payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    # Where the sample starts in the pool depends on its name only: another sample added
    # changes no other sample's credentials.
    start = zlib.crc32(name.encode())
    hostile = Hostile(
        start=start, across_limits=variant in ("across-limits", CLOSE), close=variant == CLOSE
    )
    if variant == "every":
        kept = None
    elif isinstance(payload, list):
        kept = {p.removeprefix("alerts.") for p in _kept(name, payload)}
    elif isinstance(payload, dict) and "TopicArn" in payload:
        message = _json(str(payload.get("Message", "")))
        kept = ENVELOPE | (_kept(name, payload) if message is None else set())
        if message is None:  # prose published to the topic: hostile lines join it
            payload["Message"] = f"{payload['Message']}\n{hostile.text()}\n{hostile.text()}"
    else:
        kept = _kept(name, payload)
    return json.dumps(_walk(payload, (), kept, _Walk(name, hostile))), hostile.placed


@functools.cache
def normalised(body: str) -> Normalized | TriageError:
    """What normalising `body` gives: its alerts and skips, or the error that refuses it."""
    try:
        return recognise_body(body).normalized
    except TriageError as exc:
        return exc


def _gives_alerts(name: str) -> bool:
    result = normalised((PAYLOADS / name).read_text(encoding="utf-8"))
    return isinstance(result, Normalized) and bool(result.alerts)


ALERTING = [name for name in SAMPLES if _gives_alerts(name)]


# --- where alert text is shown --------------------------------------------------------------


@dataclass
class Shown:
    """Everything rendered from one sample's alerts, by the place it is shown in."""

    github: list[str] = field(default_factory=list)
    github_titles: list[str] = field(default_factory=list)
    github_labels: list[str] = field(default_factory=list)
    slack: list[dict[str, Any]] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    terminal: list[str] = field(default_factory=list)
    #: Kept or sent as data (JSON bodies, records, log lines): checked for secrets only.
    data: list[str] = field(default_factory=list)

    def places(self) -> Iterator[tuple[str, str]]:
        """Each text rendered, with the place it is shown in."""
        for place in ("github", "github_titles", "github_labels", "html", "terminal", "data"):
            for n, text in enumerate(getattr(self, place)):
                yield f"{place}[{n}]", text
        for n, message in enumerate(self.slack):
            yield f"slack[{n}]", json.dumps(message, ensure_ascii=False)


def _effects(view: RedactedAlert, ticket: Ticket) -> Iterator[Effect]:
    refs = {"github": "https://github.com/acme/ops/issues/7", "backend": "T-7"}
    for seq, kind in enumerate(EffectKind, 1):
        yield Effect(kind, view.fingerprint, view, ticket, None if seq == 1 else "7", 3, 2,
                     kind is EffectKind.REOPEN, f"{view.fingerprint}:{seq}", Target(), refs)  # fmt: skip


#: Each effect's GitHub comment and ticket backend body (OPEN's are the issue and the ticket).
COMMENTS = {
    EffectKind.UPDATE: github.update_comment,
    EffectKind.CLOSE: github.close_comment,
    EffectKind.REOPEN: github.reopen_comment,
}
BACKEND = {EffectKind.OPEN: _open_body, EffectKind.CLOSE: _close_body}


def _render_effects(view: RedactedAlert, ticket: Ticket, shown: Shown) -> None:
    for effect in _effects(view, ticket):
        body = BACKEND.get(effect.kind, _update_body)(effect)
        shown.data.append(json.dumps(body, ensure_ascii=False))
        shown.github.append(github.digest_entry(effect))
        comment = COMMENTS.get(effect.kind)
        if comment is not None:
            shown.github.append(comment(effect))
            shown.slack.append(slack.follow_up_message(effect))
            continue
        shown.github_titles.append(github.issue_title(effect))
        shown.github_labels.extend(github.issue_labels(effect))
        shown.github.append(github.issue_body(effect))
        shown.slack += [slack.open_message(effect), slack.plain_message(effect)]


async def render(alerts: tuple[Alert, ...], *, everywhere: bool = True) -> Shown:
    """Every place the alerts are shown or kept, as triage renders them; unless `everywhere`,
    only the redacted view's fields, which everything else is rendered from."""
    shown = Shown()
    store = MemoryStore()
    for alert in alerts:
        if not everywhere:
            shown.data.append(view_to_json(redact_alert(alert, REDACTOR)))
            continue
        view = redact_alert(alert, REDACTOR, excerpt_chars=6000)
        ticket = redact_ticket(await SUMMARISER.summarise(view), REDACTOR)
        shown.data += [view_to_json(view), ticket.model_dump_json()]
        _render_effects(view, ticket, shown)
        opened = await store.begin(view, "m", store.now())
        if opened.after is None:
            continue
        fp = opened.after.fingerprint
        routing = Routing("default", view.team, dict(view.labels))
        await store.save_ticket(fp, "m", ticket, routing)
        await store.confirm(fp, "m", "github", "https://github.com/acme/ops/issues/7", finish=True)
        incident = await store.get(fp)
        assert incident is not None
        shown.data += [incident_to_json(incident), json.dumps(incident_json(incident, REDACTOR))]
        shown.terminal.append(json_line(incident_json(incident, REDACTOR, history=True)))
    if everywhere:
        shown.html.append(await PAGE.render(store))
    return shown


class Page:
    """The status page over one store at a time."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.aws = Aws(self.settings)

    async def render(self, store: MemoryStore) -> str:
        view = OperatorView(
            self.settings, store, SilenceCache(store), [], SUMMARISER, Health(), self.aws,
            clock=store.now,
        )  # fmt: skip
        return await StatusPage(view, auth=None)._render()  # type: ignore[arg-type]


PAGE = Page()


def logged(body: str) -> str:
    """The log lines normalising `body` makes the pipeline write, as the daemon writes them."""
    with structlog.testing.capture_logs() as logs:
        result = normalised(body)
        if isinstance(result, Normalized):
            _log_normalized(result)
    return json.dumps([redact_event(None, "info", dict(e)) for e in logs], default=str)


# --- checks -----------------------------------------------------------------------------------


PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def leaked(secrets: list[Secret], shown: Shown) -> list[str]:
    """Each place holding an 8-character run of the secrets' random parts (as written, or
    percent-decoded), with the run."""
    parts = {part for s in secrets for part in s.random}  # a sample places each secret often
    runs = {part[i : i + 8] for part in parts for i in range(len(part) - 7)}
    found = []
    for text, place in {text: place for place, text in shown.places()}.items():
        encoded = PERCENT.search(text) is not None
        seen = {text, unquote(text), unquote(unquote(text))} if encoded else {text}
        for variant in seen:
            hits = {variant[i : i + 8] for i in range(len(variant) - 7)} & runs
            found += [f"{place}: {run!r} in …{_around(variant, run)}…" for run in sorted(hits)[:1]]
    return found


def _around(text: str, run: str) -> str:
    at = text.index(run)
    return text[max(at - 60, 0) : at + 40]


#: A mention, a reference or a GH- link that GitHub would act on (no zero-width space after
#: the sign, as `markdown` writes it).
GITHUB_LINKING = re.compile(r"[@#](?!\u200b)[\w/]|(?i:gh-)(?!\u200b)\d")


def github_live(text: str, fingerprints: set[str]) -> list[str]:
    """What in an issue body or comment would render live: raw HTML (bar triage's markers and
    link destinations), a mention or reference, an image, a fence, a second marker."""
    problems = []
    for line in text.splitlines():
        if re.fullmatch(r"<!-- triage:(fingerprint|digest-entry)=([0-9a-f]{32}) -->", line):
            if line.split("=")[1][:32] not in fingerprints:
                problems.append(f"a marker of another incident: {line}")
            continue
        if re.fullmatch(r"<!-- triage:(effect=[0-9a-f]{32}:\d+|digest) -->", line):
            continue
        # Triage's link destinations, and code spans (a digest entry's source and team): in
        # neither does GitHub render markup, mention or reference anyone.
        mine = re.sub(r"\]\(<https?://[^\s<>]+>\)|`[^`]*`", "](LINK)", line)
        if "<" in mine:
            problems.append(f"raw HTML: {line[:120]}")
        if GITHUB_LINKING.search(mine.replace("&#8203;", "\u200b").replace("\\", "")):
            problems.append(f"a mention or reference: {line[:120]}")
        if re.search(r"(?<!\\)!\[", mine) or "```" in mine:
            problems.append(f"an image or a fence: {line[:120]}")
    return problems


def slack_live(message: dict[str, Any]) -> list[str]:
    """What in a Slack message would notify, link or style: outside triage's own markup (the
    date, links to http(s) URLs), no `<…>` and no `@word`; alert words only in plain text."""
    problems = []
    texts = [("fallback", message["text"])] + [
        (node["type"], node["text"]) for node in _text_objects(message.get("blocks", []))
    ]
    for kind, text in texts:
        words = re.sub(r"<https?://[^\s|<>]+\|", "<LINK|", text)  # a URL mentions nobody
        if re.search(r"(?<!\w)@\w", words):
            problems.append(f"{kind}: a mention: {text[:120]}")
        problems += [
            f"{kind}: markup <{tag[:80]}>"
            for tag in re.findall(r"<([^>]*)>", text)
            if not re.match(r"(!date\^\d+\^|https?://[^\s|<>]+\|)", tag)
        ]
        if kind == "mrkdwn" and ("```" in text or "*bold*" in text):
            problems.append(f"mrkdwn: alert text styled: {text[:120]}")
    return problems


def _text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _text_objects(value)


#: The status page's own elements; an alert's would be another.
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section",
    "ul", "li", "b", "span", "div", "table", "tr", "th", "td",
    "a", "details", "summary", "form", "label", "input",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in PAGE_TAGS:
            self.problems.append(f"<{tag}>")
        self.problems += [f"<{tag} {k}>" for k, _ in attrs if k.startswith("on")]
        # The page's own links go to an incident's page, or out to a ticket over http(s).
        self.problems += [
            f"<{tag} href={v!r}>"
            for k, v in attrs
            if k == "href" and not (v or "").startswith(("/incidents/", "http://", "https://"))
        ]

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"<!--{data[:60]}-->")


def html_live(page: str) -> list[str]:
    parser = _Tags()
    parser.feed(page)
    return parser.problems


#: What a terminal acts on or reorders: C0 and C1 controls, bidi and other format characters.
TERMINAL_ACTIVE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def live(shown: Shown, fingerprints: set[str]) -> list[str]:
    """Markup that would render live in its place, for every place."""
    problems = [p for text in shown.github for p in github_live(text, fingerprints)]
    problems += [f"title: {t}" for t in shown.github_titles if GITHUB_LINKING.search(t)]
    problems += [f"label: {n!r}" for n in shown.github_labels if not n.isprintable()]
    problems += [p for message in shown.slack for p in slack_live(message)]
    problems += [p for page in shown.html for p in html_live(page)]
    problems += [f"terminal: {t[:80]!r}" for t in shown.terminal if TERMINAL_ACTIVE.search(t)]
    return problems


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_hostile_sample_gives_alerts_or_a_clear_error(variant: str) -> None:
    """Every sample made hostile normalises to alerts or raises a TriageError, never another
    exception, and what it says (the error, a skip's detail, a note) quotes no run of a
    secret; with the leaves that identify it kept, nearly every sample that gave alerts (of a
    format `NOT_DISPLAY` knows) still does."""
    said = Shown()
    placed: list[Secret] = []
    for name in SAMPLES:
        body, secrets = hostile_body(name, variant)
        result = normalised(body)
        placed += secrets
        if isinstance(result, TriageError):
            said.data.append(str(result))
        else:
            said.data += [*result.notes, *(skip.detail for skip in result.skipped)]
    assert leaked(placed, said) == []
    known = [name for name in ALERTING if variant == "every" or _format(name) in NOT_DISPLAY]
    still = [name for name in known if _has_alerts(normalised(hostile_body(name, variant)[0]))]
    if variant != "every":
        lost = sorted(set(known) - set(still))
        assert len(still) >= 0.9 * len(known), lost


def _format(name: str) -> str:
    return recognise_body((PAYLOADS / name).read_text(encoding="utf-8")).format


def _has_alerts(result: Normalized | TriageError) -> bool:
    return isinstance(result, Normalized) and bool(result.alerts)


def test_every_credential_format_is_placed() -> None:
    """The samples' fields, made hostile, carry a credential of every format between them."""
    placed = {s.text for name in ALERTING for v in VARIANTS for s in hostile_body(name, v)[1]}
    assert [f.id for f, s in POOL if s.text not in placed] == []


#: Leaks in a module another change owns, to be fixed there, by sample and variant (strict:
#: the test fails once the leak is gone, and the entry goes).
KNOWN: dict[tuple[str, str], str] = {}


# Parametrized by sample, its variants checked in turn: which variants give alerts once hostile
# (the others are refused cleanly, as the test above proves) is known only by normalising them,
# which collection would do again in every xdist worker; the test does it once, in its own.
@pytest.mark.parametrize("name", ALERTING)
async def test_hostile_text_is_inert_and_secret_free_wherever_shown(name: str) -> None:
    """Sample `name` made hostile leaks no run of a secret it carries into any place triage
    shows or keeps its alerts, and renders no mention, link, image, tag or escape of its own
    in any of them."""
    leaks: dict[str, list[str]] = {}
    lives: dict[str, list[str]] = {}
    for variant in VARIANTS:
        body, placed = hostile_body(name, variant)
        result = normalised(body)
        if not _has_alerts(result):
            continue
        assert isinstance(result, Normalized)
        # A credential cut at a limit is cut before redaction, in the normaliser: the view
        # shows whether a piece of it survived (everything else renders from it, cut after
        # redaction).
        shown = await render(result.alerts, everywhere=variant != "across-limits")
        shown.data.append(logged(body))
        leaks[variant] = leaked(placed, shown)
        lives[variant] = live(shown, {a.fingerprint for a in result.alerts})
    if not leaks:
        pytest.skip("refused in every variant: the test above covers it")
    assert _not_known(name, leaks) == {}
    assert {variant: found for variant, found in lives.items() if found} == {}


@pytest.mark.parametrize("name", ALERTING)
def test_a_hostile_sample_redacts_to_a_fixed_point(name: str) -> None:
    """Every sample made hostile (credentials of every format and markup in every field, and
    the credentials placed across the normalisers' limits), whole and field by field, is a
    fixed point after one pass."""
    found = []
    # Not "display": the same fields, the same pool of credentials and markup as "every"
    # (which also makes the identity fields hostile), so the same contexts at a third more
    # cost. The credentials across the limits with two words between them, not a thousand
    # characters: redaction cuts nothing, and the same credentials meet the same words, the
    # same JSON around them (one ends each field) in under a third of the text.
    for variant in ("every", CLOSE):
        body, _ = hostile_body(name, variant)
        found += [f"{variant}: {u}" for u in unstable(body_texts(body), REDACTOR.text)]
    assert found == []


@pytest.mark.parametrize("name", ALERTING)
def test_a_hostile_samples_prompt_view_is_what_redacting_it_again_gave(name: str) -> None:
    """Every sample with its text fields made hostile (credentials of every format, markup,
    credentials across each limit normalisers cut at): shown as the second redaction showed
    it, a fixed point of the redactor."""
    found = []
    for variant in VARIANTS:
        result = normalised(hostile_body(name, variant)[0])
        if not isinstance(result, Normalized):
            continue
        # The cut excerpt alone: the fields are shown alike at any excerpt size, and an uncut
        # excerpt is shown as redacted once, which the test above proves of every hostile body
        # (its second pass changes nothing).
        shown = differences(result.alerts, REDACTOR, excerpt_chars=(120,))
        found += [f"{variant}: {d}" for d in shown]
    assert found == []


def _not_known(name: str, leaks: dict[str, list[str]]) -> dict[str, Any]:
    """The variants whose leaks are not as `KNOWN` says: found where none is known, or none
    found where one is known (then the entry is to go)."""
    return {
        variant: found or f"fixed: remove KNOWN[{(name, variant)!r}]"
        for variant, found in leaks.items()
        if bool(found) != ((name, variant) in KNOWN)
    }


def _quotes(told: str) -> list[str]:
    """What triage says of a value it cannot read: a script's timestamp is noted (the alert is
    kept, dated when it was queued), a posted alert's endsAt is refused."""
    said = []
    for body in ({"title": "t", "timestamp": told}, [{"labels": {"a": "b"}, "endsAt": told}]):
        result = normalised(json.dumps(body))
        said += [str(result)] if isinstance(result, TriageError) else list(result.notes)
    return said


@pytest.mark.parametrize("pad", [30, 45])
def test_a_value_quoted_in_a_note_or_error_keeps_no_piece_of_a_secret(pad: int) -> None:
    """A secret in a value that a note or an error quotes, cut inside the secret where the
    quote ends, leaves no run of its random part in the error or the log line."""
    placed = [sample(fmt, f"quoted/{pad}") for fmt in FORMATS if fmt.bare]
    shown = Shown()
    for secret in placed:
        said = _quotes("t" * pad + " " + secret.text)
        shown.data += said
        shown.data.append(json.dumps(redact_event(None, "warning", {"event": "x", "said": said})))
    assert leaked(placed, shown) == []


def test_a_health_event_code_that_is_no_code_is_shown_as_given() -> None:
    """An AWS Health event's type code that is not an upper-case code (a credential pasted
    there) is shown as given, not made into lower-case words: no run of it is in the
    redacted title."""
    payload = json.loads((PAYLOADS / "eventbridge/health-issue.json").read_text(encoding="utf-8"))
    placed = [s for f, s in POOL if f.bare and "\n" not in s.text]
    shown = Shown()
    for secret in placed:
        payload["detail"]["eventTypeCode"] = secret.text
        result = normalised(json.dumps(payload))
        assert isinstance(result, Normalized), result
        shown.data += [redact_alert(a, REDACTOR).title for a in result.alerts]
    assert leaked(placed, shown) == []


#: What may follow a cut value: nothing, a sentence a normaliser wrote around it, another
#: line, and a key the redactor finds only in the text it undisguised (which writes "…" as
#: "...": the "…" of an ellipsis is a compatibility character).
AFTER_CUT = ["", '" fired.', "\nstate: FAILED", ": word", " key AKIAZ3MXQ7VJ9PLEKT4R"]


@pytest.mark.parametrize("after", AFTER_CUT)
def test_the_piece_a_cut_leaves_of_a_credential_is_redacted(after: str) -> None:
    """A credential cut inside its random part or just past it, the cut marked "…" as
    normalisers mark a cut of shown text, leaves no run of that part, wherever the cut sits
    in the text."""
    placed = [s for f, s in POOL if f.bare and "\n" not in s.text and s.random[0] in s.text]
    shown = Shown()
    for secret in placed:
        start = secret.text.index(secret.random[0])
        # Inside the random part, or just past it (a DSN cut in its host, after the key).
        for cut in (start + 12, start + 20, start + 30, start + len(secret.random[0]) + 6):
            if cut < len(secret.text):
                shown.data.append(REDACTOR.text(f"word {secret.text[:cut]}…{after}"))
    assert leaked(placed, shown) == []


def test_a_dead_letter_cut_inside_a_credential_shows_no_piece_of_it() -> None:
    """`triage dlq peek`'s excerpt of a body no format reads, cut inside a credential at its
    limit, shows no run of the credential's random part."""
    placed = [s for f, s in POOL if f.bare and "\n" not in s.text and s.random[0] in s.text]
    shown = Shown()
    for n, secret in enumerate(placed):
        # The random part starts 12 characters before the cut, after `{"note": "` and words.
        gap = dlq.BODY_CHARS - 12 - len('{"note": "') - secret.text.index(secret.random[0])
        body = json.dumps({"note": ("word " * gap)[: gap - 1] + " " + secret.text})
        letter = dlq.DeadLetter(Message(str(n), body, "r", 4, None), {})
        shown.data.append(json.dumps(letter.describe(datetime.now(UTC))))
    assert leaked(placed, shown) == []


def test_a_model_servers_error_cut_inside_a_credential_shows_no_piece_of_it() -> None:
    """What `triage check` says a model server answered (its error's message, cut to fit a
    line), cut inside a credential the server echoed, shows no run of its random part."""
    placed = [s for f, s in POOL if f.bare and "\n" not in s.text and s.random[0] in s.text]
    shown = Shown()
    for secret in placed:
        said = "Incorrect API key provided:"
        gap = check.SAID_CHARS - 12 - len(said) - secret.text.index(secret.random[0])
        message = said + (" key" * gap)[: gap - 1] + " " + secret.text
        shown.data.append(check._said({"message": message}))
    assert leaked(placed, shown) == []


#: Identity fields that are shown too (as a label, in the description): the fingerprint hashes
#: them cut at 1,024 characters, unmarked, so what is shown must be cut apart from that.
SHOWN_IDENTITIES = [
    ("sentry/issue-created.json", ("data", "issue", "id")),
    ("sentry/event-alert.json", ("data", "event", "issue_id")),
    ("sentry/metric-alert-critical.json", ("data", "metric_alert", "alert_rule", "id")),
    ("threshold/triggered.json", ("device_id",)),
    ("threshold/host-only.json", ("host",)),
    ("threshold/triggered.json", ("metric",)),
]


@pytest.mark.parametrize(("name", "path"), SHOWN_IDENTITIES)
def test_an_identity_cut_inside_a_credential_is_shown_without_a_piece_of_it(
    name: str, path: tuple[str, ...]
) -> None:
    """An identity field holding credentials across each limit (1,024 too, where identities
    are cut) shows no run of them where the alert shows it."""
    payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    hostile = Hostile(across_limits=True)
    node = payload
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = hostile.text()
    result = normalised(json.dumps(payload))
    assert isinstance(result, Normalized) and result.alerts, result
    shown = Shown(data=[view_to_json(redact_alert(a, REDACTOR)) for a in result.alerts])
    assert leaked(hostile.placed, shown) == []


async def test_an_escalation_webhooks_refusal_cut_inside_a_credential_shows_no_piece(
    tmp_path: Path,
) -> None:
    """The reason an escalation webhook's refusal gives, for an answer that echoes a
    credential where a 200-character cut would fall inside it, holds no run of its random
    part."""
    placed = [s for _, s in ACROSS][:20]
    answers = []
    for secret in placed:
        gap = 200 - 12 - secret.text.index(secret.random[0])
        refusal = ("refused" + " word" * gap)[: gap - 1] + " " + secret.text
        answers.append(answer(400, body=refusal.encode()))
    shown = Shown()
    async with hostile(*answers) as server:
        routes = tmp_path / "routes.toml"
        routes.write_text(
            '[[route]]\nname = "payments"\nsinks = ["backend"]\nescalate_after_s = 60\n'
            f'[route.escalate]\nslack_webhook_url = "{server.url}/services/T/B/x"\n'
        )
        settings = Settings(routes_file=routes)
        escalator = escalate.Escalator(settings, load_router(settings))
        try:
            for _ in placed:
                with pytest.raises(SinkRejectedError) as refused:
                    await escalator.escalate(_escalating(), datetime.now(UTC))
                shown.data.append(str(refused.value))
        finally:
            await escalator.aclose()
    assert leaked(placed, shown) == []


def _escalating() -> Incident:
    """An open incident of the escalating route, due."""
    opened = datetime.now(UTC) - timedelta(hours=1)
    return Incident(
        fingerprint="e" * 32, state=State.OPEN, source="generic", title="t", opened_at=opened,
        last_event_at=opened, occurrences=1, route="payments", escalate_after_s=60,
    )  # fmt: skip
