"""Rules for secrets written as hex: a run of hex that spells text (a token's bytes, a
`password=` pair, a request body logged as hex), and the rows of a hex dump (`xxd`, `hexdump
-C`, `tcpdump -X`), whose bytes and text column a dump cuts into 16-byte rows. The text the
hex spells is redacted by every rule (`scrub._scrub`); when that finds something, the run, or
each row the secret spans, is replaced by the placeholder found, as a base64 run is
(`base64_runs`). A dump's last bytes may cut a token short of its vendor's shape: a vendor's
prefix and 8 token characters at the dump's end are taken for one (`_CUT_TOKEN`). And an
Ethereum private key, 64 hex digits that only the name before them tells from a transaction's
hash (`_NAMED_PRIVATE_KEY`). And an Ansible Vault's encrypted lines (`_ANSIBLE_VAULT`).
"""

from __future__ import annotations

import re

from triage.redact.rule import _PLACEHOLDER_FOUND, _Rule, _rule

#: Prefixes a token announces itself by (`tokens`, `cloud`): at the end of a dump, with 8
#: token characters after it, the start of a token cut off.
_TOKEN_PREFIXES = (
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "glrt-", "gldt-"),
    *("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe", "xapp-", "sk_live_", "rk_live_"),
    *("sk-", "AKIA", "ASIA", "AIza", "ya29.", "npm_", "hf_", "pypi-", "hvs.", "SG.", "eyJ"),
    *("dop_v1_", "glsa_", "sntrys_", "dckr_pat_", "shpat_", "whsec_", "AGE-SECRET-KEY-"),
)
_CUT_TOKEN = re.compile(
    rf"(?<![A-Za-z0-9])(?:{'|'.join(map(re.escape, _TOKEN_PREFIXES))})[A-Za-z0-9_.-]{{8,512}}\Z"
)
#: A run of hex whose every byte is printable ASCII (its first digit 2 to 7): 12 bytes or more,
#: glued or each pair after one separator, the same throughout (`67:68:70`, `67 68 70`), and
#: after a `0x` or none. A digest or an id mixes bytes of every value, so it is no run.
#: It starts with the digit, the edge before it read after: a pattern that starts with a set
#: of characters is searched for as fast as a needle is, one that starts with a lookbehind is
#: tried at every position.
_HEX_RUN = (
    r"[2-7](?:(?<![0-9A-Za-z].)|(?<=(?<![0-9A-Za-z])0x.))[0-9A-Fa-f](?P<sep>[: -]?)[2-7][0-9A-Fa-f]"
    r"(?:(?P=sep)[2-7][0-9A-Fa-f]){10,4094}+(?![0-9A-Za-z])"
)
#: One row of a hex dump: its offset (`00000010:`, `0x0010:`, `00000010`), 1 to 16 bytes in
#: groups of 1, 2 or 4 bytes, then (2 spaces or `|` on) the text column.
_ROW = (
    r"[ \t]{0,8}(?:0x)?[0-9a-fA-F]{4,8}:?[ \t]{1,3}"
    r"(?:[0-9a-fA-F]{2}(?:[0-9a-fA-F]{2}){0,3}[ \t]{1,2}){1,16}[ \t]{0,48}\|?[^\r\n]{1,20}$"
)
_ROW_PARTS = re.compile(
    r"([ \t]{0,8}(?:0x)?[0-9a-fA-F]{4,8}:?[ \t]{1,3})"
    r"((?:[0-9a-fA-F]{2}(?:[0-9a-fA-F]{2}){0,3}[ \t]{1,2}){1,16})([ \t]{0,48}\|?[^\r\n]{1,20})"
)
_HEX_PAIRS = re.compile(r"[0-9a-fA-F]{2}")


def _found(text: str) -> str | None:
    """The placeholder redaction puts in `text`, or the token's if a token is cut at its end;
    None if `text` hides nothing."""
    from triage.redact.scrub import _scrub  # the rules run this rule: imported when it runs

    found = _PLACEHOLDER_FOUND.search(_scrub(text, ()))
    if found is not None and found[0] not in text:
        return found[0]
    return "[REDACTED:token]" if _CUT_TOKEN.search(text) else None


def _hex_run(match: re.Match[str]) -> str:
    """A hex run replaced by the placeholder its text gets, if it hides a secret."""
    run = match[0].replace(match["sep"], "") if match["sep"] else match[0]
    found = _found(bytes.fromhex(run).decode("ascii", errors="replace"))
    return found if found is not None else match[0]


