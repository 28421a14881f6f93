"""Red team, round 6: credentials that still leave the process, and words the redactor eats.

Each leak case is put into an alert's description and the alert is handed to the pipeline
(in-memory store, a sink that records its effects). What leaves is rendered as the sinks and the
summariser render it: the GitHub issue's title, body and labels, Slack's message, the ticket
backend's body, the LLM prompt and the pipeline's log lines after the log redactor. A leak is
any 8-character run of the case's secret on any of them. Guards beside the leaks show that the
path shows the alert's text (a leak is the redactor's miss, not an empty render) and that a
near shape the redactor knows is blanked.

Each was a strict xfail naming the redactor part where its fix belongs, until that fix
landed; over-redaction (an ordinary identifier blanked, so the alert loses its meaning) is at
the end.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Mapping

import pytest

from secret_surfaces import left
from secret_surfaces import surfaces as surfaces_of
from triage.redact import redact

_RNG = random.Random(20261206_6)
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
URL_SAFE = ALNUM + "-_"


def _random(count: int, alphabet: str = ALNUM) -> str:
    """`count` characters of `alphabet`, the same on every run (the module's seeded draw)."""
    return "".join(_RNG.choice(alphabet) for _ in range(count))


#: A password no vendor's shape tells apart: only where it stands says it is one.
PASSWORD = "Xk7pL2mR9tQwE4rT"
TOKEN = _random(32)


async def _assert_blanked(text: str, secret: str) -> None:
    """`text` in an alert's description shows no run of `secret` on any surface."""
    surfaces = await surfaces_of(text)
    assert [place for place, shown in surfaces.items() if left(shown, secret)] == []


# --- guards -------------------------------------------------------------------------------------


async def test_the_surfaces_show_the_description() -> None:
    """The GitHub body, Slack, the backend and the prompt show the description, so a leak below
    is the redactor's miss, not an empty render."""
    surfaces = await surfaces_of("replica lag on orders-db")
    for place in ("github-body", "slack", "backend", "prompt"):
        assert "orders-db" in surfaces[place], place


async def test_near_shapes_the_redactor_knows_leave_nothing() -> None:
    """The siblings of this round's leaks that the redactor knows are blanked everywhere: a
    plain `password=`, `docker login --password-stdin <<<`, a `pth-winexe` hash login,
    `JWT_SIGNING_KEY=`, a cookie header's PHPSESSID, `?code=` and a Sourcegraph `sgp_` token."""
    sourcegraph = "sgp_" + _random(40, "0123456789abcdef")
    cases = [
        (f"password={PASSWORD}", PASSWORD),
        (f"docker login -u bob --password-stdin <<< {PASSWORD}", PASSWORD),
        (f"pth-winexe -U admin%aad3b435b51404eeaad3b435b51404ee:{NT_HASH} //10.0.0.5", NT_HASH),
        (f"JWT_SIGNING_KEY={PASSWORD}", PASSWORD),
        (f"Cookie: PHPSESSID={PASSWORD}; path=/", PASSWORD),
        (f"GET /callback?code={TOKEN}&state=x", TOKEN),
        (f"search failed for {sourcegraph}", sourcegraph[4:]),
    ]
    leaks = {}
    for text, secret in cases:
        surfaces = await surfaces_of(text)
        leaks[text] = [place for place, shown in surfaces.items() if left(shown, secret)]
    assert {text: places for text, places in leaks.items() if places} == {}


# --- leaks: redact/tokens.py (vendor prefixes) ---------------------------------------------------


YANDEX_OAUTH = "y0_" + _random(55, URL_SAFE)
ATLAS_SECRET = "mdb_sa_sk_" + _random(40, ALNUM + "_")
SEGMENT_PUBLIC = "sgp_" + _random(64)
NEON_KEY = "napi_" + _random(64, LOWER_ALNUM)
COCKROACH_KEY = f"CCDB1_{_random(22)}_{_random(40)}"


@pytest.mark.parametrize(
    "token",
    [YANDEX_OAUTH, ATLAS_SECRET, SEGMENT_PUBLIC, NEON_KEY, COCKROACH_KEY],
    ids=["yandex-oauth", "atlas-service-account", "segment-public-api", "neon", "cockroach-cloud"],
)
async def test_documented_vendor_prefixed_tokens_are_blanked(token: str) -> None:
    """A Yandex OAuth token (`y0_`), a MongoDB Atlas service account secret (`mdb_sa_sk_`), a
    Segment public API token (`sgp_` + 64), a Neon API key (`napi_`) and a CockroachDB Cloud
    API key (`CCDB1_`) quoted in an error show nowhere."""
    await _assert_blanked(f"provider call answered 401 for credential {token}", token[-40:])


HEX = "0123456789abcdef"
AI_AND_PLATFORM_KEYS = {
    "tavily": "tvly-" + _random(32),
    "firecrawl": "fc-" + _random(32, HEX),
    "jina": "jina_" + _random(60),
    "elevenlabs": "sk_" + _random(48, HEX),
    "together": "tgp_v1_" + _random(43, URL_SAFE),
    "voyage": "pa-" + _random(43, URL_SAFE),
    "cerebras": "csk-" + _random(48, LOWER_ALNUM),
    "fireworks": "fw_" + _random(24),
    "runpod": "rpa_" + _random(40, string.ascii_uppercase + string.digits),
    "datastax-astra": f"AstraCS:{_random(24, string.ascii_letters)}:{_random(64, HEX)}",
    "axiom": f"xaat-{_random(8, HEX)}-{_random(4, HEX)}-{_random(4, HEX)}-"
    f"{_random(4, HEX)}-{_random(12, HEX)}",
    "inngest-signing": "signkey-prod-" + _random(64, HEX),
    "liveblocks": "sk_prod_" + _random(64, URL_SAFE),
    "trigger-dev": "tr_prod_" + _random(20),
    "stytch": "secret-live-" + _random(36, URL_SAFE),
}


@pytest.mark.parametrize(
    "token", list(AI_AND_PLATFORM_KEYS.values()), ids=list(AI_AND_PLATFORM_KEYS)
)
async def test_ai_and_developer_platform_keys_are_blanked(token: str) -> None:
    """Keys of AI APIs (Tavily, Firecrawl, Jina, ElevenLabs, Together, Voyage, Cerebras,
    Fireworks, RunPod) and developer platforms (Astra, Axiom, Inngest, Liveblocks,
    Trigger.dev, Stytch), each by its documented prefix, quoted in an error show nowhere."""
    await _assert_blanked(f"agent tool call failed: 401 for key {token}", token[-16:])


def _b64url(count: int) -> str:
    """`count` base64url characters of the module's seeded draw."""
    return _random(count, URL_SAFE)


#: Cognito's refresh token: a JWE (five parts, RSA-OAEP key wrap), no payload starting `eyJ`.
COGNITO_REFRESH = (
    "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ."
    f"{_b64url(342)}.{_b64url(22)}.{_b64url(1500)}.{_b64url(22)}"
)
#: NextAuth's session cookie: a JWE with direct encryption (`dir`), its key part empty.
NEXTAUTH_SESSION = (
    f"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..{_b64url(22)}.{_b64url(400)}.{_b64url(22)}"
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"cognito refresh failed for {COGNITO_REFRESH}", COGNITO_REFRESH[-1580:-60]),
        (f"session {NEXTAUTH_SESSION} rejected", NEXTAUTH_SESSION[-420:-30]),
    ],
    ids=["cognito-refresh-token", "nextauth-session"],
)
async def test_an_encrypted_jwt_is_blanked(text: str, secret: str) -> None:
    """A JWE in its compact form (Cognito's refresh token, NextAuth's session cookie value)
    quoted in an error shows nowhere: it is a bearer credential like a signed JWT."""
    await _assert_blanked(text, secret)


