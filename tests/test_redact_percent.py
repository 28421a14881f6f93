"""Redaction inside percent-encoding: a secret found in a decoded token is replaced where it
stood in the encoded text, and every other byte of the token stays as it was."""

from __future__ import annotations

import random
import re
from urllib.parse import quote, unquote

import pytest

from triage.redact import redact
from triage.redact.percent import _percent_decoded

INNER = "https://x.example.com/cb?token=abc123def456ghi&user=bob x"

NESTED = [
    # A URL whose query holds another URL, encoded once: only the inner token's value goes.
    (
        "https://app.example.com/login?next=" + quote(INNER, safe="") + "&y=1",
        "https://app.example.com/login?next=https%3A%2F%2Fx.example.com%2Fcb%3Ftoken%3D"
        "[REDACTED:password]%26user%3Dbob%20x&y=1",
    ),
    # … encoded twice (`%253D`), lower-case escapes, a `+` and an encoded `+` (`%2B`) that
    # mean different things in a query and must not trade places.
    (
        "https://a.example.com/l?next=https%253A%252F%252Fx%252Fcb%253Fpassword%253Dhunter2"
        "%2526a%253Db more",
        "https://a.example.com/l?next=https%253A%252F%252Fx%252Fcb%253Fpassword%253D"
        "[REDACTED:password]%2526a%253Db more",
    ),
    (
        "https://x/?next=%2fpath%3ftoken%3dabcDEF123ghiJKL456%26q%3da+b%2Bc z",
        "https://x/?next=%2fpath%3ftoken%3d[REDACTED:password]%26q%3da+b%2Bc z",
    ),
    # Non-ASCII and bytes that are not UTF-8 stay encoded as they were, in their case.
    (
        "t=%E6%9D%B1%20password%3Dx%20%ff",
        "t=%E6%9D%B1%20password%3D[REDACTED:password]%20%ff",
    ),
    # A secret found by its shape (an AWS key id) inside an encoded console link.
    ("alarm/key%3DAKIAIOSFODNN7EXAMPLE%20high", "alarm/key%3D[REDACTED:aws-key]%20high"),
    # A secret whose characters are partly encoded goes whole, escapes and all.
    ("u=%2541KIAIOSFODNN7EXAMPLE&v=%2F", "u=[REDACTED:aws-key]&v=%2F"),
    (
        "redirect=https%3A%2F%2Fu%3Ap4ss%40db.example.com%2F",
        "redirect=https%3A%2F%2Fu%3A[REDACTED:password]%40db.example.com%2F",
    ),
]


@pytest.mark.parametrize(("text", "expected"), NESTED)
def test_only_the_encoded_secret_is_replaced(text: str, expected: str) -> None:
    """The secret inside an encoded token becomes a placeholder; the rest stays byte for byte."""
    assert redact(text) == expected


@pytest.mark.parametrize("expected", [e for _, e in NESTED])
def test_an_encoded_token_redacted_once_redacts_to_itself(expected: str) -> None:
    """Redacting the result again changes nothing."""
    assert redact(expected) == expected


def test_an_encoded_token_without_a_secret_stays_byte_for_byte() -> None:
    """A token whose decoding holds no secret is not touched, whatever its escapes."""
    text = "https://x/?next=%2fa%2Fb%3Fq%3Da+b%2Bc%26d%3D%E6%9D%B1%ff&e=%2541"
    assert redact(text) == text


def test_a_nested_secret_is_replaced_in_place_at_every_depth() -> None:
    """Random inner URLs holding a secret, encoded one to three times with mixed-case escapes
    among other encoded text, come back as they were with only the encoded secret replaced."""
    rng = random.Random(52)
    for _ in range(300):
        secret = "".join(rng.choice("ABCdef0123456789ghJK") for _ in range(24))
        filler = rng.choice(["a b", "x+y", "é/ü", "q=1", "%", "50%"])
        before = f"https://in.example.com/cb?x={quote(filler, safe='')}&api_key="
        after = f"&y={quote(filler, safe='')}"
        encoded_before, encoded_after = before, after
        for _ in range(rng.randint(1, 3)):
            encoded_before = _quote_mixed(encoded_before, rng)
            encoded_after = _quote_mixed(encoded_after, rng)
        link = "https://out.example.com/l?next="
        text = f"see {link}{encoded_before}{secret}{encoded_after} ok"
        expected = f"see {link}{encoded_before}[REDACTED:password]{encoded_after} ok"
        assert redact(text) == expected, text


def _quote_mixed(text: str, rng: random.Random) -> str:
    """`text` percent-encoded once, each escape's hex digits upper or lower case at random."""
    return re.sub(
        "%[0-9A-F]{2}",
        lambda m: m[0] if rng.random() < 0.5 else m[0].lower(),
        quote(text, safe=""),
    )


def test_percent_decoding_matches_unquote_and_maps_each_character_to_its_source() -> None:
    """The decoder that keeps each character's source gives what `unquote` gives (bytes that
    are not UTF-8 as lone surrogates), and each character's source decodes to that character."""
    rng = random.Random(5)
    pieces = ["%41", "%e6%9d%b1", "%E6", "%ff", "%2", "%zz", "%25", "%2541", "a", "é", "+", "%"]
    for _ in range(2_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        decoded, starts = _percent_decoded(text)
        assert decoded == unquote(text, errors="surrogateescape"), text
        assert len(starts) == len(decoded) + 1 and starts[-1] == len(text)
        for i, char in enumerate(decoded):
            assert unquote(text[starts[i] : starts[i + 1]], errors="surrogateescape") == char


def _jwt_signed_with_dashes() -> str:
    """An RS256-like JWT whose signature holds a 40-character base64 run between a `-` and a
    `_` (the AWS secret's shape, were the JWT not read whole), and more after it."""
    run = "aB3dE5fG7hJ9kL2mN4pQ6" * 2
    return "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.Xy-" + run[:40] + "_Zz9" + run[:16]


def test_a_token_right_after_an_escape_is_read_whole_in_its_decoded_token() -> None:
    """A JWT or a Terraform token right after `%3D` (whose `D` starts no token) goes whole: the
    decoded token is read before the rules, which would otherwise redact a later part of it
    (a run of the signature, the part after the Terraform token's dot) and leave the rest."""
    tfc = "aB3dE5fG7hJ9kL.atlasv1." + "aB3dE5fG7hJ9kL2mN4pQ6" * 3
    for token in (_jwt_signed_with_dashes(), tfc):
        inner = quote(f"https://api.example.com/cb?ref={token}", safe="")
        out = redact(f"https://sso.example.com/login?next={inner}")
        assert out.startswith("https://sso.example.com/login?next=https%3A%2F%2F"), out
        assert token[20:28] not in out and token[-8:] not in out, out


def test_a_password_decoded_too_far_is_found_at_a_shallower_depth() -> None:
    """A DSN whose password holds its own `%2F`, inside a URL inside a query, is decoded three
    times into `app:3/…`, a port's shape: the depth before that shows the password."""
    dsn = "postgres://app:3%2F0RJ8djfK2keSdJCIt@orders-db:5432/orders"
    inner = quote(f"https://api.example.com/cb?ref={quote(dsn, safe='')}", safe="")
    out = redact(f"https://sso.example.com/login?next={inner} failed")
    assert "0RJ8djfK" not in unquote(unquote(unquote(out))), out
    assert out.endswith("orders-db%253A5432%252Forders failed"), out
