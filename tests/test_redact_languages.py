"""A secret named in another language (passwort, contraseña, mot de passe, senha, пароль, 密码,
パスワード, 비밀번호, şifre, …) is found in every shape an English name is: `k=v`, a YAML line,
a JSON key (text and value), a query parameter, an environment variable, a glued or prefixed
name, full-width punctuation.
"""

from __future__ import annotations

import json

import pytest

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


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_foreign_name_is_redacted(name: str, shape: str) -> None:
    """The value of a secret named in another language is gone in every shape."""
    out = redact(SHAPES[shape](name))
    assert SECRET not in out, out


@pytest.mark.parametrize("name", NAMES)
def test_foreign_key_is_secret_named(name: str) -> None:
    """`secret_named` knows the name, so a JSON value and a label under it are blanked."""
    assert secret_named(name)
    assert DEFAULT.value({name: SECRET}) == {name: "[REDACTED:password]"}


@pytest.mark.parametrize(
    "text",
    [
        "数据库密码=opal-kettle-sunrise-42",  # glued to what it is for, as dbpassword
        "DB_PASSWORT=opal-kettle-sunrise-42",
        "dbKennwort: opal-kettle-sunrise-42",
        "Mot de passe\u202f: opal-kettle-sunrise-42",  # French spacing before the colon
        "ПАРОЛЬ=opal-kettle-sunrise-42",
        "ŞİFRE=opal-kettle-sunrise-42",
    ],
)
def test_foreign_name_variants(text: str) -> None:
    """Glued, prefixed, upper-case and typographically spaced foreign names are found too."""
    assert SECRET not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "la parola chiave è lenta",
        "clave primaria duplicada en la tabla pedidos",
        "пароль изменён",
        "密码 已过期",
        "heslo_policy=strict",
        "senha_expirada: true",
    ],
)
def test_foreign_prose_is_kept(text: str) -> None:
    """Prose that mentions a password in another language, with no value after it, stays."""
    assert redact(text) == text
