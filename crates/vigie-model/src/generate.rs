//! Synthetic operators of any size, with the demo's structure: per regional site, a DMZ
//! with load-balanced portals and an enterprise management platform, BSS applications,
//! customer databases (crown jewels), bastions, OSS, core network management and a
//! geo-redundant core; shared Active Directory, VPN and backup; service accounts, admin
//! accounts and groups; services with k-of-n redundancy; five customer segments per site.
//!
//! Output is streamed section by section (a million assets never sit in memory): each site's
//! part of each section is a pure function of (seed, site), so sections can be written one
//! after the other. Items are written as one JSON object per line; in YAML they are flow
//! mappings (JSON is valid YAML), which keeps big files fast to write and to read.

use std::collections::BTreeMap;
use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::load::Format;
use crate::types::*;

mod naming;

use naming::{countries, Identify};
pub use naming::{host_names, HostNames, SkippedName};

/// Customers spread over all sites (a national operator, whatever the estate's size).
const TOTAL_CUSTOMERS: u64 = 31_000_000;

/// What to generate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenOptions {
    /// Number of assets wanted (identities included). Below the size of one site plus the
    /// shared assets ([`min_assets`]) one full site is generated.
    pub assets: usize,
    /// Random seed: the same seed and size give the same model, byte for byte.
    pub seed: u64,
    /// Hostnames to give generated hosts, one group per host in emission order (each
    /// group the names of one machine, e.g. its FQDN and short name; see
    /// [`host_names`]). A host so named keeps its address but not its generated names;
    /// when there are more groups than hosts, extra workstations are added to the last
    /// site. Empty: every host keeps its generated names.
    pub hosts: Vec<Vec<String>>,
}

