"""Round 19 (helper 517): what round 18 left (`Redactor.without` quadratic in the values held,
the `=`-started quoted pair rules reading 512 characters at every `=`, a prompt/answer JSON's
answer, emoji tag sequences dropped) and the leak classes a real alert carries, each proved
to go while the text around it stays."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable

import pytest

from triage.redact import Redactor, exact, pairs
from triage.redact.redactor import _PLACEHOLDER
from triage.redact.rule import _Rule
from triage.redact.rules import _RULES
from triage.redact.spelled import MARK, unspelled

P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- Redactor.without: one pass over the held values -------------------------------------------


def _old_without_pieces(redacted: str, also: tuple[str, ...]) -> str:
    """The loop `Redactor.without` ran before this round (placeholders kept, every value
    replaced in every piece in turn), for comparing outputs."""
    pieces = _PLACEHOLDER.split(redacted)
    for n in range(0, len(pieces), 2):
        for secret in also:
            pieces[n] = pieces[n].replace(secret, MARK)
        pieces[n] = unspelled(pieces[n], also)
    return "".join(pieces)


def _random_case(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A text over a small alphabet (so values overlap, nest and touch the mark's characters)
    and values drawn from it, longest first as the callers sort them."""
    alphabet = "ab[]:RE" if rng.random() < 0.5 else "abc"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(6, 9))) for _ in range(40)]
    also = tuple(
        sorted({rng.choice(words) for _ in range(rng.randint(1, 30))}, key=len, reverse=True)
    )
    parts = [
        rng.choice(words) if rng.random() < 0.7 else rng.choice((" ", P, MARK, "credential"))
        for _ in range(rng.randint(1, 200))
    ]
    return "".join(parts), also


def test_exact_replacement_matches_the_loop_on_random_inputs() -> None:
    """One pass over many values gives what replacing them one after another gave, overlaps,
    nested values and values touching the placeholder's characters included."""
    rng = random.Random(517)
    for _ in range(400):
        text, also = _random_case(rng)
        pieces = [text[i : i + 37] for i in range(0, len(text), 37)] or [""]
        looped = [exact._looped(piece, also) for piece in pieces]
        # Through the automaton, however short the texts.
        assert exact._replaced_by_search(pieces, also) == looped


def test_without_matches_the_old_loop_on_many_values() -> None:
    """`Redactor.without` over thousands of values writes what the old loop wrote."""
    rng = random.Random(19)
    values = tuple(f"Vx{i:05d}q{rng.randrange(10**6):06d}" for i in range(1500))
    text = " ".join(
        f"password={v} seen {values[(i * 7) % len(values)]}" for i, v in enumerate(values)
    )
    also = tuple(sorted(values, key=len, reverse=True))
    redactor = Redactor()
    redacted = redactor.text(text)
    assert redactor.without(redacted, also) == _old_without_pieces(redacted, also)


def _many_pairs(count: int) -> tuple[Redactor, str, tuple[str, ...]]:
    """A redactor, a text of `count` distinct `password=` pairs as it redacted it, and the
    values it held under the secret's name, longest first."""
    values = tuple(f"Vx{i:05d}q{(i * 7919) % 10**6:06d}" for i in range(count))
    redactor = Redactor()
    redacted = redactor.text(" ".join(f"password={v} seen {v}" for v in values))
    return redactor, redacted, tuple(sorted(values, key=len, reverse=True))


def _without_seconds(*counts: int) -> list[float]:
    """For each count, the least of five timings of `without` over that many distinct
    `password=` pairs, the counts timed in turn each round (a busy machine slows them alike)."""
    cases = [_many_pairs(count) for count in counts]
    best = [float("inf")] * len(counts)
    for _ in range(5):
        for at, (redactor, redacted, also) in enumerate(cases):
            started = time.perf_counter()
            redactor.without(redacted, also)
            best[at] = min(best[at], time.perf_counter() - started)
    return best


