"""A secret named in another language (passwort, contraseña, mot de passe, senha, пароль, 密码,
パスワード, 비밀번호, şifre, …) is found in every shape an English name is: `k=v`, a YAML line,
a JSON key (text and value), a query parameter, an environment variable, a glued or prefixed
name, full-width punctuation.
"""

from __future__ import annotations

import json

import pytest

from case_chunks import assert_each, dealt
from triage.redact import DEFAULT, redact, secret_named

SECRET = "opal-kettle-sunrise-42"

NAMES = [
    "passwort",
    "Kennwort",
    "contraseña",
    "contrasena",
    "clave",
    "mot_de_passe",
    "mot de passe",
    "mdp",
    "senha",
    "parola",
    "wachtwoord",
    "hasło",
    "haslo",
    "пароль",
    "Пароль",
    "密码",
    "密碼",
    "口令",
    "パスワード",
    "비밀번호",
    "şifre",
    "sifre",
    "lösenord",
    "passord",
    "adgangskode",
    "salasana",
    "heslo",
    "jelszó",
    "lozinka",
    "jeton",
    "токен",
    "令牌",
    "密钥",
    "トークン",
    "토큰",
    "clave_api",
    "API密钥",
]

SHAPES = {
    "pair": lambda name: f"{name}={SECRET}",
    "colon": lambda name: f"{name}: {SECRET}",
    "yaml": lambda name: f"db:\n  {name}: {SECRET} extra\n",
    "json-text": lambda name: json.dumps({name: SECRET}, ensure_ascii=False),
    "json-ascii": lambda name: json.dumps({name: SECRET}),
    "query": lambda name: f"https://app.example.com/login?user=a&{name}={SECRET}",
    "prefixed": lambda name: f"DB_{name.upper()}={SECRET}",
    "full-width": lambda name: f"{name}\uff1a{SECRET}",  # a full-width colon
}


#: Each case is one redaction of a line, well under the ~1.5 ms of CPU a pytest item costs of
#: its own, so they run as a few items (tests/case_chunks.py), each failing case named.
CHUNKS = 3
NAMES_IN_SHAPES = [(name, shape) for shape in SHAPES for name in NAMES]


def _secret_left(text: str) -> tuple[str | None, None]:
    """`text` redacted if the secret is still in it, else None."""
    out = redact(text)
    return (out if SECRET in out else None), None


@pytest.mark.parametrize("cases", dealt(NAMES_IN_SHAPES, CHUNKS))
def test_foreign_name_is_redacted(cases: list[tuple[str, str]]) -> None:
    """The value of a secret named in another language is gone in every shape."""
    assert_each(cases, lambda case: _secret_left(SHAPES[case[1]](case[0])), name="name/shape")


def test_foreign_key_is_secret_named() -> None:
    """`secret_named` knows the name, so a JSON value and a label under it are blanked."""
    assert_each(
        NAMES,
        lambda name: (
            (secret_named(name), DEFAULT.value({name: SECRET})),
            (True, {name: "[REDACTED:password]"}),
        ),
        name="name",
    )


VARIANTS = [
    "数据库密码=opal-kettle-sunrise-42",  # glued to what it is for, as dbpassword
    "DB_PASSWORT=opal-kettle-sunrise-42",
    "dbKennwort: opal-kettle-sunrise-42",
    "Mot de passe\u202f: opal-kettle-sunrise-42",  # French spacing before the colon
    "ПАРОЛЬ=opal-kettle-sunrise-42",
    "ŞİFRE=opal-kettle-sunrise-42",
]


def test_foreign_name_variants() -> None:
    """Glued, prefixed, upper-case and typographically spaced foreign names are found too."""
    assert_each(VARIANTS, _secret_left, name="text")


PROSE = [
    "la parola chiave è lenta",
    "clave primaria duplicada en la tabla pedidos",
    "пароль изменён",
    "密码 已过期",
    "heslo_policy=strict",
    "senha_expirada: true",
]


def test_foreign_prose_is_kept() -> None:
    """Prose that mentions a password in another language, with no value after it, stays."""
    assert_each(PROSE, lambda text: (redact(text), text), name="text")
