"""Probes for the credentials an attacker or a careless alert would carry in forms beside the
ones the redactor was built for: URLs with percent-encoded userinfo, userinfo in other schemes,
Authorization headers in curl with odd spacing and case, .netrc, PGPASSWORD, mysql -p, a
password piped into a command that reads it from its standard input, Kubernetes secrets in
base64, AWS's and Azure's keys, GCP's service account JSON, Slack's and Discord's webhooks,
JWTs split over lines, and secrets inside stack traces' reprs. Each probe names the secret it
hides; none of it may be left.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import base64
import json

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()
#: The secret every probe hides, unless it names its own.
S = "Xq7pL2vR9sK4"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AZURE_KEY = base64.b64encode(bytes(range(7, 71))).decode()
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


#: (probe, the secret it hides)
PROBES: list[tuple[str, str]] = [
    # URLs: percent-encoded userinfo, and userinfo in every scheme.
    (f"https://u:p%40{S}@h.example.com/", S),
    (f"https://user%40corp:{S}%21x@h.example.com/path", S),
    (f"https://user%40corp:{S}@h.example.com/path", S),
    (f"https://u:{S}%3Ax@h.example.com/", S),
    (f"https://:{S}@h.example.com/", S),
    (f"amqp://guest:{S}@rabbit:5672/vhost", S),
    (f"amqps://guest:{S}@rabbit:5671", S),
    (f"mongodb+srv://app:{S}@cluster0.ab1cd.mongodb.net/db?retryWrites=true", S),
    (f"mongodb://u:{S}@h1:27017,h2:27017,h3/db?replicaSet=rs0", S),
    (f"redis://:{S}@cache:6379/0", S),
    (f"rediss://default:{S}@cache:6380", S),
    (f"postgresql://app:{S}@db:5432/app", S),
    (f"postgresql://u@h/db?password={S}&sslmode=require", S),
    (f"jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={S};", S),
    (f"jdbc:postgresql://db:5432/app?user=app&password={S}", S),
    (f"jdbc:mysql://app:{S}@db:3306/x", S),
    (f"jdbc:oracle:thin:app/{S}@db:1521/x", S),
    (f"ldap://cn=admin:{S}@ldap.example.com", S),
    (f"ftp://ftpuser:{S}@files.example.com/", S),
    (f"http://u:{S}@[::1]:8080/", S),
    (f"[link](https://u:{S}@h.example.com/x)", S),
    # Authorization headers in curl, wget and httpie, odd spacing and case.
    (f'curl -H "authorization:Basic {S}AAAA" https://x', S),
    (f'curl -H "AUTHORIZATION:   bearer {S}AAAAAAA" https://x', S),
    (f"curl -H 'Authorization:token {S}' https://x", S),
    (f'curl -H"Authorization: Bearer {S}abcdef" https://x', S),
    (f'curl -H "Authorization : Bearer {S}abcdef" https://x', S),
    (f'curl --header="Authorization: Basic {S}abcd" https://x', S),
    (f'wget --header="Authorization: Token {S}" https://x', S),
    (f"http GET https://x Authorization:'Bearer {S}abcd'", S),
    (f"headers = {{'Authorization': 'Token {S}'}}", S),
    # .netrc, on one line and over lines.
    (f"machine h.example.com login u password {S}", S),
    (f"machine h.example.com\n  login u\n  password {S}\n", S),
    (f"default login u password {S}", S),
    # Passwords in the environment and on command lines.
    (f"PGPASSWORD={S} psql -h db -U app", S),
    (f"env PGPASSWORD={S} psql -h db", S),
    (f'$env:PGPASSWORD="{S}"', S),
    (f"MYSQL_PWD={S} mysql -uroot", S),
    (f"mysql -uroot -p{S} -h db", S),
    (f"mysqldump -uroot -p{S} db > x.sql", S),
    (f"sqlcmd -S db -U sa -P {S}", S),
    (f"bcp t out f -S db -U sa -P{S}", S),
    (f"sqlcmd -S db -U sa -P{S} -Q 'select 1'", S),
    # A password piped into a command that reads it from its standard input.
    (f"echo {S} | docker login -u me --password-stdin registry", S),
    (f"echo -n '{S}' | docker login --username u --password-stdin r.example.com", S),
    (f"printf '%s' '{S}' | docker login -u me --password-stdin", S),
    (f"cat <<< {S} | docker login -u u --password-stdin", S),
    (f"docker login -u u --password-stdin <<< {S}", S),
    (f"echo {S} | sudo -S systemctl restart app", S),
    (f"echo '{S}' | sudo --stdin apt-get update", S),
    (f'echo "{S}" | passwd --stdin app', S),
    (f'echo "app:{S}" | chpasswd', S),
    # Kubernetes secrets.
    ("apiVersion: v1\nkind: Secret\ndata:\n  password: c2VjcmV0cGFzc3dvcmQ=\n", "c2VjcmV0"),
    (f"kubectl create secret generic db --from-literal=password={S}", S),
    (f"kubectl create secret docker-registry r --docker-username=u --docker-password={S}", S),
    (f"stringData:\n  token: {S}", S),
    # AWS's and Azure's keys.
    (
        f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {AWS_SECRET}",
        AWS_SECRET,
    ),
    (f"aws configure set aws_secret_access_key {AWS_SECRET}", AWS_SECRET),
    (
        "DefaultEndpointsProtocol=https;AccountName=acct;"
        f"AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
        AZURE_KEY,
    ),
    (
        f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={AZURE_KEY}",
        AZURE_KEY,
    ),
    (json.dumps([{"keyName": "key1", "permissions": "FULL", "value": AZURE_KEY}]), AZURE_KEY),
    # GCP's service account JSON, its key's newlines escaped.
    (
        json.dumps(
            {
                "type": "service_account",
                "private_key": f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n",
            }
        ),
        PEM_BODY,
    ),
    # Webhooks.
    (
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXX",
    ),
    (
        "https://discord.com/api/webhooks/123456789012345678/"
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
        "abcdefghijklmnopqrstuvwxyzABC",
    ),
    # JWTs split over lines.
    ("token: " + JWT.replace(".", ".\n"), "SflKxwRJ"),
    (JWT.replace(".", "\n."), "SflKxwRJ"),
    # Stack traces' reprs.
    (f"  File \"app.py\", line 3\n    conn = psycopg2.connect(host='db', password='{S}')", S),
    (f"TypeError: bad config: Settings(db_password='{S}', host='db')", S),
    (f"ValueError: bad config {{'user': 'app', 'password': '{S}'}}", S),
    (f"panic: dial failed: &{{Host:db User:app Password:{S} Port:5432}}", S),
    (f"java.sql.SQLException: DataSourceConfig{{url='jdbc:x', username='app', password='{S}'}}", S),
    (f"at com.x.Db.connect(Db.java:42) Config[password={S}, user=app]", S),
    (f"│ password = '{S}'", S),
    (f"NameError: locals: {{'self': <A>, 'secret': '{S}'}}", S),
    # A user and a password by their place in a call that logs in (code in a trace, a snippet).
    (f"requests.get(url, auth=HTTPBasicAuth('svc', '{S}'))", S),
    (f"requests.get(url, auth=('svc', '{S}'))", S),
    (f"session.auth = ('svc', '{S}')", S),
    (f"aiohttp.BasicAuth('svc', '{S}')", S),
    (f"httpx.DigestAuth('svc', '{S}')", S),
    (f"server.login('alerts@example.com', '{S}')", S),
    (f'smtp.login("alerts", "{S}")', S),
    (f"ftp.login('u', '{S}')", S),
    (f"conn.simple_bind_s('cn=admin,dc=x', '{S}')", S),
    (f"pymysql.connect('db', 'app', '{S}', 'x')", S),
    (f'new NetworkCredential("svc", "{S}")', S),
    (f'new PasswordAuthentication("svc", "{S}".toCharArray())', S),
    (f'new UsernamePasswordCredentials("svc", "{S}")', S),
    (f'DriverManager.getConnection("jdbc:postgresql://db/x", "app", "{S}")', S),
    (f'req.SetBasicAuth("svc", "{S}")', S),
    (f'smtp.PlainAuth("", "u", "{S}", "smtp.example.com")', S),
    (f'gomail.NewDialer("smtp.example.com", 587, "u", "{S}")', S),
    # More command lines that take a password as a short option.
    (f"cqlsh -u cassandra -p {S} db", S),
    (f"rabbitmqadmin -u admin -p {S} list queues", S),
    (f"mosquitto_pub -h broker -u app -P {S} -t t -m x", S),
    (f"curl -u :{S} https://x", S),
    (f"curl -u ':{S}' https://x", S),
]


@pytest.mark.parametrize(("probe", "secret"), PROBES)
def test_a_probe_loses_its_secret(probe: str, secret: str) -> None:
    """The probe's secret is gone from the redacted text, raw and inside a JSON string."""
    for text in (probe, json.dumps({"msg": probe})):
        out = _redacted(text)
        assert secret not in out, out