NOMAD_SECRET = (
    f"{_random(8, HEX)}-{_random(4, HEX)}-4{_random(3, HEX)}-a{_random(3, HEX)}-{_random(12, HEX)}"
)
FERNET_TOKEN = "gAAAAAB" + _b64url(170)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            f"Accessor ID  = 3f1c2b4a-0000-4000-8000-000000000001\n"
            f"Secret ID    = {NOMAD_SECRET}\nName         = Bootstrap Token",
            NOMAD_SECRET,
        ),
        (
            f"| expires    | 2026-12-06T12:00:00+0000 |\n| id         | {FERNET_TOKEN} |\n"
            f"| project_id | 36888a9a441c934e309436ac51fa9013 |",
            FERNET_TOKEN,
        ),
    ],
    ids=["nomad-acl-bootstrap", "openstack-token-issue"],
)
async def test_a_token_printed_by_a_cloud_cli_is_blanked(text: str, secret: str) -> None:
    """`nomad acl bootstrap`'s `Secret ID = <uuid>` and `openstack token issue`'s table row
    `| id | gAAAAA… |` (a fernet bearer token) show the token nowhere."""
    await _assert_blanked(f"bootstrap job output:\n{text}", secret)


# --- leaks: redact/markup.py (JSON Web Keys) -----------------------------------------------------


