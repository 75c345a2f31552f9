//! Live threat intelligence: a write to the TAXII `shared` collection (an indicator
//! POSTed or DELETEd) reloads the engines, so that the indicators it now holds detect
//! from the next event on.
//!
//! Contract:
//! - The task waits on [`crate::taxii::Taxii::subscribe_shared`]; after a change it
//!   waits [`DEBOUNCE`] (writes in that time are one reload), then asks the processor
//!   for the same reload as SIGHUP and `POST /api/v1/admin/reload`
//!   ([`crate::server::reload`]): rules, model, `intel` paths and the `shared`
//!   collection's indicators as stored then ([`crate::pipeline::Engines::load_current`]);
//!   correlation state and live incidents are rebuilt from the store, nothing is lost.
//!   A refused reload keeps the engines in use (logged); the next write tries again.
//! - Writes that arrive during a reload are caught by the next round (the watch keeps
//!   the latest generation), so the indicators in use are never older than the last
//!   write by more than a debounce plus a reload.
//! - With `--worker` there is no processor on the node: nothing reloads (the workers
//!   keep the engines they started with).

use std::time::Duration;

use crate::state::AppState;

/// How long the task waits after a write for more writes before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Spawns the task (see the module docs); it ends when the TAXII state is dropped or
/// the processor is gone.
pub fn spawn(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    let mut rx = state.taxii.subscribe_shared();
    tokio::spawn(async move {
        if state.config.worker {
            return;
        }
        while rx.changed().await.is_ok() {
            tokio::time::sleep(DEBOUNCE).await;
            let generation = *rx.borrow_and_update();
            match crate::server::reload(&state).await {
                Ok(v) => tracing::info!(generation, "reloaded on a TAXII shared write: {v}"),
                Err(e) if e == "shutting down" => break,
                Err(e) => tracing::warn!(generation, "reload on a TAXII shared write refused: {e}"),
            }
        }
    })
}
