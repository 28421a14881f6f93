"""The literal gates in front of harm's two searches skip only steps neither search can match:
each alternative names the literals every match of it holds, and with the gates and without
them every step comes out the same."""

from __future__ import annotations

import random
import re

import pytest

from test_harm_392 import DESTROYING, DISARMING, ORDINARY
from test_redteam_round8_summarise import (
    test_a_step_that_destroys_a_host_or_its_data_is_marked as round8_destroying,
)
from test_redteam_round8_summarise import (
    test_a_step_that_turns_a_hosts_protection_off_is_marked as round8_disarming,
)
from triage.summarise import harm
from triage.summarise.deterministic import load_patterns
from triage.summarise.grounding import MARK


def _round8_steps(test: object) -> list[str]:
    """The steps a round 8 red-team test is parametrized with."""
    marks = getattr(test, "pytestmark", [])
    return [
        param.values[0] for mark in marks if mark.name == "parametrize" for param in mark.args[1]
    ]


#: Every harmful step the harm tests know, and a few more spellings of the alternatives they
#: leave out (a path before the program, upper case, quotes, the rarer programs).
HARMFUL = [
    *DESTROYING,
    *DISARMING,
    *_round8_steps(round8_destroying),
    *_round8_steps(round8_disarming),
    "/usr/bin/rm -rf /usr",
    "sudo rm\t-rf\t/",
    "rm\x1f-rf '/*'",
    "rm\x0c-rf\x1c/boot",
    'rm -rf "$HOME"',
    "rm -rf ${HOME}/*",
    "find ~ -name x -exec rm {} +",
    "mke2fs /dev/sdb1",
    "blkdiscard /dev/nvme0n1",
    "sgdisk --zap-all /dev/sda",
    "mkswap /dev/sdb2",
    "parted /dev/sda mklabel gpt",
    "cryptsetup luksErase /dev/sdb",
    "zfs destroy tank/data",
    "vgremove vg0",
    "pvremove /dev/sdc",
    "DROP KEYSPACE orders",
    "TRUNCATE orders",
    'mysql -e "DELETE FROM orders"',
    "redis-cli flushdb",
    "mongo shop --eval 'db.orders.drop()'",
    "terragrunt run-all destroy",
    "tofu destroy",
    "cdk destroy --force",
    "oc delete project shop crd widgets.example.com",
    "kubectl delete nodes web-1,web-2",
    "eksctl delete cluster prod",
    "aws sqs purge-queue --queue-url q",
    "gsutil rb gs://orders",
    "docker system prune -af --volumes",
    "docker compose down -v",
    "docker-compose -f x.yml down --volumes",
    "kill -KILL -1",
    ":(){ :|:& };:",
    "ufw --force default allow",
    "ip6tables-legacy -P FORWARD ACCEPT",
    "Set-NetFirewallProfile -Profile Domain -Enabled False",
    "setenforce permissive",
    "echo ENFORCING=0",
    "aa-teardown",
    "auditctl -D",
    "systemctl mask falcon-sensor.service",
    "rc-service fail2ban stop",
    "chkconfig iptables off",
    "sysctl -w kernel.randomize_va_space=0",
    "chmod a=rwx /srv",
    "chmod 4755 /usr/bin/find",
    "useradd -G wheel,docker eve",
    "gpasswd -a eve docker",
    "adduser eve sudo",
    "passwd -d root",
    "PermitEmptyPasswords yes",
    "cat key.pub | tee -a /root/.ssh/authorized_keys",
    "arn:aws-us-gov:iam::aws:policy/PowerUserAccess",
    "kubectl create rolebinding x --group=system:masters",
    "az role assignment create --role Contributor --assignee x",
    "az role assignment create --role 'User Access Administrator' --assignee x",
    "aws guardduty update-detector --detector-id d --no-enable",
    "aws macie2 disable-macie",
    "aws inspector2 disable --resource-types EC2",
    "aws ec2 modify-instance-metadata-options --instance-id i --http-tokens optional",
    "aws s3api put-public-access-block --bucket b --public-access-block-configuration "
    "BlockPublicAcls=false",
    "aws s3 cp x s3://b --acl public-read-write",
    "az network nsg rule create -g rg --source-address-prefixes Internet",
    "gcloud compute firewall-rules update open --source-ranges ::/0",
    "export PYTHONHTTPSVERIFY=0",
    "npm config set strict-ssl false",
    "kubectl label ns shop pod-security.kubernetes.io/enforce=privileged",
    "echo 0 > /proc/sys/kernel/randomize_va_space",
    "kubectl scale deploy alertmanager-main --replicas=0 -n monitoring",
    "kubectl delete networkpolicy --all -n shop",
    "git push --no-verify origin main",
]