def _jwk(kty: str, private: Mapping[str, str]) -> str:
    """A JSON Web Key of type `kty` with its public members and the `private` ones."""
    public = {"EC": {"crv": "P-256", "x": _random(43, URL_SAFE), "y": _random(43, URL_SAFE)},
              "OKP": {"crv": "Ed25519", "x": _random(43, URL_SAFE)},
              "oct": {"alg": "HS256"}}[kty]  # fmt: skip
    return json.dumps({"kty": kty, "kid": "signing-2026", **public, **private})


EC_D = _random(43, URL_SAFE)
OKP_D = _random(43, URL_SAFE)
OCT_K = _random(43, URL_SAFE)


@pytest.mark.parametrize(
    ("jwk", "secret"),
    [(_jwk("EC", {"d": EC_D}), EC_D), (_jwk("OKP", {"d": OKP_D}), OKP_D),
     (_jwk("oct", {"k": OCT_K}), OCT_K)],
    ids=["ec-d", "ed25519-d", "oct-k"],
)  # fmt: skip
async def test_a_json_web_keys_private_member_is_blanked(jwk: str, secret: str) -> None:
    """A signing service's error quoting its JWK shows neither the EC or Ed25519 private
    scalar `d` nor a symmetric key's `k` on any surface."""
    await _assert_blanked(f"jwt signer failed to load key {jwk}", secret)


RSA_D = _random(172, ALNUM + "+/")
RSA_P = _random(86, ALNUM + "+/")


async def test_an_xml_rsa_key_values_private_elements_are_blanked() -> None:
    """.NET's `RSA.ToXmlString(true)` form, quoted in a config error, shows neither the
    private exponent `<D>` nor a prime `<P>` (the public `<Modulus>` may stay)."""
    key = (
        f"<RSAKeyValue><Modulus>{_random(172, ALNUM + '+/')}</Modulus><Exponent>AQAB</Exponent>"
        f"<P>{RSA_P}</P><Q>{_random(86, ALNUM + '+/')}</Q><D>{RSA_D}</D></RSAKeyValue>"
    )
    surfaces = await surfaces_of(f"signing key rejected: {key}")
    leaks = [place for place, shown in surfaces.items() if left(shown, RSA_D) or left(shown, RSA_P)]
    assert leaks == []


MINISIGN_KEY = "RWRTY0Iy" + _random(150, ALNUM + "+/")
SIGNIFY_KEY = "RWRCSwAAA" + _random(100, ALNUM + "+/")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"untrusted comment: minisign encrypted secret key\n{MINISIGN_KEY}", MINISIGN_KEY),
        (f"untrusted comment: signify secret key\n{SIGNIFY_KEY}", SIGNIFY_KEY),
    ],
    ids=["minisign", "signify"],
)
async def test_a_minisign_or_signify_secret_key_file_is_blanked(text: str, secret: str) -> None:
    """A release job that cats its signing key file (minisign's `.key`, OpenBSD signify's
    `.sec`: a comment line naming a secret key, then one base64 line) shows the key nowhere."""
    await _assert_blanked(f"release signing failed, key file:\n{text}", secret)


