"""Red team, round 5: credentials that still leave the process through a real path.

Each case is put into an alert and the alert is handed to the pipeline (in-memory store, a sink
that records its effects). What leaves is then rendered as the sinks and the summariser render
it: the GitHub issue's title, body and labels, Slack's message, the ticket backend's body, the
LLM prompt (payload excerpt included) and the pipeline's log lines after the log redactor. A
leak is any 8-character run of the case's secret on any of them.

Each leak failed when it was written (30 classes, fixed in the redactor's parts named in the
commits that fixed them); a guard beside it shows the path itself shows the alert's text (a leak is a miss of the
redactor, not an empty render) and that a near shape the redactor knows is blanked.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
import structlog

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink
from triage.incidents.ledger import Ledger
from triage.logs import redact_event
from triage.metrics import Metrics
from triage.ops.dlq import DeadLetter
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks import slack
from triage.sinks.backend import _open_body
from triage.sinks.github import text as github
from triage.sqs.inbox import Message
from triage.summarise import prompt
from triage.summarise.deterministic import DeterministicSummariser

_RNG = random.Random(20261206_5)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def _random(count: int, alphabet: str = ALNUM) -> str:
    """`count` characters of `alphabet`, the same on every run (the module's seeded draw)."""
    return "".join(_RNG.choice(alphabet) for _ in range(count))


#: A password no vendor's shape tells apart: only where it stands says it is one.
PASSWORD = "Xk7pL2mR9tQwE4rT"
TOKEN = _random(32)


def _left(shown: str, secret: str) -> bool:
    """Whether any 8-character run of `secret` is still in `shown`."""
    return any(secret[i : i + 8] in shown for i in range(len(secret) - 7))


def _alertmanager(description: str, labels: Mapping[str, str]) -> str:
    """An Alertmanager webhook body of one firing alert with `description` and `labels`."""
    alert = {
        "status": "firing",
        "labels": {"alertname": "JobFailed", "team": "payments", **labels},
        "annotations": {"description": f"job failed\n{description}"},
        "startsAt": T0.isoformat(),
        "generatorURL": "http://prometheus:9090/graph",
    }
    return json.dumps({"version": "4", "status": "firing", "alerts": [alert]})


async def _surfaces(
    description: str = "", labels: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What leaves the process for one alert: the pipeline's one effect rendered by the
    GitHub, Slack and backend sinks and the prompt (the fallback summariser writes the
    ticket from the alert's redacted view), and its log lines as the log redactor
    writes them."""
    sink = Sink()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)), DeterministicSummariser(), [sink], Metrics(),
        redactor=Redactor(), policy=POLICY,
    )  # fmt: skip
    body = _alertmanager(description, labels or {})
    with structlog.testing.capture_logs() as logs:
        await pipeline.process(Message("m-1", body, "r-1", 1, T0, received_at=T0))
    [effect] = sink.effects
    lines = [json.dumps(redact_event(None, "info", dict(event)), default=str) for event in logs]
    return {
        "github-title": github.issue_title(effect),
        "github-body": github.issue_body(effect),
        "github-labels": json.dumps(github.issue_labels(effect)),
        "slack": json.dumps(slack.open_message(effect)),
        "backend": json.dumps(_open_body(effect)),
        "prompt": prompt.build(effect.alert, Redactor(), 4000).user,
        "logs": "\n".join(lines),
    }


async def _leaking(
    secret: str, description: str = "", labels: Mapping[str, str] | None = None
) -> list[str]:
    """The surfaces on which a run of `secret` is shown."""
    surfaces = await _surfaces(description, labels)
    return [place for place, text in surfaces.items() if _left(text, secret)]


# --- guards: the path shows the alert, and blanks what the redactor knows --------------------


async def test_the_surfaces_show_the_description_and_labels() -> None:
    """The GitHub body, Slack, the backend and the prompt show the description's first line,
    and the GitHub body and the prompt a label's value, so a leak below is the redactor's
    miss, not an empty render."""
    surfaces = await _surfaces("disk at 91%", {"detail": "db-1"})
    for place in ("github-body", "slack", "backend", "prompt"):
        assert "job failed" in surfaces[place], place
    for place in ("github-body", "prompt"):
        assert "db-1" in surfaces[place], place


async def test_near_shapes_the_redactor_knows_leave_nothing() -> None:
    """A libpq password, a connection string's `AccountKey=`, `--password` of any command,
    `-p` of cqlsh, `refresh_token:`, `hmac_key:` and an `xoxb-` token are blanked everywhere
    (the leaks below are their siblings)."""
    azure_key = base64.b64encode(_RNG.randbytes(64)).decode()
    slack_bot = f"xoxb-{_random(10, string.digits)}-{_random(12, string.digits)}-{_random(24)}"
    cases = [
        (f"host=db user=app password={PASSWORD}", PASSWORD),
        (f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={azure_key};", azure_key),
        (f"influx --password {PASSWORD} -host h", PASSWORD),
        (f"cqlsh -u cassandra -p {PASSWORD} db1", PASSWORD),
        (f"refresh_token: {PASSWORD}", PASSWORD),
        (f"hmac_key: {TOKEN}", TOKEN),
        (f"slack token {slack_bot}", slack_bot[-24:]),
    ]
    leaks = {text: await _leaking(secret, text) for text, secret in cases}
    assert {text: places for text, places in leaks.items() if places} == {}


async def _assert_blanked(text: str, secret: str) -> None:
    """`text` in an alert's description shows no run of `secret` on any surface."""
    assert await _leaking(secret, text) == []


def _uuid() -> str:
    digits = _random(32, HEX)
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


# --- leaks: redact/commands.py ---------------------------------------------------------------


async def test_influx_single_dash_password_option_is_blanked() -> None:
    """`influx -username bob -password X` (InfluxDB 1.x's CLI) shows X nowhere."""
    await _assert_blanked(f"influx -username bob -password {PASSWORD} -host db", PASSWORD)


async def test_cypher_shell_password_option_is_blanked() -> None:
    """`cypher-shell -u neo4j -p X` shows X nowhere."""
    await _assert_blanked(f"cypher-shell -u neo4j -p {PASSWORD} -a bolt://db:7687", PASSWORD)


async def test_jenkins_cli_auth_option_is_blanked() -> None:
    """`java -jar jenkins-cli.jar -auth bob:TOKEN build x` shows the API token nowhere."""
    text = f"java -jar jenkins-cli.jar -s http://ci:8080/ -auth bob:{TOKEN} build deploy"
    await _assert_blanked(text, TOKEN)


# --- leaks: redact/tokens.py ---------------------------------------------------------------------


SLACK_CLIENT = (
    f"xoxc-{_random(10, string.digits)}-{_random(12, string.digits)}-"
    f"{_random(13, string.digits)}-{_random(64, HEX)}"
)
SLACK_COOKIE = f"xoxd-{_random(80)}"
GOOGLE_REFRESH = "1//0" + _random(100, ALNUM + "-_")
DATABRICKS_OAUTH = "dose" + _random(32, HEX)
ASANA_PAT = f"2/{_random(16, string.digits)}/{_random(16, string.digits)}:{_random(32, HEX)}"
VERCEL_BLOB = f"vercel_blob_rw_{_random(16)}_{_random(30)}"
TWITCH_OAUTH = "oauth:" + _random(30, string.ascii_lowercase + string.digits)


@pytest.mark.parametrize("token", [SLACK_CLIENT, SLACK_COOKIE], ids=["xoxc", "xoxd"])
async def test_slack_browser_session_tokens_are_blanked(token: str) -> None:
    """A Slack xoxc- client token and an xoxd- cookie value in a log line show nowhere."""
    await _assert_blanked(f"slack export failed, session {token} rejected", token[5:])


async def test_google_refresh_token_is_blanked() -> None:
    """A Google OAuth refresh token (`1//0…`) quoted in an error shows nowhere."""
    await _assert_blanked(f"invalid_grant for refresh {GOOGLE_REFRESH}", GOOGLE_REFRESH[4:])


async def test_databricks_oauth_secret_is_blanked() -> None:
    """A Databricks service principal's OAuth secret (`dose…`) shows nowhere."""
    await _assert_blanked(
        f"databricks auth for sp-ci using {DATABRICKS_OAUTH}", DATABRICKS_OAUTH[4:]
    )


@pytest.mark.parametrize(
    ("token", "secret"),
    [(ASANA_PAT, ASANA_PAT[-32:]), (VERCEL_BLOB, VERCEL_BLOB[-30:])],
    ids=["asana", "vercel-blob"],
)
async def test_more_prefixed_vendor_tokens_are_blanked(token: str, secret: str) -> None:
    """An Asana personal access token and a Vercel Blob token in a log line show nowhere."""
    await _assert_blanked(f"sync job: upstream answered 401 for {token}", secret)


async def test_twitch_irc_pass_oauth_token_is_blanked() -> None:
    """An IRC transcript's `PASS oauth:<token>` (Twitch chat bots) shows the token nowhere."""
    await _assert_blanked(f"> PASS {TWITCH_OAUTH}\n> NICK alertbot", TWITCH_OAUTH[6:])


# --- leaks: redact/vendor_ids.py -----------------------------------------------------------------


OPSGENIE_KEY = _uuid()


async def test_opsgenie_genie_key_outside_a_header_is_blanked() -> None:
    """An Opsgenie API key after its `GenieKey` scheme word in a log line shows nowhere."""
    await _assert_blanked(f"opsgenie 403 with GenieKey {OPSGENIE_KEY}", OPSGENIE_KEY)


async def test_opsgenie_genie_key_in_an_authorization_header_is_blanked() -> None:
    """Guard: the same key in an `Authorization: GenieKey …` header shows nowhere."""
    await _assert_blanked(f"Authorization: GenieKey {OPSGENIE_KEY}", OPSGENIE_KEY)


# --- leaks: redact/continued.py --------------------------------------------------------------------


async def test_a_properties_value_continued_over_lines_is_blanked() -> None:
    """`db.password=first\\` then `    rest` (Java .properties' continuation) shows neither part."""
    text = f"db.password={PASSWORD[:8]}\\\n    {PASSWORD[8:]}Zq93"
    await _assert_blanked(text, PASSWORD[8:] + "Zq93")


async def test_a_quoted_printable_soft_break_inside_a_name_is_read_through() -> None:
    """A mail body in quoted-printable whose soft break cuts `password` shows the value nowhere."""
    text = "Content-Transfer-Encoding: quoted-printable\n\nThe new passw=\nord is " + PASSWORD
    await _assert_blanked(text, PASSWORD)


# --- leaks: redact/base64_runs.py ------------------------------------------------------------------


def _utf16_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-16-le")).decode()


ENCODED_COMMAND = _utf16_base64(f'$p = ConvertTo-SecureString "{PASSWORD}" -AsPlainText -Force')


async def test_a_powershell_encoded_command_holding_a_password_is_blanked() -> None:
    """`powershell -EncodedCommand <base64 of UTF-16LE>` whose script holds a password shows
    no run of the encoded script (the run is the password's carrier)."""
    await _assert_blanked(
        f"powershell.exe -NoProfile -EncodedCommand {ENCODED_COMMAND}", ENCODED_COMMAND
    )


def test_a_utf8_base64_script_holding_a_password_is_blanked() -> None:
    """Guard: the same script in UTF-8 base64 leaves no run of its encoding."""
    encoded = base64.b64encode(
        f'$p = ConvertTo-SecureString "{PASSWORD}" -AsPlainText'.encode()
    ).decode()
    shown = Redactor().text(f"script {encoded}")
    assert not _left(shown, encoded[20:60]), shown


# --- leaks: redact/names.py ------------------------------------------------------------------------


HONEYCOMB_KEY = _random(22)


@pytest.mark.parametrize(
    "text",
    [
        f"x-honeycomb-team: {HONEYCOMB_KEY}",
        f"OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team={HONEYCOMB_KEY},x-honeycomb-dataset=prod",
    ],
    ids=["header", "otlp-headers"],
)
async def test_a_honeycomb_team_header_is_blanked(text: str) -> None:
    """A Honeycomb API key under its `x-honeycomb-team` header (raw, or in OTLP's headers
    setting) shows nowhere."""
    await _assert_blanked(text, HONEYCOMB_KEY)


async def test_a_honeycomb_key_under_a_key_name_is_blanked() -> None:
    """Guard: the same key as `HONEYCOMB_API_KEY=` shows nowhere."""
    await _assert_blanked(f"HONEYCOMB_API_KEY={HONEYCOMB_KEY}", HONEYCOMB_KEY)


# --- leaks: redact/tokens.py (bare shapes) and redact/web.py (paths) -------------------------------


RANCHER_TOKEN = f"token-{_random(5, string.ascii_lowercase + string.digits)}:" + _random(
    54, string.ascii_lowercase + string.digits
)


async def test_a_bare_rancher_api_token_is_blanked() -> None:
    """A Rancher API token in a log line shows its secret part nowhere."""
    await _assert_blanked(f"rancher: 401 for {RANCHER_TOKEN}", RANCHER_TOKEN[12:])


LOGGLY_TOKEN = _uuid()


@pytest.mark.parametrize("kind", ["inputs", "bulk"])
async def test_a_loggly_customer_token_in_its_url_is_blanked(kind: str) -> None:
    """Loggly's ingestion URL's customer token shows nowhere."""
    text = f"POST https://logs-01.loggly.com/{kind}/{LOGGLY_TOKEN}/tag/http/ failed: 503"
    await _assert_blanked(text, LOGGLY_TOKEN)


# --- leaks: network devices' configs (redact/logins.py, beside Cisco's snmp-server community) ---


CISCO_TYPE7 = "0822455D0A165B1E1F0B1E2A3F3B"  # Cisco's type 7: a reversible encoding, not a hash
JUNIPER_9 = "$9$Hk5FCtu0IcrvLxNdsYGUjHmQz36/t0BEhrev8XNdbs2aZGji"  # Juniper's $9$: reversible too

#: Config lines a config-diff alert (Oxidized, RANCID) quotes from routers and firewalls.
DEVICE_LINES = [
    pytest.param(f"username admin privilege 15 password 0 {PASSWORD}", PASSWORD, id="ios-password-0"),
    pytest.param(f"username admin secret 0 {PASSWORD}", PASSWORD, id="ios-secret-0"),
    pytest.param(f"enable secret 0 {PASSWORD}", PASSWORD, id="ios-enable-secret-0"),
    pytest.param(f"username admin password 7 {CISCO_TYPE7}", CISCO_TYPE7, id="ios-type-7"),
    pytest.param(f"tacacs-server host 10.0.0.5 key {PASSWORD}", PASSWORD, id="ios-tacacs-key"),
    pytest.param(f"tacacs-server key 7 {CISCO_TYPE7}", CISCO_TYPE7, id="ios-tacacs-key-7"),
    pytest.param(f"radius-server host 10.0.0.5 auth-port 1812 key {PASSWORD}", PASSWORD, id="ios-radius-key"),
    pytest.param(f"key chain OSPF\n key 1\n  key-string {PASSWORD}", PASSWORD, id="ios-key-string"),
    pytest.param(f" ip ospf message-digest-key 1 md5 {PASSWORD}", PASSWORD, id="ios-ospf-md5"),
    pytest.param(f" ip ospf authentication-key {PASSWORD}", PASSWORD, id="ios-ospf-auth-key"),
    pytest.param(f"crypto isakmp key {PASSWORD} address 0.0.0.0", PASSWORD, id="ios-isakmp-key"),
    pytest.param(f"  pre-shared-key local {PASSWORD}", PASSWORD, id="ios-ikev2-psk"),
    pytest.param(f"security wpa akm psk set-key ascii 0 {PASSWORD}", PASSWORD, id="ios-wlan-psk"),
    pytest.param(f"ntp authentication-key 1 md5 {PASSWORD}", PASSWORD, id="ios-ntp-key"),
    pytest.param(f"snmp-server user mon grp v3 auth sha {PASSWORD} priv aes 128 {PASSWORD}", PASSWORD, id="ios-snmpv3-user"),
    pytest.param(f'set protocols bgp group x authentication-key "{JUNIPER_9}"', JUNIPER_9, id="junos-9"),
    pytest.param(f'set system login user ops authentication plain-text-password-value "{PASSWORD}"', PASSWORD, id="junos-plain-text"),
    pytest.param(f"config system admin\n    edit admin\n        set password ENC SH2{PASSWORD}{PASSWORD}", PASSWORD, id="fortios-password-enc"),
    pytest.param(f"set psksecret ENC {PASSWORD}{PASSWORD}", PASSWORD, id="fortios-psksecret"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "secret"), DEVICE_LINES)
async def test_a_network_devices_config_secret_is_blanked(text: str, secret: str) -> None:
    """A password, key or pre-shared key in a router's or firewall's config line shows nowhere."""
    await _assert_blanked(text, secret)


async def test_a_devices_plain_password_line_is_blanked() -> None:
    """Guard: IOS's `enable password X` and `neighbor … password X` show X nowhere."""
    await _assert_blanked(
        f"enable password {PASSWORD}\n neighbor 10.0.0.1 password {PASSWORD}", PASSWORD
    )


async def test_a_snmp_community_in_a_device_config_is_blanked() -> None:
    """Guard: Cisco's `snmp-server community X RO`, which the leaks above stand beside."""
    await _assert_blanked(f"snmp-server community {PASSWORD} RO", PASSWORD)


# --- leaks: daemons' config files (redact/pairs.py, redact/markup.py) ----------------------------


DAEMON_LINES = [
    pytest.param(f"authentication {{\n    auth_type PASS\n    auth_pass {PASSWORD}\n}}", id="keepalived-auth-pass"),
    pytest.param(f"rootpw {PASSWORD}", id="openldap-rootpw"),
    pytest.param(f"listen stats\n  stats auth admin:{PASSWORD}", id="haproxy-stats-auth"),
    pytest.param(f"cache_peer proxy.example.com parent 3128 0 login=bob:{PASSWORD}", id="squid-peer-login"),
    pytest.param(f"smtp_sasl_password_maps = static:bob:{PASSWORD}", id="postfix-static-map"),
    pytest.param(f"bob:{{PLAIN}}{PASSWORD}::::", id="dovecot-passwd-file"),
    pytest.param(f'"bob" * "{PASSWORD}" *', id="ppp-chap-secrets"),
]  # fmt: skip


@pytest.mark.parametrize("text", DAEMON_LINES)
async def test_a_daemons_config_password_is_blanked(text: str) -> None:
    """A password in a keepalived, OpenLDAP, HAProxy, squid, Postfix, Dovecot or ppp config
    line shows nowhere."""
    await _assert_blanked(text, PASSWORD)


# --- leaks: more commands (redact/commands.py, redact/positional.py) -----------------------------


MORE_COMMANDS = [
    pytest.param(f"smbpasswd -a bob -w {PASSWORD}", id="smbpasswd-w"),
    pytest.param(
        f"ipmitool -I lanplus -H bmc user set password 2 {PASSWORD}",
        id="ipmitool-user-set-password",
    ),
    pytest.param(
        f"esxcli system account set -i root -p {PASSWORD} -c {PASSWORD}", id="esxcli-account-set"
    ),
]


@pytest.mark.parametrize("text", MORE_COMMANDS)
async def test_more_commands_passwords_are_blanked(text: str) -> None:
    """The password given to smbpasswd -w, ipmitool's `user set password` and esxcli's
    account set shows nowhere."""
    await _assert_blanked(text, PASSWORD)


#: Device and daemon config lines beside the leaks above that hold no secret: a fix must keep
#: them whole.
CONFIG_KEPT = [
    "service password-encryption",
    "key chain OSPF\n key 1",
    " ip ospf authentication message-digest",
    "tacacs-server timeout 5",
    "aaa authentication login default group tacacs+ local",
    "snmp-server user mon grp v3",
    "authentication {\n    auth_type PASS\n}",
    "stats auth enabled on listener 8404",
    "set system login user ops class super-user",
    "Cisco IOS key 7 entries: 12",
]


def test_device_and_daemon_config_words_stay() -> None:
    """Guard: config lines that only name a password's setting, a key's number or an auth
    type are not redacted."""
    redactor = Redactor()
    assert [line for line in CONFIG_KEPT if redactor.text(line) != line] == []


# --- leaks: a user:password literal handed to a base64 encoder (redact/positional.py) -----------


ENCODED_LOGINS = [
    pytest.param(f"headers.Authorization = 'Basic ' + btoa('bob:{PASSWORD}')", id="js-btoa"),
    pytest.param(f"Buffer.from('bob:{PASSWORD}').toString('base64')", id="node-buffer"),
    pytest.param(f"auth=$(echo -n 'bob:{PASSWORD}' | base64)", id="shell-echo-base64"),
    pytest.param(f"basic = base64.b64encode(b'bob:{PASSWORD}').decode()", id="python-b64encode"),
]


@pytest.mark.parametrize("text", ENCODED_LOGINS)
async def test_a_login_literal_encoded_for_basic_auth_is_blanked(text: str) -> None:
    """`btoa('u:pw')`, `Buffer.from('u:pw')`, `echo -n 'u:pw' | base64` and
    `base64.b64encode(b'u:pw')` show pw nowhere."""
    await _assert_blanked(text, PASSWORD)


async def test_the_encoded_basic_header_is_blanked() -> None:
    """Guard: the header those calls build, `Authorization: Basic <base64 of u:pw>`, shows
    neither the encoding nor the password."""
    encoded = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    assert await _leaking(encoded, f"Authorization: Basic {encoded}") == []


# --- leaks: a password a service prints at its setup (redact/commands.py, redact/pairs.py) ------


SETUP_LOGS = [
    pytest.param(f"[Note] [MY-010454] [Server] A temporary password is generated for root@localhost: {PASSWORD}", id="mysql-temporary-password"),
    pytest.param(f"Jenkins initial setup is required. Please use the following password to proceed to installation:\n\n{PASSWORD}", id="jenkins-initial-admin"),
    pytest.param(f"$ argocd admin initial-password -n argocd\n{PASSWORD}\n\n This password must be only used for first time login.", id="argocd-initial-password"),
    pytest.param(f"Changed password for user [elastic]\nPASSWORD elastic = {PASSWORD}", id="elasticsearch-setup-passwords"),
    pytest.param(f"$ elasticsearch-reset-password -u elastic\nPassword for the [elastic] user successfully reset.\nNew value: {PASSWORD}", id="elasticsearch-reset-password"),
]  # fmt: skip


@pytest.mark.parametrize("text", SETUP_LOGS)
async def test_a_generated_password_a_service_printed_is_blanked(text: str) -> None:
    """The password MySQL, Jenkins, Argo CD and Elasticsearch print at setup shows nowhere."""
    await _assert_blanked(text, PASSWORD)


# --- leaks: attack tools' command lines, as a runtime security alert quotes them -----------------


ATTACK_COMMANDS = [
    pytest.param(f"evil-winrm -i 10.0.0.5 -u admin -p {PASSWORD}", id="evil-winrm"),
    pytest.param(f"crackmapexec smb 10.0.0.0/24 -u admin -p {PASSWORD}", id="crackmapexec"),
    pytest.param(f"hydra -l admin -p {PASSWORD} ssh://10.0.0.5", id="hydra"),
    pytest.param(f"secretsdump.py corp/admin:{PASSWORD}@10.0.0.5", id="impacket-target"),
    pytest.param(f"openssl passwd -6 {PASSWORD}", id="openssl-passwd"),
    pytest.param(f"mkpasswd -m sha-512 {PASSWORD}", id="mkpasswd"),
]


@pytest.mark.parametrize("text", ATTACK_COMMANDS)
async def test_a_password_on_an_attack_tools_command_line_is_blanked(text: str) -> None:
    """A runtime security alert's command line of evil-winrm, crackmapexec, hydra,
    impacket, `openssl passwd` or `mkpasswd` shows the password nowhere."""
    await _assert_blanked(f"Falco: suspicious process spawned (cmdline={text})", PASSWORD)


# --- leaks: calls that take a password by its place (redact/positional.py) ----------------------


CALLS = [
    pytest.param(f"ftplib.FTP('ftp.example.com', 'bob', '{PASSWORD}')", id="python-ftplib"),
    pytest.param(f"pop.pass_('{PASSWORD}')", id="python-poplib-pass"),
    pytest.param(f"EXEC sp_addlogin 'app', '{PASSWORD}'", id="mssql-sp-addlogin"),
    pytest.param(f'.username("app").password(Some("{PASSWORD}"))', id="rust-builder-some"),
]


@pytest.mark.parametrize("text", CALLS)
async def test_a_password_passed_by_its_place_to_more_calls_is_blanked(text: str) -> None:
    """The password given to ftplib.FTP, poplib's pass_, sp_addlogin and a Rust builder's
    `.password(Some(…))` shows nowhere."""
    await _assert_blanked(text, PASSWORD)


# --- leaks: Windows' answer files and registry (redact/sections.py, redact/commands.py) ---------


WINDOWS = [
    pytest.param(f"<AutoLogon><Password><Value>{PASSWORD}</Value><PlainText>true</PlainText></Password></AutoLogon>", id="unattend-autologon"),
    pytest.param(f"<AdministratorPassword>\n  <Value>{PASSWORD}</Value>\n  <PlainText>true</PlainText>\n</AdministratorPassword>", id="unattend-administrator"),
    pytest.param(f'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon" /v DefaultPassword /t REG_SZ /d {PASSWORD} /f', id="reg-add-default-password"),
    pytest.param(f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\n    DefaultPassword    REG_SZ    {PASSWORD}", id="reg-query-output"),
]  # fmt: skip


@pytest.mark.parametrize("text", WINDOWS)
async def test_windows_answer_file_and_registry_passwords_are_blanked(text: str) -> None:
    """A password in unattend.xml's `<Password><Value>`, in `reg add … /v DefaultPassword
    /d X` and in reg query's output shows nowhere."""
    await _assert_blanked(text, PASSWORD)


async def test_an_xml_password_element_holding_text_is_blanked() -> None:
    """Guard: `<Password>X</Password>` (text, no `<Value>` child) shows X nowhere."""
    await _assert_blanked(f"<Password>{PASSWORD}</Password>", PASSWORD)


# --- leaks: installers' answer files (redact/pairs.py) -------------------------------------------


INSTALLERS = [
    pytest.param(f"rootpw --plaintext {PASSWORD}", id="kickstart-rootpw"),
    pytest.param(f"d-i passwd/root-password password {PASSWORD}", id="preseed-root"),
    pytest.param(f"d-i passwd/user-password password {PASSWORD}", id="preseed-user"),
    pytest.param(
        f"mysql-server mysql-server/root_password password {PASSWORD}", id="debconf-selection"
    ),
]


@pytest.mark.parametrize("text", INSTALLERS)
async def test_an_installers_answer_file_password_is_blanked(text: str) -> None:
    """A root or user password in a kickstart or preseed/debconf answer shows nowhere."""
    await _assert_blanked(text, PASSWORD)


# --- leaks: code that sets a secret's variable (redact/calls.py, redact/pairs.py) ----------------


CODE = [
    pytest.param(f"$ENV{{DB_PASSWORD}} = '{PASSWORD}';", id="perl-env-hash"),
    pytest.param(f"DB_PASSWORD ?= {PASSWORD}", id="make-conditional-assign"),
]


@pytest.mark.parametrize("text", CODE)
async def test_a_secret_set_in_perl_or_make_is_blanked(text: str) -> None:
    """Perl's `$ENV{DB_PASSWORD} = '…'` and Make's `DB_PASSWORD ?= …` show the value nowhere."""
    await _assert_blanked(text, PASSWORD)


# --- the dead-letter peek: a text body no normaliser reads shows the same misses -----------------


def _peeked(body: str) -> str:
    """What `triage dlq` peek shows of a dead letter whose body is `body` (plain text)."""
    letter = DeadLetter(Message("m-1", body, "rh", 5, datetime.now(UTC)), {})
    return json.dumps(letter.describe(datetime.now(UTC)))


def test_dead_letter_peek_of_a_config_diff_shows_no_device_secret() -> None:
    """`triage dlq` peek of a config diff body holding IOS secrets shows none of them."""
    body = f"+username admin privilege 15 password 0 {PASSWORD}\n+crypto isakmp key {PASSWORD} address 0.0.0.0"
    assert not _left(_peeked(body), PASSWORD)


def test_dead_letter_peek_shows_a_text_body_redacted() -> None:
    """Guard: the peek of a text body shows its start and blanks `enable password X`."""
    shown = _peeked(f"+hostname core-1\n+enable password {PASSWORD}")
    assert "core-1" in shown
    assert not _left(shown, PASSWORD)


# --- leaks: a long value after a name and a space (redact/pairs.py) ------------------------------


LONG_SECRET = base64.b64encode(_RNG.randbytes(200)).decode()  # a cloudflared tunnel token's size


@pytest.mark.parametrize(
    "form",
    ["TUNNEL_TOKEN {}", "DB_PASSWORD {}", "the token is {}"],
    ids=["bare-name", "password-name", "sentence"],
)
async def test_a_long_secret_after_a_name_and_a_space_goes_whole(form: str) -> None:
    """A 268-character secret after `TUNNEL_TOKEN `, `DB_PASSWORD ` or `the token is `
    shows no run of it, its end included."""
    await _assert_blanked(form.format(LONG_SECRET), LONG_SECRET)


async def test_a_long_secret_after_a_name_and_an_equals_goes_whole() -> None:
    """Guard: the same secret after `TUNNEL_TOKEN=` shows no run of it."""
    await _assert_blanked(f"TUNNEL_TOKEN={LONG_SECRET}", LONG_SECRET)


# --- leaks: CI tools' tokens and a token as a URL's user (redact/commands.py, redact/web.py) -----


SNYK_TOKEN = _uuid()
SONAR_TOKEN = _random(40, HEX)
AZURE_DEVOPS_PAT = _random(52, string.ascii_lowercase + "234567")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"snyk auth {SNYK_TOKEN}", SNYK_TOKEN),
        (f"codecov -t {SNYK_TOKEN} -f coverage.xml", SNYK_TOKEN),
        (f"sonar-scanner -Dsonar.login={SONAR_TOKEN} -Dsonar.projectKey=x", SONAR_TOKEN),
    ],
    ids=["snyk-auth", "codecov-t", "sonar-login"],
)
async def test_a_ci_tools_token_by_its_place_is_blanked(text: str, secret: str) -> None:
    """The token given to `snyk auth`, `codecov -t` and SonarScanner's `-Dsonar.login=`
    shows nowhere."""
    await _assert_blanked(text, secret)


async def test_an_azure_devops_pat_as_a_urls_user_is_blanked() -> None:
    """`git clone https://<PAT>@dev.azure.com/org/proj/_git/repo` shows the PAT nowhere."""
    text = f"git clone https://{AZURE_DEVOPS_PAT}@dev.azure.com/org/proj/_git/repo failed"
    await _assert_blanked(text, AZURE_DEVOPS_PAT)


# --- leaks: a secret's name dressed in Markdown, mrkdwn, Jira or HTML (redact/markup.py) --------


DRESSED_NAMES = [
    pytest.param(f"**password**: {PASSWORD}", id="markdown-bold-name"),
    pytest.param(f"**Password:** {PASSWORD}", id="markdown-bold-name-and-colon"),
    pytest.param(f"`password`: `{PASSWORD}`", id="markdown-code-spans"),
    pytest.param(f"| **DB password** | `{PASSWORD}` |", id="markdown-table-bold-cell"),
    pytest.param(f"*Password:* {PASSWORD}", id="jira-or-mrkdwn-bold"),
    pytest.param(f"<strong>Password:</strong> {PASSWORD}", id="html-strong"),
    pytest.param(
        f"<tr><th>Password</th><td><code>{PASSWORD}</code></td></tr>", id="html-th-td-code"
    ),
    pytest.param(f"<dl><dt>Password</dt><dd>{PASSWORD}</dd></dl>", id="html-definition-list"),
]


@pytest.mark.parametrize("text", DRESSED_NAMES)
async def test_a_secret_under_a_formatted_name_is_blanked(text: str) -> None:
    """A password after its name in Markdown bold or code, Jira/Slack bold, HTML strong, a
    `<th>`/`<td>` row or a definition list shows nowhere (alert descriptions are Markdown)."""
    await _assert_blanked(f"Runbook\n\n{text}", PASSWORD)


async def test_a_secret_under_a_plain_markdown_name_is_blanked() -> None:
    """Guard: `| Password | X |` and `<td>password</td><td>X</td>` show X nowhere."""
    await _assert_blanked(
        f"| Password | {PASSWORD} |\n<td>password</td><td>{PASSWORD}</td>", PASSWORD
    )


MARKDOWN_ESCAPED = [
    pytest.param("ghp_" + _random(36), 4, "\\_", id="github-token"),
    pytest.param("sk_live_" + _random(24), 8, "\\_", id="stripe-key"),
    pytest.param("glpat-" + _random(20), 6, "\\-", id="gitlab-token"),
]


@pytest.mark.parametrize(("token", "prefix", "escape"), MARKDOWN_ESCAPED)
async def test_a_token_with_markdown_escapes_is_blanked(
    token: str, prefix: int, escape: str
) -> None:
    """A GitHub, Stripe or GitLab token with its separators Markdown-escaped shows its random
    part nowhere."""
    written = token.replace(escape[1], escape)
    await _assert_blanked(f"leaked in the wiki: {written}", token[prefix:])


# --- leaks: SIEM and plan formats (redact/pairs.py) ----------------------------------------------


async def test_a_cef_custom_string_labelled_password_is_blanked() -> None:
    """A CEF event (`cs1Label=password cs1=X`) a SIEM forwards shows X nowhere."""
    text = f"CEF:0|Vendor|Product|1.0|100|Login|5|suser=bob cs1Label=password cs1={PASSWORD} dst=10.0.0.5"
    await _assert_blanked(text, PASSWORD)


async def test_a_terraform_plans_new_value_after_a_sensitive_one_is_blanked() -> None:
    """A plan line `~ password = (sensitive value) -> "X"` shows X nowhere."""
    await _assert_blanked(f'      ~ password = (sensitive value) -> "{PASSWORD}"', PASSWORD)
