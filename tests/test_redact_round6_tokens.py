"""Round 6 token fixes: more vendors' prefixed tokens (each only with its documented body, so
ordinary words after a short prefix stay), an encrypted JWT (JWE, five parts), a token split by
ANSI colour escapes, a password continued on a container runtime's partial log line, a token
split into concatenated literals, and a secretsdump line's NT hash. Each case also checks that
redaction is a fixed point (redacting twice gives what redacting once gives)."""

from __future__ import annotations

import json
import random
import string

import pytest

from triage.redact import redact

_RNG = random.Random(3190)
ALNUM = string.ascii_letters + string.digits
URL_SAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits


def _random(count: int, alphabet: str = ALNUM) -> str:
    """`count` characters of `alphabet`, the same on every run."""
    return "".join(_RNG.choice(alphabet) for _ in range(count))


def _uuid() -> str:
    return f"{_random(8, HEX)}-{_random(4, HEX)}-{_random(4, HEX)}-{_random(4, HEX)}-{_random(12, HEX)}"


def _fixed(text: str) -> str:
    """`text` redacted, after checking that redacting the result changes nothing more."""
    once = redact(text)
    assert redact(once) == once
    return once


#: One token of each vendor shape added this round, with a digit in each random body.
TOKENS = {
    "yandex-oauth": "y0_" + _random(54, URL_SAFE) + "7",
    "atlas-service-account": "mdb_sa_sk_" + _random(40, ALNUM + "_"),
    "segment-public-api": "sgp_" + _random(63) + "4",
    "neon": "napi_" + _random(63, LOWER_ALNUM) + "2",
    "cockroach-cloud": f"CCDB1_{_random(22)}_{_random(40)}",
    "tavily": "tvly-" + _random(31) + "5",
    "tavily-dev": "tvly-dev-" + _random(31) + "5",
    "firecrawl": "fc-" + _random(32, HEX),
    "jina": "jina_" + _random(59) + "1",
    "elevenlabs": "sk_" + _random(48, HEX),
    "together": "tgp_v1_" + _random(42, URL_SAFE) + "9",
    "voyage": "pa-" + _random(42, URL_SAFE) + "3",
    "cerebras": "csk-" + _random(47, LOWER_ALNUM) + "8",
    "fireworks": "fw_" + _random(23) + "6",
    "runpod": "rpa_" + _random(40, string.ascii_uppercase + string.digits),
    "datastax-astra": f"AstraCS:{_random(24, string.ascii_letters)}:{_random(64, HEX)}",
    "axiom": "xaat-" + _uuid(),
    "axiom-personal": "xapt-" + _uuid(),
    "inngest-signing": "signkey-prod-" + _random(64, HEX),
    "liveblocks": "sk_prod_" + _random(63, URL_SAFE) + "0",
    "trigger-dev": "tr_prod_" + _random(19) + "2",
    "stytch": "secret-live-" + _random(35, URL_SAFE) + "4",
}


@pytest.mark.parametrize("token", list(TOKENS.values()), ids=list(TOKENS))
def test_a_vendors_prefixed_token_goes(token: str) -> None:
    """Each vendor's token, by its documented prefix and body, goes whole; the words around stay."""
    assert _fixed(f"401 for key {token} at step 3") == "401 for key [REDACTED:token] at step 3"


@pytest.mark.parametrize(
    "text",
    [
        "the pa-system in hall fc-01 runs fw_version 2.1 (sk_test mode)",
        "tr_prod_deploy and sk_prod_cluster failed; csk-east-1 and jina_reader timed out",
        "fc-0123456789abcdef is a short id, y0_ alone is nothing, napi_v2 is a route",
        "pa-" + "very-long-hyphenated-identifier-name-here",
        "signkey-prod-rotation-job and secret-live-updates stayed",
    ],
)
def test_a_word_after_a_short_prefix_stays(text: str) -> None:
    """A word that starts like a vendor's prefix but has no token's documented body stays."""
    assert redact(text) == text


#: A JWE: five base64url parts, the header JSON (`eyJ`), the key part empty under `dir`.
JWE_RSA = (
    "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ."
    f"{_random(342, URL_SAFE)}.{_random(22, URL_SAFE)}.{_random(600, URL_SAFE)}.{_random(22, URL_SAFE)}"
)
JWE_DIR = (
    "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.."
    f"{_random(16, URL_SAFE)}.{_random(400, URL_SAFE)}.{_random(22, URL_SAFE)}"
)


@pytest.mark.parametrize("jwe", [JWE_RSA, JWE_DIR], ids=["rsa-oaep", "dir"])
def test_an_encrypted_jwt_goes_whole(jwe: str) -> None:
    """A JWE in compact form (five parts, the second empty under `dir`) goes whole, raw and in
    a JSON string."""
    assert _fixed(f"session {jwe} rejected") == "session [REDACTED:jwt] rejected"
    assert _fixed(json.dumps({"cookie": jwe})) == '{"cookie": "[REDACTED:jwt]"}'


def test_dotted_version_strings_stay() -> None:
    """Five dotted parts that are no JWE (a version, a host) stay."""
    text = "eyJhbGciOi is a prefix; build 1.2.3.4.5 on a.b.c.d.e"
    assert redact(text) == text


PAT = "ghp_" + _random(36)


