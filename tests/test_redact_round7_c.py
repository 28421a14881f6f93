"""Round 7's secrets fixes, part C: the classes behind the red team's leaks (a pair inside a
value its name declines, a Ruby hash and a Node Buffer under a secret's name, a prompt's note
before its colon, a passphrase's words after a line's prefix, lines a backslash continues,
MySQL's native hash, crypto wallets' keys), each beside the near text that must stay.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

SECRET = "Zq8vN3kW6pT1yR5s"
#: The Bitcoin wiki's example private key, compressed, in WIF (a public test vector).
WIF = "KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617"
MYSQL_HASH = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"


def _redacted(text: str) -> str:
    return Redactor().text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"dump creds: token={SECRET} host=db", "dump creds: token=[REDACTED:password] host=db"),
        (f"credentials: api_key={SECRET}", "credentials: api_key=[REDACTED:password]"),
    ],
)
def test_a_pair_inside_a_value_its_name_declines_is_read(text: str, expected: str) -> None:
    """A secret's pair inside the value a `credentials`/`creds` name declines goes, the rest
    of the line kept."""
    assert _redacted(text) == expected


def test_a_ruby_hash_under_a_secrets_name_loses_every_value_and_keeps_its_keys() -> None:
    """A Ruby hash's `inspect` under a secret's name loses each value, nested ones too, and
    keeps its keys and quotes."""
    text = f'init: secret: {{:db=>{{:user=>"app", :pass=>"{SECRET}"}}, :port=>5432}} done'
    assert _redacted(text) == (
        'init: secret: {:db=>{:user=>"[REDACTED:password]", :pass=>"[REDACTED:password]"}, '
        ":port=>[REDACTED:password]} done"
    )


@pytest.mark.parametrize(
    "text",
    [
        'cache: {:ttl=>300, :key=>"users"} ok',
        "payload: <Buffer 68 75 6e 74> ok",
    ],
)
def test_a_ruby_hash_or_a_node_buffer_under_another_name_stays(text: str) -> None:
    """A Ruby hash or a Node Buffer under a name that is no secret's stays as written."""
    assert _redacted(text) == text


def test_a_node_buffer_cut_by_inspect_is_blanked_and_stays_so() -> None:
    """A secret's Buffer that `inspect` cut (`... 14 more bytes`) goes whole, and a second
    reading of the result changes nothing."""
    text = "auth failed, password: <Buffer 68 75 6e 74 ... 12 more bytes> retry"
    once = _redacted(text)
    assert once == "auth failed, password: <Buffer [REDACTED:password]> retry"
    assert _redacted(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "Error connecting with password (see docs): retry later",
        "Password policy [default]: strong",
        "Default region name [None]: us-east-1",
    ],
)
def test_a_note_that_is_no_prompts_stays(text: str) -> None:
    """A remark in brackets before a colon that is no prompt's note (prose, a setting's
    default), or a prompt that asks for no secret, keeps its value."""
    assert _redacted(text) == text


def test_a_prompt_whose_answer_is_hidden_loses_its_answer() -> None:
    """A password prompt that says its input is hidden loses the answer logged after it."""
    text = f"Password (input is hidden): {SECRET}"
    assert _redacted(text) == "Password (input is hidden): [REDACTED:password]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "12:00:01 WARN seed_phrase=abandon ability able about above absent",
            "12:00:01 WARN seed_phrase=[REDACTED:password]",
        ),
        ("gpg: passphrase: not set for key 42", "gpg: passphrase: not set for key 42"),
    ],
)
def test_a_phrase_after_a_prefix_goes_whole_unless_it_states(text: str, expected: str) -> None:
    """A seed phrase's words after a log's prefix go as one; a phrase name followed by a
    state (`not set`) stays."""
    assert _redacted(text) == expected


def test_a_continued_command_loses_only_its_secret_and_keeps_its_lines() -> None:
    """A command split by backslashes loses the secret its joined line shows, its breaks,
    indentation and other arguments kept."""
    text = f"mysql -h db \\\n  -u app \\\n  -p{SECRET} \\\n  -e 'select 1'"
    assert _redacted(text) == (
        "mysql -h db \\\n  -u app \\\n  -p[REDACTED:password] \\\n  -e 'select 1'"
    )


def test_continued_lines_without_a_secret_stay() -> None:
    """A Dockerfile's RUN split by backslashes, and a Windows path's backslash ending a line,
    stay as written."""
    text = (
        "RUN apt-get update \\\n    && apt-get install -y curl \\\n    && rm -rf /var/lib/apt\n"
        "dir C:\\\nnext line"
    )
    assert _redacted(text) == text


def test_a_properties_value_below_its_name_goes() -> None:
    """A `.properties` secret continued below its name loses the value; the name, the line
    break and the next line stay."""
    text = f"app.secret.key = \\\n    {SECRET}\nnext=1"
    assert (
        _redacted(text) == "app.secret.key = [REDACTED:password]\n    [REDACTED:password]\nnext=1"
    )


def test_mysql_hashes_under_a_header_all_go() -> None:
    """Every row's hash below `authentication_string` goes, the rows' users kept."""
    rows = f"| app | {MYSQL_HASH} |\n| ro  | {MYSQL_HASH} |"
    text = f"| user | authentication_string |\n{rows}"
    assert _redacted(text) == (
        "| user | authentication_string |\n| app | [REDACTED:password-hash] |\n"
        "| ro  | [REDACTED:password-hash] |"
    )


def test_a_star_and_forty_hex_outside_mysql_stays() -> None:
    """`*` and 40 hex digits with no MySQL word before them (Markdown emphasis on a commit's
    SHA) stay: only MySQL's context makes them a hash."""
    text = "fixed in *2470c0c06dee42fd1618bb99005adca2ec9d1e19* and *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
    assert _redacted(text) == text


def test_a_wif_key_goes_and_a_word_of_its_length_that_is_none_stays() -> None:
    """A compressed WIF key goes; a base58 word of a WIF's length whose bytes are no key's
    (its version byte is not 0x80) stays."""
    not_a_key = "5" + "A" * 50
    assert _redacted(f"key {WIF} and {not_a_key}") == f"key [REDACTED:private-key] and {not_a_key}"


@pytest.mark.parametrize(
    "numbers",
    [list(range(63)), [*range(63), 256], [*range(65)]],
    ids=["63-bytes", "a-number-over-255", "65-bytes"],
)
def test_an_array_that_is_not_64_bytes_stays(numbers: list[int]) -> None:
    """Only a JSON array of exactly 64 byte values is read as a keypair: 63 or 65 numbers, or
    one over 255, stay."""
    text = f"sample {json.dumps(numbers)}"
    assert _redacted(text) == text


def test_a_keypair_printed_one_number_a_line_goes() -> None:
    """A keypair file pretty-printed (`jq .`: one number a line) goes whole."""
    text = f"keypair:\n{json.dumps([(7 * i) % 256 for i in range(64)], indent=2)}\nend"
    assert _redacted(text) == "keypair:\n[REDACTED:private-key]\nend"