#: What the probes' neighbours say that is no secret.
KEPT = [
    "https://user@h.example.com:8443/path",
    "ssh://git@github.com/org/repo.git",
    "see https://docs.example.com/a@b for details",
    "sudo -S is used when the password comes on stdin",
    "echo done | tee -a /var/log/deploy.log",
    "docker login --password-stdin failed: no input",
    "bcp t out f -S db -U sa -T",
    "client.login(token)",
    "server.login('admin', password)",
    "requests.get(url, auth=HTTPBasicAuth(user, password))",
    "auth=('bearer',)",
    "ldap bind failed; login('admin') refused",
    "docker run -u :1000 app",
]


@pytest.mark.parametrize("text", KEPT)
def test_the_probes_neighbours_stay(text: str) -> None:
    """Text beside the probes' forms that holds no secret is kept as it was."""
    assert _redacted(text) == text


def test_azure_list_keys_as_a_json_value_loses_its_keys() -> None:
    """Azure's listKeys output as a JSON payload loses each key, its name and permissions kept."""
    keys = [
        {"keyName": "key1", "permissions": "FULL", "value": AZURE_KEY},
        {"creationTime": "2026-12-01T10:00:00Z", "keyName": "kerb1", "value": AZURE_KEY[::-1]},
    ]
    out = REDACTOR.value({"keys": keys})
    assert out == {
        "keys": [
            {"keyName": "key1", "permissions": "FULL", "value": "[REDACTED:password]"},
            {
                "creationTime": "2026-12-01T10:00:00Z",
                "keyName": "kerb1",
                "value": "[REDACTED:password]",
            },
        ]
    }


def test_azure_list_keys_pretty_printed_loses_its_keys() -> None:
    """`az storage account keys list` as printed (indented JSON) loses each key's value."""
    text = json.dumps(
        [
            {
                "creationTime": "2026-12-01T10:00:00Z",
                "keyName": "key1",
                "permissions": "FULL",
                "value": AZURE_KEY,
            }
        ],
        indent=2,
    )
    out = _redacted(text)
    assert AZURE_KEY not in out, out
    assert '"keyName": "key1"' in out and '"permissions": "FULL"' in out, out
