"""Round 5, part B: vendors' tokens, key ids, headers, URLs and encodings the red team's round
5 (tests/test_redteam_round5_secrets.py) found kept, with their siblings, and the near text a
fix must keep whole. Each secret is made up here, in the vendor's issued shape.
"""

from __future__ import annotations

import base64

import pytest

from triage.redact import Redactor

HEX32 = "9f3c1a7e5b2d4c6f8a0e1b3d5c7f9a2e"
UUID = "3f6c1a2e-7b4d-4e9a-a1c3-5d7f9b2e4c6a"
BASE64URL = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3vW5xY7zA9"
SLACK_CLIENT = "xoxc-1234567890-123456789012-1234567890123-" + HEX32 * 2
SLACK_COOKIE = "xoxd-" + BASE64URL[:60] + "%2FaB3dE5fG7h%2BJ9kL2mN4pQ6%3D"
GOOGLE_REFRESH = "1//0" + BASE64URL + "-_Zq9"
DATABRICKS_OAUTH = "dose" + HEX32
ASANA_PAT = f"2/1204567890123456/1209876543210987:{HEX32}"
VERCEL_BLOB = "vercel_blob_rw_Ab3Cd5Ef7Gh9Ij1K_Lm3No5Pq7Rs9Tu1Vw3Xy5Za7Bc9De1Fg"
VERCEL_PERSONAL = "vcp_" + "Ab3Cd5Ef7Gh9Ij1KLm3No5Pq7Rs9Tu1V"
RANCHER = "token-x7k2p:" + "b4k9m2n7p5q8r3s6t1v4w7x2z5c8d3f6g9h2j5k8l1m4n7p2q5r8s3"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5"
STRIPE = "sk_live_" + "aB3dE5fG7hJ9kL2mN4pQ6rS8"
GITLAB = "glpat-" + "aB3dE5fG7hJ9kL2mN4pQ"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IiLCJleHAiOjE3MDAwMDAwMDB9."
    "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG1hJ3k"
)
HONEYCOMB = "hC7kP2mR9tQwE4rTyU8iO1"
AZURE_DEVOPS_PAT = "k3m7p2q5r6s3t6v4w7x2z5a4b7c2d5e6f3g6h2j5k7m3n6p2q4r7"
AZURE_ACCOUNT_KEY = base64.b64encode(bytes(range(7, 71))).decode()


def _redacted(text: str) -> str:
    return Redactor().text(text)


def _left(shown: str, secret: str) -> bool:
    """Whether any 8-character run of `secret` is still in `shown`."""
    return any(secret[i : i + 8] in shown for i in range(len(secret) - 7))


@pytest.mark.parametrize(
    "text",
    [
        "see https://x.example.com/t/aB3dE5fG7hJ9kL2mN4pQ6rS8/next",
        'href="/s/aB3dE5fG7hJ9kL2mN4pQ6rS8"',
    ],
)
def test_a_share_links_token_still_goes_alone(text: str) -> None:
    """A real share link's token (`/t/<token>`) goes and the path around it stays."""
    shown = _redacted(text)
    assert "aB3dE5fG" not in shown
    assert "/t/[REDACTED:token]/next" in shown or '/s/[REDACTED:token]"' in shown


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param(f"session {SLACK_CLIENT} rejected", SLACK_CLIENT[5:], id="slack-xoxc"),
        pytest.param(f"cookie d={SLACK_COOKIE}; path=/", SLACK_COOKIE[5:], id="slack-xoxd"),
        pytest.param(f"xoxd-{BASE64URL} was sent", BASE64URL, id="slack-xoxd-bare"),
        pytest.param(f"invalid_grant for {GOOGLE_REFRESH}", GOOGLE_REFRESH[4:], id="google-1//0"),
        pytest.param(f'{{"refresh_token_x": "{GOOGLE_REFRESH}"}}', GOOGLE_REFRESH[4:], id="google-json"),
        pytest.param(f"sp-ci using {DATABRICKS_OAUTH}", DATABRICKS_OAUTH[4:], id="databricks-dose"),
        pytest.param(f"401 for {ASANA_PAT}", HEX32, id="asana-v2"),
        pytest.param(f"401 for 1/1204567890123456:{HEX32}", HEX32, id="asana-v1"),
        pytest.param(f"401 for {VERCEL_BLOB}", VERCEL_BLOB[-30:], id="vercel-blob-rw"),
        pytest.param(f"401 for {VERCEL_PERSONAL}", VERCEL_PERSONAL[4:], id="vercel-vcp"),
        pytest.param(f"rancher: 401 for {RANCHER}", RANCHER[12:], id="rancher"),
    ],
)  # fmt: skip
def test_a_vendors_token_is_blanked(text: str, secret: str) -> None:
    """Slack's browser session token and cookie, Google's refresh token, Databricks' OAuth
    secret, Asana's PAT, Vercel's Blob and prefixed tokens and a Rancher API token show no run
    of their secret."""
    shown = _redacted(text)
    assert not _left(shown, secret), shown
    assert "[REDACTED:" in shown


