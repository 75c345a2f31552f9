//! The dashboard at `/`: a single page embedded in the binary (assets under
//! `crates/vigie-serve/dashboard/`, rust-embed; no CDN, works offline). (Dashboard
//! engineer.)

use axum::Router;

use crate::state::AppState;

/// The dashboard's routes (`/`, its assets, `GET /api/v1/stream`), merged into
/// [`crate::api::router`]. (Placeholder until the dashboard lands: no route yet.)
pub fn routes() -> Router<AppState> {
    Router::new()
}