@pytest.mark.parametrize(
    "line",
    [
        f"\x1b[32m{PAT[:12]}\x1b[0m{PAT[12:]} rejected",
        f"token=\x1b[01;31m\x1b[K{PAT[:12]}\x1b[m\x1b[K{PAT[12:]}",
        json.dumps({"log": f"\x1b[32m{PAT[:12]}\x1b[0m{PAT[12:]} rejected"}),
        # The escapes' rests once a normaliser dropped their ESC.
        f"[32m{PAT[:12]}[0m{PAT[12:]} rejected",
        f"token=[01;31m[K{PAT[:12]}[m[K{PAT[12:]}",
    ],
    ids=["raw", "grep-colour", "json-escaped", "rest", "grep-colour-rest"],
)
def test_a_token_split_by_colour_escapes_goes(line: str) -> None:
    """A token a colour escape splits is read without the escapes, and no piece of it stays."""
    out = _fixed(line)
    assert PAT[4:12] not in out
    assert PAT[12:20] not in out
    assert "REDACTED" in out


def test_a_secrets_name_split_by_colour_escapes_is_read_whole() -> None:
    """A secret's name a colour escape splits (`pass ESC[1m word=`) still says secret."""
    out = _fixed("db_pass\x1b[1mword=Xk7pL2mR9tQw retry")
    assert "Xk7pL2mR" not in out
    assert out.endswith(" retry")


def test_colour_escapes_around_plain_text_stay() -> None:
    """Colour escapes around text holding no secret are kept as they are."""
    text = "\x1b[31mERROR\x1b[0m disk full on \x1b[1mdb-1\x1b[0m; [31mWARN[0m x[0mode arr[0]m"
    assert redact(text) == text


_TS1 = "2026-12-06T10:00:00.000000001Z"
_TS2 = "2026-12-06T10:00:00.000000002Z"


@pytest.mark.parametrize("brk", ["\n", "\\n"], ids=["raw", "json-escaped"])
def test_a_password_continued_on_a_cri_partial_line_goes(brk: str) -> None:
    """A CRI log's partial (P) record cut inside a password: the rest at the start of the next
    record goes too, the records' timestamps and the text after kept."""
    text = (
        f"{_TS1} stdout P connecting with password=Xk7pL2mR{brk}{_TS2} stdout F 9tQwE4rT@db failed"
    )
    assert _fixed(text) == (
        f"{_TS1} stdout P connecting with password=[REDACTED:password]{brk}"
        f"{_TS2} stdout F [REDACTED:password] failed"
    )


def test_a_cri_partial_line_after_a_plain_value_stays() -> None:
    """A partial record ending in a value whose name says no secret keeps its continuation."""
    text = f"{_TS1} stdout P retrying with mode=fast\n{_TS2} stdout F lane@db failed"
    assert redact(text) == text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f'token = "{PAT[:20]}" + "{PAT[20:]}"',
            'token = "[REDACTED:github-token]" + "[REDACTED:github-token]"',
        ),
        (
            f"SELECT set_config('app.token', '{PAT[:20]}' || '{PAT[20:]}', false)",
            "SELECT set_config('app.token', '[REDACTED:github-token]' || '[REDACTED:github-token]', false)",
        ),
        (
            'db_password = "Xk7pL2" + "mR9tQw"',
            'db_password = "[REDACTED:password]" + "[REDACTED:password]"',
        ),
    ],
    ids=["plus", "sql-concat", "by-name"],
)
def test_a_secret_split_into_concatenated_literals_goes(line: str, expected: str) -> None:
    """Literals joined by `+` or SQL's `||` are read joined: a token across them, or a value
    under a secret's name, loses every piece."""
    assert _fixed(line) == expected
    escaped = json.dumps({"src": line})
    assert PAT[20:28] not in _fixed(escaped)
    assert "mR9tQw" not in _fixed(escaped)


def test_concatenated_plain_literals_stay() -> None:
    """Joined literals that hold no secret and no secret's name stay."""
    text = 'msg = "disk " + "full on " + "db-1"; sql = \'a\' || \'b\''
    assert redact(text) == text


NT = "8846f7eaee8fb117ad06bdd830b7586c"
LM = "e52cac67419a9a224a3b108f3fa6cb6d"


def test_a_secretsdump_lines_nt_hash_goes() -> None:
    """secretsdump's `user:rid:LM:NT:::` loses its NT hash; the empty LM hash and the user stay."""
    line = f"Administrator:500:aad3b435b51404eeaad3b435b51404ee:{NT}:::"
    assert _fixed(line) == (
        "Administrator:500:aad3b435b51404eeaad3b435b51404ee:[REDACTED:password-hash]:::"
    )


def test_a_secretsdump_lines_real_lm_hash_goes_too() -> None:
    """A real LM hash is crackable too, so it goes with the NT hash."""
    line = f"CORP\\svc_sql:1104:{LM}:{NT}:::"
    assert _fixed(line) == "CORP\\svc_sql:1104:[REDACTED:password-hash]:[REDACTED:password-hash]:::"


def test_hex_pairs_that_are_no_secretsdump_line_stay() -> None:
    """Two hex digests joined by colons with no `:::` end (a diff's ids) stay."""
    text = f"commit:12:{LM}:{NT}: merged"
    assert redact(text) == text