@pytest.mark.parametrize(
    ("written", "secret"),
    [
        pytest.param(GITHUB.replace("_", "\\_"), GITHUB[4:], id="github"),
        pytest.param(STRIPE.replace("_", "\\_"), STRIPE[8:], id="stripe"),
        pytest.param(GITLAB.replace("-", "\\-"), GITLAB[6:], id="gitlab"),
        pytest.param(SLACK_CLIENT.replace("-", "\\-"), SLACK_CLIENT[5:], id="slack"),
        pytest.param(GITHUB.replace("_", "\\\\_"), GITHUB[4:], id="github-in-json"),
        pytest.param(JWT[:-12] + "\\_" + JWT[-12:], JWT[-30:], id="jwt-signature"),
    ],
)
def test_a_token_with_markdown_escapes_is_blanked(written: str, secret: str) -> None:
    """A token whose `_` or `-` a Markdown writer escaped (`ghp\\_…`), once or as a JSON string
    holds it (`ghp\\\\_…`), is read as the token it is."""
    shown = _redacted(f"leaked in the wiki: {written} (rotated)")
    assert not _left(shown, secret), shown
    assert shown.endswith(" (rotated)")


@pytest.mark.parametrize(
    "text",
    [
        "see my\\_var\\_name and the \\-\\-force flag",
        "snake\\_case\\_words\\_only",
        "a dose of 3 tablets; the dosage",
        "token-based auth: token-abc12",
        "GenieKey is the scheme Opsgenie reads",
        "x-honeycomb-dataset: prod",
        "https://logs-01.loggly.com/inputs/help/ says hello",
        "https://build-agent@dev.azure.com/org/proj",
        "release 2/15/2026:done",
    ],
)
def test_near_text_stays(text: str) -> None:
    """Markdown-escaped words, the words `dose` and `token-`, a bare scheme word, Honeycomb's
    dataset header, a Loggly path that is no token, a URL's named user and a date stay whole."""
    assert _redacted(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"opsgenie 403 with GenieKey {UUID}",
        f"curl -H 'Authorization: GenieKey {UUID}' https://api.opsgenie.com/v2/alerts",
        f"auth=GenieKey\t{UUID}",
    ],
)
def test_an_opsgenie_key_after_its_scheme_word_is_blanked(text: str) -> None:
    """Opsgenie's API key after `GenieKey` shows nowhere, in a header or out of one."""
    assert UUID[:8] not in _redacted(text)


@pytest.mark.parametrize(
    "text",
    [
        f"x-honeycomb-team: {HONEYCOMB}",
        f"X-Honeycomb-Team={HONEYCOMB}",
        f"OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team={HONEYCOMB},x-honeycomb-dataset=prod",
        f'{{"headers": {{"x-honeycomb-team": "{HONEYCOMB}"}}}}',
    ],
)
def test_a_honeycomb_team_key_is_blanked(text: str) -> None:
    """A Honeycomb API key under `x-honeycomb-team` (a header, OTLP's header list, JSON)
    shows nowhere, and the dataset beside it stays."""
    shown = _redacted(text)
    assert not _left(shown, HONEYCOMB), shown
    assert "honeycomb-team" in shown.lower()


@pytest.mark.parametrize("kind", ["inputs", "bulk"])
def test_a_loggly_customer_token_in_its_url_is_blanked(kind: str) -> None:
    """Loggly's customer token in `/inputs/<uuid>/` or `/bulk/<uuid>/` goes, its host and
    tag stay."""
    shown = _redacted(f"POST https://logs-01.loggly.com/{kind}/{UUID}/tag/http/ failed")
    assert UUID[:8] not in shown and UUID[-12:] not in shown
    assert f"logs-01.loggly.com/{kind}/" in shown and "/tag/http/" in shown


@pytest.mark.parametrize(
    "text",
    [
        f"git clone https://{AZURE_DEVOPS_PAT}@dev.azure.com/org/proj/_git/repo",
        f"remote: https://{AZURE_DEVOPS_PAT}@org.visualstudio.com/proj/_git/repo",
        f"git clone https://{AZURE_DEVOPS_PAT.upper()}@dev.azure.com/org/proj/_git/repo",
    ],
)
def test_an_azure_devops_pat_as_a_urls_user_is_blanked(text: str) -> None:
    """A 52-character base32 PAT as the user of an Azure DevOps URL goes; the host stays."""
    shown = _redacted(text)
    assert not _left(shown.lower(), AZURE_DEVOPS_PAT), shown
    assert "/proj/_git/repo" in shown


