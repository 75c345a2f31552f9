//! `vigie intel pull --format json` and `vigie intel push --format json` (documented in
//! `docs/taxii-client.md`): what a TAXII 2.1 pull read and wrote per collection, what a
//! push sent and the server's final status.
//!
//! Collections and objects are named by their TAXII / STIX ids; counts are plain
//! numbers; URLs never carry credentials.

use serde::{Deserialize, Serialize};

/// `vigie intel pull`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullReport {
    pub schema: String,
    /// The API root pulled.
    pub api_root: String,
    pub collections: Vec<PulledCollection>,
    /// Collections the API root lists with `can_read: false`, not asked for by name
    /// (left out, not failures).
    pub unreadable: Vec<String>,
    pub totals: PullTotals,
}

/// One collection of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledCollection {
    pub id: String,
    pub title: Option<String>,
    /// The bundle written (absent when the collection could not be read).
    pub file: Option<String>,
    /// Distinct object ids.
    pub objects: u64,
    /// Object versions (records) written.
    pub versions: u64,
    /// Requests made (pages read).
    pub pages: u32,
    /// Pages reached by `added_after` = the previous `X-TAXII-Date-Added-Last` (the
    /// server said `more` without `next`).
    pub added_after_pages: u32,
    /// The last `X-TAXII-Date-Added-Last` seen: `--added-after` for the next pull.
    pub date_added_last: Option<String>,
    /// Records read twice (same id and version), written once.
    pub duplicates: u64,
    /// Records left out of the bundle, and why.
    pub skipped: Vec<SkippedObject>,
    /// Why the collection could not be read (URL, HTTP status, the server's title).
    pub error: Option<String>,
}

/// A record left out of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedObject {
    /// The objects URL of the collection.
    pub url: String,
    /// JSON pointer over the read's records, pages concatenated (`/objects/3`).
    pub pointer: String,
    pub reason: String,
}

/// Sums of a pull.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PullTotals {
    pub collections: u64,
    /// Collections asked for (or listed readable) that could not be read.
    pub failed: u64,
    /// Listed with `can_read: false` and not asked for by name.
    pub unreadable: u64,
    pub objects: u64,
    pub versions: u64,
    pub pages: u64,
    pub skipped: u64,
}

/// `vigie intel push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushReport {
    pub schema: String,
    pub api_root: String,
    pub collection: String,
    /// The file read.
    pub file: String,
    /// Objects read from the file and sent.
    pub sent: u64,
    /// Entries of the file not sent (not an object, no id or type), with why.
    pub refused: Vec<RefusedObject>,
    /// Envelopes posted (objects split under the API root's `max_content_length`).
    pub envelopes: u64,
    /// The server's status ids, one per envelope.
    pub status_ids: Vec<String>,
    /// `complete`, or `pending` when the wait ended first.
    pub status: String,
    pub total: u64,
    pub success: u64,
    pub failure: u64,
    pub pending: u64,
    /// The objects the server refused, with its message.
    pub failures: Vec<StatusObject>,
    /// Status reads after the posts.
    pub polls: u64,
}

/// An entry of the pushed file that was not sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedObject {
    /// JSON pointer in the file (`/objects/2` in a bundle, `/2` in an array).
    pub pointer: String,
    pub reason: String,
}

/// One object of a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusObject {
    pub id: String,
    pub version: String,
    pub message: Option<String>,
}
