"""A secret written in code as a call's literal argument: the default after a secret's name
(`os.getenv("DB_PASSWORD", "…")`, `ENV.fetch`, `getOrDefault`, `config.get`), a fallback
after reading it (`process.env.API_KEY || "…"`, `?? "…"`, `?: "…"`, `or "…"`), a shell's or
Spring's default (`${DB_PASSWORD:-…}`, `${db.password:…}`) and a call assigned to a secret's
name (`password: str = Field(default="…")`, `token = SecretStr("…")`). The literal goes, the
code around it stays; code that only reads a secret keeps its text.

Each row of `LEAKS` leaked (or was cut in the middle of its code) before its rule was written;
each row of `KEEP` was redacted before.
"""

from __future__ import annotations

import json

import pytest

from scaling import assert_linear
from triage.redact import redact

#: A password a person chose: nothing a shape rule knows.
PW = "opal-kettle-42"
X = "[REDACTED:password]"

LEAKS = [
    # A call's argument after a quoted secret's name, in any quotes, more arguments after it.
    (f"os.environ.get('PASSWORD', \"{PW}\")", f"os.environ.get('PASSWORD', \"{X}\")"),
    (f"os.getenv(\"DB_PASSWORD\", '{PW}')", f"os.getenv(\"DB_PASSWORD\", '{X}')"),
    (f'config.get("password", "{PW}", type=str)', f'config.get("password", "{X}", type=str)'),
    (f"ENV.fetch('SECRET_KEY', '{PW}')", f"ENV.fetch('SECRET_KEY', '{X}')"),
    (
        f'System.getenv().getOrDefault("DB_PASSWORD", "{PW}")',
        f'System.getenv().getOrDefault("DB_PASSWORD", "{X}")',
    ),
    (f"viper.GetString(`api_token`, `{PW}`)", f"viper.GetString(`api_token`, `{X}`)"),
    # A fallback after the secret is read: JavaScript's || and ??, PHP's and Kotlin's ?:,
    # Python's `or`, Ruby's ||.
    (f'const k = process.env.API_KEY || "{PW}";', f'const k = process.env.API_KEY || "{X}";'),
    (f"const k = process.env.API_KEY ?? '{PW}';", f"const k = process.env.API_KEY ?? '{X}';"),
    (f'$p = getenv("TOKEN") ?: "{PW}";', f'$p = getenv("TOKEN") ?: "{X}";'),
    (f'val t = System.getenv("DB_PASS") ?: "{PW}"', f'val t = System.getenv("DB_PASS") ?: "{X}"'),
    (
        f'connect(user, os.environ.get("DB_PASSWORD") or "{PW}")',
        f'connect(user, os.environ.get("DB_PASSWORD") or "{X}")',
    ),
    (f"k = ENV['API_KEY'] || '{PW}'", f"k = ENV['API_KEY'] || '{X}'"),
    # A shell's default (its `:-` and `:=` kept) and Spring's `${name:default}`.
    (f"psql -W ${{DB_PASSWORD:-{PW}}}", f"psql -W ${{DB_PASSWORD:-{X}}}"),
    (f"echo ${{DB_PASSWORD-{PW}}}", f"echo ${{DB_PASSWORD-{X}}}"),
    (
        f"spring.datasource.password=${{db.password:{PW}}}",
        f"spring.datasource.password=${{db.password:{X}}}",
    ),
    # A call assigned to a secret's name: its literal arguments go, the call stays.
    (
        f'password: str = Field(default="{PW}")',
        f'password: str = Field(default="{X}")',
    ),
    (
        f'    api_key: str = Field("{PW}", description="key")',
        f'    api_key: str = Field("{X}", description="key")',
    ),
    (f'token = SecretStr("{PW}")', f'token = SecretStr("{X}")'),
    (f"password = decrypt('{PW}')", f"password = decrypt('{X}')"),
    (f'x = 1; token = os.getenv("TOKEN", "{PW}")', f'x = 1; token = os.getenv("TOKEN", "{X}")'),
    (f'token = os.getenv("TOKEN", "{PW}")', f'token = os.getenv("TOKEN", "{X}")'),
    (f'db(ENV.fetch("SECRET_KEY") {{ "{PW}" }})', f'db(ENV.fetch("SECRET_KEY") {{ "{X}" }})'),
    # A default given by keyword after the name (python-decouple, django-environ), Go's cmp.Or.
    (f'x = getenv("DB_PASSWORD", default="{PW}")', f'x = getenv("DB_PASSWORD", default="{X}")'),
    (
        f'return cmp.Or(os.Getenv("DB_PASSWORD"), "{PW}")',
        f'return cmp.Or(os.Getenv("DB_PASSWORD"), "{X}")',
    ),
    # A shell default in quotes.
    (f'password: ${{DB_PASSWORD:-"{PW}"}}', f'password: ${{DB_PASSWORD:-"{X}"}}'),
    # A call under a secret's name whose first argument is a variable's name in capitals.
    (f'dict(password=os.getenv("X", "{PW}"))', f'dict(password=os.getenv("X", "{X}"))'),
    ('token = SecretStr("ABCDEF123")', f'token = SecretStr("{X}")'),
    # A template's default filter after a secret's name (Helm, Jinja).
    (
        f'{{{{ .Values.db.password | default "{PW}" }}}}',
        f'{{{{ .Values.db.password | default "{X}" }}}}',
    ),
    (f"{{{{ db_password | default('{PW}') }}}}", f"{{{{ db_password | default('{X}') }}}}"),
    # Terraform's variable named like a secret: its default, on one line or below.
    (
        f'variable "db_password" {{ default = "{PW}" }}',
        f'variable "db_password" {{ default = "{X}" }}',
    ),
    (
        f'variable "api_token" {{\n  type      = string\n  default   = "{PW}"\n}}',
        f'variable "api_token" {{\n  type      = string\n  default   = "{X}"\n}}',
    ),
    # A value with brackets that no code would be goes whole, as before.
    ("password = hunter(2)", f"password = {X}"),
    ("token=fn(x) next", f"token={X} next"),
]