def test_the_harmful_steps_cover_every_alternative() -> None:
    """Each alternative of both pattern sets matches at least one step below, so the checks
    that follow read every alternative's literals against a step it matches."""
    for alternative in (*harm._DESTROYING, *harm._DISARMING):
        alone = re.compile(alternative.pattern, re.IGNORECASE)
        assert any(alone.search(step) for step in HARMFUL), alternative.pattern


def test_every_alternative_holds_its_literals_where_it_matches() -> None:
    """Wherever an alternative matches a harmful step (as written or upper-cased), the match
    holds one literal of each group the alternative says it needs (so a step the gate skips
    cannot match it)."""
    missing = [
        (step, alternative.pattern, group)
        for step in [*HARMFUL, *(step.upper() for step in HARMFUL)]
        for alternative in (*harm._DESTROYING, *harm._DISARMING)
        for found in re.finditer(alternative.pattern, step, re.IGNORECASE)
        for group in alternative.needs
        if not any(literal in harm._folded(found[0]) for literal in group)
    ]
    assert missing == []


def test_every_harmful_step_passes_the_gate() -> None:
    """Each harmful step is searched and marked, in prose, with its gate."""
    unmarked = []
    for step in HARMFUL:
        checked = harm.check(f"Fix it on web-1: {step}")
        if MARK not in checked.text or not checked.rejected:
            unmarked.append(step)
    assert unmarked == []


def _ungated(step: str) -> tuple[str, tuple[str, ...]]:
    """What `check` gives from searching every step with both patterns."""
    step, disarmed = harm.DISARMS.subn(MARK, step)
    step, destroyed = harm.DESTROYS.subn(MARK, step)
    return step, ("disarm",) * disarmed + ("destroy",) * destroyed


#: Whitespace `\s` matches in ASCII besides the space, which a gate's literal space stands for.
SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"]


def _mixes() -> list[str]:
    """The harmful, ordinary and known-error steps alone and upper-cased, and random mixes of
    their words (a command cut in two meets another's half), some split by other whitespace."""
    rng = random.Random(401)
    patterns = [step for pattern in load_patterns() for step in pattern.steps]
    texts = [*HARMFUL, *ORDINARY, *patterns]
    words = [word for text in texts for word in text.split()]
    mixes = [" ".join(rng.choices(words, k=rng.randint(2, 9))) for _ in range(800)]
    spaced = [
        "".join(f"{word}{rng.choice(SPACES)}" for word in rng.choices(words, k=rng.randint(2, 9)))
        for _ in range(200)
    ]
    return [*texts, *(text.upper() for text in texts), *mixes, *spaced]


def test_the_gate_changes_no_result() -> None:
    """`check` with its gates gives what searching every step with both patterns gives."""
    assert [step for step in _mixes() if _gated(step) != _ungated(step)] == []


def _gated(step: str) -> tuple[str, tuple[str, ...]]:
    """What `check` gives, gates and all."""
    checked = harm.check(step)
    return checked.text, checked.rejected


@pytest.mark.parametrize(
    "step",
    [
        "Confirm the alert against the source dashboard or logs",
        "Confirm the fix on https://grafana.example.com/d/x and the alarm",
        "Find which endpoints or queries got slower (traces, slow-query log)",
        "Check the service's error logs for the most frequent exception",
        "Delete the stuck pod and watch it come back",
    ],
)
def test_an_ordinary_step_is_not_searched(step: str) -> None:
    """The steps tickets hold most often are skipped by both gates: the gate is what saves
    their searches, so one that lets them through has stopped doing its work."""
    assert not harm._DISARMS_GATE.may_match(step)
    assert not harm._DESTROYS_GATE.may_match(step)


def test_text_beyond_ascii_is_always_searched() -> None:
    """A step with a character outside ASCII is searched whatever literals it holds: the
    patterns' case folding can match letters (the long s, the Kelvin sign) lower-casing does
    not turn into the literals."""
    step = "\u017fetenforce 0"
    assert harm._DISARMS_GATE.may_match(step)
    assert harm.check(step).rejected == _ungated(step)[1]