def _dump(match: re.Match[str]) -> str:
    """A hex dump's rows, each row the text it spells hides a secret in replaced (its offset
    kept): the rows are read joined, as the bytes they cut."""
    lines = match[0].split("\n")
    rows = [_ROW_PARTS.match(line) for line in lines]
    if any(row is None for row in rows):
        return match[0]
    spans, data = [], bytearray()
    for row in rows:
        assert row is not None
        start = len(data)
        data += bytes.fromhex("".join(_HEX_PAIRS.findall(row[2])))
        spans.append((start, len(data)))
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
    found = _found(text)
    if found is None:
        return match[0]
    secret_from = _secret_start(text)
    shown = []
    for line, row, (_, end) in zip(lines, rows, spans, strict=True):
        assert row is not None
        cr = "\r" if line.endswith("\r") else ""
        shown.append(f"{row[1]}{found}{cr}" if end > secret_from else line)
    return "\n".join(shown)


def _secret_start(text: str) -> int:
    """Where the first thing redaction changes in `text` starts (a cut token's prefix)."""
    from triage.redact.scrub import _changed_span, _scrub

    cut = _CUT_TOKEN.search(text)
    changed = _scrub(text, ())
    start = _changed_span(text, changed)[0] if changed != text else len(text)
    return min(start, cut.start()) if cut is not None else start


#: An Ethereum (secp256k1) private key where the words before it name it one: `private key`,
#: `privkey`, `PRIVATE_KEY=`, `--private-key`, `deployerPrivateKey:` (a camel-case name's
#: `Private`), "private key is", "private key for <account>:", then its 64 hex digits, after
#: `0x` or none. A transaction's or a block's hash has the same shape, and stays: only the
#: name says which it is.
_NAMED_PRIVATE_KEY = (
    r"(?P<head>(?:(?<![A-Za-z0-9])(?i:priv)|(?<=[a-z0-9])Priv)(?i:ate[ \t_-]?key|[_-]?key)"
    r"(?![A-Za-z0-9])(?:[ \t]{1,3}(?i:is|was|for[ \t]{1,3}[^\s:]{1,64}+))?\\?[\"']?[ \t]{0,3}"
    r"(?:[:=][ \t]{0,3})?\\?[\"']?)(?P<value>(?:0x)?[0-9a-fA-F]{64})(?![0-9A-Za-z])"
)

#: An Ansible Vault's line: lower-case hex (hexlify's), a digit among it (a word such as
#: `added` on the next line is no part of it), then the line's end, a quote or an escape.
_VAULT_LINE = r"(?=[a-f]{0,4096}+[0-9])[0-9a-f]{2,4096}+(?![^\s\\\"'])"
#: What breaks its lines: a line break (raw or escaped in a JSON string) and the indent after
#: it, or the spaces a log joined them by.
_VAULT_BREAK = r"(?:(?:\r?\n|\\r\\n|\\n)[ \t]{0,64}+|[ \t]{1,8}+)"
#: An Ansible Vault's encrypted text (`ansible-vault encrypt`, a `!vault |` value): its header
#: (`$ANSIBLE_VAULT;1.1;AES256`; 1.2 adds a vault id), then lines of hex. Whoever holds the
#: text can try vault passwords against it offline, so its lines go under any name or none;
#: the header stays to say what was there. Its lines are broken raw, as `\n` inside a JSON
#: string, indented under a YAML key, or joined by spaces when a log flattened them.
_ANSIBLE_VAULT = (
    r"(?P<head>\$ANSIBLE_VAULT;[0-9]\.[0-9];[A-Z0-9_]{1,16}+(?:;[^\s;\\]{1,128}+)?)"
    rf"(?P<break>{_VAULT_BREAK}){_VAULT_LINE}(?:{_VAULT_BREAK}{_VAULT_LINE}){{0,4096}}+"
)

HEX_RULES: tuple[_Rule, ...] = (
    _rule(_ANSIBLE_VAULT, r"\g<head>\g<break>[REDACTED:password]", "$ANSIBLE_VAULT"),
    # A dump first: its rows' bytes are cut into groups that no hex run spans.
    _rule(rf"(?m)^{_ROW}(?:\r?\n{_ROW}){{0,255}}", _dump),
    _rule(_HEX_RUN, _hex_run),
    _rule(_NAMED_PRIVATE_KEY, r"\g<head>[REDACTED:password]", "priv", fold_needles=True),
)