@pytest.mark.parametrize(("text", "expected"), LEAKS)
def test_a_literal_default_of_a_secret_goes_and_its_code_stays(text: str, expected: str) -> None:
    """A secret's literal default or argument in code is redacted; the call around it stays."""
    assert redact(text) == expected


@pytest.mark.parametrize(("text", "expected"), LEAKS)
def test_a_literal_default_goes_inside_a_json_string_too(text: str, expected: str) -> None:
    """The same code quoted in a JSON log line (its quotes escaped) loses the literal too (a
    rule for JSON strings may take more of it: a string wholly `NAME=value` goes whole)."""
    redacted = json.loads(redact(json.dumps({"msg": text})))["msg"]
    assert PW not in redacted
    assert X in redacted


KEEP = [
    # Code that only reads a secret: no literal of its own.
    'token = os.getenv("TOKEN")',
    'password = os.environ.get("DB_PASSWORD")',
    "password: str = Field(default=None)",
    "password: SecretStr = Field(default=None, min_length=12)",
    'api_key = settings.get("API_KEY")',
    # A path's default under a name that is a file's, not a secret's: `_FILE` is its last word.
    'os.getenv("PASSWORD_FILE", "/run/secrets/db")',
    "password_file = os.getenv('PASSWORD_FILE', '/run/secrets/db')",
    # An empty default, a fallback that is another variable, compose's error message.
    'token = os.getenv("TOKEN", "")',
    "const k = process.env.API_KEY || fallbackKey;",
    "image: db\nenvironment:\n  - PGPASSWORD=${DB_PASSWORD:?set DB_PASSWORD}",
    "${DB_PASSWORD:?DB_PASSWORD must be set}",
    'os.environ["API_KEY"]',
    'os.getenv("TOKEN")',
    # A template's default for a name that is no secret's, and a fallback that is no literal.
    '{{ .Values.image.tag | default "latest" }}',
    'val t = System.getenv("TOKEN") ?: error("TOKEN missing")',
    'variable "region" {\n  default = "eu-west-1"\n}\n'
    'variable "db_password" {\n  sensitive = true\n}',
]


@pytest.mark.parametrize("text", KEEP)
def test_code_that_only_reads_a_secret_keeps_its_text(text: str) -> None:
    """A read of a secret with no literal value in it (or a non-secret name's default) stays."""
    assert redact(text) == text


@pytest.mark.parametrize("text", KEEP)
def test_code_that_only_reads_a_secret_keeps_its_text_in_a_json_string(text: str) -> None:
    """The same code quoted in a JSON log line stays too."""
    line = json.dumps({"msg": text})
    assert redact(line) == line


#: Near-misses of the call rules, each a quarter of a megabyte: a literal never closed, calls
#: never closed or nested deep, fallbacks and defaults with nothing after them.
HOSTILE = [
    'os.getenv("DB_PASSWORD", "' + "a b " * 62_500,
    'os.getenv("DB_PASSWORD", \\"' + "a\\\\" * 80_000,
    'token = Field(default="x", ' * 10_000,
    "password = f(" + "g(" * 80_000,
    "password = f(" + "a, " * 80_000,
    "process.env.API_KEY || " * 10_000,
    'getenv("TOKEN") ?: "' * 15_000,
    ') or "' * 40_000,
    "${DB_PASSWORD:-" * 15_000,
    '${DB_PASSWORD:-"' + "a" * 250_000,
    "{{ password | default " * 15_000,
    'variable "password" {' * 12_000,
    'variable "password" {\n  type = string\n  defaults = 1\n' * 5_000,
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(h[:20]) for h in HOSTILE])
def test_call_near_misses_are_redacted_in_linear_time(hostile: str) -> None:
    """Near-miss code costs time in proportion to its length (8 K against 64 K characters)."""
    assert_linear(lambda n: redact(hostile[:n]), 8_192, repeats=2)
