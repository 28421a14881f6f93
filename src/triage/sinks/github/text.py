"""What the GitHub sink writes: issue titles, bodies, labels, comments and hidden markers.

Every piece of alert text goes through `markdown` first, so nothing here can mention anyone,
embed anything or break the layout. Two kinds escape that and are made inert here: the links an
alert names (`_link`: each is labelled with the host it opens, and a link to a GitHub issue,
pull request or discussion would put a "mentioned this" line in its timeline, in any
repository the alert chose, at every new incident), and labels (`_label`: sent as text, so
without the invisible and control characters, or those that draw nothing, that would make a
second label look like the first, and with a look-alike letter inside a Latin word spelled
as its code, `team:p\\u0430y`, so it is told apart from `team:pay`, and the colon closing
an emoji's name spelled too, `team:fire\\u003a`, as GitHub draws `:fire:` in a label). The
hidden markers are HTML comments only triage writes, each on a line of its own, and
`has_marker` takes one only there (escaped alert text holds no raw `<`; a code span's holds
one, but beside other text): finding one proves triage put it there:

    <!-- triage:fingerprint=<fp> -->       in the body of the incident's issue
    <!-- triage:effect=<idempotency key> -->  at the end of each comment, one per effect
    <!-- triage:digest -->                 in the body of a repository's storm digest issue
    <!-- triage:digest-entry=<fp> -->      in the digest comment listing one incident
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from urllib.parse import urlsplit

from triage.display import visible
from triage.models import EffectKind, Priority, Status
from triage.normalize.common import cut
from triage.sinks import markdown
from triage.sinks.base import Effect, priority_moved
from triage.sinks.shortcodes import DRAWN
from triage.view import GroupView, draws_nothing, spelled_look_alikes

#: The label every triage issue carries; the marker look-up lists open issues with it.
TRIAGE_LABEL = "triage"
DIGEST_LABEL = "triage-digest"
FLAPPING_LABEL = "flapping"
DIGEST_MARKER = "<!-- triage:digest -->"

#: GitHub refuses label names over 50 characters, more than 100 labels or 10 assignees on an
#: issue, and bodies over 65,536 characters.
_LABEL_CHARS = 50
MAX_LABELS = 100
#: GitHub's cap on an issue's comments: past it, every comment is refused for good (403
#: "Commenting is disabled on issues with more than 2500 comments"). A long-firing incident's
#: update comments, or a big storm's digest entries, reach it.
COMMENTS_CAP = 2500
MAX_ASSIGNEES = 10
_BODY_CHARS = 60_000
_DESCRIPTION_CHARS = 20_000
_MAX_LABEL_FACTS = 20

#: Why a re-fire's new issue takes over from the incident's earlier one (`continued_note`):
#: the earlier one is at GitHub's cap on comments, or GitHub would not reopen it.
AT_CAP = "at_cap"
NOT_REOPENED = "not_reopened"
_CONTINUED_BECAUSE = {
    AT_CAP: f"which is at GitHub's limit of {COMMENTS_CAP:,} comments and takes no more",
    NOT_REOPENED: "which GitHub would not reopen",
}

#: github.com's hosts, and the one its links go through instead: GitHub's redirect domain
#: references nothing (Dependabot's and Renovate's links use it for the same reason).
_GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})
_NO_REFERENCE_HOST = "redirect.github.com"
#: What a link on an Enterprise server must not point at: an issue, pull request or
#: discussion (owner/repo/issues/12…), which the server would reference.
_REFERENCE_PATH = re.compile(r"^/[^/]+/[^/]+/(?:issues|pull|discussions)/\d+(?:/|$)", re.I)


def _marker_value(value: str) -> str:
    # Fingerprints and idempotency keys are ours (hex and "fp:n"), but a marker must never be
    # able to close its own comment, whatever it is given.
    return re.sub(r"[^A-Za-z0-9:._-]", "_", value)


def has_marker(body: str, marker: str) -> bool:
    """Whether `body` holds `marker` as a line of its own, as triage writes every marker. Alert
    and model text never make such a line: escaped, its `<` is `&lt;`; in a code span (a
    digest entry's source and team) it is inside backticks, on a line with other text. So a
    marker quoted in alert text matches nothing (a look-up by substring took it for the real
    one, and one incident's effects edited another's digest entry)."""
    return marker in body and any(line.strip() == marker for line in body.splitlines())


def fingerprint_marker(fingerprint: str) -> str:
    return f"<!-- triage:fingerprint={_marker_value(fingerprint)} -->"


def names_an_incident(body: str) -> bool:
    """Whether `body` holds a fingerprint marker (any incident's) as a line of its own, as
    triage writes it at the end of every issue it opens."""
    prefix = fingerprint_marker("")[: -len(" -->")]
    return prefix in body and any(
        line.strip().startswith(prefix) and line.strip().endswith(" -->")
        for line in body.splitlines()
    )


def effect_marker(idempotency_key: str) -> str:
    return f"<!-- triage:effect={_marker_value(idempotency_key)} -->"


def digest_entry_marker(fingerprint: str) -> str:
    return f"<!-- triage:digest-entry={_marker_value(fingerprint)} -->"


def p_number(priority: Priority) -> str:
    return f"P{priority.rank}"


def issue_title(effect: Effect) -> str:
    """`[P1] ` and the ticket's title as shown; a title that shows nothing (a space, a
    zero-width character) would leave `[P1] `, which GitHub trims to a bare `[P1]` whose
    prefix a priority move no longer finds: the alert's title stands in, else `alert`."""
    shown = markdown.title(effect.ticket.title) or markdown.title(effect.alert.title) or "alert"
    return f"[{p_number(effect.ticket.priority)}] {shown}"


def _label(text: str, *, alert_text: bool = False) -> str:
    """A label name from `text` (alert text for team and source), as `_shown_words` shows it,
    its look-alike letters spelled (`view.spelled_look_alikes`: `team:p\\u0430y` is told apart
    from `team:pay`; not folded to the Latin letter, which would claim a team the alert did
    not name), at most GitHub's 50 characters: cut between user-perceived characters (a
    joiner left at the end would be invisible, a second label that looks like the first),
    never inside a spelled letter's code, no space at either end (GitHub trims one, and the
    name it shows would differ from the one sent: `team:a,` is `team:a`). With `alert_text`,
    no emoji shortcode in it is drawn either (`_spelled_shortcodes`)."""
    flat = _shown_words(text)
    kept = cut(flat, _LABEL_CHARS).rstrip()
    while len(_spelled(kept, alert_text)) > _LABEL_CHARS:
        kept = cut(kept, len(kept) - 1).rstrip()
    return _spelled(kept, alert_text)


def _spelled(text: str, alert_text: bool) -> str:
    shown = spelled_look_alikes(text)
    return _spelled_shortcodes(shown) if alert_text else shown


#: A colon and what may be an emoji's name up to the next colon (group 1).
_SHORTCODE_NAME = re.compile(r":([A-Za-z0-9_+'-]+)(?=:)")
_SPELLED_COLON = "\\u003a"


def _spelled_shortcodes(text: str) -> str:
    """`text` with the closing colon of each emoji shortcode GitHub would draw in a label's
    name spelled as its code, as a look-alike letter is (`team:fire\\u003a`): GitHub draws
    `:NAME:` in a label too, wherever it stands (`team:fire:` would be `team🔥`, `team:eu:x:`
    the EU's flag), for each name it has an image of (`shortcodes.DRAWN`); an invisible
    character between would make a label that looks like another. Read left to right as
    GitHub does: a drawn name's closing colon opens no other."""
    out: list[str] = []
    at = 0
    while found := _SHORTCODE_NAME.search(text, at):
        if found[1].lower() in DRAWN:
            out.append(text[at : found.end()] + _SPELLED_COLON)
            at = found.end() + 1
        else:
            out.append(text[at : found.end()])
            at = found.end()
    return "".join(out) + text[at:]


def _shown_words(text: str) -> str:
    """`text` as a label shows it, uncut: only what is shown (`display.visible`: no control,
    bidi or zero-width character) and what draws (`_drawn`), whitespace collapsed, no comma
    (it would split the labels filter: a space instead, before the whitespace collapses),
    composed (NFC: `a` and a combining diaeresis are `ä`, which every reader sees as one
    letter: two spellings would be two labels drawn alike, each using up the bound on team
    labels). Composed last, since what is left out may have stood between two that compose."""
    words = " ".join(_drawn(visible(text, one_line=True)).replace(",", " ").split())
    return words if words.isascii() else unicodedata.normalize("NFC", words)


def label_of_team(team: str) -> str:
    """The `team:` label of an alert's `team`, as it is sent (`_label`): `team:pay` for ` pay`,
    `pay,` and `pay` padded with the blank Braille pattern too, as for `pay`;
    `team:p\\u0430y` for `pay` spelled with a Cyrillic a. "" for a team a label shows nothing
    of (`,`, `, ,`): a bare `team:` names no team, and would be made in the repository for
    good and counted among its teams (`GitHubSink._may_label_team`)."""
    words = _shown_words(team)
    return _label(f"team:{words}", alert_text=True) if words else ""


#: Joiners (ZWNJ, ZWJ): between two characters beyond ASCII they may change what is drawn (a
#: joined emoji, Persian, the Indic scripts); beside ASCII, at an end or beside another
#: joiner they draw nothing, and are left out of a label as every such character is.
_JOINERS = "\u200c\u200d"
_IDLE_JOINER = re.compile(
    f"(?<![^\\x00-\\x7f{_JOINERS}])[{_JOINERS}]|[{_JOINERS}](?![^\\x00-\\x7f{_JOINERS}])"
)
#: Tag characters: kept only where they spell a subdivision's flag after the black flag
#: (England's, Scotland's), as `display.visible` keeps them.
_TAG_RUN = re.compile("(\U0001f3f4)?[\U000e0020-\U000e007f]+")


def _drawn(text: str) -> str:
    """`text` without the characters that draw nothing (`view.draws_nothing`, the one notion of
    it: the blank Braille pattern, Hangul fillers, variation selectors, joiners and direction
    marks), which would make a second label look like the first; but for a joiner joining two
    characters that need it and the tags of a flag, which change what is drawn."""
    if text.isascii():
        return text
    kept = "".join(
        ch for ch in text if ch in _JOINERS or _TAG_RUN.fullmatch(ch) or not draws_nothing(ch)
    )
    kept = _IDLE_JOINER.sub("", kept)
    return _TAG_RUN.sub(lambda run: run[0] if run[1] else "", kept)


def own_labels(effect: Effect) -> list[str]:
    """The labels triage writes itself, of fixed form whatever the alert or route says:
    `triage` (what the marker look-up lists) and the priority. A create whose other labels
    GitHub refuses is made again with these alone."""
    return [TRIAGE_LABEL, f"priority:{p_number(effect.ticket.priority)}"]


def issue_labels(effect: Effect, *, team_label: bool = True) -> list[str]:
    """team (unless `team_label` is False), priority, source and `triage`, `flapping` for a
    flapping incident's re-fire that needs a new issue, then the route's labels; no
    duplicates, and no more than GitHub takes on one issue (a route's labels past that are
    left out: `triage` is what the marker look-up lists, and the rest say what the issue is)."""
    alert = effect.alert
    names = own_labels(effect)
    names.append(_label(f"source:{alert.source}", alert_text=True))
    if alert.team and team_label:
        names.append(label_of_team(alert.team))
    if effect.flapping:
        names.append(FLAPPING_LABEL)
    names.extend(effect.target.labels)
    labels = list(dict.fromkeys(label for n in names if (label := _label(n))))
    return labels[:MAX_LABELS]


def _when(moment: datetime) -> str:
    """Our own formatting of a datetime: digits, dashes and colons, nothing to escape."""
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _facts(effect: Effect) -> list[str]:
    """The alert facts as table rows: every value inert, pipes escaped by `inline`."""
    alert = effect.alert
    rows = [
        ("Alert", markdown.inline(alert.title, 300)),
        ("Status", markdown.inline(alert.status.value)),
        ("Priority", f"{p_number(effect.ticket.priority)} ({effect.ticket.priority.value})"),
        # A look-alike letter as its code, as the `team:` label and the Labels row have it.
        ("Team", markdown.inline(spelled_look_alikes(alert.team or "—"))),
        ("Source", markdown.inline(alert.source)),
        ("Severity", markdown.inline(alert.severity or "—")),
        ("Occurred at", _when(alert.occurred_at)),
        ("Occurrences", str(effect.occurrences)),
        ("Fingerprint", markdown.code(effect.fingerprint)),
    ]
    labels = sorted(alert.labels.items())[:_MAX_LABEL_FACTS]
    if labels:
        shown = ", ".join(f"{_label_part(k, 60)}={_label_part(v, 120)}" for k, v in labels)
        rows.append(("Labels", shown))
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


#: A label's key or value written bare in the Labels row: one word of letters or digits in any
#: script, and the punctuation of names (`eu-west-1`, `db-1.internal:5432`, `team-a/eu`).
_PLAIN_WORD = re.compile(r"[\w.:/+-]+")


def _label_part(text: str, max_chars: int) -> str:
    """A label's key or value among the Labels row's `key=value, key=value` (`inline`, cut to
    `max_chars` first): bare when it is one plain word, else a JSON string, so a `, `, `=` or
    `"` in it cannot end it early and add a label the alert never had (`host: db-1,
    region=eu-west-1` is one host), as Slack's Where fact writes them (`slack.word_or_quoted`)."""
    shown = cut(" ".join(visible(text).split()), max_chars, ellipsis=True)
    if not (_PLAIN_WORD.fullmatch(shown) and spelled_look_alikes(shown) == shown):
        shown = spelled_look_alikes(json.dumps(shown, ensure_ascii=False))
    return markdown.inline(shown, len(shown))


def web_host(api_url: str) -> str:
    """The host GitHub shows issues on, from GITHUB_API_URL: `api.github.com`'s is github.com
    (and `api.acme.ghe.com`'s acme.ghe.com); an Enterprise Server's API is under /api/v3 of
    its own host."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    return host.removeprefix("api.") if parts.path.strip("/") == "" else host


def _links(effect: Effect, github_host: str) -> list[str]:
    """Only links the alert named, and only http(s) ones, none of them a GitHub reference."""
    alert = effect.alert
    named = [("runbook", alert.runbook_url)] if alert.runbook_url else []
    named += sorted(alert.links.items())
    rendered = [shown for name, url in named if url and (shown := _link(name, url, github_host))]
    return [f"- {shown}" for shown in dict.fromkeys(rendered)]


def _link(name: str, url: str, github_host: str) -> str | None:
    """`url` as a link labelled with `name` and the host it opens (`markdown.link`), unless it
    is no http(s) URL (None). A link to github.com goes through GitHub's redirect domain, which
    references nothing; one to an issue, pull request or discussion on `github_host` (an
    Enterprise server, which has no such domain) is shown as inert text instead of a link.
    The host is read as DNS spells it (`markdown.safe_url`), so `%67ithub.com` or `github.com.`
    is github.com too."""
    target = markdown.safe_url(url)
    if target is None:
        return None
    parts = urlsplit(target)
    host = (parts.hostname or "").rstrip(".")
    if host in _GITHUB_HOSTS:
        return markdown.link(name, target, through=_NO_REFERENCE_HOST)
    if host == github_host and _REFERENCE_PATH.match(parts.path):
        return f"{markdown.inline(name, 100)}: {markdown.inline(target, 2000)}"
    return markdown.link(name, target)


def issue_body(
    effect: Effect,
    *,
    github_host: str = "github.com",
    continues: str | None = None,
    because: str = AT_CAP,
) -> str:
    """Summary, steps, facts, links, then the hidden fingerprint marker; the summary is cut
    until the body fits GitHub's limit (escaping can make hostile text several times longer),
    and past that the body itself, before its marker. `github_host` is where the issue is
    shown (`web_host`): links to its issues must not reference them. `continues`: the
    incident's earlier issue (`owner/name#number`, ours) this one takes over from, named
    first, and `because` why (`continued_note`)."""
    description_chars = _DESCRIPTION_CHARS
    while True:
        body = _issue_body(effect, description_chars, github_host)
        if continues is not None:
            body = f"{continued_note(continues, because)}\n\n{body}"
        if len(body) <= _BODY_CHARS:
            return body
        if description_chars < 100:
            return _cut_body(body, fingerprint_marker(effect.fingerprint))
        description_chars //= 2


def continued_note(issue: str, because: str = AT_CAP) -> str:
    """The line that names the incident's earlier issue (`owner/name#number`, built from our
    own reference, never alert text) and `because` why it was not reopened (`AT_CAP`,
    `NOT_REOPENED`): GitHub links it and shows this issue in that one's timeline, so the
    people watching either see where the incident went on."""
    return f"_Fired again: continues {issue}, {_CONTINUED_BECAUSE[because]}._"


def _cut_body(body: str, marker: str) -> str:
    """`body` cut at a line break to fit, its marker kept: the rest (steps, labels, links) can
    outgrow GitHub's limit once escaped too. Every line is escaped on its own, so a cut between
    lines leaves no markup open, and the blank line ahead of the note ends any table."""
    head = body[: _BODY_CHARS - len(marker) - 100]
    head = head[: max(head.rfind("\n"), 0)].rstrip()
    return f"{head}\n\n{_CUT_NOTE}\n\n{marker}"


_CUT_NOTE = "_… cut to fit GitHub's limit on an issue's length._"
#: A text of at most this many UTF-8 bytes fits GitHub's 65,536 characters however they are
#: counted: code points, UTF-16 units or bytes (a character is never more units than bytes).
BODY_BYTES = 60_000


def cut_to_bytes(body: str, most: int = BODY_BYTES) -> str:
    """`body` (an issue's or a comment's, its hidden marker on its last line) cut at a line
    break to at most `most` UTF-8 bytes, its marker kept: for when GitHub says a body
    triage cut to its count of characters is still too long (it counted otherwise: emoji
    are one code point, two UTF-16 units, four bytes). `body` itself when it fits."""
    if len(body.encode()) <= most:
        return body
    rest, _, marker = body.rstrip().rpartition("\n")
    room = most - len(f"\n\n{_CUT_NOTE}\n\n{marker}".encode())
    head = rest.encode()[:room].decode(errors="ignore")  # a character cut in two is dropped
    head = head[: max(head.rfind("\n"), 0)].rstrip()
    return f"{head}\n\n{_CUT_NOTE}\n\n{marker}"


def _issue_body(effect: Effect, description_chars: int, github_host: str) -> str:
    ticket = effect.ticket
    parts = ["### Summary", markdown.paragraphs(ticket.description, description_chars) or "—"]
    if ticket.steps:
        steps = [f"{n}. {markdown.inline(step, 500)}" for n, step in enumerate(ticket.steps, 1)]
        parts += ["### Steps", "\n".join(steps)]
    group = effect.alert.group
    if group is not None:
        parts += ["### Alerts in this group", members_text(group)]
    parts += ["### Alert" if group is None else "### First alert", "\n".join(_facts(effect))]
    links = _links(effect, github_host)
    if links:
        parts += ["### Links", "\n".join(links)]
    parts.append(
        "_Opened by triage: repeats, the resolve and any re-fire of this alert are posted here._"
    )
    if effect.trace_id:  # ours: 32 hex digits, checked where it was read
        parts.append(f"Trace: {markdown.code(effect.trace_id)}")
    parts.append(fingerprint_marker(effect.fingerprint))
    return "\n\n".join(parts)


#: Members of a group listed in an issue or comment, in at most so many characters (escaped,
#: a title can be eight times its length); the rest are counted.
_LISTED_MEMBERS = 50
_MEMBERS_CHARS = 20_000


def members_text(group: GroupView) -> str:
    """How many alerts the group has and which, as an inert list (the newest changes first)."""
    head = (
        f"{group.count} alert{'s' if group.count != 1 else ''}, {group.firing} firing, "
        f"grouped by {markdown.inline(group.title, 300)}."
    )
    ordered = sorted(group.members, key=lambda m: m.since, reverse=True)
    lines: list[str] = []
    room = _MEMBERS_CHARS
    for m in ordered[:_LISTED_MEMBERS]:
        line = (
            f"- {'🔥 firing' if m.status is Status.FIRING else '✅ resolved'} since "
            f"{_when(m.since)}: {markdown.inline(m.title, 200)}"
        )
        room -= len(line) + 1
        if room < 0:
            break
        lines.append(line)
    hidden = group.count - len(lines)
    if hidden > 0:
        lines.append(f"- … and {hidden} more")
    return "\n".join([head, "", *lines])


def update_comment(effect: Effect) -> str:
    count = effect.new_occurrences
    text = (
        f"**{count} more occurrence{'s' if count != 1 else ''}** since the last update, "
        f"{effect.occurrences} in all (latest at {_when(effect.alert.occurred_at)})."
    )
    if effect.priority_was is not None:
        moved = priority_moved(effect.priority_was, effect.ticket.priority)
        text = f"**{moved}** ({p_number(effect.ticket.priority)}).\n\n{text}"
    if effect.alert.group is not None:
        text += "\n\n" + members_text(effect.alert.group)
    return f"{text}\n\n{effect_marker(effect.idempotency_key)}"


#: The most of a close's title its comment shows: an alert's title is far shorter, and a close
#: by hand (`triage incidents close`) is "TITLE (closed by AUTHOR: COMMENT)", whose comment the
#: command bounds to 1,000 characters and the author to 100.
CLOSE_TITLE_SHOWN = 1_600


def close_comment(effect: Effect) -> str:
    text = (
        f"Resolved at {_when(effect.alert.occurred_at)}: "
        f"{markdown.inline(effect.alert.title, CLOSE_TITLE_SHOWN)}. Closing."
    )
    group = effect.alert.group
    if group is not None and not effect.alert.is_note:  # a note says why it closed
        text = (
            f"All {group.count} alerts of the group resolved (the last at "
            f"{_when(effect.alert.occurred_at)}). Closing."
        )
    return f"{text}\n\n{effect_marker(effect.idempotency_key)}"


def reopen_comment(effect: Effect) -> str:
    text = (
        f"Fired again at {_when(effect.alert.occurred_at)}: "
        f"{markdown.inline(effect.alert.title, 300)}. Reopening."
    )
    if effect.priority_was is not None:
        moved = priority_moved(effect.priority_was, effect.ticket.priority)
        text += f" **{moved}** ({p_number(effect.ticket.priority)})."
    if effect.flapping:
        text += " This alert keeps resolving and firing again (labelled `flapping`)."
    return f"{text}\n\n{effect_marker(effect.idempotency_key)}"


def digest_title() -> str:
    return "[triage] Alert storm: new incidents beyond the hourly issue budget"


def digest_body() -> str:
    return "\n\n".join(
        [
            "More new incidents arrived than the hourly issue budget of this repository allows "
            "(`TRIAGE_GITHUB_CREATE_PER_HOUR`). Instead of an issue each, every further new "
            "incident is listed below as one comment, whose status line triage keeps current "
            "(firing, occurrences, resolved, fired again).",
            "Close this issue once the storm is over; the next storm opens a new one.",
            DIGEST_MARKER,
        ]
    )


def digest_entry(effect: Effect) -> str:
    """One incident's comment in the digest; rewritten in place by later effects, so it is a
    function of the effect alone (writing it twice is harmless)."""
    ticket, alert = effect.ticket, effect.alert
    head = (
        f"**[{p_number(ticket.priority)}] {markdown.inline(ticket.title, 200)}**  \n"
        f"source {markdown.code(alert.source)} · "
        f"team {markdown.code(spelled_look_alikes(alert.team or '—'))} · "
        f"fingerprint {markdown.code(effect.fingerprint)}"
    )
    at = _when(alert.occurred_at)
    status = {
        EffectKind.OPEN: f"firing since {at}",
        EffectKind.UPDATE: f"firing, {effect.occurrences} occurrences (latest at {at})",
        EffectKind.CLOSE: f"resolved at {at}",
        EffectKind.REOPEN: f"fired again at {at}" + (", flapping" if effect.flapping else ""),
    }[effect.kind]
    return f"{head}  \nStatus: {status}\n\n{digest_entry_marker(effect.fingerprint)}"