def _utf16(text: str) -> str:
    return base64.b64encode(text.encode("utf-16-le")).decode()


def test_a_utf16_base64_script_holding_a_password_is_blanked() -> None:
    """PowerShell's `-EncodedCommand` (base64 of UTF-16LE) whose script holds a password is
    replaced whole."""
    encoded = _utf16('$p = ConvertTo-SecureString "Xk7pL2mR9tQwE4rT" -AsPlainText -Force')
    shown = _redacted(f"powershell.exe -NoProfile -EncodedCommand {encoded}")
    assert not _left(shown, encoded), shown
    assert "-EncodedCommand [REDACTED:" in shown


def test_a_utf16_base64_text_after_a_byte_order_mark_is_blanked() -> None:
    """UTF-16LE text behind its byte order mark (what `Out-File -Encoding Unicode` writes),
    base64-encoded, is read as the text it is."""
    encoded = base64.b64encode(b"\xff\xfe" + "password=Xk7pL2mR9tQwE4rT".encode("utf-16-le"))
    shown = _redacted(f"attachment {encoded.decode()}")
    assert shown == "attachment [REDACTED:password]"


def test_a_utf16_base64_script_without_a_secret_stays() -> None:
    """An encoded command that holds nothing to redact is kept as it is."""
    text = f"powershell -enc {_utf16('Get-Process | Sort-Object CPU -Descending')}"
    assert _redacted(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"AccountKey: {AZURE_ACCOUNT_KEY}",
        f"AccountKey: /t/{AZURE_ACCOUNT_KEY[3:]}",
        f'"AccountKey": "/s/{AZURE_ACCOUNT_KEY[3:]}"',
        f"SharedAccessKey : +x/{AZURE_ACCOUNT_KEY[3:]}",
        f"storageAccountKey: /t/{AZURE_ACCOUNT_KEY[3:]}",
        f'"primaryKey": "/s/{AZURE_ACCOUNT_KEY[3:]}"',
        f"key1: /t/{AZURE_ACCOUNT_KEY[3:]}",
    ],
)
def test_an_azure_key_after_a_colon_goes_whole(text: str) -> None:
    """`AccountKey: <base64>` (a YAML or JSON field) goes whole, a key starting `/t/` or `+x/`
    too, and under any name a key whose first characters look like a share link's path
    (`/t/…==`) is not half read as one."""
    shown = _redacted(text)
    assert not _left(shown, AZURE_ACCOUNT_KEY[3:]), shown


@pytest.mark.parametrize(
    "text",
    [
        f"session {SLACK_CLIENT} rejected",
        f"leaked: {GITHUB.replace('_', chr(92) + '_')} (rotated)",
        f"OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team={HONEYCOMB},x-honeycomb-dataset=prod",
        f"POST https://logs-01.loggly.com/bulk/{UUID}/tag/http/",
        f"git clone https://{AZURE_DEVOPS_PAT}@dev.azure.com/org/proj/_git/repo",
        f"powershell -enc {_utf16('$password = ' + chr(34) + 'Xk7pL2mR9tQwE4rT' + chr(34))}",
        f"AccountKey: /t/{AZURE_ACCOUNT_KEY[3:]}",
    ],
)
def test_redaction_is_a_fixed_point(text: str) -> None:
    """Redacted text redacted again is unchanged."""
    once = _redacted(text)
    assert _redacted(once) == once


@pytest.mark.parametrize(
    "text",
    [
        f"HEC 403 with Splunk {UUID}",
        f"translate failed, DeepL-Auth-Key {UUID}:fx",
    ],
)
def test_a_uuid_key_after_its_vendors_scheme_word_is_blanked(text: str) -> None:
    """Splunk's HEC token and DeepL's key after their scheme word outside a header go."""
    assert UUID[:8] not in _redacted(text)


def test_splunk_as_a_word_stays() -> None:
    """`Splunk` before no UUID (a product named in prose) stays."""
    text = "forwarded to Splunk 9.1 via HEC on port 8088"
    assert _redacted(text) == text


def test_a_datadog_api_key_in_its_v1_intake_url_is_blanked() -> None:
    """Datadog's `/v1/input/<api key>` log intake URL shows the key nowhere; its query stays."""
    shown = _redacted(f"POST https://http-intake.logs.datadoghq.eu/v1/input/{HEX32}?ddsource=x")
    assert HEX32[:8] not in shown and HEX32[-8:] not in shown
    assert shown.endswith("/v1/input/[REDACTED:datadog-key]?ddsource=x")
