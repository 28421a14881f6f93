"""Credentials on command lines and in connection strings, as alerts carry them (logs,
tracebacks, shell history, CI output, Kubernetes events): the password or token goes, and the
rest of the line (host, user, database, options, the JSON around it) stays, in plain text, in a
JSON string (its quotes escaped), in a YAML list and in a log line; and the redaction is a
fixed point (`redact(redact(x)) == redact(x)`).

A case is a command line with each secret marked `«secret»` (it becomes `[REDACTED:password]`)
or `«kind|secret»` (it becomes `[REDACTED:kind]`); a line without a mark must come back as it
was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from case_chunks import assert_each, dealt
from triage.redact import redact

_MARK = re.compile(r"«(?:([a-z-]+)\|)?([^»]*)»")

#: A long, random-looking token (no vendor's prefix).
_TOKEN = "k8sT0kenQ3vLm9XrT2pW7yZa1bC4dE6f"

CASES = (
    # MySQL and MariaDB: -pX, --password=X, -p alone prompts (the next word is the database).
    "mysql -u app -p«s3cretPw» -h db.internal app",
    "mysql -h db.internal -uapp -p«s3cretPw» -e 'select 1'",
    "mysql -u app -p'«s3cretPw»' app",
    "mysql -u app --password=«s3cretPw» -h db.internal app",
    "mysql --host=db.internal --user=app --password=«s3cretPw» app",
    "mysql -u app -p -h db.internal app",
    "mysql -u app:«s3cretPw»@db/app",
    "mysql -u app:«pw»@db/app",
    "mysql -u app:«s3cretPw»@db.internal:3306/app -e 'select 1'",
    "/usr/bin/mysql -u app -p«s3cretPw» app",
    "kubectl exec -it db-0 -- mysql -uroot -p«s3cretPw» -e 'show replica status'",
    "Command 'mysql -uroot -p«s3cretPw» app' returned non-zero exit status 1.",
    "docker run --name mysql -p3306:3306 -d mysql:8",
    "docker run --name mongo -p 27017:27017 -d mongo:7",
    "docker run --name redis-cli -p 127.0.0.1:6379:6379/tcp redis:7",
    "mysql replica lag on db-7 -pool saturation",
    "mysqladmin -u root -p«s3cretPw» status",
    "mysqldump --user=app --password=«s3cretPw» app > /backup/app.sql",
    "mariadb-dump -u app -p«s3cretPw» app",
    # PostgreSQL.
    "PGPASSWORD=«s3cretPw» pg_dump -h db.internal -U app app",
    'psql "postgresql://app:«s3cretPw»@db.internal:5432/app?sslmode=require"',
    "psql postgresql://app:«s3cretPw»@db.internal/app?sslmode=verify-full&connect_timeout=10",
    "psql postgres://app:«s3cretPw»@db.internal/app",
    'pg_dump "host=db.internal user=app password=«s3cretPw» dbname=app sslmode=require"',
    "psql -h db.internal -U app -d app",
    # MongoDB.
    "mongo --host db.internal -u admin -p «s3cretPw» --authenticationDatabase admin",
    "mongosh --username admin --password «s3cretPw» db.internal/app",
    'mongosh "mongodb+srv://admin:«s3cretPw»@cluster0.ab1cd.mongodb.net/app?retryWrites=true"',
    "mongosh mongodb://admin:«s3cretPw»@db1:27017,db2:27017/app?replicaSet=rs0",
    'mongodump --uri="mongodb://backup:«s3cretPw»@db.internal:27017/app?authSource=admin" --out /b',
    # Redis.
    "redis-cli -h cache.internal -a «s3cretPw» ping",
    "redis-cli -h cache.internal --pass «s3cretPw» ping",
    "redis-cli -h cache.internal -a «s3cretPw»",
    "sudo -u redis redis-cli -a «s3cretPw» info",
    "ExecStart=/usr/bin/redis-cli -a «s3cretPw» ping",
    "redis-cli --user app --pass «s3cretPw» -h cache.internal info",
    "redis-cli -u redis://app:«s3cretPw»@cache.internal:6379/0 ping",
    "AUTH «s3cretPw»",
    "AUTH app «s3cretPw»",
    "rediss://:«s3cretPw»@cache.internal:6380/0",
    # HTTP clients.
    "curl -u deploy:«s3cretPw» https://nexus.internal/repo",
    "curl --user deploy:«s3cretPw» https://nexus.internal/repo",
    "curl -u deploy:«p@ss» https://nexus.internal/repo",
    "curl -u 'deploy:«s3cretPw»@nexus.internal:8081/repo' -O",
    "curl -H 'Authorization: Basic «bearer|ZGVwbG95OnMzY3JldFB3MTIzNA==»' https://nexus.internal/",
    "wget --user=deploy --password=«s3cretPw» https://nexus.internal/a.tgz",
    "wget --http-user=deploy --http-password=«s3cretPw» https://nexus.internal/a.tgz",
    "wget --ftp-user=backup --ftp-password=«s3cretPw» ftp://ftp.internal/a.tgz",
    "wget ftp://backup:«s3cretPw»@ftp.internal/pub/a.tgz",
    # Remote shells and shares.
    "sshpass -p «s3cretPw» ssh deploy@web-1 uptime",
    "sshpass -p '«s3cretPw»' ssh deploy@web-1 uptime",
    "+ sshpass -p «s3cretPw» scp app.tgz web-1:/srv",
    "smbclient //fs.internal/share -U backup%«s3cretPw» -c ls",
    "net use \\\\fs.internal\\share /user:CORP\\backup «s3cretPw»",
    "lftp -u backup,«s3cretPw» sftp://fs.internal",
    "psexec \\\\web-1 -u admin -p «s3cretPw» cmd",
    "psexec \\\\web-1 -u admin -p «s3cretPw»",
    # Registries, clusters, clouds.
    "docker login -u ci -p «s3cretPw» registry.internal",
    "docker login -u ci --password «s3cretPw» registry.internal",
    "docker login -u ci -p «s3cretPw»",
    'echo "$REGISTRY_PW" | docker login -u ci --password-stdin registry.internal',
    "helm repo add internal https://charts.internal --username ci --password «s3cretPw»",
    f"kubectl --token=«{_TOKEN}» get pods -n web",
    f"kubectl --server=https://api.k8s.internal:6443 --token «{_TOKEN}» get pods",
    "az login --service-principal -u http://app -p «s3cretPw» --tenant corp.example",
    "aws configure set aws_secret_access_key «aws-secret|wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY»",
    "git clone https://ci-bot:«s3cretPw»@git.internal/team/app.git",
    "pip install --index-url https://ci:«s3cretPw»@pypi.internal/simple app",
    "svn checkout --username ci --password «s3cretPw» https://svn.internal/repo",
    "docker run -e POSTGRES_PASSWORD=«s3cretPw» postgres:16",
    # URLs of other schemes.
    "ftp://backup:«s3cretPw»@ftp.internal/pub/",
    "amqp://app:«s3cretPw»@rabbit.internal:5672/orders",
    "amqps://app:«s3cretPw»@rabbit.internal:5671/%2F",
    "ssh://deploy:«s3cretPw»@web-1:22/srv",
    # JDBC, ODBC, SQL Server.
    "jdbc:sqlserver://db.internal:1433;databaseName=app;user=app;password=«s3cretPw»;encrypt=true",
    "jdbc:mysql://db.internal:3306/app?user=app&password=«s3cretPw»&useSSL=true",
    "jdbc:postgresql://db.internal/app?user=app&password=«s3cretPw»&ssl=true",
    "Driver={ODBC Driver 18 for SQL Server};Server=db.internal;Uid=app;Pwd=«s3cretPw»;Encrypt=yes",
    "DRIVER={PostgreSQL};SERVER=db.internal;UID=app;PWD=«s3cretPw»;DATABASE=app",
    "Server=tcp:db.internal,1433;Initial Catalog=app;User ID=app;Password=«s3cretPw»;Encrypt=True;",
    "sqlcmd -S db.internal -U sa -P «s3cretPw» -Q 'select 1'",
    "sqlcmd -S db.internal -U sa -P «s3cretPw»",
    "sqlplus app/«s3cretPw»@db.internal:1521/ORCL",
    # More connection strings, as drivers, ORMs and tracebacks print them.
    "Data Source=db.internal;Initial Catalog=app;User Id=app;Password=«s3cret pw»;Encrypt=True",
    "Server=db.internal;Database=app;Uid=app;Pwd={«s3c;ret}}pw»};Encrypt=yes",
    "mongodb://app:«s3cretPw»@db.internal/?authSource=admin",
    "postgresql://app:«p%40ssW0rd»@db.internal/app",
    "redis://:«s3cretPw»@cache.internal:6379/0",
    "host=db.internal port=5432 dbname=app user=app password=«s3cretPw» sslmode=require",
    "User Id=app;Password=«s3cretPw»;Data Source=db.internal:1521/ORCL",
    "jdbc:oracle:thin:app/«s3cretPw»@db.internal:1521/ORCL",
    "Provider=SQLOLEDB;Data Source=db.internal;User ID=sa;Password=«s3cretPw»;",
    "mysql+pymysql://app:«s3cretPw»@db.internal:3306/app?charset=utf8mb4",
    "postgresql+psycopg2://app:«s3cretPw»@db.internal/app",
    "clickhouse://default:«s3cretPw»@ch.internal:9000/default",
    "snowflake://etl:«s3cretPw»@acct-1/db/schema?warehouse=wh",
    "neo4j+s://neo4j:«s3cretPw»@abc123.databases.neo4j.io",
    "DSN=app;UID=app;PWD=«s3cretPw»",
    "Server=db.internal;Database=app;Integrated Security=true",
    "smtp://alerts:«s3cretPw»@smtp.internal:587",
    "sftp://deploy:«s3cretPw»@web-1/srv",
    "sqlserver://sa:«s3cretPw»@db.internal:1433?database=app",
    "kafka: sasl.username=app sasl.password=«s3cretPw» bootstrap=k1:9092",
    "DATABASE_URL='postgres://app:«s3cretPw»@db.internal:5432/app'",
    "conn = psycopg2.connect(host='db.internal', user='app', password='«s3cretPw»', dbname='app')",
    'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "db'
    '.internal" failed [SQL: select 1] postgresql://app:«s3cretPw»@db.internal/app',
    "mongodb+srv://app:«s3cretPw»@cluster0.x.mongodb.net/?retryWrites=true&w=majority&appName=api",
    "amqp://guest:«guest»@localhost:5672/",
    "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;"
    "SharedAccessKey=«azure-key|0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcd=»",
    "redis-cli -u rediss://default:«s3cretPw»@cache.internal:6380 ping",
    # Files and keys.
    "machine git.internal login ci password «s3cretPw»",
    "machine git.internal login ci password «it's-a-s3cret»",
    "openssl pkcs12 -export -in cert.pem -out cert.p12 -passout pass:«s3cretPw»",
    "openssl rsa -in key.pem -passin pass:«s3cretPw» -out plain.pem",
    "openssl rsa -in key.pem -passin env:KEY_PASS -out plain.pem",
    "keytool -importkeystore -srckeystore a.p12 -srcstorepass «s3cretPw» -deststorepass «An0therPw»",
    "java -Djavax.net.ssl.keyStorePassword=«s3cretPw» -Djavax.net.ssl.keyStore=/etc/ks.jks -jar a.jar",
    "java -Djavax.net.ssl.trustStorePassword=«s3cretPw» -jar app.jar",
    "htpasswd -b /etc/nginx/.htpasswd admin «s3cretPw»",
    "htpasswd -bc /etc/nginx/.htpasswd admin «s3cretPw»",
    "htpasswd -nb admin «s3cretPw»",
    "keytool -storepasswd -new «N3wPassw0rd» -storepass «s3cretPw» -keystore ks.jks",
    "mysqladmin -u root -p«s3cretPw» password «N3wPassw0rd»",
    # Directories, monitoring, brokers.
    "ldapsearch -x -H ldaps://ldap.internal -D cn=admin,dc=corp -w «s3cretPw» -b dc=corp uid=bob",
    "ldapsearch -x -D cn=admin,dc=corp -w «s3cretPw»",
    "snmpwalk -v2c -c «c0mmunity9» 10.0.0.1 system",
    "snmpwalk -v2c -c public 10.0.0.1 system",
    "rabbitmqctl add_user app «s3cretPw»",
    "mosquitto_pub -h mqtt.internal -u app -P «s3cretPw» -t alerts -m hi",
    "ipmitool -I lanplus -H 10.0.0.5 -U admin -P «s3cretPw» power status",
    "mount -t cifs -o username=backup,password=«s3cretPw»,vers=3.0 //fs/share /mnt",
    # Quoted passwords: the quotes stay, the JSON string's escaped ones too.
    'docker login -u ci -p "«s3cretPw»" registry.internal',
    'redis-cli -h cache.internal -a "«s3cretPw»"',
    'htpasswd -b /etc/nginx/.htpasswd admin "«s3cret pw»"',
    'mysql -u app -p"«s3cretPw»" app',
    'curl -u "deploy:«s3cretPw»" https://nexus.internal/repo',
    'sshpass -p "«s3cretPw»" ssh deploy@web-1 uptime',
    'ldapsearch -x -D cn=admin,dc=corp -w "«s3cretPw»" -b dc=corp',
    'keytool -list -keystore ks.jks -storepass "«s3cretPw»"',
    'export DB_PASSWORD="«s3cretPw»"',
    'psql --password "«s3cret pw»" -h db.internal',
    "smbclient //fs.internal/share -U 'backup%«s3cretPw»'",
    # More registries' and platforms' logins.
    "oc login -u admin -p «s3cretPw» https://api.ocp.internal:6443",
    "podman login -u ci -p «s3cretPw» registry.internal",
    "helm registry login registry.internal -u ci -p «s3cretPw»",
    "cf login -a https://api.cf.internal -u admin -p «s3cretPw»",
    "twine upload -u deploy -p «s3cretPw» dist/*",
    "argocd login argocd.internal --username admin --password «s3cretPw»",
    # Secrets given to tools as values.
    "kubectl create secret generic db --from-literal=password=«s3cretPw» -n web",
    "helm upgrade app ./chart --set db.password=«s3cretPw» --set db.user=app",
    "terraform apply -var 'db_password=«s3cretPw»' -auto-approve",
    'ansible-playbook site.yml -e "ansible_become_pass=«s3cretPw»"',
    "vault kv put secret/db password=«s3cretPw» user=app",
    "aws rds modify-db-instance --db-instance-identifier db --master-user-password «s3cretPw»",
    "gpg --batch --passphrase «s3cretPw» -d backup.tgz.gpg",
    "java -jar app.jar --spring.datasource.password=«s3cretPw» --server.port=8080",
    "java -Dspring.datasource.password=«s3cretPw» -jar app.jar",
    "consul members -token=«2f8b1c4e-9d7a-4b3f-8e6c-1a5d9f0b7c2e»",
    "curl -d 'user=deploy&password=«s3cretPw»' https://api.internal/login",
    "zip -P «s3cretPw» backup.zip db.sql",
    "7z a -p«s3cretPw» backup.7z db.sql",
    "mysqlsh --uri app:«s3cretPw»@db.internal:3306/app",
    "pg_dump --dbname=postgresql://app:«s3cretPw»@db.internal/app -f app.sql",
    "expdp system/«s3cretPw»@ORCL schemas=app",
    # Windows.
    "net user svc «s3cretPw» /add",
    "schtasks /create /tn backup /tr backup.cmd /ru CORP\\svc /rp «s3cretPw»",
    "cmdkey /add:fs.internal /user:CORP\\svc /pass:«s3cretPw»",
    "wmic /node:web-1 /user:admin /password:«s3cretPw» process list",
    "setx DB_PASSWORD «s3cretPw»",
    "C:\\Program Files\\MySQL\\bin\\mysql.exe -u root -p«s3cretPw» app",
    '"C:\\Program Files\\MySQL\\MySQL Server 8.0\\bin\\mysql.exe" -u root -p«s3cretPw»',
    "C:\\tools\\redis-cli.exe -h cache.internal -a «s3cretPw»",
    "sqlcmd.exe -S db.internal -U sa -P «s3cretPw»",
    "C:\\PSTools\\PsExec.exe \\\\web-1 -u admin -p «s3cretPw» cmd",
    "7z.exe a -p«s3cretPw» backup.7z db.sql",
    # As CI runners, orchestrators and tracebacks print a command.
    "Exec lifecycle hook ([/bin/sh -c mysql -uroot -p«s3cretPw» -e 'select 1']) for Container db",
    "Command '['redis-cli', '-a', '«s3cretPw»', 'ping']' returned non-zero exit status 1.",
    "args=['mysql', '-uroot', '-p«s3cretPw»', '-e', 'select 1']",
    "['sshpass', '-p', '«s3cret pw»', 'ssh', 'web-1']",
    "['curl', '-u', 'deploy:«s3cretPw»', 'https://nexus.internal']",
    "['redis-cli', '-h', 'cache.internal', 'ping']",
    '"command": ["mysql", "-uroot", "-p«s3cretPw»", "app"]',
    '"args": ["docker", "login", "-u", "ci", "-p", "«s3cretPw»", "registry.internal"]',
    "##[group]Run docker login -u ci -p «s3cretPw» ghcr.io",
    "[command]/usr/bin/docker login --username ci --password «s3cretPw» ghcr.io",
    "Running command git clone --quiet 'https://ci:«s3cretPw»@git.internal/app.git' /tmp/pip-req",
    "DATABASE_URL=postgres://app:«s3cretPw»@db.internal:5432/app?sslmode=require",
    "redis://default:«s3cretPw»@cache.internal:6379",
    "net use Z: \\\\fs.internal\\share «s3cretPw» /user:CORP\\bob",
    "psql \"host=db.internal user=app password='«s3cret pw»' dbname=app\"",
    "redis-cli -h cache.internal -a '«s3cret pw»' --no-auth-warning",
    "curl --proxy-user bob:«s3cretPw» -x proxy.internal:3128 https://api.internal",
    "curl -x http://bob:«s3cretPw»@proxy.internal:3128 https://api.internal",
    '$env:DB_PASSWORD = "«s3cretPw»"',
    '[Environment]::SetEnvironmentVariable("DB_PASSWORD", "«s3cretPw»", "Machine")',
    'set "DB_PASSWORD=«s3cretPw»"',
    "docker exec -e MYSQL_PWD=«s3cretPw» db mysql -uroot",
    "Invoke-Sqlcmd -ServerInstance db.internal -Username sa -Password '«s3cretPw»'",
    "echo '«s3cretPw»' | docker login -u ci --password-stdin registry.internal",
    "echo «s3cretPw» | sudo -S systemctl restart app",
    "rdesktop -u admin -p «s3cretPw» web-1",
    "rdesktop -u admin -p - web-1",
    'Set-ADAccountPassword bob -NewPassword (ConvertTo-SecureString -AsPlainText "«s3cretPw»" -Force)',
    "ldappasswd -x -D cn=admin,dc=corp -w «s3cretPw» -s «N3wPassw0rd» uid=bob,dc=corp",
    "RSYNC_PASSWORD=«s3cretPw» rsync -a fs.internal::share /srv",
    "sshpass -p«s3cretPw» ssh deploy@web-1",
    f"curl --oauth2-bearer «bearer|{_TOKEN}» https://api.internal",
    f"curl -H 'X-Vault-Token: «{_TOKEN}»' https://vault.internal/v1/secret",
    f"wget --header='Authorization: Bearer «bearer|{_TOKEN}»' https://api.internal/a",
    f"npm config set //registry.internal/:_authToken «{_TOKEN}»",
    f"yarn config set npmAuthToken «{_TOKEN}»",
    "poetry config http-basic.internal ci «s3cretPw»",
    "mvn deploy -Drepo.password=«s3cretPw» -DskipTests",
    "gradle publish -PmavenPassword=«s3cretPw»",
    "dotnet nuget add source https://nuget.internal --username ci --password «s3cretPw»",
    "influx setup -u admin -p «s3cretPw» -o corp -b metrics -f",
    "db2 connect to app user db2inst1 using «s3cretPw»",
    "http -a bob:«s3cretPw» GET https://api.internal/me",
    "curl -E client.pem:«s3cretPw» https://api.internal",
    "curl --cert client.pem:«s3cretPw» https://api.internal",
    "rclone config create dav webdav url https://dav.internal user ci pass «s3cretPw»",
    "nmcli dev wifi connect Office password «s3cretPw»",
    "nmcli con modify Office wifi-sec.psk «s3cretPw»",
    "wpa_passphrase Office «s3cretPw»",
    "racadm -r idrac.internal -u root -p «s3cretPw» getsysinfo",
    "kafka-console-producer --producer-property sasl.jaas.config='org.apache.kafka.common."
    'security.plain.PlainLoginModule required username="app" password="«s3cretPw»";\'',
    # A quote never closed (a log line cut short): the rest of the line goes, and inside a
    # JSON string the rest of that string only.
    'mysql --password "«s3cret pw»',
    "psql --password '«s3cret pw»",
    "sshpass -p '«s3cret pw»",
    "curl -u 'deploy:«s3cret pw»",
    "keytool -list -storepass '«s3cret pw»",
    "openssl rsa -passin 'pass:«s3cret pw»",
    "export DB_PASSWORD='«s3cret pw»",
    "ENV DB_PASSWORD «s3cret pw»",
    "[password] => «s3cret pw»",
    # A value starting with a backslash (escaped inside a JSON string): the JSON stays JSON.
    "password: «\\s3cret\\Pw»",
    "export DB_PASSWORD=«\\s3cretPw»",
    # Environments.
    "export DB_PASSWORD=«s3cretPw»",
    "export API_TOKEN=«s3cretPw»",
    "set PASSWORD=«s3cretPw»",
    "set DB_PASSWORD=«s3cretPw»",
    "$c = New-Object PSCredential('admin', (ConvertTo-SecureString '«s3cretPw»' -AsPlainText -Force))",
    'New-LocalUser -Name svc -Password (ConvertTo-SecureString "«s3cretPw»" -AsPlainText -Force)',
)

#: A file's whole line (a .pgpass line is one by its shape alone): as written, and as a JSON
#: log record's string, not inside other text.
WHOLE_LINES = (
    "db.internal:5432:app:app:«s3cretPw»",
    "*:*:*:replicator:«s3cret\\:Pw»",
)


def _kind_of(match: re.Match[str]) -> str:
    """The placeholder a marked secret becomes."""
    return f"[REDACTED:{match[1] or 'password'}]"


def _plain(line: str) -> tuple[str, str]:
    """The line as written, and as redacted."""
    return _MARK.sub(r"\2", line), _MARK.sub(_kind_of, line)


def _in_json(line: str) -> tuple[str, str]:
    """The line as a JSON log record's string, between two other fields."""
    text, expected = _plain(line)
    return (
        json.dumps({"ts": "2026-12-06T00:00:00Z", "log": text, "host": "web-1"}),
        json.dumps({"ts": "2026-12-06T00:00:00Z", "log": expected, "host": "web-1"}),
    )


