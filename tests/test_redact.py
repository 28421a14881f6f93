"""Redaction: each secret shape becomes its typed placeholder; ordinary text stays as it is."""

from __future__ import annotations

import base64
import functools
import json
import random
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from case_chunks import assert_each, dealt
from scaling import assert_linear
from triage import redact as redact_module
from triage.redact import DEFAULT, Redactor, held, hold, redact
from triage.redact.base64_runs import _BASE64_RUN, _DISCORD_TOKEN, _discord_token, _redacted_base64
from triage.redact.disguises import _json_unescaped, _unmasked
from triage.redact.percent import _ESCAPE, _URL_SAFE, _spliced, _unescape, _unescaped_with_sources
from triage.redact.personal import _EMAIL
from triage.redact.redactor import _SETTLE_PASSES
from triage.redact.rules import _RULES
from triage.redact.scrub import _fold


def _run(length: int, alphabet: str = "aB3dE5fG7hJ9kL2mN4pQ6") -> str:
    """A token body of `length` characters (built, so no real-looking secret sits in the file)."""
    return (alphabet * (length // len(alphabet) + 1))[:length]


HEX = "0123456789abcdef"
#: A YAML secret in base64, wrapped at 76 columns, its password cut by the line break; and
#: the same wrapped inside a JSON string (`\\n`).
_WRAPPED_SECRET = "\n".join(
    re.findall(
        ".{1,76}",
        base64.b64encode(
            b"db:\n  host: db.internal.example.com\n  user: app\n  password: Hunter2Secret!xyz\n"
        ).decode(),
    )
)
URLSAFE = "aB3-dE5_fG7hJ9kL2mN4pQ6"

CASES = [
    ("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED:aws-key] used"),
    ("temp ASIAY34FZKBOKMUTVV7A", "temp [REDACTED:aws-key]"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = [REDACTED:aws-secret]",
    ),
    ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", "secret [REDACTED:aws-secret] here"),
    ("push ghp_" + "aB3" * 12 + " done", "push [REDACTED:github-token] done"),
    ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "pat [REDACTED:github-token]"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P",
        "jwt [REDACTED:jwt]",
    ),
    (
        "Authorization: Bearer abcdef0123456789abcdef.xyz",
        "Authorization: Bearer [REDACTED:bearer]",
    ),
    ("Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "Authorization: Basic [REDACTED:bearer]"),
    # Payment card numbers (test numbers of each network), whole or grouped
    ("card 4111 1111 1111 1111 declined", "card [REDACTED:card-number] declined"),
    ("pan=5555555555554444.", "pan=[REDACTED:card-number]."),
    ("mc 2223-0031-2200-3222", "mc [REDACTED:card-number]"),
    ("amex 3782 822463 10005", "amex [REDACTED:card-number]"),
    ('{"card": "6011111111111117"}', '{"card": "[REDACTED:card-number]"}'),
    # Other vendors' prefixed tokens
    ("grafana glsa_" + _run(32) + "_" + _run(8, HEX) + " ok", "grafana [REDACTED:token] ok"),
    ("sentry sntryu_" + _run(64, HEX), "sentry [REDACTED:token]"),
    ("sentry sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_" + _run(43), "sentry [REDACTED:token]"),
    ("VAULT_TOKEN hvs." + _run(90, URLSAFE), "VAULT_TOKEN [REDACTED:token]"),
    ("do dop_v1_" + _run(64, HEX) + ".", "do [REDACTED:token]."),
    (
        "newrelic NRAK-" + _run(27, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
        "newrelic [REDACTED:token]",
    ),
    ("databricks dapi" + _run(32, HEX) + "-2", "databricks [REDACTED:token]"),
    ("age AGE-SECRET-KEY-1" + _run(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), "age [REDACTED:token]"),
    # Tokens known only with their exact body (a short prefix, or a word's start).
    ("sonar squ_" + _run(40, HEX) + " ok", "sonar [REDACTED:token] ok"),
    ("airtable pat" + _run(14) + "." + _run(64, HEX), "airtable [REDACTED:token]"),
    ("resend re_" + _run(8) + "_" + _run(24) + ";", "resend [REDACTED:token];"),
    ("ld sdk-4bd1c7a2-9e3f-4b8a-a1d2-7c6e5f4a3b2c", "ld [REDACTED:token]"),
    ("bt access_token$production$" + _run(16, HEX) + "$" + _run(32, HEX), "bt [REDACTED:token]"),
    ("op A3-ABC123-DEF456-GHI78-JKL90-MNO12-PQR34", "op [REDACTED:token]"),
    # … those whose needles are looked for among the folded ones (`fold_needles`).
    (
        "crates cio" + _run(32) + " and EZAK" + _run(54),
        "crates [REDACTED:token] and [REDACTED:token]",
    ),
    ("cf v1.0-" + _run(24, HEX) + "-" + _run(146, HEX), "cf [REDACTED:token]"),
    # … and by their end: Mailchimp's data centre, MaxMind's _mmk.
    ("mc " + _run(32, HEX) + "-us14 used", "mc [REDACTED:token] used"),
    ("geo " + _run(6) + "_" + _run(29) + "_mmk", "geo [REDACTED:token]"),
    # Terraform Cloud's token goes with the 14 characters before .atlasv1.
    ("tfc " + _run(14) + ".atlasv1." + _run(67, URLSAFE), "tfc [REDACTED:token]"),
    # A vendor token percent-encoded in a query goes past its escapes.
    ("?t=fm2_" + _run(30) + "%2B" + _run(30) + "%3D&x=1", "?t=[REDACTED:token]&x=1"),
    # … twice (a URL inside a URL's query), and Twitter's token, whose %3D decodes to `=`.
    ("?t=fm2_" + _run(30) + "%252B" + _run(30) + "&x=1", "?t=[REDACTED:token]&x=1"),
    ("app " + "A" * 22 + _run(40) + "=" + _run(30) + " ok", "app [REDACTED:token] ok"),
    # An Azure AD client secret at a sentence's end keeps the sentence's dot.
    ("rotate " + _run(3) + "8Q~" + _run(34, URLSAFE) + ".", "rotate [REDACTED:token]."),
    # Tokens whose prefix is a digit: ClickHouse Cloud's key secret, Facebook's app token
    # (its public app id stays); a camel case's `Key` before a key.
    ("ch 4b1dXkQ9mZ2pLr8TvB4nYc7Hd1Wq3e5R7t9Y1u3I5o ok", "ch [REDACTED:token] ok"),
    (
        "fb 1234567890123456|9f86d081884c7d659a2feaa0c55ad015 ok",
        "fb 1234567890123456|[REDACTED:token] ok",
    ),
    ("hmacKey=Zk3q9WmX2pLr8TvB4nYc7Hd1", "hmacKey=[REDACTED:password]"),
    # AWS temporary credentials' session token and Bedrock's API keys, with no name.
    ("sts IQoJb3JpZ2luX2VjE" + _run(300) + "==", "sts [REDACTED:aws-secret]"),
    ("bedrock ABSK" + _run(120) + "=", "bedrock [REDACTED:aws-secret]"),
    # Names that say their value is a secret: a kind glued to `token`, a `_PAT`, vendors' keys.
    ("NGROK_AUTHTOKEN=2" + _run(26) + "_" + _run(21), "NGROK_AUTHTOKEN=[REDACTED:password]"),
    ("AZURE_DEVOPS_EXT_PAT=" + _run(52), "AZURE_DEVOPS_EXT_PAT=[REDACTED:password]"),
    ("LAUNCHDARKLY_SDK_KEY: " + _run(20), "LAUNCHDARKLY_SDK_KEY: [REDACTED:password]"),
    ("AZURE_STORAGE_KEY=" + _run(86) + "==", "AZURE_STORAGE_KEY=[REDACTED:password]"),
    # An XML element named like a secret, whatever the name; a .netrc line's password; a
    # command's option named like a vendor's key.
    (
        "<DD_API_KEY>" + _run(32, HEX) + "</DD_API_KEY>",
        "<DD_API_KEY>[REDACTED:password]</DD_API_KEY>",
    ),
    ("<apiToken>" + _run(24) + "</apiToken>", "<apiToken>[REDACTED:password]</apiToken>"),
    (
        "machine api.heroku.com login ops@example.com password 4bd1c7a2-9e3f-4b8a",
        "machine api.heroku.com login [REDACTED:email] password [REDACTED:password]",
    ),
    ("send --routing-key " + _run(32, HEX) + " -v", "send --routing-key [REDACTED:password] -v"),
    ("az storage --account-key " + _run(30) + "==", "az storage --account-key [REDACTED:password]"),
    # A name/value object as JSON text, raw or inside a JSON string; Dockerfile's
    # ENV <name> <value>.
    (
        '[{"name": "DB_PASSWORD", "value": "hun\\"ter2"}, {"name": "PORT", "value": "80"}]',
        '[{"name": "DB_PASSWORD", "value": "[REDACTED:password]"}, {"name": "PORT", "value": "80"}]',
    ),
    (
        '{"m": "[{\\"ParameterKey\\": \\"DbPassword\\", \\"ParameterValue\\": \\"a\\\\\\"b1\\"}]"}',
        '{"m": "[{\\"ParameterKey\\": \\"DbPassword\\", \\"ParameterValue\\": \\"[REDACTED:password]\\"}]"}',
    ),
    ("Step 5/9 : ENV DD_APP_KEY " + _run(40, HEX), "Step 5/9 : ENV DD_APP_KEY [REDACTED:password]"),
    # A URL parameter's value holding a placeholder (40 characters between `!` and `.` read as
    # an AWS secret first) goes whole, its tail with it.
    (
        "?sf_access_token=00Dab12CD34ef56!" + _run(40) + "." + _run(30) + "&page=2",
        "?sf_access_token=[REDACTED:password]&page=2",
    ),
    # A Logic Apps (Teams workflow) URL signs in base64url.
    (
        "https://x.logic.azure.com/workflows/1/invoke?sv=1.0&sig=" + _run(43, URLSAFE),
        "https://x.logic.azure.com/workflows/1/invoke?sv=1.0&sig=[REDACTED:azure-sas]",
    ),
    ("Authorization: Token " + _run(20), "Authorization: Token [REDACTED:authorization]"),
    ("Authorization: Basic dXNlcjpw", "Authorization: Basic [REDACTED:authorization]"),
    (
        'Authorization: Digest username="ops", response="' + _run(32, HEX) + '"',
        "Authorization: Digest [REDACTED:authorization]",
    ),
    (
        "curl -H 'Proxy-Authorization: SSWS " + _run(24) + "' https://x.example.com",
        "curl -H 'Proxy-Authorization: SSWS [REDACTED:authorization]' https://x.example.com",
    ),
    (
        '{"authorization": "' + _run(24) + '", "n": 1}',
        '{"authorization": "[REDACTED:authorization]", "n": 1}',
    ),
    ("Cookie: sessionid=" + _run(24) + "; csrftoken=x", "Cookie: [REDACTED:cookie]"),
    (
        "Set-Cookie: sid=" + _run(24) + "; Path=/; HttpOnly\nVary: Accept",
        "Set-Cookie: [REDACTED:cookie]\nVary: Accept",
    ),
    ('{\\"cookies\\": \\"sid=' + _run(16) + '\\"}', '{\\"cookies\\": \\"[REDACTED:cookie]\\"}'),
    (
        "postgres://admin:s3cr3t@db.internal:5432/app",
        "postgres://admin:[REDACTED:password]@db.internal:5432/app",
    ),
    ("redis://:onlypass@cache:6379", "redis://:[REDACTED:password]@cache:6379"),
    ("https://u:p4ss@example.com/x", "https://u:[REDACTED:password]@example.com/x"),
    ("host=db password=hunter2 user=app", "host=db password=[REDACTED:password] user=app"),
    ("?api_key=abc123&x=1", "?api_key=[REDACTED:password]&x=1"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc==\n-----END RSA PRIVATE KEY----- after",
        "[REDACTED:private-key] after",
    ),
    ("cut off -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq", "cut off [REDACTED:private-key]"),
    ("mail ops@example.com and a.b+c@mail.co.uk", "mail [REDACTED:email] and [REDACTED:email]"),
    # Only a git remote's `git@host:` or `git@host/` is kept: git@ as a mailbox is an address.
    ("write to git@example.com today", "write to [REDACTED:email] today"),
    ("legit@example.com:", "[REDACTED:email]:"),
    ("sk-proj-" + "x1Y2" * 8, "[REDACTED:api-key]"),
    # Letters the regex engine's IGNORECASE equates with ASCII ones (dotless i, long s).
    ("ap\u0131_key=abc123", "ap\u0131_key=[REDACTED:password]"),
    ("\u017fecret: hunter2", "\u017fecret: [REDACTED:password]"),
    # A name with the secret word as its last part, joined by `_`, `-`, `.` or camel case.
    ("DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED:password]"),
    ("client_secret: s3cr3t-value", "client_secret: [REDACTED:password]"),
    ("GITHUB_TOKEN=abc123", "GITHUB_TOKEN=[REDACTED:password]"),
    ("x_api_key=abc123", "x_api_key=[REDACTED:password]"),
    ("DD-API-KEY: not-hex-at-all", "DD-API-KEY: [REDACTED:password]"),
    ("aws.secret.key=abc123", "aws.secret.key=[REDACTED:password]"),
    ('event {"db_password": "hunter2"} seen', 'event {"db_password": "[REDACTED:password]"} seen'),
    ("PASSWORD = hunter2", "PASSWORD = [REDACTED:password]"),
    ("export API_TOKEN=abc123", "export API_TOKEN=[REDACTED:password]"),
    ("clientSecret=abc123 next", "clientSecret=[REDACTED:password] next"),
    ("smtp_passphrase => 'open sesame'", "smtp_passphrase => '[REDACTED:password]'"),
    ("secret: see runbook", "secret: [REDACTED:password]"),  # a YAML line: to its end
    ("&{Host:db Password:hunter two}", "&{Host:db Password:[REDACTED:password]}"),  # Go's %+v
    ("{Password:ab Xk7:cd Host:db}", "{Password:[REDACTED:password] Host:db}"),  # Go's %+v
    # An Ansible Vault's hex lines; Symfony's VarDumper HTML; SASL PLAIN's login in base64.
    (
        "$ANSIBLE_VAULT;1.1;AES256\n6638643965323633\n3a4f",
        "$ANSIBLE_VAULT;1.1;AES256\n[REDACTED:password]",
    ),
    (
        '"<span class=sf-dump-key>password</span>" => "<span class=sf-dump-str>hunter2xy</span>"',
        '"<span class=sf-dump-key>password</span>" => "<span class=sf-dump-str>[REDACTED:password]</span>"',
    ),
    ("sasl AGJvYgBodW50ZXIyeHl6 end", "sasl [REDACTED:password] end"),
    # Quoted values go whole, quotes kept; an unclosed quote still loses its first word.
    ('password="hunter2 with spaces" user=app', 'password="[REDACTED:password]" user=app'),
    # A quote never closed on its line (a log line cut short): the rest of the line goes.
    ('password="correct horse battery', 'password="[REDACTED:password]'),
    ("api_key: 'abc def ghi\nnext: line", "api_key: '[REDACTED:password]\nnext: line"),
    ('{"password": "it\'s a long one', '{"password": "[REDACTED:password]'),
    ('token = "a b c\r\nok', 'token = "[REDACTED:password]\r\nok'),
    (
        r'{"msg": "login failed: password=\"abc def"}',
        r'{"msg": "login failed: password=\"[REDACTED:password]"}',
    ),
    ("password='x y' z", "password='[REDACTED:password]' z"),
    ('token: "abc" next', 'token: "[REDACTED:password]" next'),
    ('{"client_secret": "abc def"}', '{"client_secret": "[REDACTED:password]"}'),
    (r"api_key=\"escaped value\" z", r"api_key=\"[REDACTED:password]\" z"),
    (r"{\"password\":\"hunter2 x\",\"b\":1}", r"{\"password\":\"[REDACTED:password]\",\"b\":1}"),
    (r'password="with \" quote" z', 'password="[REDACTED:password]" z'),
    ('password="unclosed value', 'password="[REDACTED:password]'),
    # `\b` would not see these edges: `_` is a word character.
    ("KEY_AKIAIOSFODNN7EXAMPLE", "KEY_[REDACTED:aws-key]"),
    ("token_ghp_" + "aB3" * 12, "token_[REDACTED:github-token]"),
    ("x=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "x=[REDACTED:aws-secret]"),
    # Percent-encoded: the decoded token is redacted, and what it found is replaced where it
    # stood in the encoded token; the rest of the token stays byte for byte.
    (
        "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#alarmsV2:alarm/prod-AKIAIOSFODNN7EXAMPLE%3Dx",
        "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#alarmsV2:alarm/prod-[REDACTED:aws-key]%3Dx",
    ),
    (
        "alarm/key%3DAKIAIOSFODNN7EXAMPLE%20high",
        "alarm/key%3D[REDACTED:aws-key]%20high",
    ),
    (
        "login?next=%2Fhome&password%3Dhunter2",
        "login?next=%2Fhome&password%3D[REDACTED:password]",
    ),
    ("q=a%253Dpassword%253Dhunter2", "q=a%253Dpassword%253D[REDACTED:password]"),  # twice
    ("u=%2541KIAIOSFODNN7EXAMPLE", "u=[REDACTED:aws-key]"),
    ("q=mail%3Aops%40example.com", "q=mail%3A[REDACTED:email]"),
    (
        "redirect=https%3A%2F%2Fu%3Ap4ss%40db.example.com%2F",
        "redirect=https%3A%2F%2Fu%3A[REDACTED:password]%40db.example.com%2F",
    ),
    ("sec=wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY", "sec=[REDACTED:aws-secret]"),
    # Non-ASCII and bytes that are not UTF-8 stay encoded as they were, in their case.
    (
        "t=%E6%9D%B1%20password%3Dx%20%ff",
        "t=%E6%9D%B1%20password%3D[REDACTED:password]%20%ff",
    ),
    (
        "-----BEGIN%20PRIVATE%20KEY-----%0AMIIEvQ%0A-----END%20PRIVATE%20KEY-----",
        "[REDACTED:private-key]",
    ),
    # An e-mail address at the end of a sentence, in brackets, before a comma.
    ("reporter name@example.net.", "reporter [REDACTED:email]."),
    ("(a@b.co)", "([REDACTED:email])"),
    ("<a@b.io>", "<[REDACTED:email]>"),
    ("a@b.co, then", "[REDACTED:email], then"),
    ("ops@eu.example.co.uk.", "[REDACTED:email]."),
    # A URL's user is not an address; an address elsewhere (mailto:, a query, prose) still is.
    ("mailto:ops@example.com", "mailto:[REDACTED:email]"),
    (
        "http://user@host.example.com/path?to=ops@example.com contact ops@example.com",
        "http://user@host.example.com/path?to=[REDACTED:email] contact [REDACTED:email]",
    ),
    ("https://ops%40example.com@host.example.com/", "https://[REDACTED:email]@host.example.com/"),
    ("x://a@b.example.com@host.example.com/", "x://[REDACTED:email]@host.example.com/"),
    # Slack
    ("xoxb-123456789012-abcdefABCDEF", "[REDACTED:slack-token]"),
    ("xoxp-1-" + _run(30), "[REDACTED:slack-token]"),
    ("xoxa-2-" + _run(20), "[REDACTED:slack-token]"),
    ("xoxr-" + _run(20), "[REDACTED:slack-token]"),
    ("xoxs-" + _run(20), "[REDACTED:slack-token]"),
    ("xoxe.xoxp-1-" + _run(40), "[REDACTED:slack-token]"),
    ("xoxe-1-" + _run(40), "[REDACTED:slack-token]"),
    ("SLACK_APP_TOKEN=xapp-1-A0123-" + _run(40), "SLACK_APP_TOKEN=[REDACTED:slack-token]"),
    (
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/[REDACTED:slack-webhook]",
    ),
    (
        "https://hooks.slack.com/workflows/T0123/A0123/456/" + _run(24),
        "https://hooks.slack.com/workflows/[REDACTED:slack-webhook]",
    ),
    (
        "https://hooks.slack.com/triggers/T0123/456/" + _run(32),
        "https://hooks.slack.com/triggers/[REDACTED:slack-webhook]",
    ),
    # Stripe
    ("sk_live_" + _run(24), "[REDACTED:stripe-key]"),
    ("STRIPE_KEY=sk_test_" + _run(99), "STRIPE_KEY=[REDACTED:stripe-key]"),
    ("rk_live_" + _run(24), "[REDACTED:stripe-key]"),
    ("rk_test_" + _run(24), "[REDACTED:stripe-key]"),
    ("whsec_" + _run(32), "[REDACTED:stripe-key]"),
    # Google
    ("maps?key=AIza" + _run(35, URLSAFE), "maps?key=[REDACTED:google-api-key]"),
    ("ya29.a0" + _run(120, URLSAFE), "[REDACTED:google-token]"),
    # GitLab
    ("glpat-" + _run(20), "[REDACTED:gitlab-token]"),
    ("glpat-" + _run(27) + ".01.0w" + _run(7, HEX), "[REDACTED:gitlab-token]"),
    ("gldt-" + _run(20), "[REDACTED:gitlab-token]"),
    ("glrt-t1_" + _run(20), "[REDACTED:gitlab-token]"),
    ("glptt-" + _run(40, HEX), "[REDACTED:gitlab-token]"),
    ("glcbt-64_" + _run(20), "[REDACTED:gitlab-token]"),
    ("glsoat-" + _run(20), "[REDACTED:gitlab-token]"),
    ("register GR1348941" + _run(20), "register [REDACTED:gitlab-token]"),
    # SendGrid, npm, Hugging Face, PyPI, Shopify
    ("SG." + _run(22, URLSAFE) + "." + _run(43, URLSAFE), "[REDACTED:sendgrid-key]"),
    (
        "//registry.npmjs.org/:_authToken=npm_" + _run(36),
        "//registry.npmjs.org/:_authToken=[REDACTED:npm-token]",
    ),
    ("HF_TOKEN=hf_" + _run(34), "HF_TOKEN=[REDACTED:huggingface-token]"),
    ("pypi-AgEIcHlwaS5vcmc" + _run(150, URLSAFE), "[REDACTED:pypi-token]"),
    # Telegram: 35 characters after the bot id, 34 in its documentation's example; in a Bot
    # API URL any shape (the Bot API page's own example is 123456:ABC-DEF…).
    ("110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "[REDACTED:telegram-token]"),
    (
        "https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
        "https://api.telegram.org/bot[REDACTED:telegram-token]/sendMessage",
    ),
    (
        "GET https://api.telegram.org/file/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/doc.pdf",
        "GET https://api.telegram.org/file/bot[REDACTED:telegram-token]/doc.pdf",
    ),
    # A one-time credential in a URL path, after a segment saying what it is.
    (
        "https://app.example.com/reset-password/Xk9fQ2mPz7Lr4tYvB3nW?lang=en",
        "https://app.example.com/reset-password/[REDACTED:token]?lang=en",
    ),
    (
        "accept https://app.example.com/invite/3f9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d today",
        "accept https://app.example.com/invite/[REDACTED:token] today",
    ),
    (
        "<https://x.example.com/magic-link/dG9rZW4tMTIzNDU2Nzg5MGFiY2RlZg|sign in>",
        "<https://x.example.com/magic-link/[REDACTED:token]|sign in>",
    ),
    ("shpat_" + _run(32, HEX), "[REDACTED:shopify-token]"),
    ("shpss_" + _run(32, HEX), "[REDACTED:shopify-token]"),
    # Datadog, by the name before it
    ("DD_API_KEY=" + _run(32, HEX), "DD_API_KEY=[REDACTED:datadog-key]"),
    ("DD_APP_KEY=" + _run(40, HEX), "DD_APP_KEY=[REDACTED:datadog-key]"),
    ("DD-API-KEY: " + _run(32, HEX), "DD-API-KEY: [REDACTED:datadog-key]"),
    ("DD-APPLICATION-KEY: " + _run(40, HEX), "DD-APPLICATION-KEY: [REDACTED:datadog-key]"),
    (
        '{"datadog_api_key": "' + _run(32, HEX) + '"}',
        '{"datadog_api_key": "[REDACTED:datadog-key]"}',
    ),
    # Azure
    (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
        + _run(86)
        + "==;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED:azure-key]"
        ";EndpointSuffix=core.windows.net",
    ),
    (
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey="
        + _run(43)
        + "=",
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;"
        "SharedAccessKey=[REDACTED:azure-key]",
    ),
    (
        "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2021-06-08&ss=b"
        "&sig=" + _run(43) + "%3D",
        "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=[REDACTED:azure-sas]",
    ),
    (
        "Authorization: SharedAccessSignature sr=x&sig=" + _run(43) + "&se=1&skn=Root",
        "Authorization: SharedAccessSignature [REDACTED:azure-sas]",
    ),
    (
        "https://a.blob.core.windows.net/c/b?sv=2021-06-08&sr=b&sp=r&sig=" + _run(43) + "%3D",
        "https://a.blob.core.windows.net/c/b?sv=2021-06-08&sr=b&sp=r&sig=[REDACTED:azure-sas]",
    ),
    # AWS request signing
    (
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Security-Token=IQoJb3" + _run(80) + "%3D"
        "&X-Amz-Signature=" + _run(64, HEX),
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=[REDACTED:aws-signature]&X-Amz-Date=20240101T000000Z"
        "&X-Amz-Security-Token=[REDACTED:aws-signature]&X-Amz-Signature=[REDACTED:aws-signature]",
    ),
    ("x-amz-security-token: IQoJb3" + _run(80), "x-amz-security-token: [REDACTED:aws-signature]"),
    (
        "Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=" + _run(64, HEX),
        "Credential=[REDACTED:aws-key]/20240101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=[REDACTED:aws-signature]",
    ),
    # Twilio (by the name before it), Telegram, Discord
    ("TWILIO_API_KEY=SK" + _run(32, HEX), "TWILIO_API_KEY=[REDACTED:twilio-key]"),
    ("twilio.auth_token: " + _run(32, HEX), "twilio.auth_token: [REDACTED:twilio-key]"),
    (
        'Client("AC' + _run(32, HEX) + '", "' + _run(32, HEX) + '")',
        'Client("AC' + _run(32, HEX) + '", "[REDACTED:twilio-key]")',
    ),
    ("SK" + _run(32, HEX) + ":" + _run(32), "[REDACTED:token]:[REDACTED:twilio-key]"),
    (
        "https://api.telegram.org/bot123456789:AA" + _run(33, URLSAFE) + "/sendMessage",
        "https://api.telegram.org/bot[REDACTED:telegram-token]/sendMessage",
    ),
    (
        "https://discord.com/api/webhooks/123456789012345678/" + _run(68, URLSAFE),
        "https://discord.com/api/webhooks/[REDACTED:discord-webhook]",
    ),
    (
        "rtmp://a.rtmp.youtube.com/live2/" + _run(4) + "-" + _run(4) + "-9" + _run(3),
        "rtmp://a.rtmp.youtube.com/live2/[REDACTED:token]",
    ),
    ("ld api-3f2c9a1e-7b4d-4e8a-9c1f-2d3e4f5a6b7c", "ld [REDACTED:token]"),
    ("seed SUA" + _run(55, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), "seed [REDACTED:token]"),
    (
        "https://oncall.example.com/integrations/v1/grafana_alerting/" + _run(25) + "/",
        "https://oncall.example.com/integrations/v1/grafana_alerting/[REDACTED:token]/",
    ),
    (
        "macaroon " + "0201036c6e6402" + "08" + _run(16, HEX) + "00" * 40,
        "macaroon [REDACTED:token]",
    ),
    (
        "macaroon " + base64.b64encode(b"\x02\x01\x03lnd\x02\x08" + b"\x07" * 60).decode(),
        "macaroon [REDACTED:token]",
    ),
    (
        "https://hooks.zapier.com/hooks/catch/7031225/" + _run(7, HEX) + "/",
        "https://hooks.zapier.com/hooks/catch/[REDACTED:token]/",
    ),
    # Prefixes the public scanners know: each rule of theirs once.
    ("sid SK" + _run(32, HEX) + " ok", "sid [REDACTED:token] ok"),
    ("key API-" + _run(25, "ABCDEFGHIJ") + "7 ok", "key [REDACTED:token] ok"),
    ("cs pi_" + _run(24) + "_secret_" + _run(25) + " ok", "cs [REDACTED:token] ok"),
    ("t rootly_" + _run(64, HEX) + " ok", "t [REDACTED:token] ok"),
    ("t cfk_" + _run(40) + _run(8, HEX) + " ok", "t [REDACTED:token] ok"),
    # A literal before code that reads a secret, under any name; a key column, a bare key
    # name, a flag whose value follows a line continuation.
    (
        'x = "hunter2xyz" if c else os.environ["DB_PASSWORD"]',
        'x = "[REDACTED:password]" if c else os.environ["DB_PASSWORD"]',
    ),
    ("name,hmacKey\nacme,Zk3q9WmX2pLr8TvB4nYc7Hd1\n", "name,hmacKey\nacme,[REDACTED:password]\n"),
    ("HMAC_KEY Zk3q9WmX2pLr8TvB4nYc7Hd1", "HMAC_KEY [REDACTED:password]"),
    ("--api-key \\\n  Zk3q9WmX2pLr8TvB4nYc7Hd1", "--api-key \\\n  [REDACTED:password]"),
    # A key-shaped value after a name ending in `key` (gitleaks' generic API key).
    ("ALGOLIA_ADMIN_KEY=" + _run(32, HEX) + " ok", "ALGOLIA_ADMIN_KEY=[REDACTED:password] ok"),
    # A URL password holding @ or / (written raw, as DSNs often are)
    ("redis://default:p@ssw0rd@cache:6379/0", "redis://default:[REDACTED:password]@cache:6379/0"),
    ("postgres://u:p/ss@db/orders", "postgres://u:[REDACTED:password]@db/orders"),
    (
        "https://u:pw@host/x?mail=a@example.org",
        "https://u:[REDACTED:password]@host/x?mail=[REDACTED:email]",
    ),
    # Names glued to what they are for, short last parts, plurals, Rails' SECRET_KEY_BASE
    ("PGPASSWORD=hunter2xyz psql", "PGPASSWORD=[REDACTED:password] psql"),
    ("REDIS_PASS=hunter2xyz", "REDIS_PASS=[REDACTED:password]"),
    ('{"dbpassword": "hunter2xyz"}', '{"dbpassword": "[REDACTED:password]"}'),
    ("SECRET_KEY_BASE=" + _run(64, HEX), "SECRET_KEY_BASE=[REDACTED:password]"),
    ("API key: " + _run(24), "API key: [REDACTED:password]"),
    # Passwords given to commands
    ("curl -u admin:hunter2xyz https://x", "curl -u admin:[REDACTED:password] https://x"),
    ("keytool -list -storepass hunter2xyz", "keytool -list -storepass [REDACTED:password]"),
    ("htpasswd -nb admin hunter2xyz", "htpasswd -nb admin [REDACTED:password]"),
    ("smbclient //a/b -U ops%hunter2xyz", "smbclient //a/b -U ops%[REDACTED:password]"),
    ("rabbitmqctl add_user ops hunter2xyz", "rabbitmqctl add_user ops [REDACTED:password]"),
    (
        "CREATE USER ops IDENTIFIED BY hunter2xyz;",
        "CREATE USER ops IDENTIFIED BY [REDACTED:password];",
    ),
    ("sqlcmd -S db -P hunter2xyz", "sqlcmd -S db -P [REDACTED:password]"),
    (
        "https://hooks.example.com/notify/Xk9fQ2mPz7Lr4tYvB3nW",
        "https://hooks.example.com/notify/[REDACTED:token]",
    ),
    ("pg_dump --db-password hunter2xyz", "pg_dump --db-password [REDACTED:password]"),
    ("login --token=" + _run(20) + " ok", "login --token=[REDACTED:password] ok"),
    # Other signed URLs
    (
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1700000000"
        "&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D",
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=[REDACTED:aws-key]&Expires=1700000000"
        "&Signature=[REDACTED:url-signature]",
    ),
    (
        "https://storage.googleapis.com/b/o?X-Goog-Credential=sa%40p.iam%2F20240101"
        "&X-Goog-Signature=" + _run(64, HEX),
        "https://storage.googleapis.com/b/o?X-Goog-Credential=[REDACTED:url-signature]"
        "&X-Goog-Signature=[REDACTED:url-signature]",
    ),
    # A PGP key block; a JWT whose JSON has a space or a newline after its brace
    (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"
        + _run(64)
        + "\n-----END PGP PRIVATE KEY BLOCK-----",
        "[REDACTED:private-key]",
    ),
    (
        "jwt eyAiYWxnIjogIkhTMjU2IiB9.eyAic3ViIjogIjEyMyIgfQ.c2lnbmF0dXJlc2lnbmF0dXJl ok",
        "jwt [REDACTED:jwt] ok",
    ),
    ("jwt ewogICJhbGciOiAiSFMyNTYiCn0.ewogICJzdWIiOiAiMSIKfQ.c2ln ok", "jwt [REDACTED:jwt] ok"),
    # Found by probing (2026-12-04): shapes that reached every sink.
    ("-----begin private key-----\nMIIEvQIB\n-----end private key-----", "[REDACTED:private-key]"),
    ("----- BEGIN PRIVATE KEY -----\nMIIEvQIB", "[REDACTED:private-key]"),
    (
        "client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVB",
        "client-key-data: [REDACTED:private-key]",
    ),
    (
        "Private-Lines: 2\nAAAAgQC7secret\nprivatebits==\nPrivate-MAC: 0a1b",
        "Private-Lines: 2\n[REDACTED:private-key]\nPrivate-MAC: 0a1b",
    ),
    ("admin:$apr1$abc$0123456789abcdefghijkl", "admin:[REDACTED:password-hash]"),
    ("root:$6$saltsalt$" + "aB3./" * 17 + "x:19000:0", "root:[REDACTED:password-hash]:19000:0"),
    (
        "sed 's/(a)(b)/$1$2-renamed/' and Price $5$discount",
        "sed 's/(a)(b)/$1$2-renamed/' and Price $5$discount",
    ),
    (
        "jdbc:oracle:thin:scott/tiger@db:1521/orcl",
        "jdbc:oracle:thin:scott/[REDACTED:password]@db:1521/orcl",
    ),
    (
        "mysqldump -h db -uroot -pMyR00tPw9 shop",
        "mysqldump -h db -uroot -p[REDACTED:password] shop",
    ),
    ("sshpass -p hunter2 ssh host", "sshpass -p [REDACTED:password] ssh host"),
    ("mkdir -p /tmp/x && ssh -p 22 host", "mkdir -p /tmp/x && ssh -p 22 host"),
    ("_auth=dXNlcjpodW50ZXIycGFzcw==", "_auth=[REDACTED:password]"),
    ('"auth": "ZGVwbG95OlMzY3IzdFA0c3Mh"', '"auth": "[REDACTED:password]"'),
    ("auth: failed for bob", "auth: failed for bob"),
    (
        "https://maps.example.com/x?key=Xy7abcdefGH12345678&z=1",
        "https://maps.example.com/x?key=[REDACTED:password]&z=1",
    ),
    (
        "https://s3.example.com/b?region=x&key=logs/2024/05/app.log&t=PLATFORM-1234",
        "https://s3.example.com/b?region=x&key=logs/2024/05/app.log&t=PLATFORM-1234",
    ),
    ("password:        hunter2", "password:        [REDACTED:password]"),
    ("password\u00a0=\u00a0hunter2", "password\u00a0=\u00a0[REDACTED:password]"),
    (
        "keys signing_key: k3y3k3y, encryption-key=Zz9",
        "keys signing_key: [REDACTED:password], encryption-key=[REDACTED:password]",
    ),
    # Ordinary text that names these words stays (found by reviewing the rules above).
    ('{"pass": 142, "fail": 3} build: pass', '{"pass": 142, "fail": 3} build: pass'),
    ("credentials: expired for ci-runner", "credentials: expired for ci-runner"),
    (
        "auth=upstream_timeout_exceeded basic_auth: disabled",
        "auth=upstream_timeout_exceeded basic_auth: disabled",
    ),
    (
        "docker run --name mysql -p3306:3306 -d mysql:8",
        "docker run --name mysql -p3306:3306 -d mysql:8",
    ),
    ("mysql replica lag on db-7 -pool saturation", "mysql replica lag on db-7 -pool saturation"),
    ("mysql -p shop", "mysql -p shop"),
    (
        "docker login -u admin -p hunter2 reg.io",
        "docker login -u admin -p [REDACTED:password] reg.io",
    ),
    ("redis-cli -h x -a hunter2 ping", "redis-cli -h x -a [REDACTED:password] ping"),
    (
        "https://x.webhook.office.com/webhookb2/abc-123@def/IncomingWebhook/aaa/bbb",
        "https://x.webhook.office.com/webhookb2/[REDACTED:token]",
    ),
    (
        "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
        "https://events.pagerduty.com/integration/[REDACTED:token]/enqueue",
    ),
    (
        "https://hc-ping.com/5d2f7a3e-9b1c-4e8f-a6d0-3c7b9e1f2a4d/fail",
        "https://hc-ping.com/[REDACTED:token]/fail",
    ),
    (
        "https://hc-ping.com/Vx3k_9LmQp2RtY7wZa1bCd/nightly",
        "https://hc-ping.com/[REDACTED:token]/nightly",
    ),
    (
        "https://hc.example.com/ping/5d2f7a3e-9b1c-4e8f-a6d0-3c7b9e1f2a4d",
        "https://hc.example.com/ping/[REDACTED:token]",
    ),
    (
        "https://cronitor.link/p/83a7f2b6c1d94e0f8a5b7c3d2e1f0a9b/nightly",
        "https://cronitor.link/p/[REDACTED:token]/nightly",
    ),
    ("https://nosnch.in/c2354d53d2", "https://nosnch.in/[REDACTED:token]"),
    ("PHPSESSID=abcdef0123456789abcdef; path=/", "PHPSESSID=[REDACTED:cookie]; path=/"),
    ("_shop_session=abc123def456; path=/", "_shop_session=[REDACTED:cookie]; path=/"),
    (".ASPXAUTH=0A1B2C3D4E5F6A7B; path=/", ".ASPXAUTH=[REDACTED:cookie]; path=/"),
    ("<password>hunter2</password>", "<password>[REDACTED:password]</password>"),
    (
        "ALTER ROLE app WITH PASSWORD 'Sup3r';",
        "ALTER ROLE app WITH PASSWORD '[REDACTED:password]';",
    ),
    (
        "CREATE USER x IDENTIFIED BY 'hunter2';",
        "CREATE USER x IDENTIFIED BY '[REDACTED:password]';",
    ),
    (
        "- name: DB_PASSWORD\n  value: hunter2\n- name: HOST\n  value: db",
        "- name: DB_PASSWORD\n  value: [REDACTED:password]\n- name: HOST\n  value: db",
    ),
    ('["--password", "hunter2"]', '["--password", "[REDACTED:password]"]'),
    (
        "NEW_RELIC_LICENSE_KEY=0123abc routing_key: R0123",
        "NEW_RELIC_LICENSE_KEY=[REDACTED:password] routing_key: [REDACTED:password]",
    ),
    ("X-Auth-Key: 1234567890abcdef", "X-Auth-Key: [REDACTED:password]"),
    (
        "https://ghp_" + "a" * 36 + "@github.com/o/r",
        "https://[REDACTED:github-token]@github.com/o/r",
    ),
    (
        "SENTRY_DSN https://0123456789abcdef0123456789abcdef@o123.ingest.sentry.io/456 x",
        "SENTRY_DSN https://[REDACTED:token]@o123.ingest.sentry.io/456 x",
    ),
    (
        "the session= expired; password reset requested",
        "the session= expired; password reset requested",
    ),
    ("mysql -uroot -p'hunter2' db", "mysql -uroot -p'[REDACTED:password]' db"),
    ('curl -u "admin:hunter2" x', 'curl -u "admin:[REDACTED:password]" x'),
    (
        '{"url":"amqp://user:pw5678@rabbit:5672","tags":{"k0":"' + "v" * 300 + '"}}',
        '{"url":"amqp://user:[REDACTED:password]@rabbit:5672","tags":{"k0":"' + "v" * 300 + '"}}',
    ),
    (
        "Access denied for user 'app'@'db' (using password: YES); password: ********",
        "Access denied for user 'app'@'db' (using password: YES); password: ********",
    ),
    (
        "https:\\/\\/hooks.slack.com\\/services\\/T000\\/B000\\/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/[REDACTED:slack-webhook]",
    ),
    ('{"\\u0070assword": "hunter2"}', '{"password": "[REDACTED:password]"}'),
    # A bare `pass` names a password only when its value looks like one (a key, not a count).
    ("user=bob pass=Xk9vQ2mLp4", "user=bob pass=[REDACTED:password]"),
    ("login: admin, PASS: 'Xk9vQ2mLp4!' ok", "login: admin, PASS: '[REDACTED:password]' ok"),
    ('{"pass": "aB3dE5fG7h"}', '{"pass": "[REDACTED:password]"}'),
    # `-u` given a URL (redis-cli, mongosh): only the URL's password goes, its host stays.
    (
        "redis-cli -u redis://default:Hunter2@redis:6379 ping",
        "redis-cli -u redis://default:[REDACTED:password]@redis:6379 ping",
    ),
    # A YAML block scalar after a secret's name: its indented lines are the value.
    (
        "db:\n  password: |\n    hunter2\n    line2\n  user: app",
        "db:\n  password: |\n    [REDACTED:password]\n  user: app",
    ),
    ("token: >-\n  abc def\r\n  ghi\r\nnext: 1", "token: >-\n  [REDACTED:password]\r\nnext: 1"),
    # A private key's body without its armour lines, known by its first bytes (PKCS #8, PKCS #1,
    # SEC 1 EC, Ed25519, OpenSSH), on lines or in one.
    (
        "key body:\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
        + _run(64)
        + "\n"
        + _run(10)
        + "==\n-----END PRIVATE KEY-----",
        "key body:\n[REDACTED:private-key]\n-----END PRIVATE KEY-----",
    ),
    (
        '{"k": "MIIEowIBAAKCAQEA' + _run(48) + "\\n" + _run(64) + '\\n"}',
        '{"k": "[REDACTED:private-key]\\n"}',
    ),
    ("ec MHcCAQEEI" + _run(1200) + " end", "ec [REDACTED:private-key] end"),
    ("MC4CAQAwBQYDK2VwBCIEI" + _run(27), "[REDACTED:private-key]"),
    (
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\r\n  " + _run(70) + "\r\nnext line",
        "[REDACTED:private-key]\r\nnext line",
    ),
    # Names disguised from the rules: HTML character references, full-width and mathematical
    # letters, Cyrillic and Greek look-alikes inside a Latin word.
    ("password&#61;hunter2 ok", "password=[REDACTED:password] ok"),
    (
        "&lt;p&gt;&quot;client_secret&quot;: &quot;s3cr3t value&quot;",
        '<p>"client_secret": "[REDACTED:password]"',
    ),
    ("pass&#x77;ord: hunter2", "password: [REDACTED:password]"),
    (
        "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff1dhunter2",
        "password=[REDACTED:password]",
    ),
    (
        "\U0001d429\U0001d41a\U0001d42c\U0001d42c\U0001d430\U0001d428\U0001d42b\U0001d41d: x1",
        "password: [REDACTED:password]",
    ),
    (
        "p\u0430ssword: hunter2 \u0432\u0445\u043e\u0434",
        "password: [REDACTED:password]",  # a YAML line: to its end
    ),
    ("DB_\u0420\u0410SSWORD=hunter2", "DB_PASSWORD=[REDACTED:password]"),
    ("\u03c4oken=abc123", "token=[REDACTED:password]"),
    ("pass&#8203;word=hunter2", "password=[REDACTED:password]"),
    # A validator's error echoes the value under the field's name: pydantic's input_value …
    (
        "1 validation error for Settings\ndb_password\n  String should have at most 8 characters"
        " [type=string_too_long, input_value='hunter2xyz', input_type=str]",
        "1 validation error for Settings\ndb_password\n  String should have at most 8 characters"
        " [type=string_too_long, input_value='[REDACTED:password]', input_type=str]",
    ),
    (
        'database.api_key\\n  Value error, bad [type=value_error, input_value="it\'s x", input_type=str]',
        'database.api_key\\n  Value error, bad [type=value_error, input_value="[REDACTED:password]",'
        " input_type=str]",
    ),
    (
        "token\n  Input should be a valid string [type=string_type, input_value=12345678, input_type=int]",
        "token\n  Input should be a valid string [type=string_type, input_value=[REDACTED:password],"
        " input_type=int]",
    ),
    # … and Spring Boot's binding failure, the line after the property's name.
    (
        "Failed to bind properties under 'spring.datasource.password' to java.lang.String:\n\n"
        "    Property: spring.datasource.password\n    Value: hunter2 xyz\n    Origin: env",
        "Failed to bind properties under 'spring.datasource.password' to java.lang.String:\n\n"
        "    Property: spring.datasource.password\n    Value: [REDACTED:password]\n    Origin: env",
    ),
    (
        'Property: app.client-secret\n    Value: "s3cr3t"\n',
        'Property: app.client-secret\n    Value: "[REDACTED:password]"\n',
    ),
    # XML and config files name the secret in an attribute: its value (attribute or content) goes.
    (
        '<add key="Password" value="s3cr3tValue"/>',
        '<add key="Password" value="[REDACTED:password]"/>',
    ),
    (
        "<property name='password' value='hunter2 x' />",
        "<property name='password' value='[REDACTED:password]' />",
    ),
    (
        '<entry key="db.password">hunter2</entry>',
        '<entry key="db.password">[REDACTED:password]</entry>',
    ),
    ('<param name="api_key" value="abc123">', '<param name="api_key" value="[REDACTED:password]">'),
    # … in any order, with other attributes between, within one tag.
    (
        '<add value="s3cr3tValue" key="Password"/>',
        '<add value="[REDACTED:password]" key="Password"/>',
    ),
    (
        '<add key="Password" xdt:Transform="Replace" value="hunter2 x"/>',
        '<add key="Password" xdt:Transform="Replace" value="[REDACTED:password]"/>',
    ),
    (
        "<property value='s3cr3t' name=\"db.password\" />",
        "<property value='[REDACTED:password]' name=\"db.password\" />",
    ),
    (
        '<add\n  value="s3cr3t"\n  type="string"\n  key="ClientSecret" />',
        '<add\n  value="[REDACTED:password]"\n  type="string"\n  key="ClientSecret" />',
    ),
    (
        '{"cfg": "<add value=\\"x1\\" key=\\"Password\\"/>"}',
        '{"cfg": "<add value=\\"[REDACTED:password]\\" key=\\"Password\\"/>"}',
    ),
    (
        '<entry type="string" key="db.password">hunter2</entry>',
        '<entry type="string" key="db.password">[REDACTED:password]</entry>',
    ),
    (
        '<add key="Port" value="5432"/><add value="x1" key="api_key"/>',
        '<add key="Port" value="5432"/><add value="[REDACTED:password]" key="api_key"/>',
    ),
    # A token as a URL's user, with no password: the token goes, scheme and host stay.
    ("nats://s3cr3tT0kenAbC123@nats:4222", "nats://[REDACTED:token]@nats:4222"),
    (
        "git clone https://" + _run(40) + "@github.com/acme/api.git",
        "git clone https://[REDACTED:token]@github.com/acme/api.git",
    ),
    # Python's triple-quoted strings: the value goes whole, its quotes stay.
    ('password = """hunter2"""', 'password = """[REDACTED:password]"""'),
    ("token='''abc'''", "token='''[REDACTED:password]'''"),
    ('password = """unclosed value', 'password = """[REDACTED:password]'),
    ("secret = '''a b c\nnext", "secret = '''[REDACTED:password]\nnext"),
    ('password = """"""', 'password = """"""'),  # empty, not unclosed
    (
        'SECRET_KEY = """two\nlines"""\nDEBUG = 1',
        'SECRET_KEY = """[REDACTED:password]"""\nDEBUG = 1',
    ),
    # Google OAuth client secrets, Azure AD client secrets, Alibaba and Tencent Cloud key ids.
    ("google GOCSPX-" + _run(28, URLSAFE) + " ok", "google [REDACTED:token] ok"),
    ("azure abc8Q~" + _run(34, "aB3dE5fG7h~J9kL2_mN4.pQ6-") + " ok", "azure [REDACTED:token] ok"),
    (
        "aliyun LTAI" + _run(20) + ", tencent AKID" + _run(32),
        "aliyun [REDACTED:token], tencent [REDACTED:token]",
    ),
    # A bare pwd is the working directory when its value is a path; else it is a password.
    ("pwd=hunter2 db_pwd=s3cr3t", "pwd=[REDACTED:password] db_pwd=[REDACTED:password]"),
    ("DB_PWD=/srv/app", "DB_PWD=[REDACTED:password]"),
    # A template's placeholder as the value is no secret; a default written into it is.
    ("password: ${DB_PASSWORD:-hunter2}", "password: ${DB_PASSWORD:-[REDACTED:password]}"),
    # A literal beside a secret's name in code (`calls.py`).
    ('os.getenv("DB_PASSWORD", "hunter2")', 'os.getenv("DB_PASSWORD", "[REDACTED:password]")'),
    ('k = process.env.API_KEY || "hunter2"', 'k = process.env.API_KEY || "[REDACTED:password]"'),
    (
        'password: str = Field(default="hunter2")',
        'password: str = Field(default="[REDACTED:password]")',
    ),
    (
        'variable "db_password" { default = "hunter2" }',
        'variable "db_password" { default = "[REDACTED:password]" }',
    ),
    ("DB_PASS=${DB_PASS:=s3cr3t} x", "DB_PASS=${DB_PASS:=[REDACTED:password]} x"),
    (
        "password=$Tr0ngPa55 password=%shunter2",
        "password=[REDACTED:password] password=[REDACTED:password]",
    ),
    # A template's placeholder with a literal inside: the literal goes, the placeholder stays.
    (
        'password: {{ pw | default("hunter2") }}',
        'password: {{ pw | default("[REDACTED:password]") }}',
    ),
    (
        'password: {{ .Values.pw | default "hunter2" }} x',
        'password: {{ .Values.pw | default "[REDACTED:password]" }} x',
    ),
    (
        "DB_PASSWORD: \"{{ lookup('env', 'PW') | default('s3cr3t') }}\"",
        "DB_PASSWORD: \"{{ lookup('env', 'PW') | default('[REDACTED:password]') }}\"",
    ),
    (
        "token: ${{ github.event.x || 'abc123' }}",
        "token: ${{ github.event.x || '[REDACTED:password]' }}",
    ),
    (
        "password: {{ .Values.pw | default `hunter2` }}",
        "password: {{ .Values.pw | default `[REDACTED:password]` }}",
    ),
    # A Discord bot token (its first part is the bot's id in base64), Mailgun, Doppler's config
    ("bot MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe." + _run(38, URLSAFE), "bot [REDACTED:token]"),
    ("mg key-" + _run(32, HEX) + " dp.st.prd." + _run(43), "mg [REDACTED:token] [REDACTED:token]"),
    ("mg key-3ax6xnjp29jd6fds4gc373sgvjxteol0 ok", "mg [REDACTED:token] ok"),
    ("valkey-cli -a Zq8vTn3Rk7Wp2Ys ping", "valkey-cli -a [REDACTED:password] ping"),
    ("vsce publish -p Zq8vTn3Rk7Wp2Ys", "vsce publish -p [REDACTED:password]"),
    ("choco push x.nupkg -k Zq8vTn3Rk7Wp2Ys", "choco push x.nupkg -k [REDACTED:password]"),
    ("SQL> conn scott/Zq8vTn3Rk7Wp2Ys", "SQL> conn scott/[REDACTED:password]"),
    ('"api_keys": [\n  "Zq8vTn3Rk7Wp2Ys"\n]', '"api_keys": [[REDACTED:password]\n]'),
    ('SECRET_KEY = (\n    "Zq8vTn3Rk7Wp2Ys"\n)', "SECRET_KEY = ([REDACTED:password]\n)"),
    (
        "mailgun " + _run(32, HEX) + "-" + _run(8, HEX) + "-" + _run(8, HEX),
        "mailgun [REDACTED:token]",
    ),
    ("es eyJ2ZXIiOiI4LjE0LjAiLCJhZHIiOlsiMTcyLjE4LjAuMjo5MjAwIl0s", "es [REDACTED:token]"),
    (
        "The generated password for the elastic built-in superuser is : Zq8vTn3Rk7Wp2Ys",
        "The generated password for the elastic built-in superuser is : [REDACTED:password]",
    ),
    # Vault's tokens before 1.10: service and batch
    (
        "vault login s." + _run(24) + " b." + _run(24),
        "vault login [REDACTED:token] [REDACTED:token]",
    ),
    # A connection string's password runs to its `;`, spaces and all.
    (
        "Server=db;Password=hunter 2xyz;Database=x",
        "Server=db;Password=[REDACTED:password];Database=x",
    ),
    # A data class's toString: a secret field's value runs to the next field.
    (
        "Config(user=app, password=my secret pass, x=1)",
        "Config(user=app, password=[REDACTED:password], x=1)",
    ),
    # Redis's AUTH, as MONITOR prints it and as typed at redis-cli's prompt.
    ('[0 127.0.0.1:6379] "AUTH" "hunter2xyz"', '[0 127.0.0.1:6379] "AUTH" "[REDACTED:password]"'),
    (
        '{"msg": "[0 127.0.0.1:6379] \\"AUTH\\" \\"hunter2xyz\\""}',
        '{"msg": "[0 127.0.0.1:6379] \\"AUTH\\" \\"[REDACTED:password]\\""}',
    ),
    ("ACL SETUSER app on >hunter2xyz ~*", "ACL SETUSER app on >[REDACTED:password] ~*"),
    ('"user app on >hunter2xyz ~*"', '"user app on >[REDACTED:password] ~*"'),
    ('{"msg": "up\\npassword: hunter two"}', '{"msg": "up\\npassword: [REDACTED:password]"}'),
    (
        '{"msg": "- name: DB_PASSWORD\\n  value: a b\\n"}',
        '{"msg": "- name: DB_PASSWORD\\n  value: [REDACTED:password]\\n"}',
    ),
    (
        '{"msg": "password: |\\n  a b\\n  c\\nx: 1"}',
        '{"msg": "password: |\\n  [REDACTED:password]\\nx: 1"}',
    ),
    ("127.0.0.1:6379> auth foobared", "127.0.0.1:6379> auth [REDACTED:password]"),
    # Sentry's auth header: its key is a DSN's key.
    ("Sentry sentry_key=" + _run(32, HEX) + ",", "Sentry sentry_key=[REDACTED:token],"),
    # PHP's print_r and var_dump.
    ("    [password] => hunter2 x\n", "    [password] => [REDACTED:password]\n"),
    ('["password"]=>\n  string(3) "a b"', '["password"]=>\n  string(19) "[REDACTED:password]"'),
    # A call's literal after a constant named like a secret (JNDI's credentials).
    (
        'env.put(Context.SECURITY_CREDENTIALS, "a1b2")',
        'env.put(Context.SECURITY_CREDENTIALS, "[REDACTED:password]")',
    ),
    # docker inspect's Env; Terraform's plan changing a secret.
    ('["DB_PASSWORD=a b c"]', '["DB_PASSWORD=[REDACTED:password]"]'),
    ('~ password = "a1x" -> "b2y"', '~ password = "[REDACTED:password]" -> "[REDACTED:password]"'),
    # A URL's fragment carries credentials as its query does (OAuth's implicit flow).
    (
        "https://app.example.com/cb#key=" + _run(32, HEX),
        "https://app.example.com/cb#key=[REDACTED:password]",
    ),
    (
        "https://a.example.com/cb#sig=" + _run(32),
        "https://a.example.com/cb#sig=[REDACTED:azure-sas]",
    ),
    (
        "https://a.example.com/cb#signature=" + _run(32, HEX) + "&x=1",
        "https://a.example.com/cb#signature=[REDACTED:url-signature]&x=1",
    ),
    (
        "https://a.example.com/cb#state=s&code=" + _run(32) + "&x=1",
        "https://a.example.com/cb#state=s&code=[REDACTED:password]&x=1",
    ),
    # An OAuth authorization code (Google's 4/0A…, GitHub's 20 hex), Azure Functions' code=,
    # a PKCE verifier, OAuth 1's signature, an HMAC, an opaque jwt=: credentials in a query.
    (
        "GET /callback?code=4/0A" + _run(40, URLSAFE) + "&state=xyz&scope=email",
        "GET /callback?code=[REDACTED:password]&state=xyz&scope=email",
    ),
    (
        "/oauth/github?code=" + _run(20, HEX) + "&state=q",
        "/oauth/github?code=[REDACTED:password]&state=q",
    ),
    (
        "https://fn.azurewebsites.net/api/Hook?code=" + _run(40) + "==&clientId=default",
        "https://fn.azurewebsites.net/api/Hook?code=[REDACTED:password]&clientId=default",
    ),
    ("/token?code_verifier=" + _run(43, URLSAFE), "/token?code_verifier=[REDACTED:password]"),
    ("/r?oauth_signature=" + _run(28) + "%3D", "/r?oauth_signature=[REDACTED:password]"),
    ("/dl?file=a.zip&hmac=" + _run(40, HEX), "/dl?file=a.zip&hmac=[REDACTED:password]"),
    ("/ws?jwt=" + _run(30), "/ws?jwt=[REDACTED:password]"),
    # … in HTML (`&amp;`), a Markdown link (its `)` stays), a JSON string with `\/`.
    (
        '<a href="/cb?state=x&amp;code=' + _run(24) + '">',
        '<a href="/cb?state=x&amp;code=[REDACTED:password]">',
    ),
    (
        "[login](https://a.example.com/cb?code=" + _run(24) + ")",
        "[login](https://a.example.com/cb?code=[REDACTED:password])",
    ),
    (
        '{"u": "https:\\/\\/a.example.com\\/cb#key=' + _run(32, HEX) + '"}',
        '{"u": "https://a.example.com/cb#key=[REDACTED:password]"}',
    ),
    # … and in what wraps a link or ends a sentence: what wraps it stays (Slack's <url|text>,
    # Jira's [text|url], a Markdown link's `)`, prose's `, ` and `. `).
    (
        "<https://a.example.com/cb?code=" + _run(24) + "|login>",
        "<https://a.example.com/cb?code=[REDACTED:password]|login>",
    ),
    (
        "[login|https://a.example.com/cb?key=" + _run(24) + "]",
        "[login|https://a.example.com/cb?key=[REDACTED:password]]",
    ),
    (
        "see /cb?code=" + _run(24) + ", then /cb?sig=x&code=" + _run(24) + ". Then",
        "see /cb?code=[REDACTED:password], then /cb?sig=x&code=[REDACTED:password]. Then",
    ),
    (
        "<https://a.example.com/cb#access_token=" + _run(24) + "|login> next",
        "<https://a.example.com/cb#access_token=[REDACTED:password]|login> next",
    ),
    (
        "[x](https://a.example.com/cb?token=" + _run(24) + ") more",
        "[x](https://a.example.com/cb?token=[REDACTED:password]) more",
    ),
    (
        "run `curl https://x.example.com/?token=" + _run(24) + "` now",
        "run `curl https://x.example.com/?token=[REDACTED:password]` now",
    ),
    (
        "https://x.example.com/?password=ab(c)d&x=1",
        "https://x.example.com/?password=[REDACTED:password]&x=1",
    ),
    (
        "?token=${TOKEN}&password=rotated&max_tokens=5&token_type=bearer",
        "?token=${TOKEN}&password=rotated&max_tokens=5&token_type=bearer",
    ),
    # The first parameter of a form body (an OAuth token request), before `&`.
    (
        "body: code=4/0A" + _run(40, URLSAFE) + "&grant_type=authorization_code",
        "body: code=[REDACTED:password]&grant_type=authorization_code",
    ),
    (
        '{"log": "POST /token\\ncode=' + _run(24) + '&state=x"}',
        '{"log": "POST /token\\ncode=[REDACTED:password]&state=x"}',
    ),
    # An Authorization header inside a JSON string ends where the string does.
    (
        '{"m": "x Authorization: Token ' + _run(20) + '"}',
        '{"m": "x Authorization: Token [REDACTED:authorization]"}',
    ),
    (
        '{"m": "Authorization: Token ' + _run(20) + '", "n": 1}',
        '{"m": "Authorization: Token [REDACTED:authorization]", "n": 1}',
    ),
    # Base64 wrapped over lines escaped inside a JSON string is decoded joined.
    (json.dumps({"data": _WRAPPED_SECRET}), '{"data": "[REDACTED:password]"}'),
    # HTML's meta element holds a secret's value in content= (a CSRF token, an API key).
    (
        '<meta name="csrf-token" content="' + _run(32) + '">',
        '<meta name="csrf-token" content="[REDACTED:password]">',
    ),
    # A key of 20 hex characters or more in a query (a random-looking one went already).
    (
        "https://api.example.com/v1?key=" + _run(36, HEX),
        "https://api.example.com/v1?key=[REDACTED:password]",
    ),
    # A URL's pass= beside its user: any value but a number or a state word.
    (
        "https://x.example.com/login?user=bob&pass=hunter2&x=1",
        "https://x.example.com/login?user=bob&pass=[REDACTED:password]&x=1",
    ),
    # An AWS access key id glued to a lower-case word: the change of case is its edge.
    ("label kAKIAIOSFODNN7EXAMPLE x", "label k[REDACTED:aws-key] x"),
    ("user_idASIAIOSFODNN7EXAMPLE", "user_id[REDACTED:aws-key]"),
    ("AKIAIOSFODNN7EXAMPLEsecret", "[REDACTED:aws-key]secret"),
    # After an escaped line break or tab inside a JSON string, a token starts a word.
    ('{"m": "a\\nghp_' + _run(36) + '"}', '{"m": "a\\n[REDACTED:github-token]"}'),
    ('{"m": "a\\nAKIAIOSFODNN7EXAMPLE"}', '{"m": "a\\n[REDACTED:aws-key]"}'),
    ('{"m": "a\\tglpat-' + _run(20) + '"}', '{"m": "a\\t[REDACTED:gitlab-token]"}'),
    ('{"m": "a\\r\\nBearer ' + _run(24) + '"}', '{"m": "a\\r\\nBearer [REDACTED:bearer]"}'),
    (
        '{"m": "a\\neyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.' + _run(43, URLSAFE) + '"}',
        '{"m": "a\\n[REDACTED:jwt]"}',
    ),
    (
        '{"m": "a\\nX-Amz-Signature=' + _run(64, HEX) + '"}',
        '{"m": "a\\nX-Amz-Signature=[REDACTED:aws-signature]"}',
    ),
    (
        '{"m": "a\\nCookie: sid=' + _run(20) + '"}',
        '{"m": "a\\nCookie: [REDACTED:cookie]"}',
    ),
    ('{"m": "a\\nPHPSESSID=' + _run(26) + '"}', '{"m": "a\\nPHPSESSID=[REDACTED:cookie]"}'),
    ('{"m": "a\\n' + _run(40, "Wj8aQ2/K7mDe") + '"}', '{"m": "a\\n[REDACTED:aws-secret]"}'),
    ('{"m": "a\\ncGFzc3dvcmQ9SHVudGVyMlNlY3JldCE="}', '{"m": "a\\n[REDACTED:password]"}'),
    ('{"m": "a\\ts.' + _run(24) + '"}', '{"m": "a\\t[REDACTED:token]"}'),
    ('{"m": "a\\n4111111111111111"}', '{"m": "a\\n[REDACTED:card-number]"}'),
    (
        '{"m": "a\\nSignature=' + _run(64, HEX) + '"}',
        '{"m": "a\\nSignature=[REDACTED:aws-signature]"}',
    ),
    ('{"m": "a\\npassword is hunter2x"}', '{"m": "a\\npassword is [REDACTED:password]"}'),
    ('{"m": "a\\nabc8Q~' + _run(34) + '"}', '{"m": "a\\n[REDACTED:token]"}'),
    # … the same written long (`\\u000a`, as some JSON encoders do): written short.
    ('{"m": "a\\u000aghp_' + _run(36) + '\\u0009x"}', '{"m": "a\\n[REDACTED:github-token]\\tx"}'),
    ('{"m": "a\\u000DAKIAIOSFODNN7EXAMPLE"}', '{"m": "a\\r[REDACTED:aws-key]"}'),
    # … and an address after one keeps the escape whole (`\\[REDACTED` is no JSON escape).
    ('{"m": "a\\nops@example.com"}', '{"m": "a\\n[REDACTED:email]"}'),
    # A value set by a command with a space, PowerShell's parameters and SecureString.
    ("set -gx API_TOKEN opal-kettle-42", "set -gx API_TOKEN [REDACTED:password]"),
    ("Connect-Db -Password opal-kettle-42", "Connect-Db -Password [REDACTED:password]"),
    (
        "ConvertTo-SecureString 'opal-kettle-42' -AsPlainText",
        "ConvertTo-SecureString '[REDACTED:password]' -AsPlainText",
    ),
    (
        "SET PASSWORD FOR 'app'@'%' = 'opal-42'",
        "SET PASSWORD FOR 'app'@'%' = '[REDACTED:password]'",
    ),
    # A name and its value with a tab between, raw and inside a JSON string.
    ("password\topal kettle", "password\t[REDACTED:password]"),
    ('"dump\\npassword\\topal kettle\\nport"', '"dump\\npassword\\t[REDACTED:password]\\nport"'),
    # Tables: a header naming a secret column; SQL's INSERT.
    ("user,password\napp,opal-42\n", "user,password\napp,[REDACTED:password]\n"),
    (
        "INSERT INTO u (name, password) VALUES ('a', 'opal-42')",
        "INSERT INTO u (name, password) VALUES ('a', '[REDACTED:password]')",
    ),
    # Sections: an object, a YAML block, an INI table, an XML element.
    ('{"secrets": {"db": "opal-42"}}', '{"secrets": {"db": "[REDACTED:password]"}}'),
    ("secrets:\n  db: opal-42\n", "secrets:\n  db: [REDACTED:password]\n"),
    ("[secrets]\ndb = opal-42\n", "[secrets]\ndb = [REDACTED:password]\n"),
    ("<secrets><db>opal-42</db></secrets>", "<secrets><db>[REDACTED:password]</db></secrets>"),
    # Names in other languages, a section's child by its path, an arrow.
    ("passwort=opal-42", "passwort=[REDACTED:password]"),
    ("Secrets__Db=opal-42", "Secrets__Db=[REDACTED:password]"),
    ("X-Api-Key -> opal-42", "X-Api-Key -> [REDACTED:password]"),
    # A password by its place: Oracle's user/pw@db, Windows' options and net, a piped value,
    # vault login, a secret store's CLI, a call's argument, a setter, a flow-style env entry.
    ("sqlplus app/opal-42@orcl", "sqlplus app/[REDACTED:password]@orcl"),
    ("cmdkey /pass:opal-42", "cmdkey /pass:[REDACTED:password]"),
    ("net user admin opal-42 /add", "net user admin [REDACTED:password] /add"),
    (
        "echo opal-42 | docker login --password-stdin",
        "echo [REDACTED:password] | docker login --password-stdin",
    ),
    (
        "docker login --password-stdin <<< opal-42",
        "docker login --password-stdin <<< [REDACTED:password]",
    ),
    ("echo opal-42 | sudo -S id", "echo [REDACTED:password] | sudo -S id"),
    ("smtp.login('u', 'opal-42')", "smtp.login('u', '[REDACTED:password]')"),
    ("sentinel auth-pass m opal-42", "sentinel auth-pass m [REDACTED:password]"),
    (
        '{"keyName": "key1", "permissions": "FULL", "value": "opal-42"}',
        '{"keyName": "key1", "permissions": "FULL", "value": "[REDACTED:azure-key]"}',
    ),
    ("vault login opal-42", "vault login [REDACTED:password]"),
    ("nuget setapikey opal-42 -Source f", "nuget setapikey [REDACTED:password] -Source f"),
    ("nuget push a.nupkg opal-42", "nuget push a.nupkg [REDACTED:password]"),
    (
        "expect -c 'expect assword:; send opal-42\\r'",
        "expect -c 'expect assword:; send [REDACTED:password]\\r'",
    ),
    ("gh secret set K --body opal-42", "gh secret set K --body [REDACTED:password]"),
    (
        "ftp_login(Object(FTP), 'u', 'opal-42')",
        "ftp_login(Object(FTP), 'u', '[REDACTED:password]')",
    ),
    ('x.setPassword("opal-42")', 'x.setPassword("[REDACTED:password]")'),
    (
        'keyring.set_password("svc", "bob", "opal-42")',
        'keyring.set_password("svc", "bob", "[REDACTED:password]")',
    ),
    # A setter given two literals (helper 433): a credentials setter's second, else both.
    (
        'b.setCredentials("bob", "opal-42")',
        'b.setCredentials("bob", "[REDACTED:password]")',
    ),
    (
        'x.setApiKey("prod", "opal-42")',
        'x.setApiKey("[REDACTED:password]", "[REDACTED:password]")',
    ),
    # … and a call whose arguments span lines (helper 433).
    (
        "pika.PlainCredentials(\n  'u',\n  'opal-42')",
        "pika.PlainCredentials(\n  'u',\n  '[REDACTED:password]')",
    ),
    ("{name: DB_PASSWORD, value: opal-42}", "{name: DB_PASSWORD, value: [REDACTED:password]}"),
    # A section inside a JSON string; a Kubernetes Secret's stringData.
    ('{"m": "secrets:\\n  db: opal-42"}', '{"m": "secrets:\\n  db: [REDACTED:password]"}'),
    ("stringData:\n  api: opal-42\n", "stringData:\n  api: [REDACTED:password]\n"),
    ('{"m": "[secrets]\\ndb = opal-42"}', '{"m": "[secrets]\\ndb = [REDACTED:password]"}'),
    ("password    opal-42\n", "password    [REDACTED:password]\n"),
    # A cell beside a secret's name; a multipart form's field.
    ("| Password | opal-42 |", "| Password | [REDACTED:password] |"),
    ('{"m": "| Password | opal-42 |"}', '{"m": "| Password | [REDACTED:password] |"}'),
    ("<td>password</td><td>opal-42</td>", "<td>password</td><td>[REDACTED:password]</td>"),
    (
        'Content-Disposition: form-data; name="password"\n\nopal-42',
        'Content-Disposition: form-data; name="password"\n\n[REDACTED:password]',
    ),
    # A password hash with its scheme in braces; a .pgpass line, raw and in a JSON string.
    ("admin:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "admin:[REDACTED:password-hash]"),
    ("db.internal:5432:app:app:opal-42", "db.internal:5432:app:app:[REDACTED:password]"),
    ('{"m": "db:5432:app:u:opal-42"}', '{"m": "db:5432:app:u:[REDACTED:password]"}'),
    # A session's id under a bare `session`; user:password with no scheme; expect's answer to
    # a password prompt; SNMP's community on a command line and in a configuration.
    ('"session": "s3cr3t-s3ss10n-v4lu3"', '"session": "[REDACTED:password]"'),
    ("app:Sup3rS3cret@db:5432/app", "app:[REDACTED:password]@db:5432/app"),
    ("creds: admin:hunter2", "creds: admin:[REDACTED:password]"),
    ('expect "assword:"\nsend "hunter2\\r"', 'expect "assword:"\nsend "[REDACTED:password]\\r"'),
    ("snmpwalk -v2c -c s3cr3tc0mm host", "snmpwalk -v2c -c [REDACTED:password] host"),
    ("snmp_community: s3cr3tc0mm", "snmp_community: [REDACTED:password]"),
    # A credential a text wrapper broke over lines (redact/wrapped.py, redact/continued.py).
    (
        "export DB_PASSWORD=\\\n  hunter2-Summer",
        "export DB_PASSWORD=[REDACTED:password]\n  [REDACTED:password]",
    ),
    (
        "push with\nghp_A1b2C3d4E5f6G7h8I9j0K1l2M3\nn4O5p6Q7r8 done",
        "push with\n[REDACTED:github-token] done",
    ),
    (
        "aws_secret_access_key=Jq3vN8xK\n2pL7mR4tZw9yB6cD1eF5gH0iAbCdEfGh ok",
        "aws_secret_access_key=[REDACTED:password]\n[REDACTED:password] ok",
    ),
    # ... and a wrapped value's rest after a placeholder a first pass left.
    (
        "aws_secret_access_key=[REDACTED:password]\n2pL7mR4tZw9yB6cD1eF5gH0iAbCdEfGh ok",
        "aws_secret_access_key=[REDACTED:password]\n[REDACTED:password] ok",
    ),
    # Round 4 shapes (helper 263): vendor key ids, Vault, server configs, hex.
    ("HMAC id GOOG1EL6GTZFI4TRWOIJJO6OBQTHWY", "HMAC id [REDACTED:token]"),
    ("key DO00QW3H8XDZQXYL6CVW", "key [REDACTED:token]"),
    (
        "okta auth=SSWS 00NYAAvjIrXTa9cDxIzLjz9ilp2nM8Z4WwcdtdgJzp",
        "okta auth=SSWS [REDACTED:token]",
    ),
    (
        "Unseal Key 1: 7Hq2Lp9Wm4Rt6Yx1Zc3Vb8Nk5Js0Gd2Fa4Se6Dw9Qu+/",
        "Unseal Key 1: [REDACTED:password]",
    ),
    (
        '{"unseal_keys_b64": ["7Hq2Lp9Wm4Rt6Yx1Zc3Vb8Nk5Js0Gd2Fa4Se6Dw9Qu+/"]}',
        '{"unseal_keys_b64": ["[REDACTED:password]"]}',
    ),
    (
        '{"keys_base64": ["7Hq2Lp9Wm4Rt6Yx1Zc3Vb8Nk5Js0Gd2Fa4Se6Dw9Qu+/"]}',
        '{"keys_base64": ["[REDACTED:password]"]}',
    ),
    (
        "$ vault operator unseal 7Hq2Lp9Wm4Rt6Yx1Zc3Vb8Nk5Js0Gd2Fa4Se6Dw9Qu+/",
        "$ vault operator unseal [REDACTED:password]",
    ),
    (
        "Key                Value\n---                -----\nsecret_id          6a6f1f3c-5e4b-4c3d-9a8b-7c6d5e4f3a2b",
        "Key                Value\n---                -----\nsecret_id          [REDACTED:password]",
    ),
    (
        "unseal_keys_b64:\n- 7Hq2Lp9Wm4Rt6Yx1Zc3Vb8Nk5Js0Gd2Fa4Se6Dw9Qu+/",
        "unseal_keys_b64:\n- [REDACTED:password]",
    ),
    (
        "<password><![CDATA[Qz8vN3bW6yHs2KdP]]></password>",
        "<password><![CDATA[[REDACTED:password]]]></password>",
    ),
    (
        '<input type="password" value="Qz8vN3bW6yHs2KdP">',
        '<input type="password" value="[REDACTED:password]">',
    ),
    ("machine h login u account Qz8vN3bW6yHs2KdP", "machine h login u account [REDACTED:password]"),
    ("AuthLDAPBindPassword Qz8vN3bW6yHs2KdP", "AuthLDAPBindPassword [REDACTED:password]"),
    (
        "[smtp.example.com]:587 alerts@example.com:Qz8vN3bW6yHs2KdP",
        "[smtp.example.com]:587 [REDACTED:email]:[REDACTED:password]",
    ),
    (': PSK "Qz8vN3bW6yHs2KdP"', ': PSK "[REDACTED:password]"'),
    (
        "<auth-user-pass>\nalerts\nQz8vN3bW6yHs2KdP\n</auth-user-pass>",
        "<auth-user-pass>\nalerts\n[REDACTED:password]\n</auth-user-pass>",
    ),
    (
        '{"ovpn": "<auth-user-pass>\\nalerts\\nQz8vN3bW6yHs2KdP\\n</auth-user-pass>"}',
        '{"ovpn": "<auth-user-pass>[REDACTED:password]</auth-user-pass>"}',
    ),
    (
        "00000000: 6768 705f 6142 3364 4535 6647 3768 4a39  ghp_aB3dE5fG7hJ9",
        "00000000: [REDACTED:token]",
    ),
    (
        "blob 6768705f614233644535664737684a396b4c326d4e347051367253387455307657317859337a4135",
        "blob [REDACTED:github-token]",
    ),
    # Round 4 commands (helper 264): CI tools, printed secrets, DSNs, calls, SQL parameters.
    (
        "http GET example.com token==S3cr3tT0k3nV4lue",
        "http GET example.com token==[REDACTED:password]",
    ),
    ("netlify deploy --auth S3cr3tT0k3nV4lue", "netlify deploy --auth [REDACTED:password]"),
    (
        "$ op read op://v/db/password\nS3cr3tT0k3nV4lue",
        "$ op read op://v/db/password\n[REDACTED:password]",
    ),
    (
        '{"log": "$ gh auth token\\nS3cr3tT0k3nV4lue"}',
        '{"log": "$ gh auth token\\n[REDACTED:password]"}',
    ),
    ("dsn app:hunter2x@tcp(db:3306)/orders", "dsn app:[REDACTED:password]@tcp(db:3306)/orders"),
    ("echo hunter2x > .vault_pass", "echo [REDACTED:password] > .vault_pass"),
    ("l.bind('cn=admin,dc=x', 'hunter2x')", "l.bind('cn=admin,dc=x', '[REDACTED:password]')"),
    (
        "INSERT INTO users (name, password) VALUES (%s, %s) [parameters: ('bob', 'hunter2x')]",
        "INSERT INTO users (name, password) VALUES (%s, %s) [parameters: ('bob', '[REDACTED:password]')]",
    ),
    (
        "DETAIL: Key (api_token)=(hunter2x) already exists.",
        "DETAIL: Key (api_token)=([REDACTED:password]) already exists.",
    ),
    (
        "Duplicate entry 'hunter2x' for key 'users.api_token'",
        "Duplicate entry '[REDACTED:password]' for key 'users.api_token'",
    ),
    (
        "insert into users (name, password) values (?, ?)\n"
        "binding parameter [2] as [VARCHAR] - [hunter2x]",
        "insert into users (name, password) values (?, ?)\n"
        "binding parameter [2] as [VARCHAR] - [[REDACTED:password]]",
    ),
    (
        "update users set api_token=? where id=?\nbinding parameter (1:VARCHAR) <- [hunter2x]",
        "update users set api_token=? where id=?\n"
        "binding parameter (1:VARCHAR) <- [[REDACTED:password]]",
    ),
    (
        "INSERT INTO USERS (NAME, PASSWORD) VALUES (?, ?)\n\tbind => [bob, hunter2x]",
        "INSERT INTO USERS (NAME, PASSWORD) VALUES (?, ?)\n\tbind => [bob, [REDACTED:password]]",
    ),
    (
        "==>  Preparing: insert into users (name, password) values (?, ?)\n"
        "==> Parameters: bob(String), hunter2x(String)",
        "==>  Preparing: insert into users (name, password) values (?, ?)\n"
        "==> Parameters: bob(String), [REDACTED:password]",
    ),
    (
        'Query:["insert into users (name, password) values (?, ?)"], Params:[(bob,hunter2x)]',
        'Query:["insert into users (name, password) values (?, ?)"], '
        "Params:[(bob,[REDACTED:password])]",
    ),
    (
        "insert into users (name, password) values (?, ?)\nbinding 'hunter2x' to parameter: 2",
        "insert into users (name, password) values (?, ?)\n"
        "binding '[REDACTED:password]' to parameter: 2",
    ),
    (
        "execute <unnamed>: update users set pw = $1 where id = $2\n"
        "DETAIL:  parameters: $1 = 'hunter2x', $2 = '42'",
        "execute <unnamed>: update users set pw = $1 where id = $2\n"
        "DETAIL:  parameters: $1 = '[REDACTED:password]', $2 = '42'",
    ),
    (
        "secretsdump.py corp/admin:hunter2xyz@10.0.0.5",
        "secretsdump.py corp/admin:[REDACTED:password]@10.0.0.5",
    ),
    (
        "openssl passwd -6 hunter2xyz",
        "openssl passwd -6 [REDACTED:password]",
    ),
    (
        "sonar-scanner -Dsonar.login=0f3c2a71e04b8d56c1a7f09e3b2d4c6a8e1f7b05",
        "sonar-scanner -Dsonar.login=[REDACTED:password]",
    ),
    (
        "reg add HKLM\\SOFTWARE\\App /v DefaultPassword /t REG_SZ /d hunter2xyz /f",
        "reg add HKLM\\SOFTWARE\\App /v DefaultPassword /t REG_SZ /d [REDACTED:password] /f",
    ),
    (
        "Winlogon\n    DefaultPassword    REG_SZ    hunter2xyz",
        "Winlogon\n    DefaultPassword    REG_SZ    [REDACTED:password]",
    ),
    (
        "A temporary password is generated for root@localhost: hunter2xyz",
        "A temporary password is generated for root@localhost: [REDACTED:password]",
    ),
    (
        "ipmitool user set password 2 hunter2xyz 20",
        "ipmitool user set password 2 [REDACTED:password] 20",
    ),
    (
        "basic = b64encode(b'bob:hunter2xyz')",
        "basic = b64encode(b'bob:[REDACTED:password]')",
    ),
    (
        "EXEC sp_addlogin 'app', 'hunter2xyz'",
        "EXEC sp_addlogin 'app', '[REDACTED:password]'",
    ),
    (
        "$ENV{DB_PASSWORD} = 'hunter2xyz';",
        "$ENV{DB_PASSWORD} = '[REDACTED:password]';",
    ),
    (
        "leaked in the wiki: ghp\\_aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5 (rotated)",
        "leaked in the wiki: [REDACTED:github-token] (rotated)",
    ),
    (
        "invalid_grant for 1//0gLmX7aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG1h",
        "invalid_grant for [REDACTED:google-token]",
    ),
    (
        "asana 401 for 2/1204567890123456/1209876543210987:9f3c1a7e5b2d4c6f8a0e1b3d5c7f9a2e",
        "asana 401 for 2/1204567890123456/1209876543210987:[REDACTED:token]",
    ),
    (
        "opsgenie 403 with GenieKey 3f6c1a2e-7b4d-4e9a-a1c3-5d7f9b2e4c6a",
        "opsgenie 403 with GenieKey [REDACTED:token]",
    ),
    (
        "POST https://logs-01.loggly.com/inputs/3f6c1a2e-7b4d-4e9a-a1c3-5d7f9b2e4c6a/tag/http/",
        "POST https://logs-01.loggly.com/inputs/[REDACTED:token]/tag/http/",
    ),
    (
        "POST https://http-intake.logs.datadoghq.com/v1/input/9f3c1a7e5b2d4c6f8a0e1b3d5c7f9a2e?ddsource=x",
        "POST https://http-intake.logs.datadoghq.com/v1/input/[REDACTED:datadog-key]?ddsource=x",
    ),
    (
        "username admin privilege 15 password 0 Xk7pL2mR9tQw",
        "username admin privilege 15 password 0 [REDACTED:password]",
    ),
    (
        "tacacs-server host 10.0.0.5 key Xk7pL2mR9tQw",
        "tacacs-server host 10.0.0.5 key [REDACTED:password]",
    ),
    (
        "tacacs server T1\n key 7 0822455D0A16",
        "tacacs server T1\n key 7 [REDACTED:password]",
    ),
    (
        "radius server R\n key Xk7pL2mR9tQw",
        "radius server R\n key [REDACTED:password]",
    ),
    (
        'authentication-key "$9$Hk5FCtu0IcrvLxN"',
        'authentication-key "[REDACTED:password]"',
    ),
    (
        'radius-server 10.0.0.5 secret "$9$Hk5FCtu0IcrvLxN"',
        'radius-server 10.0.0.5 secret "[REDACTED:password]"',
    ),
    (
        "snmp-server user mon grp v3 auth sha Xk7pL2mR9tQw priv aes 128 Xk7pL2mR9tQw",
        "snmp-server user mon grp v3 auth sha [REDACTED:password] priv aes 128 [REDACTED:password]",
    ),
    (
        "set psksecret ENC Xk7pL2mR9tQw",
        "set psksecret ENC [REDACTED:password]",
    ),
    (
        "stats auth admin:Xk7pL2mR9tQw",
        "stats auth admin:[REDACTED:password]",
    ),
    (
        "smtp_sasl_password_maps = static:bob:Xk7pL2mR9tQw",
        "smtp_sasl_password_maps = static:bob:[REDACTED:password]",
    ),
    (
        "bob:{PLAIN}Xk7pL2mR9tQw::::",
        "bob:{PLAIN}[REDACTED:password]::::",
    ),
    (
        '"bob" * "Xk7pL2mR9tQw" *',
        '"bob" * "[REDACTED:password]" *',
    ),
    (
        "<dt>Password</dt><dd>Xk7pL2mR9tQw</dd>",
        "<dt>Password</dt><dd>[REDACTED:password]</dd>",
    ),
    (
        "<dt>hmac_key</dt><dd>aB3dE5fG7hJ9kL2mN4pQ6</dd>",
        "<dt>hmac_key</dt><dd>[REDACTED:password]</dd>",
    ),
    (
        "<Password><Value>Xk7pL2mR9tQw</Value></Password>",
        "<Password><Value>[REDACTED:password]</Value></Password>",
    ),
    (
        "<name>db.password</name><value>Xk7pL2mR9tQw</value>",
        "<name>db.password</name><value>[REDACTED:password]</value>",
    ),
    (
        "auth_pass Xk7pL2mR9tQw",
        "auth_pass [REDACTED:password]",
    ),
    (
        "d-i passwd/root-password password Xk7pL2mR9tQw",
        "d-i passwd/root-password password [REDACTED:password]",
    ),
    (
        "DB_PASSWORD ?= Xk7pL2mR9tQw",
        "DB_PASSWORD ?= [REDACTED:password]",
    ),
    (
        "CEF:0|V|P|1|100|Login|5|cs1Label=password cs1=Xk7pL2mR9tQw",
        "CEF:0|V|P|1|100|Login|5|cs1Label=password cs1=[REDACTED:password]",
    ),
    (
        '~ password = (sensitive value) -> "Xk7pL2mR9tQw"',
        '~ password = (sensitive value) -> "[REDACTED:password]"',
    ),
    (
        "quoted-printable\n\nthe passw=\nord is Xk7pL2mR9tQw",
        "quoted-printable\n\nthe passw=\nord is [REDACTED:password]",
    ),
    (
        "cache_peer p parent 3128 0 login=bob:Xk7pL2mR9tQw",
        "cache_peer p parent 3128 0 login=bob:[REDACTED:password]",
    ),
    # tables.TABLE_AGAIN_RULES / sections.JSON_TABLE_AGAIN_RULES: a header holding a placeholder
    (
        "token=[REDACTED:password],password\napp,opal-42\n",
        "token=[REDACTED:password],password\napp,[REDACTED:password]\n",
    ),
    (
        '{"msg":"token=[REDACTED:password],password\\napp,opal-42"}',
        '{"msg":"token=[REDACTED:password],password\\napp,[REDACTED:password]"}',
    ),
    # tokens: a JWE (five parts), a token cut by colour escapes (or their rests)
    (
        "session eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..Zq8vN3xK7pL2mR9tQwE4rT"
        ".Xk7pL2mR9tQwE4rTZq8vN3xK7p.Zq8vN3xK7pL2mR9tQwE4rT rejected",
        "session [REDACTED:jwt] rejected",
    ),
    (
        "ci: \x1b[32mghp_aB3dE5fG7hJ9\x1b[0mkL2mN4pQ6aB3dE5fG7hJ9kL2 rejected",
        "ci: [REDACTED:github-token] rejected",
    ),
    ("ci: [32mghp_aB3dE5fG7hJ9[0mkL2mN4pQ6aB3dE5fG7hJ9kL2 x", "ci: [REDACTED:github-token] x"),
    # shaped: a secretsdump line's NT hash (the empty LM hash stays)
    (
        "Administrator:500:aad3b435b51404eeaad3b435b51404ee:8846f7eaee8fb117ad06bdd830b7586c:::",
        "Administrator:500:aad3b435b51404eeaad3b435b51404ee:[REDACTED:password-hash]:::",
    ),
    # continued: a CRI partial record cut inside a password; literals joined by + or ||
    (
        "2026-12-06T10:00:00.1Z stdout P connecting with password=Xk7pL2mR\n"
        "2026-12-06T10:00:00.2Z stdout F 9tQwE4rT@db failed",
        "2026-12-06T10:00:00.1Z stdout P connecting with password=[REDACTED:password]\n"
        "2026-12-06T10:00:00.2Z stdout F [REDACTED:password] failed",
    ),
    (
        'token = "ghp_aB3dE5fG7hJ9kL2m" + "N4pQ6aB3dE5fG7hJ9kL2"',
        'token = "[REDACTED:github-token]" + "[REDACTED:github-token]"',
    ),
    (
        "token = 'ghp_aB3dE5fG7hJ9kL2m' + 'N4pQ6aB3dE5fG7hJ9kL2'",
        "token = '[REDACTED:github-token]' + '[REDACTED:github-token]'",
    ),
    # … in single quotes with no name before them, the prefix cut; a variable between them.
    (
        "check('gh' + 'p_aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7hJ9kL2')",
        "check('[REDACTED:github-token]' + '[REDACTED:github-token]')",
    ),
    (
        'f("ghp_aB3dE5fG7hJ9kL2m" + cfg.sep + "N4pQ6aB3dE5fG7hJ9kL2")',
        'f("[REDACTED:github-token]" + cfg.sep + "[REDACTED:github-token]")',
    ),
    (
        "{ 'token' => 'Xk7pL2mR9' + sep() + 'tQwE4rT' }",
        "{ 'token' => '[REDACTED:password]' + sep() + '[REDACTED:password]' }",
    ),
    (
        "k = boto('AKIA' + 'Q3EGRTLX7N2PLM4Z', x)",
        "k = boto('[REDACTED:aws-key]' + '[REDACTED:aws-key]', x)",
    ),
    (
        "pass = 'Xk7pL2mR9tQwE4rT' + sep + ' rest'",
        "pass = '[REDACTED:password]' + sep + '[REDACTED:password]'",
    ),
    (
        "set_config('t', 'ghp_aB3dE5fG7hJ9kL2m' || 'N4pQ6aB3dE5fG7hJ9kL2', false)",
        "set_config('t', '[REDACTED:github-token]' || '[REDACTED:github-token]', false)",
    ),
    # commands and positional: CI masks, password commands, PowerShell, Oracle, registries
    ("+ echo ::add-mask::aB3dE5fG7hJ9kL1mN3pQ5rS7", "+ echo ::add-mask::[REDACTED:password]"),
    (
        "restic --password-command 'echo Xk7pL2mR9tQwE4rT' backup",
        "restic --password-command 'echo [REDACTED:password]' backup",
    ),
    (
        '$password = @"\nXk7pL2mR9tQwE4rT\n"@',
        '$password = [REDACTED:password]"\n[REDACTED:password]\n"@',
    ),
    (
        "CREATE DATABASE LINK s CONNECT TO scott IDENTIFIED BY Xk7pL2mR9tQwE4rT USING 'orcl'",
        "CREATE DATABASE LINK s CONNECT TO scott IDENTIFIED BY [REDACTED:password] USING 'orcl'",
    ),
    (
        "mosquitto_passwd -b /etc/mosquitto/passwd sensor Xk7pL2mR9tQwE4rT",
        "mosquitto_passwd -b /etc/mosquitto/passwd sensor [REDACTED:password]",
    ),
    ("travis encrypt Xk7pL2mR9tQwE4rT --add", "travis encrypt [REDACTED:password] --add"),
    (
        "BUNDLE_GEMS__CORP__COM=ci-bot:aB3dE5fG7hJ9kL1mN3pQ5rS7",
        "BUNDLE_GEMS__CORP__COM=ci-bot:[REDACTED:password]",
    ),
    (
        "composer config -g http-basic.repo.corp.com ci-bot Xk7pL2mR9tQwE4rT",
        "composer config -g http-basic.repo.corp.com ci-bot [REDACTED:password]",
    ),
    (
        '{"github-oauth": {"github.com": "aB3dE5fG7hJ9kL1mN3pQ5rS7"}}',
        '{"github-oauth": {"github.com": "[REDACTED:password]"}}',
    ),
    # web: a CAS ticket in a query (its prefix stays)
    (
        "https://sso.example.com/app?ticket=ST-4-Xk7pL2mR9tQwE4rTZq8v-cas01&x=1",
        "https://sso.example.com/app?ticket=ST-[REDACTED:token]&x=1",
    ),
    # (its prefix's case is CAS's own: a lower-case one is no ticket; swapped, it is one)
    (
        "HTTPS://SSO.EXAMPLE.COM/APP?TICKET=st-4-xK7PL2MR9TQWE4RTzQ8V-CAS01&X=1",
        "HTTPS://SSO.EXAMPLE.COM/APP?TICKET=st-4-xK7PL2MR9TQWE4RTzQ8V-CAS01&X=1",
    ),
    # web: session cookies as a JSON member and as a cookie object (a browser's export)
    (
        '{"PHPSESSID": "a8f5f167f44f4964e6c998dee827110c", "x": 1}',
        '{"PHPSESSID": "[REDACTED:cookie]", "x": 1}',
    ),
    (
        '[{"name": "JSESSIONID", "domain": "shop.example.com", '
        '"value": "a8f5f167f44f4964e6c998dee827110c"}]',
        '[{"name": "JSESSIONID", "domain": "shop.example.com", "value": "[REDACTED:cookie]"}]',
    ),
    # web: a token in Kubernetes' WebSocket subprotocol
    (
        "Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io."
        "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklp-x_Qw9, v4.channel.k8s.io",
        "Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.[REDACTED:token], "
        "v4.channel.k8s.io",
    ),
    # Round 6, structured text (helper 320): a JWK's private member, .NET's XML RSA key,
    # minisign's and signify's secret keys, a title-case label, an OpenStack token under its
    # id, bash's ANSI-C quotes.
    (
        'jwk {"kty": "EC", "crv": "P-256", "d": "' + _run(43) + '"}',
        'jwk {"kty": "EC", "crv": "P-256", "d": "[REDACTED:private-key]"}',
    ),
    (
        f"<RSAKeyValue><Modulus>{_run(24)}</Modulus><Exponent>AQAB</Exponent><D>{_run(36)}</D>",
        f"<RSAKeyValue><Modulus>{_run(24)}</Modulus><Exponent>AQAB</Exponent>"
        "<D>[REDACTED:private-key]</D>",
    ),
    (
        f"untrusted comment: minisign encrypted secret key\nRWRTY0Iy{_run(60)}",
        "untrusted comment: minisign encrypted secret key\n[REDACTED:private-key]",
    ),
    (f"key RWRCSwAAAAA{_run(90)} end", "key [REDACTED:private-key] end"),
    (
        "Secret ID    = 8c1d2e3f-1a2b-4c3d-a4e5-0123456789ab",
        "Secret ID    = [REDACTED:password]",
    ),
    (
        '{"log": "ok\\nSecret ID = 8c1d2e3f-1a2b-4c3d-a4e5-0123456789ab\\nType = client"}',
        '{"log": "ok\\nSecret ID = [REDACTED:password]\\nType = client"}',
    ),
    (f"| id | gAAAAAB{_run(100, URLSAFE)} |", "| id | [REDACTED:token] |"),
    ("export DB_PASSWORD=$'hunter2\\'xyz'", "export DB_PASSWORD=$'[REDACTED:password]'"),
    (
        "POST https://outlook.office.com/webhook/3f1c2b4a-1111-4000-8000-00000000abcd@"
        f"9a8b7c6d-2222-4000-8000-00000000dcba/IncomingWebhook/{_run(32)} 400",
        "POST https://outlook.office.com/webhook/[REDACTED:token] 400",
    ),
    (
        "IDENTIFIED WITH 'mysql_native_password' AS '*7D30366A02402F6D2C62451184813C751B2B3BE6';",
        "IDENTIFIED WITH 'mysql_native_password' AS '[REDACTED:password-hash]';",
    ),
    (
        "importprivkey KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617 done",
        "importprivkey [REDACTED:private-key] done",
    ),
    (f"id.json {list(range(64))}", "id.json [REDACTED:private-key]"),
    ("gpg: passphrase: correct horse battery staple", "gpg: passphrase: [REDACTED:password]"),
    ("Password (again): hunter2xyz", "Password (again): [REDACTED:password]"),
    ("sshpass \\\n  -p hunter2xyz ssh db-1", "sshpass \\\n  -p [REDACTED:password] ssh db-1"),
    ('secret: {:password=>"hunter2xyz"}', 'secret: {:password=>"[REDACTED:password]"}'),
    ("auth: password: <Buffer 68 75 6e> ok", "auth: password: <Buffer [REDACTED:password]> ok"),
    ("creds: password=hunter2xyz", "creds: password=[REDACTED:password]"),
    # Azure's key listings (`az … keys list`: JSON's key1, a storage account's and Cognitive
    # Services' tables), a mail transcript's login (IMAP LOGIN, SASL PLAIN, the answer to
    # AUTH LOGIN's password prompt, XMPP's auth), redis-cli's reply to a read of a secret.
    ('"key1": "4a3baf69dad8199bfca8b6f3a6a9421c"', '"key1": "[REDACTED:azure-key]"'),
    (
        "key1       FULL           Abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=",
        "key1       FULL           [REDACTED:azure-key]",
    ),
    (
        '"x\\nkey1  FULL  Abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG="',
        '"x\\nkey1  FULL  [REDACTED:azure-key]"',
    ),
    (
        "Key1      Key2\n--------  --------\n4a3baf69dad8199bfca8b6f3a6a9421c  9d3baf69dad8199bfca8b6f3a6a94ab1",
        "Key1      Key2\n--------  --------\n[REDACTED:azure-key]  [REDACTED:azure-key]",
    ),
    (
        '"Key1  Key2\\n----  ----\\n4a3baf69dad8199bfca8b6f3a6a9421c  4a3baf69dad8199bfca8b6f3a6a9421c"',
        '"Key1  Key2\\n----  ----\\n[REDACTED:azure-key]  [REDACTED:azure-key]"',
    ),
    ("a001 LOGIN alice Zq7xK9pL2m", "a001 LOGIN alice [REDACTED:password]"),
    ("AUTH PLAIN AGFsaWNlAFpxN3hLOXBMMm0=", "AUTH PLAIN [REDACTED:password]"),
    ("334 UGFzc3dvcmQ6\nWnE3eEs5cEwybQ==", "334 UGFzc3dvcmQ6\n[REDACTED:password]"),
    ('"334 UGFzc3dvcmQ6\\nWnE3eEs5cEwybQ=="', '"334 UGFzc3dvcmQ6\\n[REDACTED:password]"'),
    (
        '<auth mechanism="PLAIN">AGFsaWNlAFpxN3hLOXBMMm0=</auth>',
        '<auth mechanism="PLAIN">[REDACTED:password]</auth>',
    ),
    (
        '127.0.0.1:6379> HGETALL app:config\n1) "db_password"\n2) "Zq7xK9pL2m"',
        '127.0.0.1:6379> HGETALL app:config\n1) "db_password"\n2) "[REDACTED:password]"',
    ),
    (
        '"127.0.0.1:6379> GET app:db:password\\n\\"Zq7xK9pL2m\\""',
        '"127.0.0.1:6379> GET app:db:password\\n\\"[REDACTED:password]\\""',
    ),
    # A `-u` that is no login: a JDBC URL, a container's user and group.
    (
        "beeline -u jdbc:hive2://hive.corp:10000/default -n etl",
        "beeline -u jdbc:hive2://hive.corp:10000/default -n etl",
    ),
    (
        "docker exec -u postgres:postgres db-1 pg_isready",
        "docker exec -u postgres:postgres db-1 pg_isready",
    ),
    # curl's cookie option, read as the Cookie header it sends.
    (
        "curl -sb 'sid=q8Wz3NvR6yHb' https://admin.corp/jobs",
        "curl -sb 'sid=[REDACTED:cookie]' https://admin.corp/jobs",
    ),
    # Argument vectors printed: kubectl describe's Args (raw, inside a JSON string), a list.
    (
        "pod:\n    Args:\n      --db-password\n      Xk7pL2mR9tQw\n    State: Waiting",
        "pod:\n    Args:\n      --db-password\n      [REDACTED:password]\n    State: Waiting",
    ),
    (
        '{"pod": "  Args:\\n    --api-token\\n    Xk7pL2mR9tQw\\n  State: Waiting"}',
        '{"pod": "  Args:\\n    --api-token\\n    [REDACTED:password]\\n  State: Waiting"}',
    ),
    (
        "sys.argv=['w.py', '--api-key', 'Xk7pL2mR9tQw', '-v']",
        "sys.argv=['w.py', '--api-key', '[REDACTED:password]', '-v']",
    ),
    # Name/value pairs: the value first, past a member that is no string, AWS shorthand, logfmt.
    (
        '{"value": "Xk7pL2mR9tQw", "variable": "DB_PASSWORD"}',
        '{"value": "[REDACTED:password]", "variable": "DB_PASSWORD"}',
    ),
    (
        '{"name": "DB_PASSWORD", "slotSetting": false, "value": "Xk7pL2mR9tQw"}',
        '{"name": "DB_PASSWORD", "slotSetting": false, "value": "[REDACTED:password]"}',
    ),
    (
        "--parameters ParameterKey=DBPassword,ParameterValue=Xk7pL2mR9tQw",
        "--parameters ParameterKey=DBPassword,ParameterValue=[REDACTED:password]",
    ),
    (
        "level=info key=db_password value=Xk7pL2mR9tQw",
        "level=info key=db_password value=[REDACTED:password]",
    ),
    # Terraform's sensitive output, a secret type's literal, key-value stores' CLIs.
    (
        '{"admin": {"sensitive": true, "type": "string", "value": "Xk7pL2mR9tQw"}}',
        '{"admin": {"sensitive": true, "type": "string", "value": "[REDACTED:password]"}}',
    ),
    ("key = SecretStr('Xk7pL2mR9tQw')", "key = SecretStr('[REDACTED:password]')"),
    (
        'let key = SecretString::new("Xk7pL2mR9tQw".into());',
        'let key = SecretString::new("[REDACTED:password]".into());',
    ),
    (
        "$ etcdctl get /app/db/password\n/app/db/password\nXk7pL2mR9tQw\n$ ls",
        "$ etcdctl get /app/db/password\n/app/db/password\n[REDACTED:password]\n$ ls",
    ),
    (
        "$ consul kv get app/db/password\nXk7pL2mR9tQw\n$ ls",
        "$ consul kv get app/db/password\n[REDACTED:password]\n$ ls",
    ),
    # SSSD's bind password, a secret's name with an encoding, redis-py's and JAAS's passwords
    # by their place, a value loguru annotates under a secret's name (raw, in a JSON string).
    ("ldap_default_authtok = Xk7pL2mR9tQw", "ldap_default_authtok = [REDACTED:password]"),
    ("secret_hex=586b37704c326d52", "secret_hex=[REDACTED:password]"),
    (
        'cache = redis.Redis("cache", 6379, 0, "Xk7pL2mR9tQw")',
        'cache = redis.Redis("cache", 6379, 0, "[REDACTED:password]")',
    ),
    (
        'PlainLoginModule required user_alice="Xk7pL2mR9tQw";',
        'PlainLoginModule required user_alice="[REDACTED:password]";',
    ),
    (
        "    f(db_password)\n      └ 'Xk7pL2mR9tQw'",
        "    f(db_password)\n      └ '[REDACTED:password]'",
    ),
    (
        '{"trace": "    f(db_password)\\n      └ \'Xk7pL2mR9tQw\'"}',
        '{"trace": "    f(db_password)\\n      └ \'[REDACTED:password]\'"}',
    ),
    # An Erlang tuple's and binary's password, a plist's `<key>` naming its `<string>`, a
    # GraphQL variable bound to a password argument, a value after leader dots.
    ('{password,<<"Xk7pL2mR9tQw">>}', '{password,<<"[REDACTED:password]">>}'),
    (
        "<key>Password</key><string>Xk7pL2mR9tQw</string>",
        "<key>Password</key><string>[REDACTED:password]</string>",
    ),
    (
        '{"query": "m($p: String!) { f(password: $p) }", "variables": {"p": "Xk7pL2mR9tQw"}}',
        '{"query": "m($p: String!) { f(password: $p) }", "variables": {"p": "[REDACTED:password]"}}',
    ),
    ("password........Xk7pL2mR9tQw", "password........[REDACTED:password]"),
    # A secret piped or heredoc'd into a command that stores or asks for it, a secret store's
    # set by place and glued -b, a load tester's basic auth, unixODBC's and ZooKeeper's
    # positional passwords, a CI runner's debug evaluation of a secret (raw, in a JSON string).
    (
        "echo Xk7pL2mR9tQw | npx wrangler secret put API_KEY",
        "echo [REDACTED:password] | npx wrangler secret put API_KEY",
    ),
    (
        "mysql -u root -p <<EOF\nXk7pL2mR9tQw\nselect 1;\nEOF",
        "mysql -u root -p <<EOF\n[REDACTED:password]\nselect 1;\nEOF",
    ),
    (
        '{"log": "mysql -u root -p <<EOF\\nXk7pL2mR9tQw\\nEOF"}',
        '{"log": "mysql -u root -p <<EOF\\n[REDACTED:password]\\nEOF"}',
    ),
    (
        'dotnet user-secrets set "Stripe:Publishable" "Xk7pL2mR9tQw"',
        'dotnet user-secrets set "Stripe:Publishable" "[REDACTED:password]"',
    ),
    (
        "gh secret set DB_PASSWORD -b'Xk7pL2mR9tQw' --repo corp/app",
        "gh secret set DB_PASSWORD -b'[REDACTED:password]' --repo corp/app",
    ),
    (
        "ab -n 10 -A bench:Xk7pL2mR9tQw http://api.corp/",
        "ab -n 10 -A bench:[REDACTED:password] http://api.corp/",
    ),
    ("isql -v MSSQL_PROD sa Xk7pL2mR9tQw", "isql -v MSSQL_PROD sa [REDACTED:password]"),
    ("addauth digest super:Xk7pL2mR9tQw", "addauth digest super:[REDACTED:password]"),
    (
        "##[debug]Evaluating: secrets.API_TOKEN\n##[debug]Result: 'Xk7pL2mR9tQw'",
        "##[debug]Evaluating: secrets.API_TOKEN\n##[debug]Result: '[REDACTED:password]'",
    ),
    (
        '{"log": "##[debug]Evaluating: secrets.API_TOKEN\\n##[debug]Result: \'Xk7pL2mR9tQw\'"}',
        '{"log": "##[debug]Evaluating: secrets.API_TOKEN\\n##[debug]Result: \'[REDACTED:password]\'"}',
    ),
    # cloud: the value an AWS error refused for a secret's member; a Key Vault secret's bundle
    (
        "Value 'Xk7pL2mR9tQwE4rT' at 'value' failed to satisfy constraint: Member must",
        "Value '[REDACTED:password]' at 'value' failed to satisfy constraint: Member must",
    ),
    (
        "parameter value Xk7pL2mR9tQwE4rT for parameter name DbPassword does not exist",
        "parameter value [REDACTED:password] for parameter name DbPassword does not exist",
    ),
    (
        "Invalid type for parameter Value, value: b'Xk7pL2mR9tQwE4rT', type: <class 'bytes'>",
        "Invalid type for parameter Value, value: [REDACTED:password], type: <class 'bytes'>",
    ),
    (
        '{"id": "https://kv-prod.vault.azure.net/secrets/app/1", "value": "Xk7pL2mR9tQwE4rT"}',
        '{"id": "https://kv-prod.vault.azure.net/secrets/app/1", "value": "[REDACTED:password]"}',
    ),
    (
        '{"value": "Xk7pL2mR9tQwE4rT", "id": "https://kv-prod.vault.azure.net/secrets/app/1"}',
        '{"value": "[REDACTED:password]", "id": "https://kv-prod.vault.azure.net/secrets/app/1"}',
    ),
    (
        "id: https://kv-prod.vault.azure.net/secrets/app/1\nname: app\nvalue: Xk7pL2mR9tQwE4rT",
        "id: https://kv-prod.vault.azure.net/secrets/app/1\nname: app\nvalue: [REDACTED:password]",
    ),
    # tokens: MySQL's native hash where Puppet's mysql_user sets it
    (
        "Mysql_user[app@%]/password_hash: changed '' to '*7D30366A02402F6D2C62451184813C751B2B3BE6'",
        "Mysql_user[app@%]/password_hash: changed '' to '[REDACTED:password-hash]'",
    ),
    # web: a DSN's authority whose port was never filled in; SAML and CSRF form tokens
    (
        "Failed to parse: 'app:Xk7pL2mR9tQwE4rT@db:${PORT}'",
        "Failed to parse: 'app:[REDACTED:password]@db:${PORT}'",
    ),
    (
        "SAMLResponse=PHNhbWxwOlJlc3BvbnNl&RelayState=%2F",
        "SAMLResponse=[REDACTED:token]&RelayState=%2F",
    ),
    (
        "<QueryDict: {'csrfmiddlewaretoken': ['Xk7pL2mR9tQwE4rT']}>",
        "<QueryDict: {'csrfmiddlewaretoken': ['[REDACTED:token]']}>",
    ),
    (
        '<input name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNl">',
        '<input name="SAMLResponse" value="[REDACTED:token]">',
    ),
    (
        "<input value='Xk7pL2mR9tQwE4rT' name='_csrf'>",
        "<input value='[REDACTED:token]' name='_csrf'>",
    ),
    ('"app" "md5c3c4f5d2e1a0b9c8d7e6f5a4b3c2d1e0"', '"app" "[REDACTED:password-hash]"'),
    (
        "app | SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9v"
        "YmFyYmE=:YmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm8=",
        "app | [REDACTED:password-hash]",
    ),
    (
        "radtest alice Xk7pL2mR9tQwE4rT 127.0.0.1 0 testing123",
        "radtest alice [REDACTED:password] 127.0.0.1 0 [REDACTED:password]",
    ),
    (
        "grub.pbkdf2.sha512.10000.0123456789ABCDEF0123456789ABCDEF.FEDCBA9876543210FEDCBA98765432"
        "10",
        "[REDACTED:password-hash]",
    ),
    (
        "$krb5asrep$23$alice:0123456789abcdef0123456789abcdef$aabbccddeeff0011223344556677889",
        "[REDACTED:password-hash]",
    ),
    (
        "alice::CORP:1122334455667788:8A1B2C3D4E5F60718293A4B5C6D7E8F9:0101000000000000C0653150",
        "alice::CORP:[REDACTED:password-hash]",
    ),
    (
        '{"password_hash": "aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7hJ9kL2mN4pQ6="}',
        '{"password_hash": "[REDACTED:password-hash]"}',
    ),
    (
        "POST https://chat.corp/hooks/xqk7p2mr9tqwe4rt8abc1def2g 503",
        "POST https://chat.corp/hooks/[REDACTED:token] 503",
    ),
    (
        "nsupdate -y hmac-sha256:xfer:R3HI8P6BKw9ZwXwN3VZKuQ7pL2vT9kW8rB5nC6dA4sE= /tmp/u",
        "nsupdate -y hmac-sha256:xfer:[REDACTED:password] /tmp/u",
    ),
    (
        "[ProxyList]\nhttp 10.0.0.1 3128 ops Xk7pL2mR9tQwE4rT",
        "[ProxyList]\nhttp 10.0.0.1 3128 ops [REDACTED:password]",
    ),
    (
        '{"data": "WGs3cEwybVI5dFF3RTRyVA==", "dataCrc32c": "2871913124"}',
        '{"data": "[REDACTED:password]", "dataCrc32c": "2871913124"}',
    ),
    (
        '{"dataCrc32c": "2871913124", "data": "WGs3cEwybVI5dFF3RTRyVA=="}',
        '{"dataCrc32c": "2871913124", "data": "[REDACTED:password]"}',
    ),
    (
        '"type": "random_password", "result": "Xk7pL2mR9tQwE4rT"',
        '"type": "random_password", "result": "[REDACTED:password]"',
    ),
    ("# /etc/ntp.keys\n1 M Xk7pL2mR9tQwE4rT", "# /etc/ntp.keys\n1 M [REDACTED:password]"),
    (
        "*2\r\n$4\r\nAUTH\r\n$16\r\nXk7pL2mR9tQwE4rT\r\n",
        "*2\r\n$4\r\nAUTH\r\n$16\r\n[REDACTED:password]\r\n",
    ),
    (
        "https://mega.nz/file/AbCdEfGh#Qx7Kp2mR9tQwE4rTyU3iO8pAsDfGhJkL1zXcVbNm0",
        "https://mega.nz/file/AbCdEfGh#[REDACTED:token]",
    ),
    (
        "keytab BQIAAABNAAIADENPUlAuRVhBTVBMRQAESFRUUAAId2ViLmNvcnAAAAABZVPxAAMAEgAgBwgJCgsMDQ4PEBES"
        "ExQVFhcYGRobHB0eHyAhIiMkJSY=",
        "keytab [REDACTED:private-key]",
    ),
    (".logon tdprod/etl,Xk7pL2mR9tQwE4rT;", ".logon tdprod/etl,[REDACTED:password];"),
    (
        "curl --oauth2-bearer Xk7pL2mR9tQw https://a.example.com",
        "curl --oauth2-bearer [REDACTED:password] https://a.example.com",
    ),
    ("p4 -u ci -P Xk7pL2mR9tQwE4rT sync", "p4 -u ci -P [REDACTED:password] sync"),
    ("  wpa-psk Xk7pL2mR9tQwE4rT", "  wpa-psk [REDACTED:password]"),
    ("cbq -u app -p Xk7pL2mR9tQwE4rT", "cbq -u app -p [REDACTED:password]"),
    ("couchbase-cli -u a -p Xk7pL2mR9tQwE4rT", "couchbase-cli -u a -p [REDACTED:password]"),
    ("vmrun -gu a -gp Xk7pL2mR9tQwE4rT list", "vmrun -gu a -gp [REDACTED:password] list"),
    ("sendEmail -xu a -xp Xk7pL2mR9tQwE4rT", "sendEmail -xu a -xp [REDACTED:password]"),
    ("gobuster dir -U a -P Xk7pL2mR9tQwE4rT", "gobuster dir -U a -P [REDACTED:password]"),
    ("remotepass = Xk7pL2mR9tQwE4rT", "remotepass = [REDACTED:password]"),
    ("nikto -h web -id a:Xk7pL2mR9tQwE4rT", "nikto -h web -id a:[REDACTED:password]"),
    ("wfuzz --basic a:Xk7pL2mR9tQwE4rT", "wfuzz --basic a:[REDACTED:password]"),
    ("passwordeval 'echo Xk7pL2mR9tQwE4rT'", "passwordeval 'echo [REDACTED:password]'"),
    (
        "rclone config create r s3 secret_access_key Xk7pL2mR9tQwE4rT",
        "rclone config create r s3 secret_access_key [REDACTED:password]",
    ),
    ("set snmp community Xk7pL2mR9tQwE4rT", "set snmp community [REDACTED:password]"),
    ("chap-secret Xk7pL2mR9tQwE4rT", "chap-secret [REDACTED:password]"),
    ("privkey 0x" + "4c0883a6" * 8, "privkey [REDACTED:password]"),
    ("-object secret,id=s,data=Xk7pL2mR9tQwE4rT", "-object secret,id=s,data=[REDACTED:password]"),
    ("consul agent -encrypt Xk7pL2mR9tQwE4rT", "consul agent -encrypt [REDACTED:password]"),
    ("ejabberdctl register a b Xk7pL2mR9tQwE4rT", "ejabberdctl register a b [REDACTED:password]"),
    ("yes Xk7pL2mR9tQwE4rT | passwd bob", "yes [REDACTED:password] | passwd bob"),
    ("$ consul keygen\nXk7pL2mR9tQwE4rT\n", "$ consul keygen\n[REDACTED:password]\n"),
    ("- --api-key\n- Xk7pL2mR9tQwE4rT", "- --api-key\n- [REDACTED:password]"),
    ('"- --api-key\\n- Xk7pL2mR9tQwE4rT"', '"- --api-key\\n- [REDACTED:password]"'),
    (
        "glab variable set TOKEN -v Xk7pL2mR9tQwE4rT",
        "glab variable set TOKEN -v [REDACTED:password]",
    ),
    (
        "SET PASSWORD FROM 'a' TO 'b'",
        "SET PASSWORD FROM '[REDACTED:password]' TO '[REDACTED:password]'",
    ),
    ("CREATE SECRET (SECRET 'Xk7pL2mR9tQwE4rT')", "CREATE SECRET (SECRET '[REDACTED:password]')"),
    (
        "s3('https://b/x', 'k', 'Xk7pL2mR9tQwE4rT')",
        "s3('https://b/x', 'k', '[REDACTED:password]')",
    ),
    ("hash.sh -p Xk7pL2mR9tQwE4rT", "hash.sh -p [REDACTED:password]"),
    ("lego --hmac Xk7pL2mR9tQwE4rT", "lego --hmac [REDACTED:password]"),
    ("altool -u a -p Xk7pL2mR9tQwE4rT", "altool -u a -p [REDACTED:password]"),
    ("set-item env:API_TOKEN Xk7pL2mR9tQwE4rT", "set-item env:API_TOKEN [REDACTED:password]"),
    ("autologon bob CORP Xk7pL2mR9tQwE4rT", "autologon bob CORP [REDACTED:password]"),
    ("wpa_cli set_network 0 psk Xk7pL2mR9tQwE4rT", "wpa_cli set_network 0 psk [REDACTED:password]"),
    ("$ k3s token create\nq8r2kz.vxu7dhn4ld7dmm5a\n", "$ k3s token create\n[REDACTED:password]\n"),
    # Round 12 (helper 421)
    (
        "(echo Xk7pL2mR9tQwE4rT; echo Xk7pL2mR9tQwE4rT) | passwd",
        "(echo [REDACTED:password]; echo [REDACTED:password]) | passwd",
    ),
    ("set psksecret-remote Xk7pL2mR9tQwE4rT", "set psksecret-remote [REDACTED:password]"),
    ("id AKIA IOSF ODNN 7EXA MPLE.", "id [REDACTED:aws-key]."),
    ("pat ghp_ " + "aB3" * 12 + " ok", "pat [REDACTED:github-token] ok"),
    ("fly secrets set CONF=Xk7pL2mR9tQwE4rT", "fly secrets set CONF=[REDACTED:password]"),
    (
        "--auth-user-pass <(printf 'bob\\nXk7pL2mR9tQwE4rT')",
        "--auth-user-pass <(printf 'bob\\n[REDACTED:password]')",
    ),
    (
        "fs.azure.account.key.a.dfs.core.windows.net=Xk7pL2mR9tQwE4rT",
        "fs.azure.account.key.a.dfs.core.windows.net=[REDACTED:password]",
    ),
    (
        "--secure-environment-variables A=Xk7pL2mR9tQwE4rT",
        "--secure-environment-variables A=[REDACTED:password]",
    ),
    # Round 13 (helper 437)
    ("VICTOROPS_KEY=Xk7pL2mR9tQwE4rT", "VICTOROPS_KEY=[REDACTED:password]"),
    ("heroku config:set A=Xk7pL2mR9tQwE4rT", "heroku config:set A=[REDACTED:password]"),
    (
        "appsettings set --settings A=Xk7pL2mR9tQwE4rT",
        "appsettings set --settings A=[REDACTED:password]",
    ),
    ("netlify env:set A Xk7pL2mR9tQwE4rT", "netlify env:set A [REDACTED:password]"),
    ("? What's the value of A? Xk7pL2mR9tQwE4rT", "? What's the value of A? [REDACTED:password]"),
    ("$ vercel env add A\nXk7pL2mR9tQwE4rT\n", "$ vercel env add A\n[REDACTED:password]\n"),
    ("echo Xk7pL2mR9tQwE4rT | vercel env add A", "echo [REDACTED:password] | vercel env add A"),
    ("https://h/a?key=q7Wz2Lk9Xa", "https://h/a?key=[REDACTED:password]"),
    (
        'auth = HTTPBasicAuth("u", "Xk7pL2mR9tQwE4rT")',
        'auth = HTTPBasicAuth("u", "[REDACTED:password]")',
    ),
    ("setCredentials(`u`, `Xk7pL2mR9tQwE4rT`)", "setCredentials(`u`, `[REDACTED:password]`)"),
    ("--from-literal=A=Xk7pL2mR9tQwE4rT", "--from-literal=A=[REDACTED:password]"),
    ("eb setenv A=Xk7pL2mR9tQwE4rT", "eb setenv A=[REDACTED:password]"),
    (
        "--set-env-vars A=Xk7pL2mR9tQwE4rT,B=x",
        "--set-env-vars A=[REDACTED:password],B=[REDACTED:password]",
    ),
    ("cf set-env app A Xk7pL2mR9tQwE4rT", "cf set-env app A [REDACTED:password]"),
    (
        "proxy_set_header X-Api-Key Xk7pL2mR9tQwE4rT;",
        "proxy_set_header X-Api-Key [REDACTED:password];",
    ),
    ("redis://q7Wz2Lk9Xa@r:6379", "redis://[REDACTED:token]@r:6379"),
    (
        'AuthenticationHeaderValue("Basic", "Xk7pL2mR9tQwE4rT")',
        'AuthenticationHeaderValue("Basic", "[REDACTED:password]")',
    ),
    (
        "curl_setopt($c, CURLOPT_PASSWORD, 'Xk7pL2mR9tQwE4rT')",
        "curl_setopt($c, CURLOPT_PASSWORD, '[REDACTED:password]')",
    ),
    ('var token string = "Xk7pL2mR9tQwE4rT"', 'var token string = "[REDACTED:password]"'),
    # Round 14 (helper 450)
    ('api_key "q7Wz2Lk9Xa";', 'api_key "[REDACTED:password]";'),
    ('SecretString "hunter2x"', 'SecretString "[REDACTED:password]"'),
    ("STRIPE_KEY=q7Wz2Lk9Xa", "STRIPE_KEY=[REDACTED:password]"),
    ("PGPASS=hunter2x", "PGPASS=[REDACTED:password]"),
    ('setAuth("u", "hunter2x")', 'setAuth("u", "[REDACTED:password]")'),
    ("login ('u', 'hunter2x')", "login ('u', '[REDACTED:password]')"),
    ("new Sequelize('d', 'u', 'hunter2x')", "new Sequelize('d', 'u', '[REDACTED:password]')"),
    (
        "(item={'key': 'db_password', 'value': 'hunter2x'})",
        "(item={'key': 'db_password', 'value': '[REDACTED:password]'})",
    ),
    # Round 15 (helper 454)
    ("+  where 'hunter2x' = s.DB_PASSWORD", "+  where '[REDACTED:password]' = s.DB_PASSWORD"),
    ('{Password:"hunter2x", DB:0}', '{Password:"[REDACTED:password]", DB:0}'),
    ("login  ('u', 'hunter2x')", "login  ('u', '[REDACTED:password]')"),
    ("Redis\t('h', 1, 0, 'hunter2x')", "Redis\t('h', 1, 0, '[REDACTED:password]')"),
    ('-e "db_pass=hunter2x env=prod"', '-e "db_pass=[REDACTED:password] env=prod"'),
    ("-e 'db_pass=hunter2x env=prod'", "-e 'db_pass=[REDACTED:password] env=prod'"),
    ("{auth: 'svc:hunter2x'}", "{auth: 'svc:[REDACTED:password]'}"),
    ("printf 'password=%s' hunter2x", "printf 'password=%s' [REDACTED:password]"),
    (
        "MAC signature found in the HTTP request 'q7Wz2Lk9XaQ2mZp7Lw4R='",
        "MAC signature found in the HTTP request '[REDACTED:azure-sas]'",
    ),
    (
        'nonce="a", response="6629fae49393a05397450978507c4ef1"',
        'nonce="a", response="[REDACTED:password-hash]"',
    ),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.\n  eyJzdWIiOiIxIn0.\n  Sfl5xwRJSMeKKF2QT4fw",
        "jwt [REDACTED:jwt]",
    ),
    (
        "$ buildkite-agent secret get x\nhunter2x",
        "$ buildkite-agent secret get x\n[REDACTED:password]",
    ),
    (
        "$ pulumi config get dbPassword\nhunter2x",
        "$ pulumi config get dbPassword\n[REDACTED:password]",
    ),
    (
        "error: 0.48b4774c-68de-4c46-b9c2-ae7b0130c8c1.C2IgxjjLF7qSshsbwe8JGcbM075YXw"
        ":X8vbvA0bduihIDe/qrzIQQ==",
        "error: 0.48b4774c-68de-4c46-b9c2-ae7b0130c8c1.[REDACTED:token]",
    ),
    (
        "[... cut]\nNew value: 8HEeaM*-bLpTuJQ2nRbB",
        "[... cut]\nNew value: [REDACTED:password]",
    ),
    (
        "key AGE-SECRET-KEY-1GYS8LU7CDXLPCMQU3WX5PPPQCDMPWULWK\nWWAJP6XTJ84MVNJLEZ70E6THH",
        "key [REDACTED:token]",
    ),
    ('echo "password:" "q7Wz2Lk9Xa_Rt5"', 'echo "password:" "[REDACTED:password]"'),
    # A JWT's claims and signature logged apart from its header, a cookie header as a list,
    # an INI value's indented line below a secret's (the pair rule's placeholder above it).
    (
        '{"payload": "eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"}',
        '{"payload": "[REDACTED:jwt]"}',
    ),
    ('"Set-Cookie": ["sid=Xk7pQ2vR9mT4wZ8bCdEf; Path=/"]', '"Set-Cookie": ["[REDACTED:cookie]"]'),
    (
        "password = [REDACTED:password]\n\tSecret99",
        "password = [REDACTED:password]\n\t[REDACTED:password]",
    ),
    # A JWT's three parts as three fields (round 21): claims and signature go, header stays.
    (
        '{"h": "eyJhbGciOiJIUzI1NiJ9", "p": "eyJzdWIiOiIxMjM0In0", '
        '"s": "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"}',
        '{"h": "eyJhbGciOiJIUzI1NiJ9", "p": "[REDACTED:jwt]", "s": "[REDACTED:jwt]"}',
    ),
    # A password by its place in a printed value with no names (round 25).
    ("DbCredentials(app,hunter2x,db:5432)", "DbCredentials(app,[REDACTED:password],db:5432)"),
    # A signing key by its place in a JWT library's call (round 25).
    (
        'jwt.decode(tok, "Xk9q2LmZ7w", algorithms=["HS256"])',
        'jwt.decode(tok, "[REDACTED:password]", algorithms=["HS256"])',
    ),
    # A vendor's token and a DSN cut at a limit with no "…" (round 26).
    ("from glptt-96f1db2fc3c: to ok", "from [REDACTED:token]: to ok"),
    ("from Notion ntn_84058566: ok", "from Notion [REDACTED:token]: ok"),
    ("from postgres://app:Xk9q2LmZ7wPq: ok", "from postgres://app:[REDACTED:password]: ok"),
]


#: The one-line cases run as a few items each (tests/case_chunks.py): as ~1,000 items they
#: cost pytest more CPU than their checks do.
CASE_CHUNKS = 3


@pytest.mark.parametrize("cases", dealt(CASES, CASE_CHUNKS))
def test_each_secret_shape_gets_its_placeholder(cases: list[tuple[str, str]]) -> None:
    """Every documented secret shape is replaced by its typed placeholder, and only it."""
    assert_each(cases, lambda case: (redact(case[0]), case[1]))


@pytest.mark.parametrize("cases", dealt(CASES, CASE_CHUNKS))
def test_redacting_twice_changes_nothing(cases: list[tuple[str, str]]) -> None:
    """A placeholder is never mistaken for a secret, so redacted text redacts to itself."""
    assert_each(cases, lambda case: (redact(case[1]), case[1]))


KEEP = [
    # A path after such a segment that is an id, a word or a title, not a token.
    "https://app.example.com/invite/42 and https://api.example.com/token/refresh",
    "see https://docs.example.com/reset/ResetYourPassword2024Guide",
    "https://app.example.com/unsubscribe/newsletter-weekly-digest-2024",
    "sha 3f786850e387550fdab836ed7e6dc881de23001b",  # a git sha: lower-case hex
    # A git remote's user is no person's address (scp-style and ssh:// URLs).
    "clone of git@github.com:acme/api.git failed",
    "fetch ssh://git@gitlab.example.com/acme/api.git: timeout",
    "request 123e4567-e89b-12d3-a456-426614174000 failed",
    "token validation failed for the bearer of bad news",
    "https://grafana.example.com/d/abc?orgId=1&from=now-1h",
    "CPUUtilization > 80 for 5 datapoints within 5 minutes",
    "@org/team please look; 东京 region 🔥 مرحبا",
    "arn:aws:sqs:us-east-1:123456789012:alerts",
    "the password was rotated yesterday",
    "max_tokens=1000 token_count=5 password_policy=strict SECRET_NAME=prod/db",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
    "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db_password",
    "instance i-0abc123def4567890 stopped in eu-west-1",
    "signal=3 design=foo assign=bar ?signal=abcdefabcdefabcdefabcdef",
    "b64 aGVsbG8gd29ybGQgdGhpcyBpcyBmaW5l",  # base64 of prose, under 40 characters
    "sha256 " + _run(64, HEX),
    "etag 9b2cf535f27731c974343645a3985328",
    "TWILIO_ACCOUNT_SID=AC" + _run(32, HEX),  # an account id, not a secret
    "pk_live_" + _run(24),  # a publishable key is public by design
    "progress 100% done, 50%off, %zz",
    "see https://docs.example.com/a%20b?x=1%2C2&next=%2Fhome",
    "disk-usage-above-threshold-for-task-management-service",
    "high throughput on the global load balancer; glance at the graph",
    "2026-11-23T10:00:12.845+0000 ALARM orders-api-p99-latency",
    "hf_transfer enabled, sk-learn installed, npm_config_cache set",
    "user@localhost",
    "Cookie consent banner fails to load; Authorization failed for user bob",
    "Authorization header missing on /api/orders",
    "glc_x lin_api_docs NRAK-123 dapi_config_loaded_successfully pul-request hvs.example",
    # Not card numbers: a bad check digit, an epoch in microseconds, 19 digits, loose digits,
    # a version, an IP address
    "4111111111111112 1764000000000000 4111111111111111111 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
    "v4111111111111111.2 4.111.111.111 41111111111111110",
    # Near the new rules: a port, a path with @, a flag without a value, prose
    "https://registry.example.com:443/@scope/pkg http://host:8080/a@b",
    "run with --password-file /etc/pw --token-ttl 5 -u 1000",
    "passed=12 bypass=on compass: north the tests pass: 5",
    "see ?signature-algorithm=x and eye.key new",
    "the pass rate dropped; pass=142 pass=true pass: yes pass=passed pass_rate=0.98",
    "bypass=Xk9vQ2mLp4 compass: Xk9vQ2mLp4 pass rate: Xk9vQ2mLp4",
    "port\n  Input should be a valid integer [type=int_parsing, input_value='abc', input_type=str]",
    # A certificate, a public key (SPKI, then PKCS #1), an SSH public key
    "description: |\n  the password was rotated\n  see runbook",
    "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ",
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops",
    "\uff32\uff45\uff47\uff49\uff4f\uff4e\uff1a\u6771\u4eac\u3001\uff23\uff30\uff35\u3000\uff19\uff10\uff05 &amp; rising",
    "\u041f\u0430\u0440\u043e\u043b\u044c \u0438\u0437\u043c\u0435\u043d\u0451\u043d; pass rate &gt; 90%, key=value &lt;b&gt; &#61;",
    "caf\u00e9 na\u00efve \ufb01le \u00bd \u03c4\u03bf\u03ba\u03b5\u03bd: \u03b1\u03b2\u03b3",
    "password_policy\n  Input should be 'a' [type=enum, input_value='strict', input_type=str]",
    "    Property: server.port\n    Value: 80x\n    Origin: env",
    '<add key="Port" value="5432"/> <entry key="db.host">db</entry> <param name="x" value="y">',
    "ssh://git@host/x postgres://app@db/x http://user@host amqp://Deploy2024@rabbit:5672",
    "GOCSPX-short LTAIL AKIDS abc8Q~x Q~ LTAI_config AKID-1234",
    "PWD=/srv/app pwd: /home/ubuntu OLDPWD=/tmp",
    'export PWD="/srv/app"; {"PWD": "/var/lib/app-1.2/x"} cwd=/x',
    "password: ${{ secrets.DB_PASSWORD }}",
    "password: {{ .Values.db.password }}",
    "password=$DB_PASSWORD token=$token",
    "password: ${DB_PASSWORD}",
    "password=%s",
    "password=%(pw)s",
    'DB_PASSWORD: "${{ secrets.DB_PASSWORD }}"\n{"password": "{{ .Values.pw | b64enc }}"}',
    "password: ${DB_PASSWORD:-}",
    "password: {{ pw | default(other) }}",
    '<add value="5432" key="Port"/> <add key="Port" xdt:Transform="Replace" value="5432"/>',
    '<add key="Password" type="x"/> <item value="v1">password</item> <a value="b" keyname="pwd">',
    '<add value="v" key="Port"> key="password" value="x"',
    "http://user@host.example.com/path ftp://anonymous@ftp.example.org:21/pub",
    "see https://first.last@gitlab.example.com. (ssh://deploy@10.0.0.1 too)",
    '<meta name="description" content="Orders API p99 above 2s"> <meta name="viewport" content="width=1">',
    # Near the URL rules: a status or exit code, an error code, an object key, an anchor, a
    # pass number, a 20-hex run that is all letters; near the glued AWS key: upper-case hex
    # after 0x, a longer upper-case run, a digit before it.
    "HTTP code=200 exit code=1 ?code=200&code=E1234&code=InvalidParameterValue",
    "https://s3.example.com/b?x=1&key=logs/app.log&key=reports/Q3/Summary2024.pdf",
    "https://docs.example.com/a#section=install ?pass=2&pass=true&pass=passed #code=abcdefabcdefabcdefab",
    "0xACCA2345ABCDEF234567 XAKIAIOSFODNN7EXAMPLE 1AKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX",
    'path C:\\new\\temp "a\\nline" \\tab',
    # Near a .pgpass line: a time's fields, a compiler's position, a MAC address, an IPv6 one.
    "10:42:17:123:INFO worker started\nmain.go:12:3: undefined: x\n00:1a:2b:3c:4d:5e\nfe80::1:2:3",
]


@pytest.mark.parametrize("texts", dealt(KEEP, CASE_CHUNKS))
def test_ordinary_text_is_left_alone(texts: list[str]) -> None:
    """Hashes, ids, ARNs, plain URLs, mentions and prose with secret-like words are not secrets."""
    assert_each(texts, lambda text: (redact(text), text), name="text")


def test_a_redacted_url_stays_a_url() -> None:
    """A percent-encoded token is re-encoded after redaction: one token, same host and query."""
    url = "https://x.example.com/cb?state=%7B%22token%22%3A%22abc%20def%22%7D&q=1"
    redacted = redact(f"see {url} now")
    link = redacted.split()[1]
    assert redacted == f"see {link} now"
    assert urlsplit(link).netloc == "x.example.com"
    assert parse_qs(urlsplit(link).query)["q"] == ["1"]
    assert unquote(link).endswith('state={"token":"[REDACTED:password]"}&q=1')


def test_json_values_under_secret_keys_are_blanked() -> None:
    """Values under keys named like password/token/api-key go, whatever they look like."""
    value = {
        "password": "x",
        "db": {"API-Key": "zzz", "url": "mysql://u:p@h/db", "port": 5432},
        "headers": [{"Authorization": "whatever"}],
        "token": None,
    }
    assert Redactor().value(value) == {
        "password": "[REDACTED:password]",
        "db": {
            "API-Key": "[REDACTED:password]",
            "url": "mysql://u:[REDACTED:password]@h/db",
            "port": 5432,
        },
        "headers": [{"Authorization": "[REDACTED:password]"}],
        "token": None,
    }


def test_name_value_pairs_named_like_a_secret_are_blanked() -> None:
    """Sentry sends request headers, cookies and tags as [name, value] lists: a pair whose name
    says secret loses its value; other pairs and longer lists are redacted as text only."""
    request = {
        "headers": [
            ["Cookie", "sessionid=" + _run(24)],
            ["Authorization", "Token " + _run(20)],
            ["X-Api-Key", _run(20)],
            ["Accept", "text/html"],
        ],
        "cookies": [["sessionid", _run(24)]],
        "tags": [["level", "error"], ["password-reset", "ui"], ["a", "b", "c"]],
    }
    assert Redactor().value(request) == {
        "headers": [
            ["Cookie", "[REDACTED:password]"],
            ["Authorization", "[REDACTED:password]"],
            ["X-Api-Key", "[REDACTED:password]"],
            ["Accept", "text/html"],
        ],
        "cookies": "[REDACTED:password]",
        "tags": [["level", "error"], ["password-reset", "ui"], ["a", "b", "c"]],
    }


def test_name_value_objects_named_like_a_secret_are_blanked() -> None:
    """Kubernetes env entries and Sentry's tags as objects hold the secret's name in a value:
    {"name": "DB_PASSWORD", "value": …} loses its value; other name/value objects keep theirs."""
    payload = {
        "env": [{"name": "DB_PASSWORD", "value": "hunter2xyz"}, {"name": "TZ", "value": "UTC"}],
        "tags": [{"key": "api_key", "value": "abcd1234efgh"}, {"key": "env", "value": "prod"}],
        "Attributes": [{"Name": "ClientSecret", "Value": "s3cr3tv4lue"}],
    }
    assert Redactor().value(payload) == {
        "env": [
            {"name": "DB_PASSWORD", "value": "[REDACTED:password]"},
            {"name": "TZ", "value": "UTC"},
        ],
        "tags": [
            {"key": "api_key", "value": "[REDACTED:password]"},
            {"key": "env", "value": "prod"},
        ],
        "Attributes": [{"Name": "ClientSecret", "Value": "[REDACTED:password]"}],
    }


def test_json_values_follow_the_text_rules_exceptions() -> None:
    """Under a secret-named key, the two values the text rules keep stay too: a bare pwd's
    absolute path (the working directory) and a value that is wholly a template's placeholder
    with no literal. Anything else under such a key is blanked, as `name=value` text is."""
    value = {
        "PWD": "/srv/app",
        "pwd": "/home/ubuntu",
        "password": "${{ secrets.DB_PASSWORD }}",
        "token": "{{ .Values.token }}",
        "api_key": "${API_KEY}",
        "secret": "$SECRET",
        "DB_PASSWORD": "%s",
        "env": [{"name": "DB_PASSWORD", "value": "${DB_PASSWORD}"}],
        "pair": ["X-Api-Key", "$API_KEY"],
        # Still blanked: a pwd that is no path or not bare, a placeholder with a literal.
        "Pwd": "hunter2",
        "db_pwd": "/x",
        "_pwd": "/x",
        "passwd": "/etc/x",
        "client_secret": "${SECRET:-hunter2}",
        "auth_token": "{{ pw | default('hunter2') }}",
        "pw_secret": "$Tr0ngPa55",
        "api-key": "hunter2",
    }
    redacted = Redactor().value(value)
    kept = ["PWD", "pwd", "password", "token", "api_key", "secret", "DB_PASSWORD", "env", "pair"]
    assert {k: redacted[k] for k in kept} == {k: value[k] for k in kept}
    assert {k: v for k, v in redacted.items() if k not in kept} == {
        k: "[REDACTED:password]" for k in value if k not in kept
    }
    # The text rules give the same answer for each string (a placeholder with a literal aside:
    # as text it keeps its variable and loses only the literal).
    for key, text in value.items():
        if isinstance(text, str) and key not in ("client_secret", "auth_token"):
            assert (redact(f"{key}={text}") == f"{key}={text}") == (key in kept), key


def test_json_keys_are_redacted_as_text() -> None:
    """A payload can use a secret as an object's key: keys go through the same rules as values."""
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    redacted = Redactor().value({"seen": {key: 1, "password=hunter2xyz": 2, "host": 3}})
    assert redacted == {
        "seen": {"[REDACTED:aws-key]": 1, "password=[REDACTED:password]": 2, "host": 3}
    }


@pytest.mark.parametrize(
    "hidden", ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200d", "\u202e", "\ue000"]
)
def test_a_secret_split_by_an_invisible_character_is_still_redacted(hidden: str) -> None:
    """Zero-width, soft-hyphen, bidi and private-use characters are dropped before the rules
    run: a sink that drops them later (GitHub's markdown does) cannot rebuild the secret."""
    key = "AKIA" + hidden + "IOSFODNN7EXAMPLE"
    out = Redactor().text(f"key {key} and pass{hidden}word=hunter2xyz")
    assert out == "key [REDACTED:aws-key] and password=[REDACTED:password]"
    assert Redactor().text("tabs\tand\nlines, émoji 🔥 and ünïcode stay") == (
        "tabs\tand\nlines, émoji 🔥 and ünïcode stay"
    )


def test_json_keys_ending_in_a_secret_word_are_blanked() -> None:
    """`DB_PASSWORD`, `x-api-key`, `clientSecret` hide their values; `token_count` does not."""
    value = {
        "DB_PASSWORD": "x",
        "x-api-key": "k",
        "clientSecret": "s",
        "GITHUB_TOKEN": "t",
        "aws.secret.key": "a",
        "token_count": 5,
        "max_tokens": 10,
        "password_policy": "strict",
        "SecretName": "prod/db",
    }
    assert Redactor().value(value) == {
        "DB_PASSWORD": "[REDACTED:password]",
        "x-api-key": "[REDACTED:password]",
        "clientSecret": "[REDACTED:password]",
        "GITHUB_TOKEN": "[REDACTED:password]",
        "aws.secret.key": "[REDACTED:password]",
        "token_count": 5,
        "max_tokens": 10,
        "password_policy": "strict",
        "SecretName": "prod/db",
    }


def test_known_credentials_are_redacted_by_exact_value() -> None:
    """A credential the process holds is redacted wherever it appears, even in odd shapes."""
    secrets = ["tok-9f8e7d6c"]
    redactor = Redactor(lambda: secrets)
    assert redactor.text("header was tok-9f8e7d6c!") == "header was [REDACTED:credential]!"
    secrets[0] = "rotated-0a1b2c"  # asked on every call: a rotated token is covered at once
    assert redactor.text("now rotated-0a1b2c") == "now [REDACTED:credential]"


def test_held_credentials_are_redacted_by_every_redactor() -> None:
    """After hold(), DEFAULT and any Redactor redact the value, raw or percent-encoded."""
    secret = "tok/9f8e+7d6c="
    hold(secret)
    encoded = quote(secret, safe="")
    for redactor in (DEFAULT, Redactor(lambda: ["other-credential"])):
        assert redactor.text(f"h {secret} x") == "h [REDACTED:credential] x"
        assert redactor.text(f"h {encoded} x") == "h [REDACTED:credential] x"
        assert redactor.text(f"?t={encoded.lower()}&a=1") == "?t=[REDACTED:credential]&a=1"
        assert redactor.text(f"?t={quote(encoded, safe='')}") == "?t=[REDACTED:credential]"


def test_a_credential_held_after_use_is_redacted_by_that_redactor() -> None:
    """A redactor that has redacted already covers a value held after it, and still the ones
    held before."""
    redactor = Redactor(lambda: ["known-credential"])
    hold("first-held-value")
    assert redactor.text("first-held-value") == "[REDACTED:credential]"
    assert redactor.text("later-held-value") == "later-held-value"
    hold("later-held-value")
    assert redactor.text("later-held-value first-held-value known-credential") == (
        "[REDACTED:credential] [REDACTED:credential] [REDACTED:credential]"
    )


def test_a_text_seen_before_a_credential_changed_is_redacted_again() -> None:
    """The redactor remembers the short texts it redacted, but never across a change of the
    credentials: the same text asked again after hold() or a rotation loses the new value."""
    secrets = ["first-rotation-0001"]
    redactor = Redactor(lambda: secrets)
    text = "auth with next-held-value-77 and second-rotation-0002"
    assert redactor.text(text) == text
    assert redactor.text(text) == text  # remembered: the same answer
    hold("next-held-value-77")
    assert redactor.text(text) == "auth with [REDACTED:credential] and second-rotation-0002"
    secrets[0] = "second-rotation-0002"
    assert redactor.text(text) == "auth with [REDACTED:credential] and [REDACTED:credential]"


def test_a_longer_credential_goes_whole_before_one_it_contains() -> None:
    """Held and known values are replaced longest first, so no tail of a longer one is left."""
    hold("abcdef")
    redactor = Redactor(lambda: ["abcdefghij"])
    assert redactor.text("abcdefghij abcdef") == "[REDACTED:credential] [REDACTED:credential]"


def test_hold_ignores_short_values_and_keeps_the_most_recent() -> None:
    """None, "" and values under 6 characters are not held; only the newest 256 are kept."""
    for value in (None, "", "12345"):
        hold(value)
    assert held() == ()
    values = [f"credential-{i:04d}" for i in range(300)]
    for value in values:
        hold(value)
    assert held() == tuple(values[-256:])
    hold(values[100])  # held again: the same values (its eviction order: test_redact_held)
    assert set(held()) == set(values[-256:]) and len(held()) == 256


def test_hold_is_safe_from_many_threads() -> None:
    """Threads holding and redacting at once lose nothing and never see a broken registry, and
    evicting under the same contention keeps exactly the newest 256 distinct values."""
    errors: list[BaseException] = []

    def work(mine: list[str], check: bool) -> None:
        try:
            for value in mine:
                hold(value)
                # Only while nothing can be evicted: a thread paused for a switch interval may
                # otherwise find its value pushed out by 256 newer ones, which is the design.
                if check:
                    assert DEFAULT.text(f"x {value} y") == "x [REDACTED:credential] y"
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def race(values: list[str], check: bool) -> None:
        threads = [threading.Thread(target=work, args=(values[t::8], check)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    first = [f"thread-{t}-credential-{i:03d}" for t in range(8) for i in range(32)]
    race(first, check=True)  # 256 values: exactly what the registry holds
    assert errors == []
    assert set(held()) == set(first)
    more = [f"thread-{t}-secret-value-{i:03d}" for t in range(8) for i in range(200)]
    race(more, check=False)
    assert errors == []
    assert len(held()) == 256
    assert len(set(held())) == 256
    assert set(held()) <= set(more)


def test_docstring_lists_every_placeholder() -> None:
    """The package docstring's table names each placeholder a rule can write, and no other."""
    documented = set(re.findall(r"\[REDACTED:[a-z0-9-]+\]", redact_module.__doc__ or ""))
    written = {
        placeholder
        for rule in _RULES
        for placeholder in re.findall(r"\[REDACTED:[a-z0-9-]+\]", str(rule.replacement))
    }
    # _keep_quotes, exact values, _card_number, the e-mail rule (a git remote's user stays),
    # and fragments.py's last pass over a cut text's final piece
    written |= {"[REDACTED:password]", "[REDACTED:credential]", "[REDACTED:card-number]"}
    written.add("[REDACTED:cut]")
    written.add(_EMAIL)
    assert documented == written
    produced = {
        p for _, expected in CASES for p in re.findall(r"\[REDACTED:[a-z0-9-]+\]", expected)
    }
    # every rule has a case (the cut piece's are in tests/test_corpus_daemon.py)
    assert written - {"[REDACTED:credential]", "[REDACTED:cut]"} <= produced


# Hostile inputs: each is a quarter of a megabyte of text built to make a pattern try hard at
# every position. Their cost must grow linearly (tests/scaling.py): a pattern that backtracks over
# the text, or over a value's 65,536-character bound at every position, grows with the square of
# it. (Until 2026-12-04 each was a megabyte that only had to finish before the test's timeout,
# which a pattern backtracking over a 65,536-character bound did too, in a quarter of the suite's
# CPU.)
HOSTILE = [
    "/reset-password/" + "Ab1" * 80_000,  # a path token past its bound, never ended
    ("/invite/" + "aB3" * 6) * 10_000,  # many starts, each a short run
    ("a" * 63 + "@") * 5_000,
    "-----BEGIN PRIVATE KEY-----" * 10_000,
    ("Ab1" * 20 + " ") * 5_000,
    ("https://u:" + "p" * 300) * 750,
    "%" * 2**18,
    "%41" * 87_500,
    "%2541" * 50_000,
    "%41 " * 62_500 + "password%3Dx",  # many escaped tokens and one secret
    " ".join(f"%41{i}" for i in range(15_000)) + " password%3Dx",  # … all different
    "a_" * 2**17,
    "password=" * 29_000,
    'password="' * 25_000,
    "password=\\" * 25_000,
    "token: '" * 31_250,
    "A1b+" * 2**16,  # one run of base64 characters
    "AKIA" * 2**16,
    "xoxb-" * 50_000,
    "DD_API_KEY=" * 23_750,
    ("a" * 40 + ".") * 6_250 + "@",
    "ghp_" * 65_536,
    "eyJ" * 87_500,
    "Authorization: Token " * 12_500,
    'authorization: "x' * 15_000,
    "Set-Cookie: a" * 20_000,
    "glsa_" * 50_000,
    "4111 " * 50_000,
    "4" * 2**18,
    "-eyJ" * 62_500,  # a JWT start inside a base64url run, at every fourth character
    "-pa " * 62_500,
    "mysql -u x " + "-pa " * 62_500,
    "; mysql -h db " * 17_500,
    "sshpass " * 31_250,
    ("Private-Lines: 4\n" + "A" * 200 + "\n") * 1_000,
    "LS0tLS1CRUdJTi" * 17_500,
    "$1$" * 82_500,
    "_auth:" * 40_000,
    "?key=abc&" * 27_500,
    "#code=" + "Ab1" * 1_000,  # a value past the bound: read once from its one start
    ("&code=" + "a" * 20 + ".") * 9_000,  # 20 letters: no credential, tried at each start
    ("&pass=" + "x" * 600) * 400,
    "?pass=" * 40_000,
    ("kAKIA" + "B" * 17) * 10_000,  # one letter too many, at every start
    "0xAKIA" * 40_000,
    "\\nghp_" * 40_000,  # an escaped line break before each token start, no token
    ("\\n" + "a" * 63 + "@") * 4_000,
    "\\n4" * 60_000,  # a card number's first digit after each escape, no number
    ("\\n" + "QUJD" * 4 + "!") * 10_000,  # base64 of text after each escape, nothing in it
    "\\ns." * 60_000,
    "\\nCookie:" * 25_000,
    ("&" + "a" * 70 + "=") * 3_500,  # a URL parameter's name past its bound
    "?token=" + ")" * 250_000,  # Markdown's `)` at every character of a value
    ("?token=" + "a" * 600) * 400,
    "&amp;" * 50_000,
    ("QUJD" * 19 + "\\n") * 3_000,  # base64 of text wrapped by escaped breaks, nothing in it
    ("QUJD" * 19 + "\\n" + "Q" * 75 + "\\n") * 1_500,  # … and lines of other widths
    "Authorization: Token " + '"x' * 120_000,  # a quote at every other character
    (" code=" + "Ab1" * 6 + " ") * 10_000,  # a form body's first parameter without its `&`
    '"key=' + "a" * 250_000 + "&x",  # … a value past its bound
    "\\u000a" * 40_000,
    "\\\\u000a" * 30_000,  # an escaped backslash before each: no escape of a line break
    "jdbc:oracle:thin:user/" * 11_250,
    "\\u0070assword\\/" * 15_000,
    "pass=" * 50_000,
    "pass: 'Ab1" * 25_000,
    "password\n  x [type=a, input_value=" * 7_500,
    "password\n  " + "x" * 600 + "[type=a, input_value='" * 1_500,
    "token\n  [type=a, input_value=" + "a" * 250_000,
    "Property: password\nValue: " * 10_000,
    "Property: " + "password" * 30_000,
    "&#61;" * 50_000,
    "MIIEvQIBADAN\n" * 20_000,
    "password: |\n " * 20_000,
    "token: >\n" + "  a\n" * 62_500,
    "b3BlbnNzaC1rZXktdjE \n" * 12_500,
    "MHcCAQEEI" + ("\n" + "A" * 15 + "=") * 15_000,
    "password&#61;&" * 20_000,
    "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff1d" * 25_000,
    "p\u0430ss" * 62_500,
    "p\u0430ss \u0432" * 37_500,
    '<add key="password" ' * 12_500,
    "<entry key='db.password'>" + "x" * 250_000,
    "https://" + "Ab1" * 100_000 + "@x",
    "https://Ab1Ab1Ab1Ab1Ab1Ab1" * 12_500,
    'password = """' + "x" * 250_000,
    "token='''" * 27_500,
    "abc8Q~" * 45_000,
    "GOCSPX-LTAIAKID" * 17_500,
    "password: ${{ " * 20_000,
    "password=${A:-" * 20_000,
    "password=$" + "A" * 250_000,
    'password="""x"' * 17_500,
    "password: {{ " + "(" * 250_000,
    'password: "{{ x("' * 15_000,
    '<add value="' + "x" * 250_000,
    '<add value="x" ' * 17_500,
    '<add a="b" ' * 22_500 + 'key="password" value="x">',
    "<a " + 'key="password" value="x" ' * 10_000,
    "\\x22password\\x22" * 15_000,  # escaped quotes around every name
    "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe." * 7_500,  # Discord's id and timestamp, no HMAC
    "'Ab1' + cfg.sep() + " * 12_500,  # a chain of joined literals that never ends
    "token = 'x' + a + b + c + d + e + " * 7_500,  # operands past the four read between two
    "dp.st." * 42_500,
    "s.Ab1" * 50_000,  # Vault's legacy prefix, never 24 characters after it
    ";Password={" * 22_500,  # a connection string's password: every brace unclosed
    "Password=a b" * 22_500,  # … no `;` after any
    "password for user " * 15_000,  # a secret told in words: every name, no value
    "password is hunter2 " * 12_500,  # … every value told
    "X(password=a b" * 17_500,  # a data class's field: never a next field or a bracket
    '"AUTH" "a" ' * 25_000,  # Redis's AUTH as MONITOR prints it: every argument a user
    "a:1> auth " * 25_000,  # … after redis-cli's prompt, never a password
    "eyJ\n" * 62_500,  # a JWT's header over lines, never a dot
    "[password] => [" * 17_500,  # PHP's print_r: every value an element's name
    '"password=' + "a" * 250_000,  # a NAME=value string never closed
    '["a"]=>\n string(1) "' * 12_500,  # … var_dump: no closing quote
    "eyJaaaa.eyJaaaa." + "\\nA1" * 75_000,  # … a signature broken on every line
    "password for " + "x" * 250_000,
    "token is " + "a" * 250_000,
    "cGFzc3dvcmQ9aHVudGVyMnh5\n" * 10_000,  # lines of one width: one run, decoded joined
    ("cGFzc3dvcmQ9aHVudGVyMnh5" + "\nQUFB" * 199 + "\nx=y\n") * 250,  # … each given back
    "cGFzc3dvcmQ9aHVu " * 15_000,  # base64 runs that each decode to a secret
    "aGVsbG8gd29ybGQhIQ" * 12_500,  # … and one too long to decode
    ("aGVsbG8gd29ybGQhIQ" * 455 + " ") * 30,  # … and long runs that decode to text
    "\n  - a.password =  " * 12_500,  # a YAML or .properties line: every value empty
    "\n" + "a" * 63 + "password" * 30_000,  # … a name that never ends
    "{Password:a b" * 20_000,  # a Go struct's field: never a next field or a closing brace
    "{" + "a" * 60 + "token:" + "a " * 125_000,  # … one long value
    ("cGFzc3dvcmQ9aHVudGVyMnh5" + "\nQUFB" * 199 + "\nab=c\n") * 250,  # a tail given back
    ("cGFzc3dvcmQ9aHVudGVyMnh5\n" + "/" * 24 + "\n") * 5_000,  # one width, no text joined
    "\\npassword: " * 22_500,  # a line start after an escaped break: every value empty
    "x\\n  - password = " + "a\\" * 125_000,  # … one long value of escapes
    "\\n  - DB_PASSWORD=a b" * 15_000,  # … a compose list item on every escaped line
    "ACL SETUSER a on " + '">' * 125_000,  # an ACL's rules: every one an open quote
    "acl setuser a on >" + "\\" * 125_000,  # … one password of backslashes
    '"user a on #' * 22_500,  # … an ACL LIST line on every quote
    '\\"AUTH\\" \\"' * 25_000,  # Redis's AUTH in a JSON string: every argument a user
    '\\"AUTH\\" \\"' + "\\\\" * 75_000,  # … a password never closed
    "127.0.0.1:6379> auth '" + "\\'" * 100_000,  # … typed, escaped quotes to the end
    '<add key="password" value="' + "x" * 250_000 + '"/>',  # a value past the tag's bound
    '<a key="password" ' + 'b="' * 75_000,  # … attributes never closed
    'password="' + '\\"' * 112_500,  # a quoted value, read to the line's end: never closed
    "password='" + "a" * 250_000,  # … single quotes
    'password="\\"' + 'password=\\"' * 20_000,  # … every name's value an escaped quote
    '"DB_PASSWORD=' + '\\"' * 112_500,  # a NAME=value string: escaped quotes, never closed
    "<password>" + "a" * 250_000,  # an element never closed
    "name: DB_PASSWORD\nvalue: " * 10_000,  # Kubernetes env: every value the next name
    "name: DB_PASSWORD\\nvalue: " * 10_000,  # … inside a JSON string
    "password: |\\n " * 20_000,  # a block scalar inside a JSON string: every line a marker
    "token: >\\n" + "  a\\n" * 62_500,  # … lines to the end
    'password="' + "a" * 250_000,  # a quote never closed: the rest of the line
    'password=" ' + "password=' " * 20_000,  # … each later start holding the other quote
    'password=\\"' + "a b " * 62_500,  # … an escaped one, whose JSON string never ends
    'password = """' + "a b " * 62_500,  # … a triple quote
    # Near-misses of the rules for sections, tables, separators and passwords by their place.
    "secrets: {" * 30_000,
    'secrets: {"db": {' * 20_000,
    "secrets:\n" * 40_000,
    "[secrets]\n" * 30_000,
    "user\tpassword\thost\n" * 20_000,
    "| password | x\n" * 20_000,
    "<td>password</td>" * 15_000,
    "INSERT INTO t (password) VALUES (" * 8_000,
    '"' + '\\\\\\"' * 50_000,
    '{"m": "' + '{\\"a\\": \\"\\\\\\"' * 20_000,
    "sqlplus a/" * 20_000,
    "net use \\\\s " * 20_000,
    "echo x | " * 20_000,
    'Content-Disposition: form-data; name="password"\n' * 8_000,
    "password\u2192 " * 30_000,
    "Secrets__" * 40_000,
    "\u043f\u0430\u0440\u043e\u043b\u044c=" * 30_000,
    "set password " * 20_000,
    "-Password " * 25_000,
    "PDO->__construct(" * 15_000,
]


def test_redacting_twice_changes_nothing_more() -> None:
    """Redaction is idempotent: what it gives back, redacted again, is the same text, so a
    second pass (the pipeline redacts a ticket again before the sinks) cannot undo an escape
    the first left, such as a `/` escaped inside JSON inside JSON."""
    nested = "https:" + "\\\\/" * 2 + "hooks.slack.com" + "\\\\/services" + "\\\\/T0"
    texts = [text for text, *_ in CASES] + [nested, "a \\\\\\/ b \\/ c", "x\\u0070assword: y"]
    assert [t for t in texts if redact(redact(t)) != redact(t)] == []


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(h[:16]) for h in HOSTILE])
def test_hostile_text_is_redacted_in_linear_time(hostile: str) -> None:
    """Near-miss text costs time in proportion to its length: eight times as much of it (8 K
    and 64 K characters) takes under 24 times as long, so no pattern backtracks over it. Two
    rounds, not three: 152 texts, and the thread's own CPU time barely varies."""
    assert_linear(lambda n: redact(_middle_cut(hostile, n)), 8_192, repeats=2)


def _middle_cut(text: str, size: int) -> str:
    """`text` cut to `size` characters from its middle: its start and its end (where a near-miss
    puts what it leads up to: a secret, a closing quote) are kept."""
    if size >= len(text):
        return text
    return text[: size // 2] + text[len(text) - (size - size // 2) :]


def _repeats(parsed: object) -> Iterator[tuple[int, int]]:
    """(min, max) of every quantifier in a parsed pattern, nested ones included."""
    from re import _constants as c  # the parsed form is the only place a quantifier's bounds are

    for op, av in parsed:  # type: ignore[attr-defined]
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            yield av[0], av[1]
            yield from _repeats(av[2])
        elif op is c.SUBPATTERN:
            yield from _repeats(av[3])
        elif op in (c.ASSERT, c.ASSERT_NOT):
            yield from _repeats(av[1])
        elif op is c.BRANCH:
            for branch in av[1]:
                yield from _repeats(branch)
        elif op is c.ATOMIC_GROUP:
            yield from _repeats(av)
        elif op is c.GROUPREF_EXISTS:
            yield from _repeats(av[1])
            if av[2] is not None:
                yield from _repeats(av[2])


def test_every_pattern_has_bounded_repetition() -> None:
    """No rule has `*`, `+` or `{n,}`: each quantifier has an upper bound."""
    from re import _constants as c
    from re import _parser

    for rule in _RULES:
        parsed = _parser.parse(rule.pattern.pattern, rule.pattern.flags)
        unbounded = [r for r in _repeats(parsed) if r[1] == c.MAXREPEAT]
        assert unbounded == [], rule.pattern.pattern


@functools.cache
def _every_pattern(text: str) -> str:
    """The rules applied without their needle test: what redaction must equal. Remembered:
    a token's decodings often give the same text at two depths, and a base64 run's decoded
    text recurs; a function of the text, so a second answer is the first."""
    for sub, replacement in _every_rule():
        text = sub(replacement, text)
    return text


@functools.cache
def _every_rule() -> list[tuple[Any, Any]]:
    """Each rule's compiled `sub` and replacement, in order: looked up once, not per text (a
    rule's pattern is a property, ~9,000 texts times 376 rules). Made on first use, not at
    import: every xdist worker collects this file, one runs the reference."""
    return [(rule.pattern.sub, rule.replacement) for rule in _RULES]


def _every_pattern_then_each_escaped_token(text: str) -> str:
    """Redaction as specified, without a shortcut: one pass (`_one_pass`), then again on its
    output while a pass changes it, at most `_SETTLE_PASSES` passes in all."""
    done = _one_pass(text)
    for _ in range(_SETTLE_PASSES - 1):
        if done == text:
            break
        text, done = done, _one_pass(done)
    return done


def _one_pass(text: str) -> str:
    """One pass of redaction as specified, without a shortcut: every token that holds percent-escapes
    decoded (as far as it goes, else less far: the first depth where redaction finds
    something), redacted alone (its base64 runs too), and, if that changed it, what was found
    replaced where it stood in the token (`_spliced`); then every pattern on the text, then on
    the text undisguised (which replaces it if that found something), then every base64 run
    decoded and, if its text holds a secret, replaced whole (`_redacted_base64`, given the
    patterns without their needles)."""

    def token(match: re.Match[str]) -> str:
        original = match.group()
        if not _ESCAPE.search(original):
            return original
        for rounds in (3, 2, 1):  # decoded as far as it goes, else the first depth that finds
            decoded = _unescape(original, rounds)
            redacted = _DISCORD_TOKEN.sub(_discord_token, _every_pattern(decoded))
            redacted = _BASE64_RUN.sub(lambda m: _redacted_base64(m[0], _every_pattern), redacted)
            if redacted == decoded:
                continue
            spliced = _spliced(original, *_unescaped_with_sources(original, rounds), redacted)
            if spliced is not None:
                return spliced
            return quote(redacted, safe=_URL_SAFE, errors="surrogateescape")
        return original

    text = re.sub(r"\S+", token, _json_unescaped(text))
    text = _every_pattern(text)
    unmasked = _unmasked(text)
    if unmasked != text and (redacted := _every_pattern(unmasked)) != unmasked:
        text = redacted
    text = _DISCORD_TOKEN.sub(_discord_token, text)
    return _BASE64_RUN.sub(lambda m: _redacted_base64(m[0], _every_pattern), text)


#: Pieces made to be put together: names, separators, quotes, escapes, the contexts of rules.
_PARTS = [
    "PASSWORD=",
    "passwd:",
    "PwD=",
    "Token: ",
    "aPi_KeY=",
    "APIKEY=",
    "AccessKey: ",
    "access_key:",
    "AWS_SECRET = ",
    "BeArEr ",
    "BASIC\t",
    "://",
    "@",
    "user:",
    "ex.com",
    "-----BEGIN EC PRIVATE KEY-----",
    "eyJhbGciOi",
    "ghp_",
    "AKIA",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "\u0130",  # capital I with a dot, which lower() turns into i + a combining dot
    "\u0131",  # dotless i
    "\u017f",  # long s
    "\u212a",  # Kelvin sign
    "i\u0307",
    " ",
    "=",
    "x" * 40,
    # Names, quotes and separators that the pair rule puts together
    "DB_PASSWORD",
    "Client_Secret",
    "x-api-key",
    "dbPassword",
    '"',
    "'",
    "\\",
    '\\"',
    ": ",
    " = ",
    "=>",
    "\t",
    "\n",
    "_",
    "-",
    ".",
    # Percent-escapes, alone and around secrets
    "%",
    "%3D",
    "%3d",
    "%2F",
    "%25",
    "%2541",
    "%20",
    "%41KIAIOSFODNN7EXAMPLE",
    "%ff",
    "%E6%9D%B1",
    "password%3D",
    "%40example.com",
    # Terraform's plan after a secret's old value was redacted
    '"[REDACTED:password]" -> "b2y"',
    # A secret's first single-quoted literal redacted, and one joined to it by `+`
    "'[REDACTED:password]' + 'b2y'",
    # The contexts of the rules without a prefix
    "dd_api_key=",
    "DD-APPLICATION-KEY: ",
    "Datadog_App_Key=",
    _run(32, HEX),
    _run(40, HEX),
    _run(64, HEX),
    "TWILIO_AUTH_TOKEN=",
    "X-AMZ-SIGNATURE=",
    "Signature=",
    "accountKEY=",
    "SHAREDACCESSSIGNATURE ",
    "&sig=",
    "?sig=",
    _run(43),
    "HOOKS.SLACK.COM/services/",
    "DISCORD.com/api/webhooks/123456789012345678/",
    _run(68, URLSAFE),
    "123456789:AA",
    _run(33, URLSAFE),
]
_FRAGMENTS = [
    *(text for text, _ in CASES),
    # The same texts with their case swapped: the rules that ignore case must still match,
    # and their needles must be found in the folded text.
    *(text.swapcase() for text, _ in CASES),
    *KEEP,
    *_PARTS,
]


def test_fragments_exercise_every_rule() -> None:
    """Each rule matches some fragment, and each case-ignoring rule a case-swapped one too, so
    the random mixes below test every rule's needles."""
    swapped = [text.swapcase() for text, _ in CASES]
    for rule in _RULES:
        assert any(rule.pattern.search(f) for f in _FRAGMENTS), rule.pattern.pattern
        if rule.pattern.flags & re.IGNORECASE:
            assert any(rule.pattern.search(f) for f in swapped), rule.pattern.pattern


#: Needles that gate a rule by the text's context, not by what the rule matches: the
#: quoted-printable rule runs only in a text that says "quoted-printable", a word its match
#: (`passw=` / `ord is …`) does not hold; Mailgun's `<32 hex>-<8 hex>-<8 hex>` key only in
#: a text that names Mailgun.
_CONTEXT_NEEDLES = ("printable", "mailgun")


def _set_off(fragment: str) -> str:
    """`fragment`, after a space and a line break when it holds a context needle
    (`_CONTEXT_NEEDLES`), so that no fragment before it glues onto that word: a token glued to
    "quoted-printable" is read to its end, taking the word with it, and the gated path (which
    looks for the needle in the text as the steps before left it) then skips the rule that the
    ungated reference still runs. Real text writes the word apart (`Content-Transfer-Encoding:
    quoted-printable`); the reference and the gated path agree on every text built here."""
    if any(needle in fragment.lower() for needle in _CONTEXT_NEEDLES):
        return " \n" + fragment
    return fragment


def _mixes() -> list[str]:
    """Each fragment alone (where a rule's match holds only its own needles, so that a needle
    missing from a rule shows), each beside another (a shuffled ring: every fragment once on
    each side, so that a needle is cut across two), twelve texts for each part (a name, a
    separator, an escape) that go on with one or two fragments (a name meets values), and 300
    mixes of up to eight (several names and escaped tokens in one text); a fragment holding a
    context needle is set off from the one before it (`_set_off`). Short texts, as the
    reference runs every rule on each: the cost is the texts' length, not their variety."""
    rng = random.Random(7)
    ring = rng.sample(_FRAGMENTS, len(_FRAGMENTS))
    pairs = [a + _set_off(b) for a, b in zip(ring, ring[1:] + ring[:1], strict=True)]
    led = [
        part + "".join(map(_set_off, rng.choices(_FRAGMENTS, k=rng.randint(1, 2))))
        for part in _PARTS
        for _ in range(12)
    ]
    mixes = [
        "".join(map(_set_off, rng.choices(_FRAGMENTS, k=rng.randint(1, 8)))) for _ in range(300)
    ]
    return [*_FRAGMENTS, *pairs, *led, *mixes]


#: The mixes are checked in this many parts, each a test of its own: one test of them all took
#: over the suite's per-test timeout on a loaded machine (the fragments grow every round).
_MIX_PARTS = 8


@functools.cache
def _distinct_mixes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(_mixes()))  # a text the mixes give twice is one check


@pytest.mark.parametrize("part", range(_MIX_PARTS))
def test_needles_skip_only_text_no_pattern_can_match(part: int) -> None:
    """Redaction equals running every pattern, then every escaped token alone, on every fragment
    alone, beside another and in random mixes of secrets, near-misses and percent-escapes
    (short and long: both paths of the needle test, and the decode step's all-tokens-at-once
    shortcut); each part checks every `_MIX_PARTS`-th text, so the parts check all of them.
    A context needle's fragment is set off from the one before it (`_set_off`), so that the
    two agree by construction: a glued token swallowing the context word is no leak."""
    for text in _distinct_mixes()[part::_MIX_PARTS]:
        assert Redactor().text(text) == _every_pattern_then_each_escaped_token(text), repr(text)


def test_fold_turns_every_letter_ignorecase_equates_into_that_letter() -> None:
    """For every code point IGNORECASE matches to an ASCII letter, _fold gives that letter."""
    letters = re.compile("[a-z]", re.IGNORECASE)
    for code_point in range(sys.maxunicode + 1):
        char = chr(code_point)
        if letters.fullmatch(char):
            letter = next(a for a in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch(a, char, re.I))
            assert _fold(char) == letter, hex(code_point)


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"blob {_b64('password=hunter2xyz')} end", "blob [REDACTED:password] end"),
        (
            "data:\n  app.conf: " + _b64("db.host=db\ndb.password=S3cretPassw0rd\n"),
            "data:\n  app.conf: [REDACTED:password]",
        ),
        (
            ".dockerconfigjson: "
            + _b64('{"auths":{"r.example.com":{"username":"u","password":"S3cretPassw0rd"}}}'),
            ".dockerconfigjson: [REDACTED:password]",
        ),
        (f"creds {_b64('admin:S3cretPassw0rd')}", "creds [REDACTED:password]"),
        (f"x-creds={_b64('deploy:hunter2xyz')}&y=1", "x-creds=[REDACTED:password]&y=1"),
        (f"k {_b64('token: ghp_' + 'aB3' * 12)}".rstrip("="), "k [REDACTED:github-token]"),
    ],
)
def test_a_secret_inside_base64_is_redacted(text: str, expected: str) -> None:
    """A base64 blob whose decoded text holds a secret (or is a user:password pair) goes whole."""
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"cursor {_b64('offset:100')} id {_b64('2026-11-23T10:00:12')}",
        f"b64 {_b64('hello world, this is fine and long enough')}",
        f"url {_b64('https://example.com/a/b/c')} sha256 " + _b64("\x01\x02\xff" * 11),
        "digest sha256:3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed",
        "kubernetesClusterNameForProduction and /var/lib/kubelet/pods/abcdefghijklmnop",
    ],
)
def test_base64_holding_no_secret_stays(text: str) -> None:
    """Base64 of ordinary text, ids, hashes and long words is left alone."""
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the password is hunter2xyz", "the password is [REDACTED:password]"),
        ("The password is hunter2xyz.", "The password is [REDACTED:password]."),
        ("password for admin is hunter2xyz", "password for admin is [REDACTED:password]"),
        (
            "password for user deploy: 'hunter 2xyz'",
            "password for user deploy: '[REDACTED:password]'",
        ),
        ("new password was set to P@ssw0rd!", "new password was set to [REDACTED:password]"),
        (
            "login as admin with password hunter2xyz",
            "login as admin with password [REDACTED:password]",
        ),
        ("ENV DB_PASSWORD 123456789", "ENV DB_PASSWORD [REDACTED:password]"),
        ("passwd is Summer2024", "passwd is [REDACTED:password]"),
        ("requirepass hunter2xyz", "requirepass [REDACTED:password]"),
        ("pw: hunter2xyz", "pw: [REDACTED:password]"),
        ("db_pw=hunter2xyz&x=1", "db_pw=[REDACTED:password]&x=1"),
        ("GET /login?user=bob&pw=hunter2xyz", "GET /login?user=bob&pw=[REDACTED:password]"),
        ("the API key is aB3dE5fG7hJ9kL2mN4pQ6", "the API key is [REDACTED:password]"),
        ("CLOUDFLARE_API_TOKEN aB3dE5fG7hJ9kL2mN4pQ6", "CLOUDFLARE_API_TOKEN [REDACTED:password]"),
    ],
)
def test_a_secret_told_in_words_is_redacted(text: str, expected: str) -> None:
    """A password (or a random-looking token) given in a sentence, without `=` or `:`, goes."""
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the password is incorrect; password was rotated yesterday by admin",
        "password for admin is invalid, password for user bob expired",
        "password for host db01.example.com expired on 2026-12-01",
        "password is too short, password is 90 days old, password was reset at 10:00:12",
        "password is required. password is ${DB_PASSWORD} password is /etc/app/pw",
        "password authentication failed for user app; password policy v2 applied",
        "token expired at 2026-11-23T10:00:12Z; token 5f1c2a9e8b7d6c4f0a1b2c3d4e5f6a7b",
        "the API key is missing; secret rotation job-7 done; pw rate 98%",
        "password is https://vault.example.com/v1/secret/db",
    ],
)
def test_secret_words_in_ordinary_sentences_stay(text: str) -> None:
    """Sentences that merely talk about a password, token or key are left alone."""
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  password=b'hunter2xyz'", "  password=b'[REDACTED:password]'"),
        ("{'token': b\"aB3dE5fG7hJ9kL2mN4pQ6\"}", "{'token': b\"[REDACTED:password]\"}"),
        ("secret=rb'hunter 2'", "secret=rb'[REDACTED:password]'"),
        ("api_key = u'hunter2xyz'", "api_key = u'[REDACTED:password]'"),
    ],
)
def test_a_python_bytes_or_prefixed_string_is_redacted_whole(text: str, expected: str) -> None:
    """A value printed as Python's b'…' (r'…', u'…') goes whole, not just its prefix letter."""
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"msg":"\\u003cpassword\\u003ehunter2xyz\\u003c/password\\u003e"}',
            '{"msg":"<password>[REDACTED:password]</password>"}',
        ),
        (
            '{"url":"https://x.example.com/cb?a=1\\u0026token=aB3dE5fG7hJ9kL2mN4pQ6"}',
            '{"url":"https://x.example.com/cb?a=1&token=[REDACTED:password]"}',
        ),
        (
            "body={\\x22user\\x22:\\x22bob\\x22,\\x22password\\x22:\\x22hunter2 xyz\\x22}",
            'body={\\"user\\":\\"bob\\",\\"password\\":\\"[REDACTED:password]\\"}',
        ),
        ('{"m":"password\\u003dhunter2xyz"}', '{"m":"password=[REDACTED:password]"}'),
        (
            '{"m":"password\\u0022: \\u0022hunter2 xyz\\u0022"}',
            '{"m":"password\\": \\"[REDACTED:password]\\""}',
        ),
    ],
)
def test_a_name_hidden_by_escaped_punctuation_is_redacted(text: str, expected: str) -> None:
    """Quotes and separators escaped as \\u0022, Go's \\u003c \\u0026, nginx's \\x22 hide no secret."""
    assert redact(text) == expected