# --- leaks: redact/commands.py (CI runners' workflow commands) -----------------------------------


@pytest.mark.parametrize(
    "line",
    [
        f"+ echo ::add-mask::{TOKEN}",
        f"##vso[task.setvariable variable=deployToken;issecret=true]{TOKEN}",
        f"##teamcity[setParameter name='env.DEPLOY_TOKEN' value='{TOKEN}']",
        f'echo "::set-output name=deploy_token::{TOKEN}"',
    ],
    ids=[
        "github-actions-add-mask",
        "azure-pipelines-issecret",
        "teamcity-set-parameter",
        "github-actions-set-output",
    ],
)
async def test_a_ci_workflow_command_marking_a_secret_is_blanked(line: str) -> None:
    """A CI log line that hands the runner a secret (GitHub Actions' `::add-mask::` under
    `set -x`, Azure Pipelines' `setvariable … issecret=true`, TeamCity's `setParameter` of an
    `env.*_TOKEN`, the old `::set-output name=deploy_token::`) shows the value nowhere: the
    line itself says it is one."""
    await _assert_blanked(f"deploy step log:\n{line}\n+ ./deploy.sh", TOKEN)


# --- leaks: redact/positional.py (here-strings and commands that echo a secret) ------------------


@pytest.mark.parametrize(
    "line",
    [
        f"read -rs DB_PASS <<< '{PASSWORD}'",
        f"keepassxc-cli open vault.kdbx --pw-stdin <<< {PASSWORD}",
        f"cryptsetup luksOpen /dev/nvme1n1 data <<< {PASSWORD}",
        f"pass insert -e prod/db <<< {PASSWORD}",
        f"vercel env add DB_PASSWORD production <<< {PASSWORD}",
    ],
    ids=["read-silent", "keepassxc-pw-stdin", "cryptsetup", "pass-insert", "vercel-env-add"],
)
async def test_a_password_given_as_a_here_string_is_blanked(line: str) -> None:
    """A password fed by `<<<` to a command that reads a secret (`read -s`, `--pw-stdin`,
    `cryptsetup`, `pass insert`, `vercel env add NAME`) shows nowhere, as it does for
    `docker login`."""
    await _assert_blanked(f"+ {line}\nexit status 1", PASSWORD)


@pytest.mark.parametrize(
    "line",
    [
        f"restic -r s3:backups --password-command 'echo {PASSWORD}' backup /data",
        f'BORG_PASSCOMMAND="echo {PASSWORD}" borg create ::nightly /data',
    ],
    ids=["restic", "borg"],
)
async def test_a_password_echoed_by_a_password_command_is_blanked(line: str) -> None:
    """A backup tool's password command that echoes the password shows it nowhere."""
    await _assert_blanked(f"backup failed: {line}", PASSWORD)


@pytest.mark.parametrize(
    "line",
    [
        f"mosquitto_passwd -b /etc/mosquitto/passwd sensor {PASSWORD}",
        f"mssql-cli -S db -U sa -P {PASSWORD}",
        f"travis encrypt {PASSWORD} --add",
    ],
    ids=["mosquitto-passwd", "mssql-cli", "travis-encrypt"],
)
async def test_a_password_passed_by_its_place_to_yet_more_commands_is_blanked(line: str) -> None:
    """`mosquitto_passwd -b file user PW`, `mssql-cli -P PW` (sqlcmd's -P is blanked) and
    `travis encrypt PW` show the password nowhere."""
    await _assert_blanked(f"+ {line}", PASSWORD)


# --- leaks: PowerShell (redact/calls.py, redact/pairs.py, redact/commands.py) -------------------


