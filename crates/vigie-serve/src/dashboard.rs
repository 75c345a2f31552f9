//! The dashboard at `/`: a single page embedded in the binary (assets under
//! `crates/vigie-serve/dashboard/`, rust-embed; no CDN, works offline). (Dashboard
//! engineer.)