def test_escaped_punctuation_without_a_secret_stays() -> None:
    """Text whose escapes hide nothing keeps them."""
    text = '{"msg":"a \\u003c b \\u0026\\u0026 c\\u003d1","ua":"\\x22curl/8\\x22"}'
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Server=db;User Id=sa;Password=hunter 2xyz;Database=x",
            "Server=db;User Id=sa;Password=[REDACTED:password];Database=x",
        ),
        (
            "Data Source=db; User ID=sa; Password=pa ss word",
            "Data Source=db; User ID=sa; Password=[REDACTED:password]",
        ),
        ("Password=hunter 2xyz;Server=db", "Password=[REDACTED:password];Server=db"),
        (
            "Driver={ODBC Driver 18};Server=db;PWD={hun;ter 2}}x};UID=sa",
            "Driver={ODBC Driver 18};Server=db;PWD={[REDACTED:password]};UID=sa",
        ),
        ("DSN=x;Pwd={hunter2;xyz}", "DSN=x;Pwd={[REDACTED:password]}"),
    ],
)
def test_a_connection_string_password_goes_to_its_semicolon(text: str, expected: str) -> None:
    """In an ADO.NET or ODBC connection string a password with spaces or `;` goes whole."""
    assert redact(text) == expected
    assert redact(expected) == expected


