"""Text as a person will see it: what every place that shows alert or model text (Slack, the
status page, the ticket backend) does first, before escaping it for its own markup.

Alert text and an LLM's answer are hostile. Besides markup, which each output escapes in its
own way (mrkdwn entities in `sinks/slack.py`, HTML in `ops/status_page.py`, Markdown in
`sinks/markdown.py`), some characters are a danger wherever they are shown:

- bidi embeddings, overrides and isolates reorder what a reader sees ("Trojan Source");
- zero-width spaces, word joiners, byte order marks and other invisible format characters
  make two texts that look the same differ, or hide words between the visible ones, and the
  Unicode tag characters (U+E0020 to U+E007F) spell whole invisible sentences;
- control characters (NUL, ESC, backspace, carriage return) are refused by some receivers
  (PostgreSQL's jsonb refuses `\\u0000`) and act on others (a terminal);
- a lone surrogate is no character at all: no UTF-8 encoder takes it, so one in a request
  fails the whole request.

`visible` removes the first two, and every printable character that draws nothing
(`triage.unseen`: the Hangul fillers, the blank Braille pattern outside a Braille drawing, the
musical null notehead, so `db⠀down` shows as `dbdown`, never as `db down`) and every code
point Unicode leaves unassigned but reserves as one that draws nothing (U+E0200), makes each
control character a space (never gluing two words
the redactor read apart) and a lone surrogate U+FFFD; it also keeps at most eight combining
marks on one character (Zalgo text piles up hundreds, drawn over the lines around it) and one
variation selector in a row (one chooses a glyph; a run of them draws nothing and spells
hidden bytes, one a selector: "emoji smuggling"). What
mixed scripts and emoji need is kept: zero-width joiners and non-joiners, the left-to-right and
right-to-left marks (which reorder nothing across a strong letter), one of these in a row (a
run of them draws nothing and spells hidden bits), and the tag letters of a
subdivision flag (England's, Scotland's), but no other tag character, after a flag or not. The
operator's terminal is not such a place: it shows every such
character escaped as `\\uXXXX` (`view.terminal_line`), so nothing is hidden from an operator.

A link an alert names is a danger of its own: its name, which the alert chose, can read like
another URL, and its host can look like another (`grafana` with a Cyrillic a, U+0430).
`http_url` and `link_label` show it as the name and the host it opens, as DNS spells it
(`dashboard (xn--grfana-4nf.example.com)`), wherever a link is shown. Its user info reads as a
host too (`https://github.com@evil.example/` opens evil.example) and may be a token: every
surface that shows or sends a link (GitHub, the ticket backend, the deterministic ticket, the
model's ticket) writes it as `link_url` does, the URL it opens without user info, its host as
DNS spells it; `urls_as_opened` writes the URLs in free text so.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote, unquote

import httpx2

from triage.unseen import has_unseen, unseen_at

#: Format characters (category Cf) kept: they join or separate letters in scripts that need
#: them (ZWNJ, ZWJ, also in emoji sequences), mark direction without overriding it (LRM,
#: RLM, ALM), or show only where a word breaks (the soft hyphen).
_KEPT_FORMAT = frozenset("\u200c\u200d\u200e\u200f\u061c\u00ad")
#: Line breaks other than "\n": CR (alone or before LF), NEL, the line and paragraph
#: separators, and the vertical tab and form feed.
_BREAKS = frozenset("\r\x85\u2028\u2029\x0b\x0c")
#: Combining marks (nonspacing, enclosing) kept on one character: more than any script
#: stacks (Vietnamese two, Tibetan four), fewer than Zalgo text piles up to draw over the
#: lines above and below it.
MARKS_MAX = 8
_MARKS = frozenset({"Mn", "Me"})
#: A run of non-ASCII characters long enough to hold a pile of marks.
_NON_ASCII_RUN = re.compile(rf"[^\x00-\x7f]{{{MARKS_MAX + 1},}}")
#: Variation selectors (VS1-16, and VS17-256 of ideographic variation sequences): one after a
#: character chooses its glyph (an emoji's colour form, a kanji's variant); a run of them
#: draws nothing and spells hidden bytes, one per selector ("emoji smuggling").
VARIATION_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_SELECTOR = re.compile(f"[{VARIATION_SELECTORS}]")
#: The ASCII control characters other than "\n" and "\t" (CR, VT and FF among them).
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: A subdivision flag (England's, Scotland's): the black flag, the tag letters and digits of a
#: region and subdivision (`gbeng`), and the cancel tag that ends them. Only its tags are kept:
#: any other tag character draws nothing, and a run of them after a black flag, cancel tag or
#: not, spells a hidden sentence behind one visible flag ("ASCII smuggling").
_FLAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f")


def visible(text: str, *, one_line: bool = False) -> str:
    """`text` as it is safe to show: bidi controls, invisible format characters and printable
    or unassigned characters that draw nothing (`unseen`) removed, control characters spaces, lone surrogates U+FFFD, a pile of combining marks cut to
    MARKS_MAX. Line breaks of any kind become "\\n" (and tabs stay), or with `one_line` each
    becomes a space."""
    if text.isascii():
        # The common cases, checked in C: no control, break or mark in it, or only "\n" and
        # "\t" (a description's lines), which are kept as they are.
        if text.isprintable():
            return text
        if not _ASCII_CONTROLS.search(text):
            return text.replace("\n", " ").replace("\t", " ") if one_line else text
    elif (
        text.replace("\n", "").replace("\t", "").isprintable()
        and not _marks_piled(text)
        and not has_unseen(text)
    ):
        # No control, format, surrogate, separator or unassigned character (isprintable), no
        # pile of marks and nothing else that draws nothing (a filler, a blank Braille cell, a
        # variation selector): the letters, "…" and emoji of real alerts, kept as they are.
        return text.replace("\n", " ").replace("\t", " ") if one_line else text
    return _visible_slowly(text, one_line)


def _marks_piled(text: str) -> bool:
    """Whether `text` has more than MARKS_MAX combining marks in a row: looked for only in its
    runs of that many non-ASCII characters (marks are none), a character at a time."""
    for run in _NON_ASCII_RUN.finditer(text):
        marks = 0
        for ch in run.group():
            marks = marks + 1 if unicodedata.category(ch) in _MARKS else 0
            if marks > MARKS_MAX:
                return True
    return False


def _visible_slowly(text: str, one_line: bool) -> str:
    """`visible`, a character at a time: what no check in C can show is already visible."""
    out: list[str] = []
    marks = 0
    selector = False  # the character before was a variation selector
    text = text.replace("\r\n", "\n")
    hidden = unseen_at(text)
    flags = _in_flags(text)
    shown = ""  # what the last character kept became
    for n, ch in enumerate(text):
        category = unicodedata.category(ch)
        marks = marks + 1 if category in _MARKS else 0
        after_selector, selector = selector, _SELECTOR.match(ch) is not None
        # A printable character that draws nothing (a filler, a blank Braille cell) goes, and
        # so does an unassigned one Unicode reserves as ignorable (U+E0200: drawn as nothing,
        # a run of them spells hidden words as selectors do); a format character is
        # `_shown`'s, a variation selector is kept alone.
        blank = n in hidden and not selector and (category == "Cn" or ch.isprintable())
        if marks <= MARKS_MAX and not (selector and after_selector) and not blank:
            kept = _shown(ch, category, n in flags, one_line)
            # One joiner or mark in a row is what a script or an emoji needs; a run of them
            # (even split by characters dropped here) draws nothing and spells hidden bits.
            if kept and not (kept in _KEPT_FORMAT and shown in _KEPT_FORMAT):
                out.append(kept)
                shown = kept
    return "".join(out)


def _in_flags(text: str) -> frozenset[int]:
    """The positions in `text` of the characters of its subdivision flags (`_FLAG_SEQUENCE`)."""
    if "\U0001f3f4" not in text:
        return frozenset()
    return frozenset(n for m in _FLAG_SEQUENCE.finditer(text) for n in range(*m.span()))


def _shown(ch: str, category: str, in_flag: bool, one_line: bool) -> str:
    """What one character of hostile text becomes (itself, a replacement or nothing)."""
    if ch == "\n" or ch == "\t" or ch in _BREAKS:
        return " " if one_line else ("\t" if ch == "\t" else "\n")
    if category == "Cs":
        return "\ufffd"
    if category == "Cc":
        # A space, not nothing: the redactor, which does not see through controls, read two
        # words here, and two halves of a credential glued after it ran would be published.
        return " "
    if category == "Cf":
        keep = ch in _KEPT_FORMAT or in_flag
        return ch if keep else ""
    return ch  # letters, marks, spaces (no-break, ideographic), private-use, unassigned


def whole_unicode(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, text, numbers) with every lone surrogate in its text,
    keys included, replaced by U+FFFD, so any JSON encoder and any reader takes it (a
    `\\ud800` escape is valid JSON text that strict parsers refuse). Other characters are
    left as they are: this is for answers read by programs, which want the text as stored."""
    if isinstance(value, str):
        return _whole(value)
    if isinstance(value, dict):
        return {_whole(k) if isinstance(k, str) else k: whole_unicode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [whole_unicode(item) for item in value]
    return value


#: A lone surrogate: a UTF-16 half no UTF-8 encoder takes (Python's str holds one alone).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole(text: str) -> str:
    """`text` with each lone surrogate U+FFFD; looked for in C (a log line's every value
    passes here)."""
    if text.isprintable() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def visible_json(value: Any) -> Any:
    """`value` (JSON-like) with every text in it `visible` (multi-line), keys as one line:
    for a JSON body whose text a person reads, as a ticket system shows it."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {
            visible(k, one_line=True) if isinstance(k, str) else k: visible_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [visible_json(item) for item in value]
    return value


#: How much of a link's name (the alert's words) its label shows.
LINK_NAME_CHARS = 60
#: A host as DNS spells it: ASCII letters, digits, hyphens, underscores and dots (punycode for
#: any other letter), or an IP address (v6 without its brackets).
_PLAIN_HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]*:[0-9a-f:.]*")


def http_url(url: str) -> httpx2.URL | None:
    """`url` parsed, when it is an absolute http(s) URL whose host is a plain name or address,
    spelled as DNS does (`xn--…` for a name with non-ASCII letters, lower case, percent-encoded
    letters decoded as a browser decodes them); None for anything else. A host still holding
    other characters (a quote, an encoded space or bidi control) is refused: no label could
    say which host a browser would make of it."""
    try:
        parsed = httpx2.URL(url)
        if b"%" in parsed.raw_host:
            parsed = parsed.copy_with(host=unquote(parsed.raw_host.decode("ascii")))
    except (httpx2.InvalidURL, UnicodeError, ValueError):
        return None  # httpx2 refuses a host no IDNA spells; UnicodeError: a lone surrogate
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        return None
    return parsed if _PLAIN_HOST.fullmatch(parsed.raw_host.decode("ascii")) else None


def link_label(name: str, url: httpx2.URL) -> str:
    """What a link to `url` (from `http_url`) is labelled with: its `name` on one line, cut to
    LINK_NAME_CHARS, and the host it opens (`runbook (runbooks.example.com)`); the host alone
    when the name shows nothing."""
    host = url.raw_host.decode("ascii").rstrip(".")
    flat = " ".join(visible(name, one_line=True).split())
    if len(flat) > LINK_NAME_CHARS:
        flat = flat[: LINK_NAME_CHARS - 1] + "…"
    return f"{flat} ({host})" if flat else host


#: Unicode categories refused anywhere in a link: controls, format characters (bidi overrides,
#: zero-width characters that could hide part of it), surrogates, private-use and unassigned
#: points. A link holding one is not written with it percent-encoded: it is no link at all.
_HIDING_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
#: Characters a written link keeps as they are; any other is percent-encoded, so a link
#: cannot end the markup around it (`<…>`, a quote) or start markup of its own.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"


def opened_url(url: str) -> httpx2.URL | None:
    """The URL a link to `url` (trimmed) opens: an absolute http(s) URL whose host is a plain
    name or address (`http_url`, host as DNS spells it), without its user info (`github.com@`
    ahead of another host reads as the host it is not, and a token written as the user name
    is of no shape the redactor knows); None for anything else, and for a URL holding a
    character that draws nothing or hides (a control, a bidi override, a zero-width space)."""
    url = url.strip()
    if url.isascii():
        if not url.isprintable():  # an ASCII control inside (a tab, NUL, DEL)
            return None
    elif any(unicodedata.category(ch) in _HIDING_CATEGORIES for ch in url):
        return None
    parsed = http_url(url)
    return parsed.copy_with(userinfo=b"") if parsed is not None and parsed.userinfo else parsed


def written(url: httpx2.URL) -> str:
    """`url` (from `opened_url`) as a link is written: its host as DNS spells it, anything but
    the URL's own punctuation percent-encoded (a space, a quote, `<`, `>`, non-ASCII)."""
    return quote(str(url), safe=_URL_SAFE)


def link_url(url: str) -> str | None:
    """`url` as every surface writes a link to it (`opened_url`, `written`), or None when it
    is no link: `https://github.com@evil.example/x` is `https://evil.example/x`,
    `https://%67ithub.com/` is `https://github.com/`, a Cyrillic a in a host is punycode."""
    parsed = opened_url(url)
    return None if parsed is None else written(parsed)


#: An http(s) or ftp URL in free text, up to a space, a quote or a bracket that ends it in
#: prose.
_TEXT_URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>()\"'`\]]{1,2048}")


