//! vigie-store's tests: ONE body per topic, run against SQLite (one test per topic, each
//! in its own temporary directory) and against PostgreSQL (one server for the binary's
//! `postgres_suite`, one fresh database per topic).

mod support;

mod admin;
mod commit;
mod failure;
mod incidents;
mod paging;
mod taxii;

use support::Backend;

type Topic = (&'static str, fn(&Backend));

/// Every topic once: the SQLite tests (one per topic, so they run in parallel and fail by
/// name) and the list the PostgreSQL suite runs, from the same lines.
macro_rules! topics {
    ($($name:ident => $f:path),* $(,)?) => {
        const TOPICS: &[Topic] = &[$((stringify!($name), $f)),*];
        mod sqlite {
            $(#[test] fn $name() { $f(&crate::support::Backend::sqlite()) })*
        }
    };
}

topics! {
    commit_dedup => crate::commit::dedup,
    commit_replay_property => crate::commit::replay_property,
    commit_correlation_documents => crate::commit::correlation_documents,
    commit_live_detections => crate::commit::live_detections,
    paging_detections => crate::paging::detections,
    paging_incidents => crate::paging::incidents,
    incident_lifecycle => crate::incidents::lifecycle,
    incident_invalid_changes => crate::incidents::invalid_changes,
    incident_verdicts_fp_rate => crate::incidents::verdicts_fp_rate,
    incident_merge => crate::incidents::merge,
    incident_decision => crate::incidents::decision,
    admin_tokens => crate::admin::tokens,
    admin_audit => crate::admin::audit,
    admin_retention => crate::admin::retention,
    failure_hook_rolls_back => crate::failure::hook_rolls_back,
    failure_concurrent_reads => crate::failure::concurrent_reads,
    failure_schema_too_new => crate::failure::schema_too_new,
    failure_schema_upgrade => crate::failure::schema_upgrade,
    failure_legacy_key_hashes => crate::failure::legacy_key_hashes,
    failure_corrupt_document => crate::failure::corrupt_document,
    failure_abort_inside_commit => crate::failure::abort_inside_commit,
    taxii_versions_and_dates => crate::taxii::versions_and_dates,
    taxii_filters_and_delete => crate::taxii::filters_and_delete,
    taxii_status_and_reopen => crate::taxii::status_and_reopen,
}

/// Where the child of `failure_abort_inside_commit` commits.
const ABORT_SPEC: &str = "VIGIE_STORE_TEST_ABORT_SPEC";

/// The child process of `failure_abort_inside_commit`: commits a batch and aborts the
/// process inside the transaction.
#[test]
#[ignore = "run as a child process by failure_abort_inside_commit"]
fn abort_child() {
    let spec = std::env::var(ABORT_SPEC).expect("run by failure_abort_inside_commit");
    let store = vigie_store::Store::open(&vigie_store::StoreSpec::parse(&spec).unwrap()).unwrap();
    store.set_hook(std::sync::Arc::new(|point: &'static str| {
        if point == "commit.written" {
            println!("rows written, aborting");
            std::process::abort();
        }
    }));
    let _ = store.commit(&failure::batch(300, "aborted"));
    panic!("the commit returned instead of aborting");
}

#[test]
fn postgres_suite() {
    let started = std::time::Instant::now();
    let Some(pg) = vigie_test_support::postgres::TempPostgres::start() else {
        return;
    };
    eprintln!("postgres: started in {} ms", started.elapsed().as_millis());
    for (name, topic) in TOPICS {
        eprintln!("postgres: {name}");
        let url = pg.create_database(name);
        topic(&Backend::postgres(url));
    }
}