def test_a_logfmt_line_after_a_semicolon_keeps_its_other_pairs() -> None:
    """After a `;`, a password's value stops before the next `key=` pair."""
    text = "db error; password=hunter2 user=app host=db"
    assert redact(text) == "db error; password=[REDACTED:password] user=app host=db"


def _discord_bot_token() -> str:
    """A Discord bot token's shape: base64url of the bot's id, a timestamp, an HMAC."""
    import base64

    bot_id = base64.urlsafe_b64encode(b"109876543210987654").decode().rstrip("=")
    return f"{bot_id}.GaBcDe.{_run(38, URLSAFE)}"


@pytest.mark.parametrize(
    "token",
    [
        "dp.st.prd." + _run(40),  # Doppler service token with its config's name
        "dp.st.dev_config." + _run(40),
        "dckr_pat_" + _run(27, URLSAFE),  # Docker Hub
        "dckr_oat_" + _run(32, URLSAFE),
        "ops_eyJ" + _run(40),  # 1Password service account
        "fm2_" + _run(40),  # Fly.io
        "fo1_" + _run(40),
        "xkeysib-" + _run(64, HEX) + "-" + _run(16),  # Brevo (Sendinblue)
        "tskey-auth-" + _run(12) + "-" + _run(30),  # Tailscale
        "sbp_" + _run(40, HEX),  # Supabase
        "pscale_tkn_" + _run(43, URLSAFE),  # PlanetScale
        "pscale_pw_" + _run(43, URLSAFE),
        "gsk_" + _run(52),  # Groq
        "dt0c01." + _run(24) + "." + _run(64),  # Dynatrace
        "nfp_" + _run(36),  # Netlify
        "figd_" + _run(40, URLSAFE),  # Figma
        "CCIPAT_" + _run(40),  # CircleCI
        "bkua_" + _run(40, HEX),  # Buildkite
        "CFPAT-" + _run(43, URLSAFE),  # Contentful
        "HRKU-AA" + _run(58, URLSAFE),  # Heroku
        "key-" + _run(32, HEX),  # Mailgun
        "abcdefghij1234.atlasv1." + _run(64, URLSAFE),  # Terraform Cloud
        _discord_bot_token(),  # Discord bot token, no header around it
    ],
)
def test_more_vendor_tokens_are_redacted(token: str) -> None:
    """Vendor tokens that announce themselves by a prefix or a shape go, in prose and in pairs."""
    assert "REDACTED" in redact(f"deploy used {token} today")
    assert token not in redact(f"deploy used {token} today")
    assert token not in redact(f"CONFIG_VALUE={token}")


