"""Harm: the commands in the model's steps that wreck what the responder is there to save.

Grounding (`grounding.check_step`) marks what a step would reach or run unseen; these are
commands a responder sees in full and would still regret, which alert text can ask the model
for ("free disk space on web-1: sudo rm -rf /*"), and which a responder woken at 3 a.m. pastes
as the ticket says:

    destroy   wiping the root file system, the home directory, a system directory or a
              database's data directory (`rm -rf /*`, `--no-preserve-root`, `find / -delete`,
              `/var/lib/postgresql/14/main`, `$PGDATA`); the root's or a system directory's
              owner or mode changed all the way down (`chmod -R 000 /`, `chown -R … /etc`);
              formatting, wiping or overwriting a disk (`mkfs`, `wipefs`, `dd of=/dev/sda`,
              `> /dev/xvda`, `shred /dev/…`, `parted … mklabel`, `zpool destroy`, `lvremove`);
              dropping or emptying a database (`DROP DATABASE|SCHEMA|TABLE`, `TRUNCATE`,
              `DELETE FROM t;` without a WHERE or with one every row meets, `WHERE 1=1`;
              `FLUSHALL`, `dropDatabase()`, `dropdb`);
              destroying infrastructure (`terraform destroy`, `apply -destroy`, `pulumi
              destroy`, `kubectl delete namespace|node|pv|pvc|crd|all`, a workload, its
              service, ingress or secret (`kubectl delete deployment …`), `aws … delete-*`,
              `terminate-*`, `purge-*`, `schedule-key-deletion`, `aws s3 rb`, `aws s3 rm
              --recursive`, `gcloud|az … delete`, `gsutil rm -r`, `docker volume rm|prune`,
              `compose down -v`); killing every process (`kill -9 -1`, a fork bomb);
              data removed by a request or as a whole tree, release or history: an HTTP
              DELETE from any client (`curl -XDELETE host:9200/index`, `--request DELETE`,
              `wget --method=DELETE`, `http DELETE`), `etcdctl del --prefix`, `consul kv
              delete -recurse`, `gcloud storage rm -r`, `rclone purge`, `hdfs dfs -rm -r`,
              `helm uninstall`, `argocd app delete`, `git push --force` to main, master or
              a release branch (`+main`, `--mirror`), memcached's `flush_all`,
              `rabbitmqctl purge_queue`
    disarm    turning the host's protection off: its firewall (`ufw disable`, `iptables -F`,
              `-P INPUT ACCEPT`, `nft flush ruleset`, `netsh advfirewall … state off`),
              SELinux or AppArmor (`setenforce 0`, `SELINUX=disabled`, `aa-teardown`), audit
              (`auditctl -e 0`), a security agent or Defender stopped (`systemctl stop
              firewalld|auditd|falcon-sensor…`, `Set-MpPreference -Disable…`); files opened
              to every user (`chmod 777`, `666`, `o+w`, a setuid bit: `chmod u+s /bin/bash`);
              access granted (`NOPASSWD: ALL`, a user added to sudo, wheel or docker, a key
              appended to `authorized_keys`, `PermitRootLogin yes`, `AdministratorAccess`,
              `"Action": "*"`, `cluster-admin`, `system:masters`, a project's owner or
              editor); the cloud's watch turned off (CloudTrail stopped, GuardDuty, Config,
              Security Hub, Macie or Inspector disabled, a bucket's public access block
              removed or a public ACL put, IMDSv1 allowed); a network opened to the world
              (a security group or firewall rule for 0.0.0.0/0 or ::/0); TLS checks turned
              off for every program (`NODE_TLS_REJECT_UNAUTHORIZED=0`, `sslVerify false`)

Each such command is replaced by grounding's MARK, from its `sudo` to the end of the command
(`;`, `&&`, `|`, a quote, a backtick, a bracket or the line's end), and counted by its kind:
the step stays, saying where a command stood, as a step with an invented host does. Ordinary
remediation is left alone: deleting a pod to restart it (`kubectl delete pod …`), a log
directory's files, `truncate -s 0` of a log, `docker system prune`, stopping the service that
fails, `chmod 640`, `1777` for /tmp, `g+s`, reading the firewall, `DELETE … WHERE …`,
`dd of=/dev/null`, `mkswap /swapfile`. A step is read whole. A description or a title says
what happened, and "a DROP TABLE ran at 09:00" is a fact there: only what it tells its reader
to run is read (`check_prose`): the rest of a sentence after "run", "execute", "paste" or
"type" ("To fix it, run `sudo rm -rf /var/lib/postgresql`"), a line after a shell's `$ `
prompt, and a fenced block written as a shell's or SQL's (```` ```bash ````).

Every repeat is bounded and each scan inside a command stops at the command's end, so a
search costs a bounded amount of work per place it starts: linear in the text. Each
alternative names the literals every match of it holds (`_alt`), and a step holding none of
some group of each alternative's is not searched at all (`_Gate`): most steps are skipped.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from triage.summarise.grounding import MARK, Checked
from triage.summarise.literals import Literals

#: An optional `sudo` or `doas` with its options before a command, so the mark takes the
#: whole command.
_HEAD = r"(?:(?<![\w./-])(?:sudo|doas)(?:\s{1,8}-[\w-]{1,16}){0,4}\s{1,8})?"
#: The rest of the command after its harmful part: up to its end, not the spaces before it.
_REST = r"(?:[^;&|\n`\"')]{0,256}[^;&|\n`\"')\s])?"
#: Any text inside the same command (its options and arguments), scanned lazily.
_WITHIN = r"[^;&|\n]{0,160}?"
#: The start of an argument: whitespace, or an opening quote after it.
_ARG = r"(?<=[\s\"'])"
#: The end of a word of a command.
_END = r"(?![\w-])"


#: Where a command starts: not inside a word or a path; then maybe its directory
#: (/usr/sbin/), read once for every command below rather than once for each.
_START = r"(?<![\w./-])(?:/?(?:[\w.-]{1,32}/){1,6})?"


def _program(name: str) -> str:
    """`name` as a command names it: a whole word (after `_START`, or inside a command)."""
    return rf"(?:{name})(?![\w.-])"


class _Alternative(NamedTuple):
    """One alternative of a pattern set, and the literals every match of it holds: of each
    group in `needs`, one member (lower case). A step holding no member of some group cannot
    match the alternative, so the gate (`_Gate`) need not search it."""

    pattern: str
    needs: tuple[tuple[str, ...], ...]


def _alt(pattern: str, *needs: str | tuple[str, ...]) -> _Alternative:
    """`pattern`, whose every match holds a literal of each of `needs` (a group of literals
    separated by spaces, or a tuple of literals when one holds a space, which stands for any
    whitespace): written beside the pattern so no alternative comes without them."""
    groups = tuple(group.split() if isinstance(group, str) else group for group in needs)
    return _Alternative(pattern, tuple(tuple(group) for group in groups))


#: What a wipe reaches: the root, the home directory, a system directory, a store's data.
#: A store's data directory is its root's, or one to two levels below it named by a version
#: or as the store names its data (`/var/lib/postgresql/14/main`, `/var/lib/pgsql/15/data`,
#: `/var/lib/etcd/member`), or PostgreSQL's `$PGDATA`.
_ROOTS = (
    r"(?:/|~|\$\{?HOME\}?|\$\{?PGDATA\}?|/(?:bin|boot|dev|etc|home|lib|lib32|lib64|opt|proc"
    r"|root|sbin|srv|sys|usr|var|data|mnt)|/var/lib/(?:mysql|postgresql|pgsql|mongodb|redis|etcd"
    r"|elasticsearch|opensearch|cassandra|kafka|zookeeper|rabbitmq|docker|containerd|kubelet"
    r"|clickhouse|influxdb)(?:/(?:\d{1,3}(?:\.\d{1,3})?|main|data|member)){0,2})"
)
#: The root or a system directory as one argument, whole or all of its entries: what a
#: recursive change of owner or mode breaks the host with (not a store's or an app's own).
_SYSTEM_WIPED = (
    r"[\"']?(?:/|/(?:bin|boot|dev|etc|lib|lib32|lib64|proc|root|sbin|sys|usr|var))/?\*?[\"']?"
    r"(?=[\s;&|)`]|$)"
)
#: `_ROOTS` as one argument, whole or all of its entries (`/*`), quoted or not.
_WIPED = rf"[\"']?{_ROOTS}/?\*?[\"']?(?=[\s;&|)`]|$)"
#: A whole disk or partition as Linux and macOS name it.
_DISK = (
    r"/dev/(?:sd[a-z]|nvme\d|xvd[a-z]|hd[a-z]|vd[a-z]|mmcblk\d|disk\d|rdisk\d|md\d|dm-\d"
    r"|mapper/|disk/|root(?![\w-]))"
)
#: The AWS CLI, and any global options before what follows it.
_AWS = rf"aws\s{_WITHIN}"

_DESTROYING = (
    # The root, home, a system or a data directory removed, or removal told to go ahead.
    _alt(
        rf"{_program('rm')}\s{_WITHIN}(?:--no-preserve-root{_END}|{_ARG}{_WIPED})",
        ("rm ",),
        # What is wiped starts an argument (after a space or a quote): "Confirm … https://"
        # holds `rm` and a slash but is not searched.
        (" /", " ~", " $", '"/', '"~', '"$', "'/", "'~", "'$", "--no-preserve-root"),
    ),
    _alt(
        rf"{_program('find')}\s{{1,8}}{_WIPED}\s{_WITHIN}(?:-delete|-exec\s{{1,8}}rm){_END}",
        "find",
        "-delete -exec",
        "/ ~ $",
    ),
    # A disk formatted, wiped or overwritten.
    _alt(
        _program(r"mkfs(?:\.\w{1,12})?|mke2fs|wipefs|blkdiscard"), "mkfs mke2fs wipefs blkdiscard"
    ),
    _alt(rf"{_program('sgdisk')}\s{_WITHIN}{_ARG}(?:-Z|--zap-all|-o|--clear){_END}", "sgdisk"),
    _alt(rf"{_program('shred|mkswap')}\s{_WITHIN}{_ARG}{_DISK}", "shred mkswap", "/dev/"),
    _alt(rf"{_program('dd')}\s{_WITHIN}{_ARG}of={_DISK}", "of=/dev/", "dd"),
    _alt(rf"(?<![>\d])>\s{{0,8}}{_DISK}", "/dev/", ">"),
    _alt(rf"{_program('parted')}\s{_WITHIN}{_ARG}(?:mklabel|mktable|rm){_END}", "parted"),
    _alt(
        rf"{_program('cryptsetup')}\s{_WITHIN}{_ARG}(?:luksFormat|luksErase|erase){_END}",
        "cryptsetup",
    ),
    _alt(rf"{_program('zpool|zfs')}\s{{1,8}}destroy{_END}", "destroy", "zpool zfs"),
    _alt(_program("lvremove|vgremove|pvremove"), "lvremove vgremove pvremove"),
    # A database dropped or emptied.
    _alt(
        rf"drop\s{{1,8}}(?:database|schema|table|keyspace){_END}",
        "drop",
        "database schema table keyspace",
    ),
    _alt(rf"(?:truncate\s{{1,8}}table{_END}|(?-i:TRUNCATE)\s{{1,8}}[A-Za-z_\"])", "truncate"),
    # A DELETE without a WHERE, or with one that holds for every row (`WHERE 1=1`, `WHERE
    # true`, `OR 'a'='a'`).
    _alt(
        r"delete\s{1,8}from\s{1,8}[\w.\"]{1,128}\s{0,8}(?:where\s(?:[^;\"`\n]{0,128}?\sor\s)?"
        r"\s{0,8}(?:1\s{0,4}=\s{0,4}1|true|1|'\w{0,16}'\s{0,4}=\s{0,4}'\w{0,16}')\s{0,8})?"
        r"(?=[;\"'`])",
        "delete",
        "from",
    ),
    _alt(r"(?-i:DELETE\s{1,8}FROM)\s{1,8}[\w.\"]{1,128}\s{0,8}$", "delete", "from"),
    _alt(rf"flush(?:all|db){_END}", "flushall flushdb"),
    _alt(r"db\.(?:dropDatabase\s{0,8}\(|\w{1,64}\.drop\s{0,8}\(\s{0,8}\))", "db.", "drop", "("),
    _alt(_program("dropdb"), "dropdb"),
    # Infrastructure destroyed.
    _alt(
        rf"{_program('terraform|terragrunt|tofu')}\s{_WITHIN}{_ARG}-{{0,2}}destroy{_END}",
        "destroy",
        "terraform terragrunt tofu",
    ),
    _alt(
        rf"{_program('pulumi|cdk|cdktf|sst')}\s{_WITHIN}{_ARG}destroy{_END}",
        "destroy",
        "pulumi cdk sst",
    ),
    _alt(
        rf"{_program('kubectl|oc')}\s{_WITHIN}{_ARG}delete\s{_WITHIN}(?<=[\s,])"
        r"(?:namespaces?|ns|nodes?|pv|pvc|persistentvolumes?|persistentvolumeclaims?|crds?"
        r"|customresourcedefinitions?|all|--all-namespaces|deployments?|deploy|statefulsets?|sts"
        r"|daemonsets?|ds|services?|svc|ingress(?:es)?|ing|secrets?)(?=[\s/,;&|.]|$)",
        "delete",
        "kubectl oc",
    ),
    _alt(rf"{_program('eksctl')}\s{{1,8}}delete\s{{1,8}}cluster{_END}", "eksctl", "delete"),
    _alt(
        rf"{_AWS}{_ARG}(?:(?:delete|terminate|purge)-[\w-]{{1,64}}"
        rf"|schedule-key-deletion|s3\s{{1,8}}rb|s3\s{{1,8}}rm\s{_WITHIN}--recursive){_END}",
        "aws",
        "delete- terminate- purge- schedule-key-deletion rb --recursive",
    ),
    _alt(rf"{_program('gcloud|az')}\s{_WITHIN}{_ARG}delete{_END}", "delete", "gcloud az"),
    _alt(
        rf"{_program('gsutil')}\s{_WITHIN}{_ARG}(?:rb|rm\s{_WITHIN}{_ARG}"
        rf"(?:-[a-z]{{0,4}}r[a-z]{{0,4}}|--recursive)){_END}",
        "gsutil",
        "rb rm",
    ),
    _alt(
        rf"{_program('docker')}\s{{1,8}}(?:volume\s{{1,8}}(?:rm|prune)"
        rf"|system\s{{1,8}}prune\s{_WITHIN}--volumes){_END}",
        "docker",
        "volume",
    ),
    _alt(
        _program(r"docker-compose|docker\s{1,8}compose")
        + rf"\s{_WITHIN}{_ARG}down\s{_WITHIN}{_ARG}(?:-v|--volumes){_END}",
        "docker",
        "down",
        "-v",
    ),
    # The root's or a system directory's owner or mode changed, all the way down.
    _alt(
        rf"{_program('chmod|chown|chgrp')}\s{_WITHIN}{_ARG}(?:(?-i:-[a-zA-Z]{{0,4}}R[a-zA-Z]{{0,4}})"
        rf"|--recursive){_END}\s{_WITHIN}{_ARG}{_SYSTEM_WIPED}",
        "chmod chown chgrp",
        "-r",
        "/",
    ),
    # Every process killed.
    _alt(rf"{_program('kill')}\s{{1,8}}-(?:9|kill|sigkill)\s{{1,8}}-1{_END}", "kill", "-1"),
    _alt(r":\s{0,8}\(\s{0,8}\)\s{0,8}\{\s{0,8}:\s{0,8}\|\s{0,8}:\s{0,8}&", "{", "|", ":"),
)

#: A shared branch: a forced push to it rewrites what every clone and deploy builds from.
_SHARED_BRANCH = r"(?:main|master|trunk|develop|prod|production|release[\w./-]{0,64})"
#: A shared branch as an argument of `git push` (`origin main`, `HEAD:main`).
_SHARED_ARG = rf"(?<=[\s:])(?:origin/)?{_SHARED_BRANCH}(?=[\s;&|]|$)"
#: `git push`'s option forcing the push.
_FORCED = rf"{_ARG}(?:-f|--force(?:-with-lease|-if-includes)?)(?:=[^\s;&|]{{0,64}})?{_END}"
#: Data removed by a request or as a whole tree, store, release or history: an HTTP DELETE
#: sent by any client to any URL (`curl -XDELETE host:9200/index`: an Elasticsearch index,
#: an API's record), a delete of a whole key prefix, bucket tree or directory tree, an
#: uninstalled release (its volumes with it), a forced push to a shared branch, a whole
#: store flushed or purged. Kept apart from `_DESTROYING` only as a newer list: both are one
#: pattern (`DESTROYS`) and one gate.
_REMOVING = (
    # An HTTP DELETE, whatever the client.
    _alt(
        rf"{_program('curl')}\s{_WITHIN}(?<=[\s\"'])(?:-X\s{{0,8}}|--request(?:\s{{1,8}}|=))"
        rf"[\"']?delete{_END}",
        "curl",
        "delete",
        "-x --request",
    ),
    _alt(
        rf"{_program('wget')}\s{_WITHIN}{_ARG}--method(?:\s{{1,8}}|=)[\"']?delete{_END}",
        "wget",
        "--method",
        "delete",
    ),
    _alt(
        rf"(?-i:https?|xh|xhs)\s{{1,8}}(?:-[\w-]{{1,32}}\s{{1,8}}){{0,4}}(?-i:DELETE){_END}",
        "http xh",
        "delete",
    ),
    _alt(
        rf"{_program('invoke-restmethod|invoke-webrequest|irm|iwr|curl[.]exe')}\s{_WITHIN}{_ARG}"
        rf"-method\s{{1,8}}[\"']?delete{_END}",
        "invoke- irm iwr curl",
        "-method",
        "delete",
    ),
    # A whole key prefix, bucket tree or directory tree deleted.
    _alt(
        rf"{_program('etcdctl')}\s{_WITHIN}{_ARG}(?:del|delete){_END}\s{_WITHIN}{_ARG}"
        rf"--(?:prefix|from-key){_END}",
        "etcdctl",
        "--prefix --from-key",
    ),
    _alt(
        rf"{_program('consul')}\s{{1,8}}kv\s{{1,8}}delete\s{_WITHIN}{_ARG}-{{1,2}}recurse{_END}",
        "consul",
        "recurse",
    ),
    _alt(
        rf"{_program('gcloud')}\s{_WITHIN}{_ARG}storage\s{{1,8}}rm\s{_WITHIN}{_ARG}"
        rf"(?:-[a-z]{{0,4}}r[a-z]{{0,4}}|--recursive){_END}",
        "gcloud",
        "storage",
        "rm",
    ),
    _alt(rf"{_program('az')}\s{_WITHIN}{_ARG}delete-batch{_END}", "az", "delete-batch"),
    _alt(rf"{_program('rclone')}\s{_WITHIN}{_ARG}(?:purge|delete){_END}", "rclone"),
    _alt(
        rf"{_program('hdfs|hadoop')}\s{{1,8}}(?:dfs|fs)\s{{1,8}}-rmr?\s{_WITHIN}{_ARG}"
        rf"-(?:r|skiptrash){_END}|{_program('hdfs|hadoop')}\s{{1,8}}(?:dfs|fs)\s{{1,8}}-rmr{_END}",
        "hdfs hadoop",
        "-rm",
    ),
    # A release or an application uninstalled, with what it made.
    _alt(
        rf"{_program('helm')}\s{_WITHIN}{_ARG}(?:uninstall|delete|del|un){_END}", "helm", "un del"
    ),
    _alt(rf"{_program('argocd')}\s{{1,8}}app\s{{1,8}}delete{_END}", "argocd", "delete"),
    # A shared branch's history rewritten: forced, mirrored, or a `+` refspec.
    _alt(
        rf"{_program('git')}\s{_WITHIN}{_ARG}push{_END}\s{_WITHIN}"
        rf"(?:{_FORCED}\s{_WITHIN}{_SHARED_ARG}|{_SHARED_ARG}\s{_WITHIN}{_FORCED})",
        "git",
        "push",
        "-f --force",
    ),
    _alt(
        rf"{_program('git')}\s{_WITHIN}{_ARG}push\s{_WITHIN}"
        rf"(?:{_ARG}--mirror{_END}|(?<=[\s:])\+(?:\w{{1,64}}:)?{_SHARED_BRANCH}(?=[\s;&|]|$))",
        "git",
        "push",
        "--mirror +",
    ),
    # A whole store flushed or purged.
    _alt(rf"flush_all{_END}", "flush_all"),
    _alt(
        rf"{_program('rabbitmqctl')}\s{_WITHIN}{_ARG}(?:purge_queue|delete_queue|reset"
        rf"|force_reset){_END}",
        "rabbitmqctl",
    ),
)

#: The services that guard a host: firewalls, MAC, audit, intrusion prevention, EDR agents,
#: and the monitoring that pages a responder (Alertmanager, Prometheus): stopped, the next
#: alert reaches no one. (Space-separated, as a gate's group of literals reads them: one
#: names each in `_GUARDS`.)
_GUARD_NAMES = (
    "firewalld ufw iptables ip6tables nftables netfilter-persistent apparmor selinux auditd"
    " fail2ban sshguard falcon-sensor cbagentd sentinelone wazuh-agent ossec osqueryd"
    " elastic-agent mdatp clamav-daemon clamd aide csf lfd alertmanager prometheus"
)
#: The monitoring that pages, as a workload names it (`alertmanager-main`, `prometheus-k8s`).
_MONITORING = r"(?:alertmanager|prometheus)[\w.-]{0,64}"
_GUARDS = rf"(?:{'|'.join(_GUARD_NAMES.split())})(?:\.service)?"
#: The groups that hold root's powers (space-separated, as `_GUARD_NAMES`).
_PRIVILEGED_NAMES = "sudo wheel root admin docker"
_PRIVILEGED = rf"(?:{'|'.join(_PRIVILEGED_NAMES.split())})"
#: A mode that lets every user write (777, 0666, o+w, a=rwx), not a sticky directory's 1777.
_WORLD_WRITABLE = (
    r"(?:(?:0?[02-7])?[0-7]{2}[2367]|[ugo]{0,2}[ao][ugo]{0,2}[+=][rxXst]{0,4}w[rwxXst]{0,4})"
)
#: A mode that makes a program run as its owner (u+s, +s, 4755), not a directory's g+s.
_SETUID = r"(?:(?:u[go]{0,2}|a)?\+[rwxt]{0,3}s[rwxt]{0,3}|0?[4-7][0-7]{3})"

_DISARMING = (
    # A firewall turned off or told to let everything in.
    _alt(
        rf"{_program('ufw')}\s{{1,8}}(?:--force\s{{1,8}})?(?:disable{_END}"
        rf"|default\s{{1,8}}allow{_END}(?!\s{{1,8}}(?:outgoing|routed)))",
        "ufw",
        "disable default",
    ),
    _alt(
        rf"{_program('ip6?tables(?:-legacy|-nft)?')}\s{_WITHIN}{_ARG}"
        rf"(?:(?-i:-F)|--flush|(?-i:-P)\s{{1,8}}(?:input|forward)\s{{1,8}}accept){_END}",
        "iptables ip6tables",
        "-f -p",
    ),
    _alt(rf"{_program('nft')}\s{{1,8}}flush\s{{1,8}}ruleset{_END}", "ruleset", "nft"),
    _alt(
        rf"{_program('netsh')}\s{{1,8}}advfirewall\s{{1,8}}set\s{_WITHIN}{_ARG}state\s{{1,8}}off"
        rf"{_END}",
        "advfirewall",
        "netsh",
    ),
    _alt(
        rf"{_program('set-netfirewallprofile')}\s{_WITHIN}-enabled\s{{1,8}}(?:\$?false|0){_END}",
        "set-netfirewallprofile",
    ),
    # SELinux, AppArmor, audit, a guarding service or Defender turned off.
    _alt(rf"{_program('setenforce')}\s{{1,8}}(?:0|permissive){_END}", "setenforce"),
    _alt(
        rf"(?:selinux|enforcing)\s{{0,8}}=\s{{0,8}}(?:disabled|permissive|0){_END}",
        "selinux enforcing",
        "=",
    ),
    _alt(_program("aa-teardown"), "aa-teardown"),
    _alt(rf"{_program('auditctl')}\s{{1,8}}(?:-e\s{{0,8}}0|-D){_END}", "auditctl"),
    _alt(
        rf"{_program('systemctl')}\s{_WITHIN}{_ARG}(?:stop|disable|mask|kill)\s{_WITHIN}{_ARG}"
        rf"{_GUARDS}{_END}",
        "systemctl",
        _GUARD_NAMES,
    ),
    _alt(
        rf"{_program('service|rc-service')}\s{{1,8}}{_GUARDS}\s{{1,8}}stop{_END}",
        "service",
        "stop",
        _GUARD_NAMES,
    ),
    _alt(rf"{_program('chkconfig')}\s{{1,8}}{_GUARDS}\s{{1,8}}off{_END}", "chkconfig"),
    _alt(
        rf"{_program('set-mppreference')}\s{_WITHIN}-disable\w{{1,40}}\s{{1,8}}(?:\$?true|1)"
        rf"{_END}",
        "set-mppreference",
    ),
    _alt(
        rf"{_program('sysctl')}\s{_WITHIN}kernel\.randomize_va_space\s{{0,8}}=\s{{0,8}}0{_END}",
        "randomize_va_space",
    ),
    _alt(
        r"(?<![\w.-])echo\s{1,8}[\"']?0[\"']?\s{0,8}(?:>|\|\s{0,8}(?:sudo\s{1,8})?tee)"
        r"\s{0,8}/proc/sys/kernel/randomize_va_space(?![\w-])",
        "randomize_va_space",
        "echo",
    ),
    # The monitoring that pages scaled to nothing: no alert after this one reaches anyone.
    _alt(
        rf"{_program('kubectl|oc')}\s{_WITHIN}{_ARG}scale\s{_WITHIN}{_MONITORING}"
        rf"\s{_WITHIN}{_ARG}--replicas[=\s]{{1,8}}0{_END}",
        "kubectl oc",
        "alertmanager prometheus",
        "--replicas",
    ),
    # Every network policy of a namespace deleted: every pod open to every other.
    _alt(
        rf"{_program('kubectl|oc')}\s{_WITHIN}{_ARG}delete\s{{1,8}}(?:networkpolic(?:y|ies)|netpol)"
        rf"(?:\.networking\.k8s\.io)?\s{_WITHIN}{_ARG}(?:--all|-A){_END}",
        "kubectl oc",
        "networkpolic netpol",
        "--all -a",
    ),
    # The hooks that scan a commit or a push (for secrets, for what CI refuses) skipped.
    _alt(
        rf"{_program('git')}\s{_WITHIN}{_ARG}(?:push|commit)\s{_WITHIN}{_ARG}--no-verify{_END}",
        "git",
        "--no-verify",
    ),
    # Files opened to every user, or a program made to run as root.
    _alt(rf"{_program('chmod')}\s{_WITHIN}{_ARG}(?:{_WORLD_WRITABLE}|{_SETUID}){_END}", "chmod"),
    # Access granted: sudo without a password, a privileged group, a planted key, root login.
    _alt(rf"nopasswd\s{{0,8}}:\s{{0,8}}all{_END}", "nopasswd"),
    _alt(
        rf"{_program('usermod|useradd')}\s{_WITHIN}{_ARG}(?:-a?G|--groups)(?:\s{{1,8}}|=)"
        rf"(?:[\w-]{{1,32}},){{0,8}}{_PRIVILEGED}{_END}",
        "usermod useradd",
        _PRIVILEGED_NAMES,
    ),
    _alt(
        rf"{_program('gpasswd|adduser')}\s{{1,8}}(?:-a\s{{1,8}})?[\w.-]{{1,32}}\s{{1,8}}"
        rf"{_PRIVILEGED}{_END}",
        "gpasswd adduser",
        _PRIVILEGED_NAMES,
    ),
    _alt(rf"{_program('passwd')}\s{{1,8}}-d\s{{1,8}}root{_END}", "passwd", "root"),
    _alt(
        rf"permit(?:rootlogin|emptypasswords)\s{{0,8}}=?\s{{0,8}}yes{_END}",
        "permitrootlogin permitemptypasswords",
    ),
    _alt(
        r"(?:(?<![>\d])>{1,2}|(?<![\w.-])tee(?:\s{1,8}-a)?\s)\s{0,8}[^\s;&|]{0,128}?"
        r"authorized_keys",
        "authorized_keys",
        "> tee",
    ),
    # Full access in a cloud: AWS's admin policies, any action, Kubernetes' and GCP's owners.
    _alt(
        rf"(?:{_AWS})?arn:aws[\w-]{{0,16}}:iam::aws:policy/"
        rf"(?:AdministratorAccess|PowerUserAccess|IAMFullAccess){_END}",
        "arn:aws",
        ":iam::aws:policy/",
    ),
    _alt(rf"(?:{_AWS})?\"action\"\s{{0,8}}:\s{{0,8}}\[?\s{{0,8}}\"\*\"", '"action"', '"*"'),
    _alt(
        rf"(?:{_program('kubectl|oc')}\s{_WITHIN})?(?:--clusterrole[=\s]{{1,8}}[\"']?"
        rf"cluster-admin|--group[=\s]{{1,8}}[\"']?system:masters){_END}",
        "cluster-admin system:masters",
    ),
    _alt(
        rf"(?:{_program('gcloud|az')}\s{_WITHIN})?--role[=\s]{{1,8}}[\"']?"
        rf"(?:roles/(?:owner|editor)|owner|contributor|user access administrator){_END}",
        "--role",
        "owner editor contributor administrator",
    ),
    # The cloud's watch turned off, or a bucket opened.
    _alt(
        rf"{_AWS}{_ARG}(?:cloudtrail\s{{1,8}}(?:stop-logging|delete-trail)"
        rf"|guardduty\s{{1,8}}(?:delete-detector|disassociate-[\w-]{{1,64}}"
        rf"|update-detector\s{_WITHIN}--no-enable)"
        rf"|config(?:service)?\s{{1,8}}(?:stop-configuration-recorder"
        rf"|delete-configuration-recorder|delete-delivery-channel)"
        rf"|securityhub\s{{1,8}}disable-security-hub|macie2\s{{1,8}}disable-macie"
        rf"|inspector2\s{{1,8}}disable|access-analyzer\s{{1,8}}delete-analyzer"
        rf"|detective\s{{1,8}}delete-graph|ec2\s{{1,8}}disable-ebs-encryption-by-default"
        rf"|ec2\s{{1,8}}modify-instance-metadata-options\s{_WITHIN}--http-tokens\s{{1,8}}optional"
        rf"|s3api\s{{1,8}}(?:delete-public-access-block|delete-bucket-encryption"
        rf"|put-public-access-block\s{_WITHIN}=false)){_END}",
        "aws",
        "cloudtrail guardduty config securityhub macie2 inspector2 access-analyzer detective"
        " ec2 s3api",
    ),
    _alt(rf"(?:{_AWS})?--acl\s{{1,8}}public-read(?:-write)?{_END}", "public-read", "--acl"),
    # A network opened to the whole internet.
    _alt(
        rf"(?:{_program('aws|gcloud|az')}\s{_WITHIN})?"
        rf"(?:authorize-security-group-ingress|firewall-rules\s{{1,8}}(?:create|update)"
        rf"|nsg\s{{1,8}}rule\s{{1,8}}(?:create|update))\s{_WITHIN}"
        r"(?:0\.0\.0\.0/0|::/0|--source-address-prefixes?\s{1,8}[\"']?(?:\*|internet|any))"
        r"(?![\w.:/-])",
        "0.0.0.0/0 ::/0 --source-address-prefix",
        "authorize-security-group-ingress firewall-rules nsg",
    ),
    # TLS checks turned off for every program.
    _alt(
        rf"(?:export\s{{1,8}})?(?:node_tls_reject_unauthorized|pythonhttpsverify)"
        rf"\s{{0,8}}=\s{{0,8}}[\"']?0{_END}",
        "node_tls_reject_unauthorized pythonhttpsverify",
    ),
    _alt(
        rf"(?:{_program('git|npm|yarn|pnpm')}\s{_WITHIN})?(?<![\w-])(?:http\.)?"
        rf"(?:sslverify|strict-ssl)(?:\s{{0,8}}=\s{{0,8}}|\s{{1,8}})(?:false|0){_END}",
        "sslverify strict-ssl",
        "false 0",
    ),
    _alt(
        rf"{_program('kubectl|oc')}\s{_WITHIN}pod-security\.kubernetes\.io/enforce=privileged",
        "pod-security.kubernetes.io/enforce=privileged",
    ),
)


def _compiled(alternatives: tuple[_Alternative, ...]) -> re.Pattern[str]:
    """One pattern finding any of `alternatives` as a whole command (`_HEAD` … `_REST`)."""
    joined = "|".join(alternative.pattern for alternative in alternatives)
    return re.compile(rf"{_HEAD}{_START}(?:{joined}){_REST}", re.IGNORECASE)


class _Gate:
    """The literal test in front of a pattern set's search. Searching a step costs about a
    microsecond a character for each set, and most steps ("Confirm the alert against the
    dashboard") hold no alternative's literals; looking for those is some fifty times cheaper.
    """

    def __init__(self, alternatives: tuple[_Alternative, ...]) -> None:
        """Index the alternatives by the literals of their first group, each with the groups
        it still needs, so a step is read once for each first literal and no more."""
        by_first: dict[str, list[tuple[tuple[str, ...], ...]]] = {}
        for alternative in alternatives:
            first, *rest = alternative.needs
            for literal in first:
                by_first.setdefault(literal, []).append(tuple(rest))
        self._by_first = {literal: tuple(rests) for literal, rests in by_first.items()}
        #: Every literal of every group, found in a step in one pass (`literals`).
        self._literals = Literals(
            literal
            for alternative in alternatives
            for group in alternative.needs
            for literal in group
        )

    def may_match(self, step: str) -> bool:
        """Whether some alternative can match `step`: it holds a literal of each of that
        alternative's groups. Only ASCII is judged so: the patterns' case folding matches
        letters outside it (the long s, the Kelvin sign, a dotless i) that `lower` leaves."""
        if not step.isascii():
            return True
        held = self._literals.in_(_folded(step))
        for literal in held.intersection(self._by_first):
            if any(_holds(held, groups) for groups in self._by_first[literal]):
                return True
        return False


#: Each ASCII character `\s` matches (tab, newline, the file separators …) as a space.
_SPACED = str.maketrans({chr(code): " " for code in range(128) if re.fullmatch(r"\s", chr(code))})


def _folded(step: str) -> str:
    """`step` (ASCII) as the gates read it: lower case, each whitespace a space, so a space in
    a literal stands for any whitespace a pattern matches. Steps rarely hold whitespace other
    than spaces, and `isprintable` says when they might, cheaper than translating each step."""
    lowered = step.lower()
    return lowered if lowered.isprintable() else lowered.translate(_SPACED)


def _holds(held: frozenset[str], groups: tuple[tuple[str, ...], ...]) -> bool:
    """Whether `held` (the literals a step holds) has a literal of each of `groups`."""
    return all(not held.isdisjoint(group) for group in groups)


#: A command that destroys a host, its disks, its data or its infrastructure.
DESTROYS = _compiled((*_DESTROYING, *_REMOVING))
#: A command that turns a host's or an account's protection off.
DISARMS = _compiled(_DISARMING)
_DESTROYS_GATE = _Gate((*_DESTROYING, *_REMOVING))
_DISARMS_GATE = _Gate(_DISARMING)


def _marked(pattern: re.Pattern[str], gate: _Gate, step: str) -> tuple[str, int]:
    """`step` with each match of `pattern` replaced by MARK, and how many were; a step the
    gate says cannot match is not searched."""
    if not gate.may_match(step):
        return step, 0
    return pattern.subn(MARK, step)


def check(step: str) -> Checked:
    """`step` with each command that disarms or destroys replaced by MARK, and the kind of
    each (`disarm`, `destroy`), in the order they were found. Disarming is read first: a
    command that does both (`aws guardduty delete-detector`) is counted as what it does to
    the host's protection."""
    step, disarmed = _marked(DISARMS, _DISARMS_GATE, step)
    step, destroyed = _marked(DESTROYS, _DESTROYS_GATE, step)
    if not disarmed + destroyed:
        return Checked(step)
    return Checked(step, ("disarm",) * disarmed + ("destroy",) * destroyed)


#: What a description tells its reader to run: the rest of a sentence after an imperative run
#: verb, a line after a shell's `$ ` prompt, a fenced block in a shell's or SQL's language. A
#: command's own dots (`/etc/x.conf`) do not end the sentence: only one before whitespace does.
_TOLD_TO_RUN = re.compile(
    r"\b(?:run|execute|exec|paste|type|enter)\s{1,8}(?P<said>[^\n]{1,1024}?)(?=[.!?](?:\s|$)|\n|$)"
    r"|^[ \t]{0,8}\$[ \t]{1,8}(?P<prompted>[^\n]{1,1024})"
    r"|^[ \t]{0,8}```[ \t]{0,8}(?:sh|bash|zsh|shell|console|shell-session|powershell|ps1|pwsh|cmd"
    r"|bat|sql|psql|mysql)[ \t]{0,8}\n(?P<fenced>.{0,8192}?)(?=^[ \t]{0,8}```|\Z)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)

#: A literal every match of `_TOLD_TO_RUN` holds.
_TOLD_LITERALS = Literals(("run", "exec", "paste", "type", "enter", "$", "```"))


def check_prose(text: str) -> Checked:
    """`text` (a description or a title) with each command that disarms or destroys, where it
    tells its reader to run it (`_TOLD_TO_RUN`), replaced by MARK, and the kind of each: a
    command said to have run is a fact and is kept. Text telling its reader to run nothing, or
    that the gates say holds no such command (most), is not searched."""
    # Only ASCII is judged by its literals: the search's case folding matches letters outside
    # it that `lower` leaves (U+017F, the long s, in "paste"), as `_Gate.may_match` says.
    lowered = text.lower()
    if text.isascii() and not _TOLD_LITERALS.any_in(lowered):
        return Checked(text)
    if not (_DISARMS_GATE.may_match(text) or _DESTROYS_GATE.may_match(text)):
        return Checked(text)
    out: list[str] = []
    kinds: list[str] = []
    end = 0
    for told in _TOLD_TO_RUN.finditer(text):
        group = next(name for name in ("said", "prompted", "fenced") if told[name] is not None)
        checked = check(told[group])
        if checked.rejected:
            out += (text[end : told.start(group)], checked.text)
            end = told.end(group)
            kinds += checked.rejected
    if not kinds:
        return Checked(text)
    return Checked("".join([*out, text[end:]]), tuple(kinds))
