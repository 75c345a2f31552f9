//! `vigie`: the command line. Thin: parses arguments, sets up logging, hands each
//! subcommand to its module in `cmd/`, and turns errors into an exit status.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod embedded;
mod logging;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// vigie: cyber-resilience engine for telecom operators.
///
/// Hunt intrusions in logs with Sigma rules, see what a compromise reaches and which
/// customers depend on it, contain it at the lowest cost in customer-hours, and plan the
/// restoration.
#[derive(Parser)]
#[command(name = "vigie", version, propagate_version = true)]
struct Cli {
    /// Log verbosity for diagnostics on stderr (error, warn, info, debug, trace).
    /// Default: warn (error with `hunt -q`).
    #[arg(long, global = true, env = "VIGIE_LOG")]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Hunt: run Sigma rules over EVTX / JSON logs and report detections.
    Hunt(cmd::hunt::Args),
    /// Rules: check that rules load, and why those refused are refused.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Model: check, describe or generate an operator model.
    #[command(subcommand)]
    Model(cmd::model::Command),
    /// Assess: what an attacker holding the compromised assets can reach, and who depends on it.
    Assess(cmd::assess::Args),
    /// Contain: the cheapest set of actions (in customer-hours) that cuts every attack path.
    Contain(cmd::contain::Args),
    /// Restore: the order and timeline in which downed assets and services come back.
    Restore(cmd::restore::Args),
    /// Respond: logs to incidents on the model, each with its decision (reach, plan,
    /// restoration, notification draft).
    Respond(cmd::respond::Args),
    /// Demo: the built-in July 2025 story, responded to and told, with its HTML report.
    Demo(cmd::demo::Args),
    /// Serve: the live service (ingest over HTTP, syslog, files, NATS; detection,
    /// incidents and decisions as they happen; store, API, dashboard).
    Serve(cmd::serve::Args),
    /// Exercise: rehearse attacks on the model (Monte Carlo raced against detection,
    /// priced in customer-hours), rank what buys most, find single points of failure.
    Exercise(cmd::exercise::Args),
    /// Threat intelligence: STIX patterns, indicator files, STIX export, TAXII pull and
    /// push.
    #[command(subcommand)]
    Intel(cmd::intel::Command),
}

/// `vigie ... | head`: when the reader goes away, end quietly as Unix tools do, instead
/// of panicking on the next write (Rust ignores SIGPIPE by default).
#[cfg(unix)]
fn end_quietly_on_closed_pipe() {
    // SAFETY: setting a signal's disposition back to its default, once at startup
    // before any other thread exists, has no precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn end_quietly_on_closed_pipe() {}

/// No transparent huge pages for this process. Where the kernel backs every large
/// anonymous mapping with 2 MiB pages (`transparent_hugepage=always`, common on servers),
/// each of the allocator's per-thread arenas holds whole huge pages resident for a few
/// small live objects: hunting `shared/evtx` with three SigmaHQ folders peaked at 152 MB
/// with them and 104 MB without (same CPU time; bench/RESULTS.md, issue 12). It is what
/// mimalloc's own `allow_thp=0` option does, early enough here: the flag is checked when
/// a page is first touched, and only the allocator's first reservation precedes `main`.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag of this
    // process; on a kernel without it the call fails with EINVAL, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` of its v2 header, which
/// the Rust bindings do not name).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory the allocator no longer uses goes back to the OS at once instead of after
/// mimalloc's default 10 ms. Within those 10 ms freed pages stay resident while other
/// threads touch new ones, and a hunt frees much as it goes (each file's event buffers):
/// hunting `shared/evtx` with three SigmaHQ folders peaked at 95 MiB with the delay and
/// 84 MiB without, same detections (bench/RESULTS.md, issue 12 point 4). Set at start,
/// except by `hunt` (once its rules are loaded), `rules` and `serve`: during a rule load,
/// pages freed and purged at once were touched again by the next file's allocations (a
/// tenth of the load in page faults), and a server under sustained ingest frees and
/// reallocates each batch's buffers, so purging at once cost it madvise calls and page
/// faults on every batch (bench/RESULTS.md, session 14); its memory still goes back after
/// the default delay.
pub(crate) fn purge_freed_memory_at_once() {
    // SAFETY: sets one integer option of the allocator; safe at any time by its contract.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    end_quietly_on_closed_pipe();
    let cli = Cli::parse();
    // `hunt` turns it on once its rules are loaded; `rules` only loads rules; `serve`
    // reuses what it frees within milliseconds.
    if !matches!(
        cli.command,
        Command::Hunt(_) | Command::Rules(_) | Command::Serve(_)
    ) {
        purge_freed_memory_at_once();
    }
    // `hunt -q` hides warnings too, unless a level was asked for explicitly.
    let quiet = matches!(&cli.command, Command::Hunt(a) if a.quiet);
    let level = cli
        .log
        .as_deref()
        .unwrap_or(if quiet { "error" } else { "warn" });
    logging::init(level);
    let result = match cli.command {
        Command::Hunt(a) => cmd::hunt::run(a),
        Command::Rules(c) => cmd::rules::run(c),
        Command::Model(c) => cmd::model::run(c),
        Command::Assess(a) => cmd::assess::run(a),
        Command::Contain(a) => cmd::contain::run(a),
        Command::Restore(a) => cmd::restore::run(a),
        Command::Exercise(a) => cmd::exercise::run(a),
        Command::Respond(a) => cmd::respond::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Intel(c) => cmd::intel::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