def test_words_near_the_new_vendor_prefixes_stay() -> None:
    """Prefix-like words and dotted names are no tokens."""
    text = (
        "dp.st.example key-value store MT5.server.restarted NTP.sync.completed_successfully "
        "tskey-rotation fm2_config gsk_enabled dckr_pat_missing key-rotation-policy"
    )
    assert redact(text) == text


def test_name_value_objects_that_name_no_secret_stay() -> None:
    """A name/value object whose name is no secret's, or whose value is a placeholder, and a
    Dockerfile ENV of an ordinary variable, stay as they were."""
    text = (
        '[{"name": "PORT", "value": "8080"}, {"key": "team", "value": "payments"}, '
        '{"name": "DB_PASSWORD", "value": "${DB_PASSWORD}"}] ENV PATH /usr/local/bin:/usr/bin'
    )
    assert redact(text) == text


def test_words_after_short_vendor_prefixes_stay() -> None:
    """An identifier of exactly a token's length after a short prefix (`re_`, `cio`, `secret_`)
    is no token without a digit; a .netrc password's state word is no password."""
    text = (
        "re_schedule_backupsForTheNightlyJobs cioConfigurationManagerFactoryImplX "
        "secret_ManagerRotationLambdaFunctionArnPrefixAbcde "
        "machine db-1 login app password expired; the machine rebooted, password prompt shown"
    )
    assert redact(text) == text