def _in_yaml(line: str) -> tuple[str, str]:
    """The line as a CI job's script step, with a step after it."""
    text, expected = _plain(line)
    return (
        f"deploy:\n  script:\n    - {text}\n    - echo done\n",
        f"deploy:\n  script:\n    - {expected}\n    - echo done\n",
    )


def _in_log(line: str) -> tuple[str, str]:
    """The line in a syslog record, with the record's next line after it."""
    text, expected = _plain(line)
    head = "Dec  6 00:00:00 web-1 bash[4242]: HISTORY: PID=4242 UID=0 "
    return f"{head}{text}\n{head}exit\n", f"{head}{expected}\n{head}exit\n"


CONTEXTS: dict[str, Callable[[str], tuple[str, str]]] = {
    "plain": _plain,
    "json": _in_json,
    "yaml": _in_yaml,
    "log": _in_log,
}


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("lines", dealt(CASES, 2))
def test_a_command_line_loses_its_credentials_only(context: str, lines: list[str]) -> None:
    """Each command line loses exactly its marked secrets, and nothing else, in each context."""

    def check(line: str) -> tuple[str, str]:
        text, expected = CONTEXTS[context](line)
        return redact(text), expected

    assert_each(lines, check, "line")


@pytest.mark.parametrize("context", ["plain", "json"])
def test_a_whole_line_loses_its_credentials_only(context: str) -> None:
    """A file's line known by its shape loses its password alone, raw and in a JSON string."""

    def check(line: str) -> tuple[str, str]:
        text, expected = CONTEXTS[context](line)
        return redact(text), expected

    assert_each(WHOLE_LINES, check, "line")


@pytest.mark.parametrize("lines", dealt(CASES + WHOLE_LINES, 2))
def test_a_command_line_redacts_to_a_fixed_point(lines: list[str]) -> None:
    """Each command line, in each context, redacted twice is redacted once."""

    def check(line: str) -> tuple[list[str], list[str]]:
        once = [redact(CONTEXTS[context](line)[0]) for context in CONTEXTS]
        return [redact(text) for text in once], once

    assert_each(lines, check, "line")