impl GenOptions {
    /// `assets` assets from `seed`, no host names.
    pub fn new(assets: usize, seed: u64) -> GenOptions {
        GenOptions {
            assets,
            seed,
            hosts: Vec::new(),
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GenSummary {
    pub sites: usize,
    pub zones: usize,
    pub flows: usize,
    pub assets: usize,
    pub services: usize,
    pub segments: usize,
    pub customers: u64,
    /// Identifiers written over all assets.
    pub identifiers: usize,
    /// Hosts given names from [`GenOptions::hosts`].
    pub named_hosts: usize,
    /// Of those, workstations added because there were more names than hosts.
    pub extra_hosts: usize,
}

/// Where generated entities go.
trait Sink {
    fn section(&mut self, name: &str) -> io::Result<()>;
    fn zone(&mut self, z: Zone) -> io::Result<()>;
    fn flow(&mut self, f: Flow) -> io::Result<()>;
    fn asset(&mut self, a: Asset) -> io::Result<()>;
    fn service(&mut self, s: Service) -> io::Result<()>;
    fn segment(&mut self, s: Segment) -> io::Result<()>;
}

/// Number of assets shared by all sites.
const GLOBAL_ASSETS: usize = 12;

/// Smallest model the generator makes (one site and the shared assets).
pub fn min_assets() -> usize {
    GLOBAL_ASSETS + SITE_FIXED
}

/// Assets of one site before bulk (counted by a test against the template below).
const SITE_FIXED: usize = 80;
/// Assets per site the sizing aims at.
const SITE_TARGET: usize = 1000;

struct Plan {
    seed: u64,
    sites: usize,
    bulk: Vec<usize>,
    hosts: Vec<Vec<String>>,
}

impl Plan {
    fn new(opts: &GenOptions) -> Plan {
        let wanted = opts.assets.max(min_assets());
        let sites = ((wanted - GLOBAL_ASSETS) / SITE_TARGET).max(1);
        let bulk_total = wanted - GLOBAL_ASSETS - sites * SITE_FIXED;
        let bulk = (0..sites)
            .map(|s| bulk_total / sites + usize::from(s < bulk_total % sites))
            .collect();
        Plan {
            seed: opts.seed,
            sites,
            bulk,
            hosts: opts.hosts.clone(),
        }
    }

    /// Deterministic per (site, section) randomness.
    fn rng(&self, site: usize, section: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(
            self.seed ^ (site as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (section << 56),
        )
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

fn ids(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

fn asset(id: String, kind: AssetKind, zone: Option<&str>) -> Asset {
    let mut a = Asset::new(id, kind);
    a.zone = zone.map(str::to_string);
    a
}

fn dep(target: DepTarget) -> Dependency {
    Dependency {
        target,
        kind: DepKind::Hard,
    }
}

fn soft(target: DepTarget) -> Dependency {
    Dependency {
        target,
        kind: DepKind::Soft,
    }
}

fn any_of(k: u32, of: Vec<String>) -> DepTarget {
    DepTarget::AnyOf { k, of }
}

fn flow(
    from: String,
    to: String,
    protocol: Protocol,
    ports: &[u16],
    services: Vec<String>,
) -> Flow {
    Flow {
        explicit_id: None,
        name: String::new(),
        from,
        to,
        protocol,
        ports: ports.to_vec(),
        services,
        tags: Vec::new(),
    }
}

fn vuln(rng: &mut ChaCha8Rng, id: String, technique: &str, ports: &[u16]) -> Vulnerability {
    Vulnerability {
        id,
        technique: Some(technique.to_string()),
        ports: ports.to_vec(),
        ttc_hours: Some(f64::from(rng.gen_range(1u32..=48))),
        ttc: None,
    }
}

fn run<S: Sink>(plan: &Plan, sink: &mut S) -> io::Result<GenSummary> {
    let mut sum = GenSummary {
        sites: plan.sites,
        ..Default::default()
    };
    sink.section("zones")?;
    for z in [
        ("internet", true),
        ("identity", false),
        ("backup", false),
        ("vpn", false),
    ] {
        sink.zone(Zone {
            id: s(z.0),
            internet: z.1,
            ..Default::default()
        })?;
        sum.zones += 1;
    }
    for site in 0..plan.sites {
        for z in ZONES {
            sink.zone(Zone {
                id: format!("s{site}-{z}"),
                ..Default::default()
            })?;
            sum.zones += 1;
        }
    }
    sink.section("flows")?;
    for f in global_flows() {
        sink.flow(f)?;
        sum.flows += 1;
    }
    for site in 0..plan.sites {
        for f in site_flows(site) {
            sink.flow(f)?;
            sum.flows += 1;
        }
    }
    sink.section("assets")?;
    let mut named = Identify::new(sink, &plan.hosts);
    for a in global_assets() {
        named.asset(a)?;
        sum.assets += 1;
    }
    for site in 0..plan.sites {
        let mut rng = plan.rng(site, 1);
        named.site(site);
        sum.assets += site_assets(site, plan.bulk[site], &mut rng, &mut named)?;
    }
    sum.extra_hosts = named.extra_hosts(plan.sites - 1)?;
    sum.assets += sum.extra_hosts;
    sum.identifiers = named.identifiers;
    sum.named_hosts = named.next_name;
    sink.section("services")?;
    for sv in global_services() {
        sink.service(sv)?;
        sum.services += 1;
    }
    for site in 0..plan.sites {
        for sv in site_services(site) {
            sink.service(sv)?;
            sum.services += 1;
        }
    }
    sink.section("segments")?;
    for site in 0..plan.sites {
        for g in site_segments(site, plan.sites) {
            sum.customers += g.customers;
            sink.segment(g)?;
            sum.segments += 1;
        }
    }
    Ok(sum)
}

const ZONES: [&str; 8] = [
    "dmz", "apps", "data", "admin", "oss", "cmgmt", "core", "corp",
];

fn global_flows() -> Vec<Flow> {
    vec![flow(s("internet"), s("vpn"), Protocol::Tcp, &[443], vec![])]
}

fn site_flows(site: usize) -> Vec<Flow> {
    let z = |n: &str| format!("s{site}-{n}");
    let sv = |n: &str| format!("s{site}-{n}");
    vec![
        flow(
            s("internet"),
            z("dmz"),
            Protocol::Tcp,
            &[443],
            vec![sv("portal"), sv("emp")],
        ),
        flow(
            z("dmz"),
            z("apps"),
            Protocol::Tcp,
            &[8443],
            vec![sv("portal"), sv("emp")],
        ),
        flow(
            z("apps"),
            z("data"),
            Protocol::Tcp,
            &[5432, 1521],
            vec![sv("crm"), sv("billing"), sv("emp"), sv("provisioning")],
        ),
        flow(
            z("apps"),
            z("cmgmt"),
            Protocol::Tcp,
            &[8080],
            vec![sv("provisioning")],
        ),
        flow(
            z("corp"),
            z("apps"),
            Protocol::Tcp,
            &[443, 8443],
            vec![sv("care")],
        ),
        flow(z("admin"), z("apps"), Protocol::Tcp, &[22, 3389], vec![]),
        flow(
            z("admin"),
            z("data"),
            Protocol::Tcp,
            &[22, 5432, 1521],
            vec![],
        ),
        flow(z("admin"), z("oss"), Protocol::Tcp, &[22, 443], vec![]),
        flow(z("admin"), z("cmgmt"), Protocol::Tcp, &[22, 830], vec![]),
        flow(
            z("oss"),
            z("cmgmt"),
            Protocol::Tcp,
            &[22, 830, 161],
            vec![sv("assurance")],
        ),
        flow(
            z("oss"),
            z("core"),
            Protocol::Udp,
            &[161],
            vec![sv("assurance")],
        ),
        flow(
            z("cmgmt"),
            z("core"),
            Protocol::Tcp,
            &[22, 830, 3868],
            vec![],
        ),
        flow(
            z("corp"),
            s("identity"),
            Protocol::Tcp,
            &[88, 389, 445],
            vec![],
        ),
        flow(z("apps"), s("identity"), Protocol::Tcp, &[88, 389], vec![]),
        flow(z("apps"), s("backup"), Protocol::Tcp, &[8400], vec![]),
        flow(s("vpn"), z("admin"), Protocol::Tcp, &[22, 3389], vec![]),
        flow(s("vpn"), z("corp"), Protocol::Any, &[], vec![]),
    ]
}

fn global_assets() -> Vec<Asset> {
    let mut out = Vec::with_capacity(GLOBAL_ASSETS);
    for i in 1..=4 {
        let mut dc = asset(format!("dc-{i}"), AssetKind::Host, Some("identity"));
        dc.crown_jewel = true;
        dc.criticality = Criticality::Critical;
        dc.listens = vec![88, 389, 445, 636];
        dc.controls = Controls {
            edr: true,
            backup: true,
            ..Default::default()
        };
        dc.admins = ids(&["g-domain-admins"]);
        out.push(dc);
    }
    let mut pam = asset(s("pam-1"), AssetKind::Host, Some("identity"));
    pam.crown_jewel = true;
    pam.criticality = Criticality::Critical;
    pam.controls = Controls {
        edr: true,
        mfa: true,
        backup: true,
        ..Default::default()
    };
    pam.admins = ids(&["g-domain-admins"]);
    pam.credentials = ids(&["adm-t0-1", "adm-t0-2"]);
    out.push(pam);
    let mut bkp = asset(s("bkp-1"), AssetKind::Host, Some("backup"));
    bkp.crown_jewel = true;
    bkp.criticality = Criticality::Critical;
    bkp.listens = vec![8400];
    bkp.credentials = ids(&["svc-backup"]);
    bkp.admins = ids(&["g-domain-admins"]);
    bkp.vulnerabilities = vec![Vulnerability {
        id: s("CVE-EXAMPLE-BACKUP"),
        technique: Some(s("T1210")),
        ports: vec![8400],
        ttc_hours: Some(12.0),
        ttc: None,
    }];
    out.push(bkp);
    for i in 1..=2 {
        let mut v = asset(format!("vpn-{i}"), AssetKind::NetworkDevice, Some("vpn"));
        v.exposed = true;
        v.listens = vec![443];
        v.controls.mfa = i == 1;
        v.admins = ids(&["g-domain-admins"]);
        out.push(v);
    }
    for a in ["adm-t0-1", "adm-t0-2", "svc-backup"] {
        out.push(asset(s(a), AssetKind::Account, None));
    }
    let mut g = asset(s("g-domain-admins"), AssetKind::Group, None);
    g.members = ids(&["adm-t0-1", "adm-t0-2", "svc-backup"]);
    out.push(g);
    out
}

/// Emit one site's assets; returns how many.
fn site_assets<S: Sink>(
    site: usize,
    bulk: usize,
    rng: &mut ChaCha8Rng,
    sink: &mut S,
) -> io::Result<usize> {
    let p = |n: &str| format!("s{site}-{n}");
    let zone = |n: &str| format!("s{site}-{n}");
    let mut n = 0usize;
    let mut emit = |a: Asset, sink: &mut S| -> io::Result<()> {
        n += 1;
        sink.asset(a)
    };
    let host = |rng: &mut ChaCha8Rng, id: String, z: &str, admins: &[String]| {
        let mut a = asset(id, AssetKind::Host, Some(z));
        a.controls.edr = rng.gen_bool(0.7);
        a.controls.backup = rng.gen_bool(0.85);
        a.admins = admins.to_vec();
        a
    };
    let app = |id: String, z: &str, on: String| {
        let mut a = asset(id, AssetKind::Application, Some(z));
        a.runs_on = Some(on);
        a
    };
    let g_admins = vec![p("g-admins")];
    let g_dba = vec![p("g-dba")];
    let g_oss = vec![p("g-oss")];
    let g_core = vec![p("g-core")];

    // DMZ.
    let dmz = zone("dmz");
    for i in 1..=2 {
        let mut lb = asset(p(&format!("lb-{i}")), AssetKind::NetworkDevice, Some(&dmz));
        lb.exposed = true;
        lb.listens = vec![443];
        lb.admins = g_admins.clone();
        emit(lb, sink)?;
    }
    for i in 1..=3 {
        let mut w = host(rng, p(&format!("web-{i}")), &dmz, &g_admins);
        w.exposed = true;
        w.listens = vec![443];
        emit(w, sink)?;
        emit(
            app(p(&format!("portal-{i}")), &dmz, p(&format!("web-{i}"))),
            sink,
        )?;
    }
    let mut ew = host(rng, p("emp-web"), &dmz, &g_admins);
    ew.exposed = true;
    ew.listens = vec![443];
    ew.criticality = Criticality::High;
    ew.credentials = vec![p("svc-emp")];
    if rng.gen_bool(0.5) {
        ew.vulnerabilities
            .push(vuln(rng, p("EMP-RCE"), "T1190", &[443]));
    }
    emit(ew, sink)?;
    emit(app(p("emp-front"), &dmz, p("emp-web")), sink)?;

    // BSS applications.
    let apps = zone("apps");
    for (h, a, count) in [
        ("crmh", "crm", 3),
        ("billh", "bill", 2),
        ("provh", "prov", 2),
    ] {
        for i in 1..=count {
            let mut hh = host(rng, p(&format!("{h}-{i}")), &apps, &g_admins);
            hh.listens = vec![8443];
            if h == "provh" {
                hh.admins.push(p("svc-prov"));
                if i == 1 && rng.gen_bool(0.3) {
                    hh.credentials = vec![p("adm-oss")];
                }
            }
            emit(hh, sink)?;
            emit(
                app(p(&format!("{a}-{i}")), &apps, p(&format!("{h}-{i}"))),
                sink,
            )?;
        }
    }
    let mut ea = host(rng, p("emp-app"), &apps, &g_admins);
    ea.listens = vec![8443];
    ea.admins.push(p("svc-emp"));
    ea.credentials = vec![p("svc-emp"), p("svc-prov")];
    ea.controls.recovery_hours = Some(72.0);
    if rng.gen_bool(0.5) {
        ea.vulnerabilities
            .push(vuln(rng, p("EMP-DESER"), "T1210", &[8443]));
    }
    emit(ea, sink)?;
    emit(app(p("emp-core"), &apps, p("emp-app")), sink)?;
    for i in 1..=2 {
        emit(host(rng, p(&format!("care-{i}")), &apps, &g_admins), sink)?;
    }

    // Data: the customer databases are crown jewels.
    let data = zone("data");
    for i in 1..=2 {
        let mut h = host(rng, p(&format!("dbh-crm-{i}")), &data, &g_dba);
        h.listens = vec![1521];
        emit(h, sink)?;
        let mut db = asset(p(&format!("db-crm-{i}")), AssetKind::Database, Some(&data));
        db.runs_on = Some(p(&format!("dbh-crm-{i}")));
        db.crown_jewel = true;
        db.criticality = Criticality::Critical;
        emit(db, sink)?;
    }
    for (id, admins) in [
        ("db-bill-1", g_dba.clone()),
        ("db-bill-2", g_dba.clone()),
        ("db-emp", vec![p("g-dba"), p("svc-emp")]),
        ("db-prov", vec![p("g-dba"), p("svc-prov")]),
    ] {
        let mut db = asset(p(id), AssetKind::Database, Some(&data));
        db.listens = vec![5432];
        db.crown_jewel = id != "db-prov";
        db.criticality = Criticality::Critical;
        db.controls.backup = true;
        db.admins = admins;
        emit(db, sink)?;
    }

    // Bastions.
    let admin = zone("admin");
    for i in 1..=2 {
        let mut b = host(
            rng,
            p(&format!("bastion-{i}")),
            &admin,
            &[p("g-admins"), p("g-oss"), p("g-dba")],
        );
        b.listens = vec![22, 3389];
        b.controls.mfa = i == 1 || rng.gen_bool(0.5);
        if i == 2 {
            b.credentials = vec![p("adm-dba")];
        }
        emit(b, sink)?;
    }

    // OSS.
    let oss = zone("oss");
    for id in ["nms-1", "nms-2", "ems-1"] {
        let mut h = host(rng, p(id), &oss, &g_oss);
        h.listens = vec![22, 443];
        if id == "ems-1" && rng.gen_bool(0.5) {
            h.credentials = vec![p("adm-core")];
        }
        emit(h, sink)?;
    }

    // Core network management and core.
    let cmgmt = zone("cmgmt");
    let mut hm = host(rng, p("hss-mgmt"), &cmgmt, &[p("g-core"), p("svc-prov")]);
    hm.listens = vec![8080, 22, 830];
    hm.crown_jewel = true;
    hm.criticality = Criticality::Critical;
    hm.controls.mfa = rng.gen_bool(0.5);
    emit(hm, sink)?;
    let core = zone("core");
    for (name, count) in [
        ("hss", 2),
        ("pcrf", 2),
        ("smf", 2),
        ("upf", 3),
        ("cscf", 2),
        ("dns", 4),
        ("radius", 2),
        ("dhcp", 2),
        ("bng", 4),
        ("pe", 2),
    ] {
        for i in 1..=count {
            let mut d = asset(
                p(&format!("{name}-{i}")),
                AssetKind::NetworkDevice,
                Some(&core),
            );
            d.criticality = Criticality::Critical;
            d.crown_jewel = name == "hss";
            d.controls.mfa = name == "hss";
            d.controls.backup = true;
            d.admins = g_core.clone();
            emit(d, sink)?;
        }
    }

    // Bulk: workstations, application servers, OSS servers and user accounts.
    let corp = zone("corp");
    let mut users = Vec::new();
    for j in 0..bulk {
        let a = match j % 10 {
            0..=5 => {
                let mut w = host(rng, p(&format!("ws-{j}")), &corp, &g_admins);
                if rng.gen_bool(0.02) {
                    w.vulnerabilities
                        .push(vuln(rng, format!("CVE-WS-{j}"), "T1210", &[445, 3389]));
                }
                if rng.gen_bool(0.03) {
                    w.credentials = vec![if rng.gen_bool(0.5) {
                        p("adm-site")
                    } else {
                        p("adm-oss")
                    }];
                }
                w
            }
            6 => {
                let mut h = host(rng, p(&format!("srv-{j}")), &apps, &g_admins);
                h.listens = vec![8443];
                if rng.gen_bool(0.02) {
                    h.vulnerabilities
                        .push(vuln(rng, format!("CVE-SRV-{j}"), "T1210", &[8443]));
                }
                h
            }
            // The host it runs on is item j-1 (a `6`), always emitted before.
            7 => app(p(&format!("app-{j}")), &apps, p(&format!("srv-{}", j - 1))),
            8 => {
                let mut h = host(rng, p(&format!("osssrv-{j}")), &oss, &g_oss);
                if rng.gen_bool(0.02) {
                    h.vulnerabilities
                        .push(vuln(rng, format!("CVE-OSS-{j}"), "T1210", &[]));
                }
                h
            }
            _ => {
                let u = p(&format!("u-{j}"));
                users.push(u.clone());
                asset(u, AssetKind::Account, None)
            }
        };
        emit(a, sink)?;
    }

    // Identities.
    for a in [
        "svc-emp", "svc-prov", "svc-crm", "svc-bill", "adm-site", "adm-oss", "adm-core", "adm-dba",
    ] {
        emit(asset(p(a), AssetKind::Account, None), sink)?;
    }
    for (g, members) in [
        ("g-admins", vec![p("adm-site")]),
        ("g-oss", vec![p("adm-oss")]),
        ("g-core", vec![p("adm-core")]),
        ("g-dba", vec![p("adm-dba")]),
        ("g-users", users),
    ] {
        let mut grp = asset(p(g), AssetKind::Group, None);
        grp.members = members;
        emit(grp, sink)?;
    }
    Ok(n)
}

fn global_services() -> Vec<Service> {
    vec![
        Service {
            id: s("directory"),
            name: s("Directory and single sign-on"),
            depends_on: vec![dep(any_of(1, ids(&["dc-1", "dc-2", "dc-3", "dc-4"])))],
            recovery_hours: 1.0,
            tags: vec![],
        },
        Service {
            id: s("backup-restore"),
            name: s("Backup and restore"),
            depends_on: vec![
                dep(DepTarget::Asset(s("bkp-1"))),
                dep(DepTarget::Asset(s("svc-backup"))),
            ],
            recovery_hours: 2.0,
            tags: vec![],
        },
    ]
}

fn site_services(site: usize) -> Vec<Service> {
    let p = |n: &str| format!("s{site}-{n}");
    let a = |n: &str| DepTarget::Asset(p(n));
    let sv = |n: &str| DepTarget::Service(p(n));
    let of = |names: &[&str]| names.iter().map(|n| p(n)).collect::<Vec<_>>();
    let svc = |id: &str, hours: f64, deps: Vec<Dependency>| Service {
        id: p(id),
        name: String::new(),
        depends_on: deps,
        recovery_hours: hours,
        tags: vec![],
    };
    vec![
        svc(
            "dns",
            0.5,
            vec![dep(any_of(2, of(&["dns-1", "dns-2", "dns-3", "dns-4"])))],
        ),
        svc(
            "aaa",
            0.5,
            vec![dep(any_of(1, of(&["radius-1", "radius-2"])))],
        ),
        svc(
            "assurance",
            2.0,
            vec![dep(any_of(1, of(&["nms-1", "nms-2"])))],
        ),
        svc(
            "provisioning",
            2.0,
            vec![
                dep(any_of(1, of(&["prov-1", "prov-2"]))),
                dep(a("db-prov")),
                dep(a("hss-mgmt")),
                dep(a("svc-prov")),
                soft(DepTarget::Service(s("directory"))),
            ],
        ),
        svc(
            "crm",
            1.0,
            vec![
                dep(any_of(2, of(&["crm-1", "crm-2", "crm-3"]))),
                dep(any_of(1, of(&["db-crm-1", "db-crm-2"]))),
                dep(a("svc-crm")),
                dep(DepTarget::Service(s("directory"))),
            ],
        ),
        svc(
            "billing",
            4.0,
            vec![
                dep(any_of(1, of(&["bill-1", "bill-2"]))),
                dep(any_of(1, of(&["db-bill-1", "db-bill-2"]))),
                dep(a("svc-bill")),
                dep(sv("crm")),
            ],
        ),
        svc(
            "mobile-data",
            1.0,
            vec![
                dep(any_of(1, of(&["hss-1", "hss-2"]))),
                dep(any_of(1, of(&["pcrf-1", "pcrf-2"]))),
                dep(any_of(1, of(&["smf-1", "smf-2"]))),
                dep(any_of(2, of(&["upf-1", "upf-2", "upf-3"]))),
                dep(sv("dns")),
                soft(sv("assurance")),
            ],
        ),
        svc(
            "mobile-voice",
            1.0,
            vec![
                dep(any_of(1, of(&["hss-1", "hss-2"]))),
                dep(any_of(1, of(&["cscf-1", "cscf-2"]))),
                dep(sv("dns")),
            ],
        ),
        svc(
            "broadband",
            1.0,
            vec![
                dep(sv("aaa")),
                dep(any_of(1, of(&["dhcp-1", "dhcp-2"]))),
                dep(any_of(3, of(&["bng-1", "bng-2", "bng-3", "bng-4"]))),
                dep(sv("dns")),
                soft(sv("assurance")),
            ],
        ),
        svc(
            "enterprise-vpn",
            2.0,
            vec![dep(any_of(1, of(&["pe-1", "pe-2"])))],
        ),
        svc(
            "emp",
            4.0,
            vec![
                dep(a("emp-front")),
                dep(a("emp-core")),
                dep(a("db-emp")),
                dep(a("svc-emp")),
                dep(sv("provisioning")),
                dep(DepTarget::Service(s("directory"))),
                soft(sv("billing")),
            ],
        ),
        svc(
            "portal",
            1.0,
            vec![
                dep(any_of(1, of(&["lb-1", "lb-2"]))),
                dep(any_of(2, of(&["portal-1", "portal-2", "portal-3"]))),
                dep(sv("crm")),
                soft(sv("billing")),
            ],
        ),
        svc(
            "care",
            1.0,
            vec![dep(any_of(1, of(&["care-1", "care-2"]))), dep(sv("crm"))],
        ),
    ]
}

fn site_segments(site: usize, sites: usize) -> Vec<Segment> {
    let p = |n: &str| format!("s{site}-{n}");
    let per_site = TOTAL_CUSTOMERS / sites as u64;
    let seg = |id: &str, share: u64, sla: f64, uses: &[(&str, f64)]| Segment {
        id: p(id),
        name: String::new(),
        customers: per_site * share / 1000,
        sla_weight: sla,
        uses: uses
            .iter()
            .map(|(k, w)| (p(k), *w))
            .collect::<BTreeMap<_, _>>(),
        tags: vec![],
        countries: countries(site, id),
    };
    vec![
        seg(
            "consumer-mobile",
            581,
            1.0,
            &[
                ("mobile-data", 0.6),
                ("mobile-voice", 0.4),
                ("portal", 0.05),
                ("care", 0.05),
                ("billing", 0.02),
            ],
        ),
        seg(
            "consumer-fixed",
            290,
            1.0,
            &[
                ("broadband", 0.8),
                ("portal", 0.05),
                ("care", 0.05),
                ("billing", 0.02),
            ],
        ),
        seg(
            "enterprise",
            81,
            2.0,
            &[
                ("mobile-data", 0.5),
                ("mobile-voice", 0.3),
                ("enterprise-vpn", 0.6),
                ("emp", 0.3),
                ("care", 0.1),
            ],
        ),
        seg(
            "public-sector",
            10,
            3.0,
            &[("enterprise-vpn", 0.8), ("mobile-voice", 0.4), ("emp", 0.3)],
        ),
        seg(
            "wholesale",
            38,
            1.5,
            &[
                ("mobile-data", 0.6),
                ("mobile-voice", 0.4),
                ("provisioning", 0.2),
            ],
        ),
    ]
}

/// Writes items as JSON objects, inside a JSON document or as YAML flow mappings.
struct Writer<W: Write> {
    out: W,
    format: Format,
    first: bool,
    open: bool,
}

impl<W: Write> Writer<W> {
    fn item<T: Serialize>(&mut self, item: &T) -> io::Result<()> {
        match self.format {
            Format::Json => {
                self.out
                    .write_all(if self.first { b"\n    " } else { b",\n    " })?;
            }
            Format::Yaml => self.out.write_all(b"  - ")?,
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, item).map_err(io::Error::other)?;
        if self.format == Format::Yaml {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        if self.open && self.format == Format::Json {
            self.out
                .write_all(if self.first { b"]" } else { b"\n  ]" })?;
        }
        self.open = false;
        Ok(())
    }
}

impl<W: Write> Sink for Writer<W> {
    fn section(&mut self, name: &str) -> io::Result<()> {
        self.close()?;
        match self.format {
            Format::Json => write!(self.out, ",\n  \"{name}\": [")?,
            Format::Yaml => writeln!(self.out, "{name}:")?,
        }
        self.first = true;
        self.open = true;
        Ok(())
    }
    fn zone(&mut self, z: Zone) -> io::Result<()> {
        self.item(&z)
    }
    fn flow(&mut self, f: Flow) -> io::Result<()> {
        self.item(&f)
    }
    fn asset(&mut self, a: Asset) -> io::Result<()> {
        self.item(&a)
    }
    fn service(&mut self, s: Service) -> io::Result<()> {
        self.item(&s)
    }
    fn segment(&mut self, s: Segment) -> io::Result<()> {
        self.item(&s)
    }
}

fn operator(opts: &GenOptions) -> Operator {
    Operator {
        name: format!(
            "Synthetic operator (seed {}, {} assets)",
            opts.seed,
            opts.assets.max(min_assets())
        ),
        country: None,
        description: Some(s(
            "Generated by `vigie model generate`; same structure as the built-in demo.",
        )),
    }
}

/// Write a synthetic operator to `out` in `format`, streaming.
pub fn generate<W: Write>(opts: GenOptions, format: Format, out: W) -> io::Result<GenSummary> {
    let plan = Plan::new(&opts);
    let mut w = Writer {
        out: io::BufWriter::with_capacity(1 << 20, out),
        format,
        first: true,
        open: false,
    };
    let op = serde_json::to_string(&operator(&opts)).map_err(io::Error::other)?;
    match format {
        Format::Json => write!(w.out, "{{\n  \"operator\": {op}")?,
        Format::Yaml => {
            writeln!(
                w.out,
                "# Synthetic operator generated by `vigie model generate --assets {} --seed {}`.",
                opts.assets, opts.seed
            )?;
            writeln!(
                w.out,
                "# Items are JSON objects (valid YAML flow mappings), one per line."
            )?;
            writeln!(w.out, "operator: {op}")?;
        }
    }
    let sum = run(&plan, &mut w)?;
    w.close()?;
    if format == Format::Json {
        w.out.write_all(b"\n}\n")?;
    }
    w.out.flush()?;
    Ok(sum)
}

struct Collect(Model);

impl Sink for Collect {
    fn section(&mut self, _name: &str) -> io::Result<()> {
        Ok(())
    }
    fn zone(&mut self, z: Zone) -> io::Result<()> {
        self.0.zones.push(z);
        Ok(())
    }
    fn flow(&mut self, f: Flow) -> io::Result<()> {
        self.0.flows.push(f);
        Ok(())
    }
    fn asset(&mut self, a: Asset) -> io::Result<()> {
        self.0.assets.push(a);
        Ok(())
    }
    fn service(&mut self, s: Service) -> io::Result<()> {
        self.0.services.push(s);
        Ok(())
    }
    fn segment(&mut self, s: Segment) -> io::Result<()> {
        self.0.segments.push(s);
        Ok(())
    }
}

/// Build a synthetic operator in memory (same content as [`generate`] writes).
pub fn generate_model(opts: GenOptions) -> Model {
    let mut c = Collect(Model {
        operator: operator(&opts),
        ..Default::default()
    });
    // Collecting into vectors cannot fail: the sink never returns an error.
    let _ = run(&Plan::new(&opts), &mut c);
    c.0
}