def test_a_secret_in_base64_wrapped_over_lines_is_redacted_whole() -> None:
    """Base64 wrapped at a fixed width (`base64`'s 76 columns) is decoded joined: no tail of a
    secret that crosses a line break is left."""
    kubeconfig = "users:\n- name: admin\n  user:\n    token: " + _run(63) + "\n"
    blob = _b64(kubeconfig)
    wrapped = "\n".join(blob[i : i + 76] for i in range(0, len(blob), 76))
    assert redact(f"kubeconfig:\n{wrapped}\nend") == "kubeconfig:\n[REDACTED:password]\nend"
    unpadded = _b64("password=hunter2xyz!").rstrip("=")
    assert redact(f"{unpadded}\nNext line") == "[REDACTED:password]\nNext line"


def test_vendor_key_names_blank_a_payload_value() -> None:
    """A label named like a vendor's key (Datadog's application key, LaunchDarkly's SDK key,
    a personal access token, ngrok's authtoken) is blanked by `Redactor.value`, whatever its
    value looks like; a name that only ends alike (a file's path, a storage key) is kept."""
    value = _run(40, HEX)
    names = ("DD_APP_KEY", "LAUNCHDARKLY_SDK_KEY", "GITHUB_PAT", "authtoken", "ALGOLIA_APP_KEY")
    assert Redactor().value(dict.fromkeys(names, value)) == dict.fromkeys(
        names, "[REDACTED:password]"
    )
    kept = {"file_path": "/srv/app", "patch": "v2", "storage_key": "uploads/a.png", "spat": "x"}
    assert Redactor().value(kept) == kept


