"""Alert text made inert for GitHub-flavoured markdown (issue bodies, comments and titles).

Alert text is untrusted: whoever can make a system alert can choose its words. Rendered as-is,
it could notify people or teams (`@user`, `@org/team`), cross-reference other issues (`#12`,
`org/repo#12`), embed images that call home (`![x](http://…)`), inject HTML (`<script>`,
`<img>`), fake triage's own hidden markers (`<!-- triage:… -->`), or break the layout (headings,
tables, code fences). Everything here turns such text into plain characters that read the same:

- markdown punctuation is backslash-escaped (list, rule and table delimiter markers only at a
  line's start), so no emphasis, link, image, list, heading, table or code span can start;
- `<`, `>` and `&` become entities, so no HTML (and no HTML comment) can start;
- `@` and `#` get a zero-width space after them (`@&#8203;team`): GitHub finds mentions and issue
  references in the *rendered* text, where a backslash escape has already disappeared, so only a
  character between the sign and the name stops them (the same trick Renovate and Dependabot use);
  so do GitHub's other automatic links in free text: `GH-12` references, and URLs (`https://`,
  `www.`, and a `www` ending the text, which a dot of triage's after it would complete),
  which would be clickable and, for another repository's issue, cross-reference it;
- an emoji shortcode's opening colon gets one too (`:&#8203;white_check_mark:`): GitHub draws
  `:white_check_mark: Resolved` in a firing alert's title as the check mark, in the rendered
  text too, and `deploy:fire:` glued to a word as well; a colon inside a word before a name
  GitHub has no image of (an ARN's `arn:aws:sns:`) or before a number (a time) is left as it
  is, so such a value can still be copied whole;
- a word of 7 or more hex digits is a code span (`` `a5c3785…` ``): GitHub links such a word
  to the commit it names, shown cut to 7, and a commit pushed to any fork is shown under the
  repository's own address; in a code span it links nothing and reads whole (and a search
  finds it, as no zero-width space inside it would let one);
- bidi controls and invisible format characters are dropped and each control character is a
  space (`display.visible`, as everywhere alert text is shown: a control dropped would glue
  back together two halves of a credential the redactor read apart), and leading spaces go
  too (four of them would start a code block).

Links are never taken from free text: `link()` renders one URL the alert named explicitly, only
if it is http(s), to the URL it opens as every surface writes it (`display.link_url`: no user
info, host as DNS spells it), labelled with its name and that host (`display.link_label`), so a
name that reads like another URL or a look-alike host cannot pass for the real one.
"""

from __future__ import annotations

import re
import unicodedata

from triage.display import link_label, link_url, opened_url, visible, written
from triage.normalize.common import cut
from triage.sinks.shortcodes import DRAWN

#: ASCII punctuation that can open or close markdown anywhere in a line (emphasis, code spans,
#: links, images, table cells, strikethrough, math); each gets a backslash.
_MARKDOWN_PUNCTUATION = frozenset("\\`*_[]()!|~$")

#: Characters that mean something only at the start of a line: list items, setext underlines
#: and rules (`-`, `+`, `=`), a table's delimiter row (`:-`, which needs no pipe); `1.` starts
#: an ordered list.
_LINE_START = frozenset("-+=:")
_ORDERED_ITEM = re.compile(r"^(\d{1,9})\.")

#: HTML entities for the characters that open or close HTML.
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}

#: A zero-width space, written as an entity so the raw body shows what was done.
_ZWSP = "&#8203;"

#: Code points dropped from text besides what `visible` removes: private-use and unassigned.
_NOT_DRAWN = frozenset({"Co", "Cn"})


def _clean(text: str) -> str:
    """`text` as every output shows it (`display.visible`: each control character a space, no
    bidi or invisible format character, any line break "\n"; emoji joiners and flags kept),
    and without private-use or unassigned code points (which GitHub's fonts draw as boxes, or
    not at all)."""
    shown = visible(text)
    if shown.isprintable():
        return shown
    return "".join(ch for ch in shown if unicodedata.category(ch) not in _NOT_DRAWN)


def _escape_char(ch: str) -> str:
    if ch in _HTML:
        return _HTML[ch]
    if ch in "@#":
        return ch + _ZWSP
    if ch in _MARKDOWN_PUNCTUATION:
        return "\\" + ch
    return ch


#: Where GitHub would link free text by itself: a `GH-12` reference, a URL's `://`, `www.`;
#: and a `www` ending the text, which triage's own dot after it (`: TITLE. Closing.`) would
#: make `www.`, a link to `http://www`.
_AUTOLINK = re.compile(r"(?<![A-Za-z0-9])(?:gh-(?=[0-9])|www(?=\.|$))|:(?=//)", re.IGNORECASE)


def _unlinked(text: str, zero_width: str) -> str:
    """`text` with a zero-width space after each place GitHub would start an automatic link."""
    return _AUTOLINK.sub(lambda m: m[0] + zero_width, text)