@pytest.mark.parametrize(
    "line",
    [
        f"$cred = [System.Net.NetworkCredential]::new('svc-backup', '{PASSWORD}')",
        f'$password = @"\n{PASSWORD}\n"@',
        f"Set-Variable -Name password -Value {PASSWORD}",
    ],
    ids=["networkcredential-new", "here-string", "set-variable"],
)
async def test_a_password_in_powershells_own_forms_is_blanked(line: str) -> None:
    """A PowerShell script echoed into a job log shows its password nowhere: the static
    `::new(user, password)` (C#'s `new NetworkCredential(…)` is blanked), a here-string
    assigned to `$password` (only its opening `@` is blanked today) and `Set-Variable`."""
    await _assert_blanked(f"scheduled task failed:\n{line}\nexit 1", PASSWORD)


# --- leaks: shells' and databases' own forms (redact/pairs.py, redact/calls.py) ------------------


@pytest.mark.parametrize(
    "line",
    [f"export DB_PASSWORD=$'{PASSWORD}'", f"declare -x API_TOKEN=$'{PASSWORD}'"],
    ids=["export", "declare-x"],
)  # fmt: skip
async def test_a_secret_in_bash_ansi_c_quotes_is_blanked(line: str) -> None:
    """`export X=$'…'` and `declare -x X=$'…'` (what `set -x` and `export -p` print for a
    value with special characters) show the value nowhere, not just its `$`."""
    await _assert_blanked(f"+ {line}", PASSWORD)


@pytest.mark.parametrize(
    "line",
    [
        f'db.getSiblingDB("admin").auth("root", "{PASSWORD}")',
        f'db.changeUserPassword("app", "{PASSWORD}")',
        f"CREATE DATABASE LINK sales CONNECT TO scott IDENTIFIED BY {PASSWORD} USING 'orcl';",
    ],
    ids=["mongo-auth", "mongo-change-user-password", "oracle-database-link"],
)
async def test_a_password_in_a_databases_own_statements_is_blanked(line: str) -> None:
    """A database's slow-query or audit log quoting `db.auth(user, pw)`,
    `db.changeUserPassword(user, pw)` or Oracle's `CREATE DATABASE LINK … IDENTIFIED BY pw`
    shows the password nowhere (`ALTER USER … IDENTIFIED BY` already does)."""
    await _assert_blanked(f"audit: {line}", PASSWORD)


@pytest.mark.parametrize(
    "line",
    [
        f"SELECT pgp_sym_encrypt(card_number, '{PASSWORD}') FROM cards",
        f"SELECT AES_ENCRYPT(ssn, '{PASSWORD}') FROM people",
        f"UPDATE users SET hash = crypt('{PASSWORD}', gen_salt('bf'))",
    ],
    ids=["pgcrypto-sym-encrypt", "mysql-aes-encrypt", "pgcrypto-crypt"],
)
async def test_a_key_given_to_a_sql_crypto_function_is_blanked(line: str) -> None:
    """A slow query log quoting pgcrypto's `pgp_sym_encrypt(data, key)`, MySQL's
    `AES_ENCRYPT(data, key)` or `crypt(password, salt)` shows the key or password nowhere."""
    await _assert_blanked(f"slow query (2.3 s): {line}", PASSWORD)


# --- leaks: package managers' credentials (redact/commands.py, redact/positional.py) -----------


@pytest.mark.parametrize(
    "line",
    [
        f"BUNDLE_GEMS__CORP__COM=ci-bot:{TOKEN}",
        f"bundle config set --global gems.corp.com ci-bot:{TOKEN}",
        f"composer config --global http-basic.repo.corp.com ci-bot {TOKEN}",
        f'{{"github-oauth": {{"github.com": "{TOKEN}"}}}}',
        f"dotnet nuget add source https://nuget.corp/v3 -n corp -u ci-bot -p {TOKEN}",
        f"conan remote login corp ci-bot -p {TOKEN}",
        f'credentials += Credentials("Artifactory Realm", "repo.corp", "ci-bot", "{TOKEN}")',
    ],
    ids=[
        "bundler-env",
        "bundle-config",
        "composer-http-basic",
        "composer-auth-json-github-oauth",
        "dotnet-nuget-add-source",
        "conan-remote-login",
        "sbt-credentials",
    ],
)
async def test_a_package_managers_credential_is_blanked(line: str) -> None:
    """A build log's package-registry login shows its token nowhere: Bundler's
    `BUNDLE_<HOST>=user:token` and `bundle config set <host> user:token`, Composer's
    `http-basic` and auth.json `github-oauth`, `dotnet nuget add source -p`, `conan remote
    login -p` and sbt's `Credentials(realm, host, user, password)`."""
    await _assert_blanked(f"dependency install failed:\n{line}", TOKEN)