def test_request_environment_header_names_blank_their_values() -> None:
    """A request's environment as error trackers send it (CGI/Rack/PHP `HTTP_COOKIE`,
    `HTTP_AUTHORIZATION`) or a tracing attribute (`http.request.header.cookie`) is blanked
    whole, not only the cookie of a known name; a key that only contains the word is kept."""
    cookies = "theme=dark; csrftoken=G2gFq8ZrT0kLmNpQ; _ga=GA1.2.3"
    names = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "http.request.header.cookie",
             "HTTP_PROXY_AUTHORIZATION", "X-Forwarded-Authorization", "HTTP_SET_COOKIE")  # fmt: skip
    assert Redactor().value(dict.fromkeys(names, cookies)) == dict.fromkeys(
        names, "[REDACTED:password]"
    )
    kept = {"fortune_cookie_count": "3", "cookiejar": "/tmp/jar", "preauthorization": "none"}
    assert Redactor().value(kept) == kept


def test_sshpass_environment_variable_is_a_secret_name() -> None:
    """sshpass -e reads SSHPASS: its value goes, as text and as a JSON key's."""
    assert (
        redact("SSHPASS=hunter2xyz sshpass -e ssh db")
        == "SSHPASS=[REDACTED:password] sshpass -e ssh db"
    )
    assert Redactor().value({"SSHPASS": "hunter2xyz"}) == {"SSHPASS": "[REDACTED:password]"}
    kept = "bash: sshpass: command not found; sshpass=1.09 installed"
    assert redact(kept) == kept