def urls_as_opened(text: str) -> str:
    """`text` with each http(s) URL in it that reads as another host than it opens (user info,
    a host spelled other than DNS spells it) written as it opens (`link_url`); trailing prose
    punctuation (`.,;:`) stays outside it; a URL that is no link (ftp, a host no label names)
    only loses its user info, whatever that holds (`_USER_INFO`: a quote in it is no end of
    the URL a browser opens). The rest of the text, and a URL that already reads as the host
    it opens, are left as written."""
    if "://" not in text:
        return text
    text = _USER_INFO.sub(_without_user_info, text)

    def as_opened(match: re.Match[str]) -> str:
        url = match.group()
        bare = url.rstrip(".,;:")
        parsed = opened_url(bare)
        if parsed is not None:
            same = _authority(bare).lower() == _authority(str(parsed)).lower()
            return url if same else written(parsed) + url[len(bare) :]
        # No link, but its user info still reads as a host: it goes, as a browser reads it
        # (the host follows the last `@`).
        authority = _authority(url)
        if "@" not in authority:
            return url
        scheme, rest = url.split("//", 1)
        return f"{scheme}//{authority.rsplit('@', 1)[1]}{rest[len(authority) :]}"

    return _TEXT_URL.sub(as_opened, text)


#: The user info of a URL in free text: its authority (up to a space, `/`, `\\`, `?` or `#`,
#: where a browser ends it) to its last `@`, whatever it holds (a quote, a bracket, a
#: backtick, a comma). `_TEXT_URL`'s URL in prose ends at a quote or a bracket, but not the URL
#: a browser opens (`https://github.com:'x@evil.example/` opens evil.example), nor the one a
#: terminal links (GNOME Terminal takes quotes, commas and colons in a password, finds
#: `https://` inside `xhttps://`, and links ssh, git and sftp URLs too). Compact JSON
#: (`{"url":"https://api.example:8443","user":"ops@example.com"}`) holds none: `_STRING_ENDS`
#: tells it. A scheme is read to 32 characters at most: unbounded, each letter of a long run of
#: them (a 100,000 letter title) started a scan to the run's end, and the CLI took minutes.
_USER_INFO = re.compile(r"(?i)([a-z][a-z0-9+.-]{0,31}://)([^\s/\\?#]*)@")
#: Where, after the quote that opened a URL's string, that string ends and another value
#: follows (in what `_USER_INFO` read, which holds no space): the quote, then `,` or `:` and
#: the next value's quote, bracket or brace, or closing brackets and braces and then a comma
#: or another closer. A quote before `,:}]` alone ends nothing a reader can see
#: (`https://github.com:x',y@evil.example/` opens evil.example).
_STRING_ENDS = {
    quote: re.compile(re.escape(quote) + r"""(?:[,:]["'{\[]|[}\]]{1,8}[,}\]])""")
    for quote in ('"', "'")
}
#: The schemes whose URLs lose any user info (`link_url`'s, and ftp's): a user name is no part
#: of a web page's address.
_WEB_SCHEME = re.compile(r"(?i)(?:https?|ftp)://$")