# --- leaks: redact/commands.py (NTLM hashes: pass-the-hash credentials) --------------------------


NT_HASH = "8846f7eaee8fb117ad06bdd830b7586c"


@pytest.mark.parametrize(
    "line",
    [
        f"Administrator:500:aad3b435b51404eeaad3b435b51404ee:{NT_HASH}:::",
        f"evil-winrm -i 10.0.0.5 -u admin -H {NT_HASH}",
        f"impacket-psexec -hashes :{NT_HASH} admin@10.0.0.5",
    ],
    ids=["secretsdump-line", "evil-winrm", "impacket-hashes"],
)
async def test_an_nt_hash_is_blanked(line: str) -> None:
    """An NT hash logs in as the user (pass-the-hash): a secretsdump line, `evil-winrm -H` and
    impacket's `-hashes` show it nowhere, as `pth-winexe -U user%LM:NT` already does."""
    await _assert_blanked(f"EDR: suspicious process\n{line}", NT_HASH)


# --- leaks: redact/names.py (key-material and session names) -------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        f"kek={PASSWORD}",
        f'{{"dek": "{PASSWORD}"}}',
        f"jwt_key: {PASSWORD}",
        f"mac_key={PASSWORD}",
        f"PEPPER={PASSWORD}",
        f"wallet_seed={PASSWORD}",
    ],
    ids=["kek", "dek-json", "jwt-key", "mac-key", "pepper", "wallet-seed"],
)
async def test_a_value_under_a_key_material_name_is_blanked(line: str) -> None:
    """A key-encryption key, a data key, a JWT or MAC key, a password pepper and a wallet seed
    under their usual names show nowhere (`JWT_SIGNING_KEY=` already does)."""
    await _assert_blanked(f"config dump: {line}", PASSWORD)


@pytest.mark.parametrize(
    "line",
    [f'{{"PHPSESSID": "{PASSWORD}"}}', f'{{"connect.sid": "s%3A{PASSWORD}.sig"}}'],
    ids=["phpsessid", "express-connect-sid"],
)  # fmt: skip
async def test_a_session_cookie_as_a_json_member_is_blanked(line: str) -> None:
    """A cookie jar dumped as JSON (a browser test's storage state) shows PHP's and Express's
    session ids nowhere, as a `Cookie:` header's already does."""
    await _assert_blanked(f"e2e login failed, cookies {line}", PASSWORD)


# --- leaks: redact/web.py (query parameters) -----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.example.com/oauth/exchange?access_code={TOKEN}",
        f"https://sso.example.com/cas/serviceValidate?service=https%3A%2F%2Fapp&ticket=ST-1-{TOKEN}-cas01",
        f"https://app.example.com/oauth/callback?oauth_token=req1&oauth_verifier={TOKEN}",
        f"https://app.example.com/login?magic_link={TOKEN}",
    ],
    ids=["access-code", "cas-service-ticket", "oauth1-verifier", "magic-link"],
)
async def test_a_one_time_credential_in_a_query_string_is_blanked(url: str) -> None:
    """A one-time login credential in an access log's URL (an OAuth access code, a CAS
    service ticket, an OAuth 1.0a verifier, a magic link token) shows nowhere, as `code=` does."""
    await _assert_blanked(f"502 on GET {url}", TOKEN)