def test_a_secret_in_percent_encoded_base64_is_redacted_whole() -> None:
    """Base64 whose `+` and `/` are percent-encoded (a URL's query) is decoded as one run: no
    piece after a `%2F` is left to give away the rest of the secret."""
    blob = _b64('{"user":"svc","password":"S3cret?Passw0rd>>"}')
    assert "/" in blob and "+" in blob
    redacted = redact("https://x.example.com/cb?state=" + quote(blob, safe="") + " ok")
    assert redacted == "https://x.example.com/cb?state=[REDACTED:password] ok"


def test_a_legacy_vault_token_is_redacted() -> None:
    """Vault's tokens before 1.10 (s. + 24, b. for batch) go; dotted words stay."""
    token = "s." + _run(24)
    assert redact(f"vault login {token} ok") == "vault login [REDACTED:token] ok"
    assert redact(f"batch b.{_run(24)}") == "batch [REDACTED:token]"
    kept = "logs.ThisIsAVeryLongName01 s.abcdefghijklmnopqrstuvwx s.ABCDEFGHIJ0123456789KLMN"
    assert redact(kept) == kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "DataSourceConfig(url=jdbc:postgresql://db/x, username=app, password=my secret pass,"
            " driver=org.postgresql.Driver)",
            "DataSourceConfig(url=jdbc:postgresql://db/x, username=app,"
            " password=[REDACTED:password], driver=org.postgresql.Driver)",
        ),
        ("Config(password=hunter 2, user=bob)", "Config(password=[REDACTED:password], user=bob)"),
        (
            "Config(user=bob, apiKey=abc def, x=1)",
            "Config(user=bob, apiKey=[REDACTED:password], x=1)",
        ),
        ("Config(user=bob, password=a, b c)", "Config(user=bob, password=[REDACTED:password])"),
        (
            "Settings(db_password='x y z', host='db')",
            "Settings(db_password='[REDACTED:password]', host='db')",
        ),
        (
            "{db.password=my secret, db.user=app}",
            "{db.password=[REDACTED:password], db.user=app}",
        ),
        ("Config(user=bob, password=null, x=1)", "Config(user=bob, password=null, x=1)"),
        ("Config(password_policy=strict mode)", "Config(password_policy=strict mode)"),
        ("Config(password=${DB_PASSWORD}, x=1)", "Config(password=${DB_PASSWORD}, x=1)"),
    ],
)
def test_a_data_class_field_goes_to_the_next_field(text: str, expected: str) -> None:
    """In a toString `Name(a=x, b=y)` or `{a=x, b=y}`, a secret's value goes to the next field."""
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '1620000000.123456 [0 127.0.0.1:6379] "AUTH" "hunter2xyz"',
            '1620000000.123456 [0 127.0.0.1:6379] "AUTH" "[REDACTED:password]"',
        ),
        (
            '[0 10.0.0.5:41234] "auth" "default" "hunt\\"er2"',
            '[0 10.0.0.5:41234] "auth" "default" "[REDACTED:password]"',
        ),
        (
            '"HELLO" "3" "AUTH" "app" "pw-x1" "SETNAME" "c"',
            '"HELLO" "3" "AUTH" "app" "[REDACTED:password]" "SETNAME" "c"',
        ),
        (
            '"MIGRATE" "h" "6379" "" "0" "5000" "AUTH" "pw-x1" "KEYS" "k"',
            '"MIGRATE" "h" "6379" "" "0" "5000" "AUTH" "[REDACTED:password]" "KEYS" "k"',
        ),
        (
            '   4) 1) "auth"\n      2) "hunter2xyz"',
            '   4) 1) "auth"\n      2) "[REDACTED:password]"',
        ),
        (
            '"CONFIG" "SET" "requirepass" "hunter2xyz"',
            '"CONFIG" "SET" "requirepass" "[REDACTED:password]"',
        ),
        ("127.0.0.1:6379> auth foobared", "127.0.0.1:6379> auth [REDACTED:password]"),
        ("redis:6379[2]> AUTH default foobared", "redis:6379[2]> AUTH default [REDACTED:password]"),
        ("AUTH default hunter2xyz", "AUTH default [REDACTED:password]"),
        ("ping\nauth hunter2xyz\nkeys *", "ping\nauth [REDACTED:password]\nkeys *"),
        ('CONFIG SET requirepass "x y secret"', 'CONFIG SET requirepass "[REDACTED:password]"'),
        ("config set masterauth foobared", "config set masterauth [REDACTED:password]"),
        ("# redis.conf\nrequirepass foobared\n", "# redis.conf\nrequirepass [REDACTED:password]\n"),
    ],
)
def test_a_redis_auth_argument_is_redacted(text: str, expected: str) -> None:
    """Redis's AUTH password goes: MONITOR and SLOWLOG's quoted args, redis-cli, CONFIG SET."""
    assert redact(text) == expected


