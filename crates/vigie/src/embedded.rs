//! What `vigie` carries inside it: its own Sigma rule pack (`rules/`), the intrusion
//! sample `vigie hunt` reads by default (`samples/intrusion.jsonl`, short: eleven
//! detections) and the July 2025 intrusion `vigie demo` and `vigie respond` tell
//! (`samples/july2025.jsonl`, two days with noise; see `docs/demo.md`), so that they run
//! with no file at hand. A test checks that every rule file of `rules/` is listed here.

/// The rule pack: `(name, yaml)`, names as in the repository.
pub const RULES: &[(&str, &str)] = &[
    (
        "rules/correlation/brute_force_then_success.yml",
        include_str!("../../../rules/correlation/brute_force_then_success.yml"),
    ),
    (
        "rules/windows/proc_ad_recon.yml",
        include_str!("../../../rules/windows/proc_ad_recon.yml"),
    ),
    (
        "rules/windows/proc_credential_search_in_files.yml",
        include_str!("../../../rules/windows/proc_credential_search_in_files.yml"),
    ),
    (
        "rules/windows/proc_local_discovery_commands.yml",
        include_str!("../../../rules/windows/proc_local_discovery_commands.yml"),
    ),
    (
        "rules/windows/proc_lsass_dump_tools.yml",
        include_str!("../../../rules/windows/proc_lsass_dump_tools.yml"),
    ),
    (
        "rules/windows/proc_ntds_shadow_copy.yml",
        include_str!("../../../rules/windows/proc_ntds_shadow_copy.yml"),
    ),
    (
        "rules/windows/proc_server_spawns_shell.yml",
        include_str!("../../../rules/windows/proc_server_spawns_shell.yml"),
    ),
    (
        "rules/windows/proc_tunnel_tools.yml",
        include_str!("../../../rules/windows/proc_tunnel_tools.yml"),
    ),
    (
        "rules/windows/sec_admin_group_change.yml",
        include_str!("../../../rules/windows/sec_admin_group_change.yml"),
    ),
    (
        "rules/windows/sec_dcsync_replication.yml",
        include_str!("../../../rules/windows/sec_dcsync_replication.yml"),
    ),
    (
        "rules/windows/sec_kerberoast_rc4_ticket.yml",
        include_str!("../../../rules/windows/sec_kerberoast_rc4_ticket.yml"),
    ),
    (
        "rules/windows/sec_log_cleared.yml",
        include_str!("../../../rules/windows/sec_log_cleared.yml"),
    ),
    (
        "rules/windows/sec_logon_failure.yml",
        include_str!("../../../rules/windows/sec_logon_failure.yml"),
    ),
    (
        "rules/windows/sec_service_account_logon_from_dmz.yml",
        include_str!("../../../rules/windows/sec_service_account_logon_from_dmz.yml"),
    ),
    (
        "rules/windows/svc_remote_exec_service.yml",
        include_str!("../../../rules/windows/svc_remote_exec_service.yml"),
    ),
];

/// Display name of the embedded sample in detections and the summary.
pub const SAMPLE_NAME: &str = "samples/intrusion.jsonl";

/// The intrusion sample (JSON lines, EVTX-as-JSON shape; written by `samples/make_intrusion.py`).
pub const SAMPLE: &str = include_str!("../../../samples/intrusion.jsonl");

/// Display name of the July 2025 intrusion in detections and the summary.
pub const JULY2025_NAME: &str = "samples/july2025.jsonl";

/// The July 2025 intrusion on the demo operator (JSON lines, EVTX-as-JSON shape; written
/// by `samples/make_july2025.py`): the default input of `vigie demo` and `vigie respond`.
pub const JULY2025: &str = include_str!("../../../samples/july2025.jsonl");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("rules/ is part of the repository") {
                let path = entry.expect("readable rules/ entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                    let rel = path.strip_prefix(&root).expect("under rules/");
                    on_disk.push(format!("rules/{}", rel.display()));
                }
            }
        }
        on_disk.sort();
        let embedded: Vec<String> = RULES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(embedded, on_disk, "update crates/vigie/src/embedded.rs");
    }
}