BOOTSTRAP_TOKEN = f"{_random(6, LOWER_ALNUM)}.{_random(16, LOWER_ALNUM)}"
BOOTSTRAP_IN_PROTOCOL = base64.urlsafe_b64encode(BOOTSTRAP_TOKEN.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("header", "secret"),
    [
        (
            "Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io."
            f"{BOOTSTRAP_IN_PROTOCOL}, v5.channel.k8s.io",
            BOOTSTRAP_IN_PROTOCOL,
        ),
        (f"Sec-WebSocket-Protocol: access_token, {TOKEN}", TOKEN),
    ],
    ids=["kubernetes-bearer-subprotocol", "access-token-subprotocol"],
)
async def test_a_token_in_a_websocket_subprotocol_is_blanked(header: str, secret: str) -> None:
    """Browsers cannot set Authorization on a WebSocket, so the token rides in
    `Sec-WebSocket-Protocol` (Kubernetes' `base64url.bearer.authorization.k8s.io.<token>`, the
    common `access_token, <token>`): an HTTP dump of the upgrade shows it nowhere, as the same
    token after `Authorization: Bearer` already does."""
    await _assert_blanked(f"exec stream closed, request was:\n{header}", secret)


# --- leaks: secrets split by terminal colour, log framing or concatenation ----------------------
# (redact/disguises.py, redact/continued.py)


GITHUB_PAT = "ghp_" + _random(36)


@pytest.mark.parametrize(
    "line",
    [
        f"token=\x1b[01;31m\x1b[K{GITHUB_PAT[:12]}\x1b[m\x1b[K{GITHUB_PAT[12:]}",
        f"\x1b[32m{GITHUB_PAT[:12]}\x1b[0m{GITHUB_PAT[12:]} rejected by api.github.com",
    ],
    ids=["grep-colour-match", "coloured-log"],
)
async def test_a_token_broken_by_ansi_colour_escapes_is_blanked(line: str) -> None:
    """A GitHub token a coloured CI log or `grep --color=always` split with SGR escapes shows
    nowhere: the surfaces drop the escapes, so the reader sees the token whole."""
    await _assert_blanked(f"ci step output:\n{line}", GITHUB_PAT[12:])


async def test_a_password_continued_on_a_cri_partial_line_is_blanked() -> None:
    """A container runtime's log splits a long line into a `P` (partial) record and the `F`
    record that finishes it; a password cut at that split shows neither part."""
    text = (
        f"2026-12-06T10:00:00.000000001Z stdout P connecting with password={PASSWORD[:8]}\n"
        f"2026-12-06T10:00:00.000000002Z stdout F {PASSWORD[8:]}@db failed"
    )
    await _assert_blanked(text, PASSWORD)


@pytest.mark.parametrize(
    "line",
    [
        f'token = "{GITHUB_PAT[:20]}" + "{GITHUB_PAT[20:]}"',
        f"SELECT set_config('app.token', '{GITHUB_PAT[:20]}' || '{GITHUB_PAT[20:]}', false)",
    ],
    ids=["plus", "sql-concat"],
)
async def test_a_token_split_into_concatenated_literals_is_blanked(line: str) -> None:
    """A token written as two literals joined by `+` or SQL's `||` (to dodge a scanner, or in
    a stack trace's source line) shows neither half."""
    await _assert_blanked(f"source line: {line}", GITHUB_PAT[20:])


# --- over-redaction: ordinary identifiers the alert needs ----------------------------------------


def test_a_dotnet_public_key_token_stays() -> None:
    """A .NET stack trace's assembly name keeps its PublicKeyToken: it is public, and tells
    which build of the assembly failed to load."""
    text = (
        "System.IO.FileLoadException: Could not load file or assembly 'Newtonsoft.Json, "
        "Version=13.0.0.0, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed'"
    )
    assert redact(text) == text


def test_an_authorization_decision_in_prose_stays() -> None:
    """A policy engine's `authorization: denied for user alice on resource orders` keeps who
    was denied what: `denied` is a decision, not an auth scheme."""
    text = "authorization: denied for user alice on resource orders"
    assert redact(text) == text


def test_a_credentials_files_path_stays() -> None:
    """`credentials: file:///etc/creds/app.json not found` keeps the path the operator must
    check; a path names where a secret is, it is not one."""
    text = "credentials: file:///etc/creds/app.json not found"
    assert redact(text) == text