def test_without_is_linear_in_the_values_held() -> None:
    """Eight times the values held in an eight times longer text takes about eight times as
    long, not sixty-four (it was quadratic: 4,000 pairs in 80 KB took 1.7 s)."""
    small, large = _without_seconds(1000, 8000)
    assert large / max(small, 1e-4) < 24


# --- a prompt and its answer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"prompt":"password:","answer":"hunter2"}',
            f'{{"prompt":"password:","answer":"{P}"}}',
        ),
        (
            '{"question": "Enter token", "response": "q7Wz2Lk9Xa"}',
            f'{{"question": "Enter token", "response": "{P}"}}',
        ),
        (
            '[{"prompt": "Vault passphrase?", "reply": "correct horse 9"}]',
            f'[{{"prompt": "Vault passphrase?", "reply": "{P}"}}]',
        ),
    ],
)
def test_answer_to_a_secret_prompt_goes(text: str, expected: str) -> None:
    """A JSON prompt that asks for a secret and its answer beside it: the answer goes, the
    prompt and the JSON around it stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"prompt":"password:","type":"text"}',
        'ask("password:", default)',
        '{"question": "Reset your password?", "answer": "yes"}',
        '{"question": "Favourite colour?", "answer": "blue2"}',
        '{"prompt": "password:", "answer": "${DB_PASSWORD}"}',
    ],
)
def test_closed_secret_label_and_harmless_answers_stay(text: str) -> None:
    """A quoted label ending in a secret's name, closed before a comma or a bracket, holds no
    value: the comma and what follows stay (the label's closing quote was read as a value's
    opening), as does an answer to a question that asks no secret or is a yes, a variable."""
    assert _text(text) == text


# --- emoji sequences ----------------------------------------------------------------------------

SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
HEART = "\u2764\ufe0f"
KEYCAP = "1\ufe0f\u20e3"
WOMAN_DOCTOR = "\U0001f469\U0001f3fd\u200d\u2695\ufe0f"


@pytest.mark.parametrize("emoji", [SCOTLAND, FAMILY, RAINBOW_FLAG, HEART, KEYCAP, WOMAN_DOCTOR])
def test_emoji_sequences_come_out_as_they_went_in(emoji: str) -> None:
    """A flag's tag sequence, a ZWJ sequence, a variation selector and a keycap are kept whole
    when no secret is near them (they were dropped as invisible characters, and the flag, the
    family or the heart came out as something else)."""
    text = f"deploy {emoji} done, team {emoji}"
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        # Tag characters spelling text after a flag that is no flag: still dropped.
        (
            "\U0001f3f4\U000e0068\U000e0075\U000e006e\U000e0074\U000e0065\U000e0072\U000e007f",
            "\U000e0068",
        ),
        # A joiner or a variation selector inside a word still glues nothing.
        ("pass\u200dword=hunter2x", "hunter2x"),
        ("password=hun\ufe0fter2x", "hun"),
    ],
)
def test_invisible_characters_outside_emoji_still_go(text: str, gone: str) -> None:
    """Outside a real emoji sequence, tags, joiners and selectors are still dropped, so they
    hide no secret from the rules."""
    assert gone not in _text(text)


def test_secret_beside_an_emoji_sequence_still_goes() -> None:
    """A secret next to a kept emoji sequence is redacted, and the emoji stays."""
    assert _text(f"{FAMILY} password=hunter2x {SCOTLAND}") == f"{FAMILY} password={P} {SCOTLAND}"


# --- the `=`-started quoted pair rules: linear, same output --------------------------------------


def _equals_rules() -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str], _Rule]]:
    """Each `=`-started rule as written (compiled from its source, with its replacement)
    beside the rule the redactor runs now (`pairs._run_from_equals`), in the same order."""
    written = (
        (pairs.WHOLE_STRING_SOURCE, pairs._whole_strings),
        (
            pairs.WHOLE_SINGLE_SOURCE,
            pairs._from_name(
                pairs._WHOLE_SINGLE_NAME, pairs._WHOLE_SINGLE_PAIR, pairs._unless_command_after
            ),
        ),
        (
            pairs.FIELD_SOURCE,
            pairs._from_name(pairs._FIELD_NAME, pairs._FIELD_PAIR, pairs._named_pair),
        ),
    )
    run_end = f"){{0,{pairs._RUN_MAX}}}+"
    runs = [rule for rule in _RULES if "=(?:" in rule.source and rule.source.endswith(run_end)]
    assert len(runs) == 3
    return [
        (re.compile(source, re.IGNORECASE), replace, run)
        for (source, replace), run in zip(written, runs, strict=True)
    ]


_PIECES = (
    "=",
    "=",
    "=",
    '"',
    "'",
    " ",
    "\\",
    "\\n",
    "\n",
    ",",
    ", ",
    "(",
    ")",
    "{",
    "}",
    "x",
    "ab",
    '"DB_PASSWORD=',
    "'api_token=",
    "Config(password=",
    ", secret=",
    "{db.password=",
    '\\"TOKEN=',
    "password",
    " token=",
    "[REDACTED:password]",
    "${X}",
    "***",
    "-",
    "/",
    "a b",
    "q7Wz2Lk9",
)


def test_equals_started_rules_write_what_they_wrote_as_written() -> None:
    """On random text of names, quotes, brackets and runs of `=` (some past 512 characters),
    each linear rule writes what the rule as written wrote."""
    rng = random.Random(5170)
    rules = _equals_rules()
    for _ in range(600):
        parts = [rng.choice(_PIECES) for _ in range(rng.randint(1, 60))]
        if rng.random() < 0.3:
            run = rng.choice(("=", "x", " ", "a=", "==x")) * rng.randint(170, 530)
            parts.insert(rng.randrange(len(parts) + 1), run)
        text = "".join(parts)
        for written, replace, run in rules:
            assert run.pattern.sub(run.replacement, text) == written.sub(replace, text), text


@pytest.mark.parametrize("opening", ["", '"', "'", "Config(password"])
def test_a_long_run_of_equals_costs_what_plain_text_costs(opening: str) -> None:
    """A run of `=` is read about as fast as as many letters: the `=`-started rules read up to
    512 characters at every `=` (`"=" * 40000 + "secret"`: 3.1 s, ~75 µs a character)."""
    n = 20000

    def seconds(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            Redactor().text(text)
            best = min(best, time.perf_counter() - started)
        return best

    equals = seconds(opening + "=" * n + "secret")
    letters = seconds(opening + "x" * n + "secret")
    assert equals / max(letters, 1e-3) < 15


# --- Go's `%v` of a pointer to a struct under a secret's name ------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("creds=&{admin hunter2 db}", f"creds=&{{{P}}}"),
        ("dial failed password=&{hunter2}", f"dial failed password=&{{{P}}}"),
        ("token=&{q7Wz2Lk9Xa 3600} refreshed", f"token=&{{{P}}} refreshed"),
        ("cfg: {User:admin Password:hunter2}", f"cfg: {{User:admin Password:{P}}}"),
    ],
)
def test_go_struct_printed_with_v_under_a_secret_name_goes(text: str, expected: str) -> None:
    """Go's `%v` of a pointer to a struct (`&{…}`, fields without names) after a secret's name
    loses its fields, its braces kept (it leaked: the pair rule's value cannot start with `&`);
    `%+v`'s named secret field goes alone."""
    assert _text(text) == expected


@pytest.mark.parametrize("text", ["config=&{admin web db 5432}", "got &{200 OK 1.1}", "cfg=&{}"])
def test_go_struct_under_another_name_stays(text: str) -> None:
    """A `%v` struct under a name that says no secret, or under none, stays as printed."""
    assert _text(text) == text


# --- leak classes a real alert carries ----------------------------------------------------------

S = "Zq8vK2mN4pL6xR1t"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (f"redirect https://app.example.com/cb#access_token={S}&token_type=Bearer", S, "cb#"),
        (
            "SAMLResponse=PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6",
            "PHNhbWxw",
            "SAMLResponse=",
        ),
        (
            f"POST /token grant_type=client_credentials&client_id=app&client_secret={S}",
            S,
            "client_id=app",
        ),
        (f"machine api.example.com login deploy password {S}", S, "machine api.example.com"),
        (f"env: PGPASSWORD={S} PGUSER=app", S, "PGUSER=app"),
        (f"mysql -uroot -p{S} -h db", S, "-h db"),
        (f"sshpass -p {S} ssh root@host", S, "ssh root@host"),
        (f"curl -u admin:{S} https://x.example.com", S, "curl -u admin:"),
        (f"docker login -u me --password-stdin <<EOF\n{S}\nEOF", S, "--password-stdin"),
        (f"<password>{S}</password>", S, "<password>"),
        (f"spring.datasource.password={S}", S, "spring.datasource.password="),
        (f'"DefaultConnection": "Server=db;User Id=sa;Password={S};"', S, "Server=db"),
        (
            f'sasl.jaas.config=PlainLoginModule required username="u" password="{S}";',
            S,
            'username="u"',
        ),
        (
            "hook https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "XXXXXXXX",
            "hooks.slack.com",
        ),
        ("xapp-1-A0123456789-1234567890123-" + "ab" * 32, "1234567890123", ""),
        ("key rk_live_51H8abcdefghijklmnopqrstuvwxyz0123456789", "51H8abcdef", "key "),
        (
            "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "abcdefghijklmnopqrstuv",
            "",
        ),
        ("shpat_0123456789abcdef0123456789abcdef", "0123456789abcdef", ""),
        ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "abcdefghijklmnop", ""),
        ("dapi0123456789abcdef0123456789abcdef", "0123456789abcdef", ""),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", "abcdefghijklmnop", ""),
        (
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ-abcdefAA",
            "abcdefghijklmnop",
            "",
        ),
        ("twilio auth token 0123456789abcdef0123456789abcdef", "0123456789abcdef", "twilio"),
    ],
)
def test_leak_classes_of_real_alerts_go(text: str, secret: str, kept: str) -> None:
    """Each credential a real alert carries (a URL fragment's token, a SAML response, an OAuth
    form's client secret, .netrc, env dumps, CLI passwords, config files, vendors' keys) goes,
    and the text around it stays."""
    redacted = _text(text)
    assert secret not in redacted
    assert kept in redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"PGPASSFILE=/tmp/pgpass; echo 'db:5432:*:app:{S}' > /tmp/pgpass",
            f"PGPASSFILE=/tmp/pgpass; echo 'db:5432:*:app:{P}' > /tmp/pgpass",
        ),
        (
            f'echo "db.internal:5432:app:app:{S}" >> ~/.pgpass && chmod 600 ~/.pgpass',
            f'echo "db.internal:5432:app:app:{P}" >> ~/.pgpass && chmod 600 ~/.pgpass',
        ),
        (
            f"echo db:5432:*:app:{S} >> ~/.pgpass",
            f"echo db:5432:*:app:{P} >> ~/.pgpass",
        ),
    ],
)
def test_pgpass_line_written_by_echo_goes(text: str, expected: str) -> None:
    """A .pgpass line an `echo` writes into the file loses its password (it leaked: the host
    was looked for only at a line's start or after the file's path); its quote and the
    redirection after it stay."""
    assert _text(text) == expected


@pytest.mark.parametrize("text", ["echo 10:30:00:ok:done", "echo db:5432 is up", "echo 1:2:3:4:5"])
def test_echoed_colons_that_are_no_pgpass_line_stay(text: str) -> None:
    """An `echo` of a time or a host and port is no .pgpass line: it stays."""
    assert _text(text) == text


@pytest.mark.parametrize("emoji", [SCOTLAND, FAMILY, HEART, WOMAN_DOCTOR])
def test_emoji_sequences_escaped_in_json_come_out_as_they_went_in(emoji: str) -> None:
    """JSON dumped with ASCII only escapes an emoji sequence's joiners, selectors and tags;
    redacted again (a stored excerpt, the prompt), the escapes stay."""
    text = json.dumps({"msg": f"deploy {emoji} done"})
    assert _text(text) == text