#: A colon before what may be an emoji shortcode's name (letters, digits, `_`, `\\_` once
#: escaped, `+`, `'` or `-`) and its closing colon; the name is group 1, read by `_opens_drawn`
#: (in one pass: a lookahead that also sought a letter in it would go over a long word after a
#: colon once from each of its characters).
_SHORTCODE = re.compile(r":(?=((?:[A-Za-z0-9+'-]|\\?_)+):)")
#: What a word ends with: a colon after one of these is glued to it.
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _opens_drawn(found: re.Match[str]) -> bool:
    """Whether the colon `found` (`_SHORTCODE`) opens a shortcode GitHub would draw. One glued
    to a word (`deploy:fire:`) does when its name is one GitHub has an image of
    (`shortcodes.DRAWN`; `arn:aws:sns:` names none, and is left whole to be copied); one
    standing apart, when its name is such a name (`:100:`) or holds a letter or `+` (a name
    GitHub may draw that no list here knows yet: nothing is lost to a copy there)."""
    name = found[1].replace("\\_", "_")
    if name.lower() in DRAWN:
        return True
    glued = found.start() > 0 and found.string[found.start() - 1] in _WORD_CHARS
    return not glued and any(ch.isalpha() or ch == "+" for ch in name)


def _undrawn(text: str, zero_width: str) -> str:
    """`text` with a zero-width space after each emoji shortcode's opening colon
    (`_opens_drawn`): shown as typed, not drawn (triage's own text uses no shortcodes)."""
    return _SHORTCODE.sub(lambda found: ":" + zero_width if _opens_drawn(found) else ":", text)


#: A word of 7 or more hex digits (a commit SHA, or its first 7), which GitHub links to the
#: commit it names: bounded by no letter, digit or `_`, as GitHub reads a word.
_HEX_WORD = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]{7,}(?![0-9A-Za-z_])")


def _escape_line(line: str) -> str:
    escaped = _undrawn(_unlinked("".join(_escape_char(ch) for ch in line), _ZWSP), _ZWSP)
    if line[:1] in _LINE_START:
        escaped = "\\" + escaped
    elif ordered := _ORDERED_ITEM.match(line):
        digits = ordered[1]
        escaped = digits + "\\." + escaped[len(digits) + 1 :]
    return _unlinked_commits(escaped)


def _unlinked_commits(escaped: str) -> str:
    """Escaped text with each hex word in it a code span (no backtick of the alert's is left
    in it to pair with one of these: each is escaped), so GitHub links it to no commit."""
    return _HEX_WORD.sub(lambda word: f"`{word[0]}`", escaped)


def inline(text: str, max_chars: int = 1000) -> str:
    """One line of inert text: newlines and tabs become spaces, cut to `max_chars` first. Safe
    at the start of a line too (it cannot begin a list item or a heading)."""
    flat = cut(" ".join(_clean(text).split()), max_chars, ellipsis=True)
    return _escape_line(flat)


def paragraphs(text: str, max_chars: int = 10_000) -> str:
    """Multi-line inert text: each line escaped, line breaks kept as hard breaks, blank lines
    kept as paragraph breaks, and at most `max_chars` of the original text."""
    cleaned = cut(_clean(text), max_chars, ellipsis=True)
    lines = [" ".join(line.split()) for line in cleaned.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        out.append(_escape_line(line))
    while out and out[-1] == "":
        out.pop()
    # Two trailing spaces make a hard line break; an empty line ends the paragraph.
    rendered: list[str] = []
    for i, line in enumerate(out):
        nxt = out[i + 1] if i + 1 < len(out) else ""
        rendered.append(line + "  " if line and nxt else line)
    return "\n".join(rendered)


def title(text: str, max_chars: int = 240) -> str:
    """Text for an issue title: GitHub shows titles as plain text (no markdown, no mentions),
    so only line breaks and invisible characters go, and `@`/`#` are kept from linking in
    places that do render titles (notifications, cross-references), and an emoji shortcode
    from being drawn (`_undrawn`: GitHub draws them in titles too)."""
    flat = " ".join(_clean(text).split())
    keep = max_chars
    while True:
        kept = cut(flat, keep, ellipsis=True)
        shown = _unlinked(kept.replace("@", "@\u200b").replace("#", "#\u200b"), "\u200b")
        shown = _undrawn(shown, "\u200b")
        # The zero-width spaces count against GitHub's 256 characters too: cut more until
        # the title as sent fits (a title of 300 `#` would be 600 and refused with a 422).
        if len(shown) <= max_chars or keep <= 1:
            return shown
        keep -= len(shown) - max_chars


def code(text: str, max_chars: int = 200) -> str:
    """A short value (fingerprint, label) as an inline code span that no backtick can end."""
    flat = cut(" ".join(_clean(text).split()), max_chars).replace("`", "'")
    return f"`{flat}`" if flat else ""


def safe_url(url: str) -> str | None:
    """`url` as a link to it is written (`display.link_url`): an absolute http(s) URL whose
    host is a plain name, that host as DNS spells it, no user info, and the rest
    percent-encoded so it cannot break out of a link; None for anything else (javascript:,
    data:, relative, malformed, a host no label could name, a hidden character)."""
    return link_url(url)


def link(name: str, url: str, *, through: str | None = None) -> str | None:
    """A markdown link `[name (host)](<url>)` with an inert label that names the host `url`
    opens (`display.link_label`); None when the URL is not http(s) (`safe_url`). `through`
    is a redirect domain the link goes through instead of its host (same path, query and
    fragment), and the label still names the host it forwards to."""
    parsed = opened_url(url)
    if parsed is None:
        return None
    label = link_label(name, parsed)
    if through is not None:
        parsed = parsed.copy_with(host=through, port=None)
    # GitHub reads entities in a destination too: an `&` of the URL stays one as `&amp;`.
    target = written(parsed).replace("&", "&amp;")
    return f"[{inline(label, len(label))}](<{target}>)"