def test_auth_in_prose_stays() -> None:
    """`auth` as an English word, and requirepass in a sentence, are no Redis command."""
    for text in (
        "auth failed for user bob",
        "auth failed",
        "AUTH FAILED",
        "auth service returned 503",
        "auth token_expired",
        "requirepass is not set",
        'event "auth" result',
    ):
        assert redact(text) == text


def test_base64_wrapped_at_forty_columns_is_judged_whole() -> None:
    """Lines of base64 wrapped at 40 (an AWS secret's length) are no AWS secrets: the run is
    decoded joined and goes whole, so no tail of a secret is left; AWS secrets on lines of
    their own still go."""
    blob = _b64("x" * 50 + " password=S3cretPassw0rdThatIsLong")
    wrapped = "\n".join(blob[i : i + 40] for i in range(0, len(blob), 40))
    assert [len(line) for line in wrapped.split("\n")] == [40, 40, 32]
    assert redact(f"data:\n{wrapped}\nend") == "data:\n[REDACTED:password]\nend"
    assert redact(f"data: {wrapped}") == "data: [REDACTED:password]"
    secrets = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nje7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
    assert redact(secrets) == "[REDACTED:aws-secret]\n[REDACTED:aws-secret]"
    assert redact(f"{secrets}\nNext") == "[REDACTED:aws-secret]\n[REDACTED:aws-secret]\nNext"


def test_a_jwt_split_over_lines_is_redacted_whole() -> None:
    """A JWT broken by a line break, raw or escaped (`\\n` inside a JSON string), goes whole;
    the line after it stays."""
    jwt = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    for cut in (20, 37, 60, len(jwt) - 20):
        for brk in ("\n", "\r\n", "\\n"):
            text = f'{{"msg": "token {jwt[:cut]}{brk}{jwt[cut:]}{brk}Next line"}}'
            expected = f'{{"msg": "token [REDACTED:jwt]{brk}Next line"}}'
            assert redact(text) == expected, (cut, brk)
    assert redact(f"{jwt}\nrestarting\n") == "[REDACTED:jwt]\nrestarting\n"
    long_jwt = jwt + _run(300, URLSAFE)  # an RS256 signature's length, wrapped at 64 columns
    wrapped = "\n".join(long_jwt[i : i + 64] for i in range(0, len(long_jwt), 64))
    assert redact(f"id_token:\n{wrapped}\nDone.") == "id_token:\n[REDACTED:jwt]\nDone."


@pytest.mark.parametrize(
    "text",
    [
        "passwords: 3 rotated",
        "secrets=12, failed=0",
        "password: rotated",
        "password=expired",
        "token: required",
        "DB_PASSWORD changed: password=changed",
        "api_key: missing",
        "client_secret=invalid",
    ],
)
def test_a_count_or_a_state_after_a_secret_name_stays(text: str) -> None:
    """A count after a plural secret name, and a word saying the secret's state, are no secret."""
    assert redact(text) == text


def test_a_number_after_a_singular_name_or_a_state_word_inside_a_value_goes() -> None:
    """A numeric password and a value that merely starts like a state word still go."""
    assert redact("password=1234") == "password=[REDACTED:password]"
    assert redact("password=expired2025") == "password=[REDACTED:password]"
    assert redact("passwords: 3x9Kq") == "passwords: [REDACTED:password]"


def test_a_json_count_or_state_under_a_secret_name_stays() -> None:
    """In JSON too, a plural name's count, a boolean and a state word are kept; a string
    password, a number under a singular name, and a state word inside a value still go."""
    kept = {"passwords": 3, "secrets": "12", "password": "rotated", "token": True, "pw": "****"}
    assert Redactor().value(kept) == kept
    gone = {"password": 1234, "secrets": 1234567, "token": "expired2025", "pwd": "hunter2"}
    assert Redactor().value(gone) == dict.fromkeys(gone, "[REDACTED:password]")
    assert Redactor().value(["X-Api-Key", "rotated"]) == ["X-Api-Key", "rotated"]


def test_a_sentry_auth_header_loses_its_key_and_secret() -> None:
    """sentry_key is a DSN's key (as the DSN rule redacts it); sentry_secret goes too; the
    header's line (its name says secret) goes whole."""
    key, secret = _run(32, HEX), _run(32, HEX[::-1])
    params = (
        f"Sentry sentry_version=7, sentry_key={key}, sentry_secret={secret},"
        " sentry_client=raven-python/6.10"
    )
    assert redact(f"sent with {params}") == (
        "sent with Sentry sentry_version=7, sentry_key=[REDACTED:token],"
        " sentry_secret=[REDACTED:password], sentry_client=raven-python/6.10"
    )
    assert redact(f"X-Sentry-Auth: {params}") == "X-Sentry-Auth: [REDACTED:password]"
    url = f"POST https://o1.ingest.sentry.io/api/5/envelope/?sentry_key={key}&sentry_version=7"
    assert redact(url) == (
        "POST https://o1.ingest.sentry.io/api/5/envelope/?sentry_key=[REDACTED:token]"
        "&sentry_version=7"
    )
    assert Redactor().value({"sentry_key": key}) == {"sentry_key": "[REDACTED:password]"}


def test_php_print_r_and_var_dump_lose_a_secret_field() -> None:
    """PHP's print_r (`[password] => …` to the line's end) and var_dump (`["password"]=>` then
    `string(n) "…"` on the next line) give a secret-named element's value: it goes."""
    print_r = (
        "Array\n(\n    [user] => app\n    [password] => hunter2 with spaces\n    [db] => Array\n)"
    )
    assert redact(print_r) == print_r.replace("hunter2 with spaces", "[REDACTED:password]")
    var_dump = (
        'array(2) {\n  ["user"]=>\n  string(3) "app"\n  ["db_password"]=>\n'
        '  string(12) "hunter2 x\\"y"\n  ["pass":protected]=>\n  string(6) "abc123"\n}'
    )
    assert redact(var_dump) == (
        'array(2) {\n  ["user"]=>\n  string(3) "app"\n  ["db_password"]=>\n'
        '  string(19) "[REDACTED:password]"\n  ["pass":protected]=>\n  string(6) "abc123"\n}'
    )
    kept = "Array\n(\n    [password_policy] => strict mode\n    [token] => Array\n)"
    assert redact(kept) == kept


def test_a_quoted_name_value_string_loses_its_whole_value() -> None:
    """A string that is `NAME=value` (docker inspect's Env, systemd's Environment=) loses its
    value to the closing quote, spaces and all."""
    env = '"Env": ["DB_PASSWORD=hunter2 xyz", "PATH=/usr/bin", "API_TOKEN=a\\"b c"],'
    assert redact(env) == (
        '"Env": ["DB_PASSWORD=[REDACTED:password]", "PATH=/usr/bin", "API_TOKEN=[REDACTED:password]"],'
    )
    unit = 'Environment="REDIS_PASS=two words"'
    assert redact(unit) == 'Environment="REDIS_PASS=[REDACTED:password]"'
    kept = '["DB_PASSWORD=${DB_PASSWORD}", "passwords=3"]'
    assert redact(kept) == kept


def test_terraform_plan_keeps_sensitive_markers_and_loses_a_new_value() -> None:
    """Terraform's `(sensitive value)` is no secret; a changed secret's new value goes too."""
    kept = "  + password = (sensitive value)\n  ~ token    = (sensitive)\n"
    assert redact(kept) == kept
    assert redact('  ~ password = "old2x" -> "new2x"') == (
        '  ~ password = "[REDACTED:password]" -> "[REDACTED:password]"'
    )
    known = '  ~ password = "old2x" -> (known after apply)'
    assert redact(known) == '  ~ password = "[REDACTED:password]" -> (known after apply)'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DB_PASSWORD: hunter2 xyz", "DB_PASSWORD: [REDACTED:password]"),
        ("env:\n  - API_TOKEN: ab cd ef\n", "env:\n  - API_TOKEN: [REDACTED:password]\n"),
        ("    DB_PASSWORD:  hunter2 xyz\n", "    DB_PASSWORD:  [REDACTED:password]\n"),
        ("password: two words  # rotated\n", "password: [REDACTED:password]  # rotated\n"),
        (
            "spring.datasource.password=my secret pass\nx=1",
            "spring.datasource.password=[REDACTED:password]\nx=1",
        ),
        ("db.password = a # b", "db.password = [REDACTED:password]"),
        ("export DB_PASSWORD=hunter2 xyz", "export DB_PASSWORD=[REDACTED:password] xyz"),
        (
            "      DB_PASSWORD:  <set to the key 'token' in secret 'api'>  Optional: false",
            "      DB_PASSWORD:  <set to the key 'token' in secret 'api'>  Optional: false",
        ),
        ("token: expired since noon", "token: expired since noon"),
        ("passwords: 3 rotated today", "passwords: 3 rotated today"),
        ("password: ${DB_PASSWORD} # env", "password: ${DB_PASSWORD} # env"),
        ("secret: [REDACTED:password]  # x", "secret: [REDACTED:password]  # x"),
        ("password_policy: strict mode", "password_policy: strict mode"),
    ],
)
def test_a_yaml_or_properties_line_loses_its_whole_value(text: str, expected: str) -> None:
    """A YAML or .properties line starting with a secret's name loses its value to the line's end."""
    assert redact(text) == expected


def test_a_go_struct_field_goes_to_the_next_field() -> None:
    """In Go's `%+v` (`&{Host:db Password:hunter two User:app}`) a secret field's value goes
    to the next ` Field:` or the closing brace; other fields stay."""
    assert redact("cfg=&{Host:db Password:hunter two User:app}") == (
        "cfg=&{Host:db Password:[REDACTED:password] User:app}"
    )
    assert redact("{DB:{User:a Password:x y z} APIKey:k1 k2}") == (
        "{DB:{User:a Password:[REDACTED:password]} APIKey:[REDACTED:password]}"
    )
    kept = "&{Host:db Name:my app Port:5432 Passwords:3 Token:expired}"
    assert redact(kept) == kept
    # No brace left open: the pair rule's first word only.
    assert redact("{a} token:a b}") == "{a} token:[REDACTED:password] b}"


def test_a_base64_run_over_lines_that_does_not_decode_joined_is_judged_line_by_line() -> None:
    """Lines of base64 of one width that do not decode joined to text are each decoded alone."""
    first = _b64("password=hunter2xy")  # 24 characters, no padding: a width of its own
    assert redact(f"blob {first}\n////") == "blob [REDACTED:password]\n////"
    assert redact(f"{first}\n{'/' * 24}\n{first}") == (
        f"[REDACTED:password]\n{'/' * 24}\n[REDACTED:password]"
    )
    kept = f"{_b64('hello world, all fine')}\n////"
    assert redact(kept) == kept


def test_a_last_line_of_two_or_three_base64_characters_joins_its_run() -> None:
    """A wrapped run's last line of 2-3 characters and padding (`b2s=`) is the run's tail."""
    blob = _b64("password=hunter2xyok")  # 28 characters: 24, then `b2s=`
    assert blob.endswith("b2s=")
    assert redact(f"{blob[:24]}\nb2s=") == "[REDACTED:password]"
    two = _b64("password=hunter2xyz")  # … and `eg==`
    assert redact(f"data:\n  {two[:24]}\n  {two[24:]}\nend") == "data:\n  [REDACTED:password]\nend"
    forty = _b64("password=S3cretPassw0rdABCDEFGH")  # 40 wide (an AWS secret's), then `SA==`
    assert len(forty) == 44 and forty.endswith("==")
    assert redact(f"data:\n{forty[:40]}\n{forty[40:]}\nend") == "data:\n[REDACTED:password]\nend"
    kept = "ticket\nok=\nab"
    assert redact(kept) == kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "environment:\n      - POSTGRES_PASSWORD=correct horse battery\n      - PGDATA=/d\n",
            "environment:\n      - POSTGRES_PASSWORD=[REDACTED:password]\n      - PGDATA=/d\n",
        ),
        ("password = correct horse battery", "password = [REDACTED:password]"),
        (
            "[client]\npassword =correct horse\nuser = x",
            "[client]\npassword =[REDACTED:password]\nuser = x",
        ),
        ("DB_PASSWORD= two words\n", "DB_PASSWORD= [REDACTED:password]\n"),
        ("  - API_TOKEN=ab cd ef", "  - API_TOKEN=[REDACTED:password]"),
        ("DB_PASSWORD=hunter2 ./migrate.sh", "DB_PASSWORD=[REDACTED:password] ./migrate.sh"),
        ("password = rotated", "password = rotated"),
        ("passwords = 3 rotated", "passwords = 3 rotated"),
        ("  - password = (sensitive value)", "  - password = (sensitive value)"),
        ("  - DB_PASSWORD=${DB_PASSWORD}", "  - DB_PASSWORD=${DB_PASSWORD}"),
    ],
)
def test_a_compose_list_item_or_ini_line_loses_its_whole_value(text: str, expected: str) -> None:
    """docker-compose's `- KEY=a b c` and an ini/.env `key = a b c` lose the value to the line's end."""
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"msg": "starting\\npassword: hunter two\\nlistening on :8080"}',
            '{"msg": "starting\\npassword: [REDACTED:password]\\nlistening on :8080"}',
        ),
        (
            '{"msg": "cfg:\\r\\n  spring.datasource.password=my secret pass\\r\\nok"}',
            '{"msg": "cfg:\\r\\n  spring.datasource.password=[REDACTED:password]\\r\\nok"}',
        ),
        (
            '{"msg": "env\\n  - POSTGRES_PASSWORD=a b c", "level": "info"}',
            '{"msg": "env\\n  - POSTGRES_PASSWORD=[REDACTED:password]", "level": "info"}',
        ),
        (
            '{"msg": "a\\n  token: ab\\\\cd e\\\\\\"f\\ng"}',
            '{"msg": "a\\n  token: [REDACTED:password]\\ng"}',
        ),
        (
            '{"msg": "env:\\n- name: DB_PASSWORD\\n  value: \\"a b\\"\\n- name: X"}',
            '{"msg": "env:\\n- name: DB_PASSWORD\\n  value: [REDACTED:password]\\n- name: X"}',
        ),
        (
            '{"msg": "key:\\n  password: >-\\n    a b\\n    c d\\n  user: x"}',
            '{"msg": "key:\\n  password: >-\\n    [REDACTED:password]\\n  user: x"}',
        ),
        (
            '{"msg": "run\\nmysql -uroot -phunter2xyz app\\ndone"}',
            '{"msg": "run\\nmysql -uroot -p[REDACTED:password] app\\ndone"}',
        ),
        (
            '{"msg": "a\\npassword: rotated\\npasswords: 3 rotated\\ntoken: (sensitive value)"}',
            '{"msg": "a\\npassword: rotated\\npasswords: 3 rotated\\ntoken: (sensitive value)"}',
        ),
        (
            "{\"msg\": \"a\\n  DB_PASSWORD:  <set to the key 'p' in secret 'db'>  Optional: false\"}",
            "{\"msg\": \"a\\n  DB_PASSWORD:  <set to the key 'p' in secret 'db'>  Optional: false\"}",
        ),
    ],
)
def test_an_escaped_line_break_in_a_json_string_starts_a_line(text: str, expected: str) -> None:
    """After `\\n` inside a JSON string, line rules see a line start; the value ends at the next."""
    assert redact(text) == expected


def test_a_redis_acl_password_or_its_hash_is_redacted() -> None:
    """Redis ACL rules `>pw`, `<pw` (clear) and `#`/`!` + SHA-256 lose the secret, in every form."""
    sha = _run(64, HEX)
    assert redact("ACL SETUSER alice on >s3cretpw ~* +@all") == (
        "ACL SETUSER alice on >[REDACTED:password] ~* +@all"
    )
    assert redact(f"acl setuser bob reset <old #{sha} !{sha} on") == (
        "acl setuser bob reset <[REDACTED:password] #[REDACTED:password-hash]"
        " ![REDACTED:password-hash] on"
    )
    monitor = '1.2 [0 10.0.0.1:5] "ACL" "SETUSER" "alice" "on" ">s3 \\"cret" "~*" "+@all"'
    assert redact(monitor) == (
        '1.2 [0 10.0.0.1:5] "ACL" "SETUSER" "alice" "on" ">[REDACTED:password]" "~*" "+@all"'
    )
    in_json = json.dumps({"msg": monitor})
    assert json.loads(redact(in_json)) == {"msg": redact(monitor)}
    assert redact("127.0.0.1:6379> ACL SETUSER a on '>x y' ~*") == (
        "127.0.0.1:6379> ACL SETUSER a on '>[REDACTED:password]' ~*"
    )
    acl_list = f'1) "user alice on #{sha} ~* &* +@all"\n2) "user default on nopass ~* +@all"'
    assert redact(acl_list) == (
        '1) "user alice on #[REDACTED:password-hash] ~* &* +@all"\n'
        '2) "user default on nopass ~* +@all"'
    )
    assert redact("user deploy on >plainpw ~app:* +get") == (
        "user deploy on >[REDACTED:password] ~app:* +get"
    )
    kept = "the user alice on call waited >5 minutes; ACL SETUSER alice on nopass ~* +@all"
    assert redact(kept) == kept


def test_a_redis_auth_with_escaped_quotes_loses_the_whole_password() -> None:
    """An escaped quote inside Redis's AUTH argument (MONITOR, redis-cli) does not end it."""
    monitor = '1700000000.1 [0 10.0.0.1:5] "AUTH" "pa\\"ss word"'
    expected = '1700000000.1 [0 10.0.0.1:5] "AUTH" "[REDACTED:password]"'
    assert redact(monitor) == expected
    assert json.loads(redact(json.dumps({"msg": monitor}))) == {"msg": expected}
    hello = '1.2 [0 10.0.0.1:5] "HELLO" "3" "AUTH" "al\\"ice" "pw \\" x"'
    assert json.loads(redact(json.dumps({"msg": hello}))) == {
        "msg": '1.2 [0 10.0.0.1:5] "HELLO" "3" "AUTH" "al\\"ice" "[REDACTED:password]"'
    }
    for typed in ("127.0.0.1:6379> AUTH 'pa\\'ss word'", "requirepass 'pa\\'ss word'"):
        assert redact(typed).endswith("'[REDACTED:password]'"), typed


def test_a_config_value_longer_than_1024_characters_goes_whole() -> None:
    """A secret in a config tag or line longer than the old 1,024-character bound leaves no tail."""
    long = _run(3000)
    assert redact(f'<add key="Password" value="{long}"/>') == (
        '<add key="Password" value="[REDACTED:password]"/>'
    )
    assert redact(f'<add key="Password" note="{"n" * 1100}" value="x"/>') == (
        f'<add key="Password" note="{"n" * 1100}" value="[REDACTED:password]"/>'
    )
    assert redact(f"<entry key='db.password'>{long}</entry>") == (
        "<entry key='db.password'>[REDACTED:password]</entry>"
    )
    assert redact(f"password: {long} x\nnext") == "password: [REDACTED:password]\nnext"
    assert redact(f'password="{long} {long}"') == 'password="[REDACTED:password]"'
    assert redact(f"api_key: '{long}'") == "api_key: '[REDACTED:password]'"
    assert redact(f"token={long}&x=1") == "token=[REDACTED:password]&x=1"
    assert redact(f"<password>{long}</password>") == "<password>[REDACTED:password]</password>"
    assert redact(f"- name: DB_PASSWORD\n  value: {long}\n") == (
        "- name: DB_PASSWORD\n  value: [REDACTED:password]\n"
    )