def _without_user_info(found: re.Match[str]) -> str:
    """A URL's scheme and user info (`_USER_INFO`) as a reader should see them: the scheme
    alone for an http(s) or ftp URL, or a user info that reads as a host (it holds a dot:
    `ssh://github.com@evil.example/` opens evil.example); else as written (`ssh://git@…`,
    `postgres://app:…@db`: which user failed is the alert's diagnosis)."""
    scheme, user = found[1], found[2]
    if _in_a_string_it_ends(found):
        return found[0]
    return scheme if _WEB_SCHEME.search(scheme) or "." in user else found[0]


def _in_a_string_it_ends(found: re.Match[str]) -> bool:
    """Whether the URL `found` (`_USER_INFO`) opens a quoted string that ends before its `@`
    (`_STRING_ENDS`): JSON's or Python's `"url":"https://host:8443","user":"ops@…"`, whose
    `@` is a later value's. Only the quote right before the scheme opens it: a quote in a URL
    no quote opened is the user info's own."""
    start = found.start()
    quote = found.string[start - 1] if start else ""
    closing = _STRING_ENDS.get(quote)
    return closing is not None and closing.search(found[2]) is not None


def _authority(url: str) -> str:
    """What `url` (with a scheme) names between `//` and its path, query or fragment: the
    user info and host a reader sees."""
    rest = url.split("//", 1)[1]
    return re.split(r"[/?#]", rest, maxsplit=1)[0]
