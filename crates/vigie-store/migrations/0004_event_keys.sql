-- Deduplication keys apart from documents (issue 9 point 10, ingest speed). Before, every
-- accepted event got an `events` row (rowid, UNIQUE key, received_at: three b-trees and
-- ~245 bytes per event) although only the few kept ones carry a document. Now:
--   event_keys: one row per accepted event, the first 16 bytes of SHA-256(event key) as
--               the primary key (one b-tree: WITHOUT ROWID on SQLite), received_at for
--               retention (no index: the sweep scans it);
--   events:     only events kept with their document (evidence, feeding a correlation,
--               `events = all`).
-- {{bytes}} is BLOB (SQLite) / BYTEA (PostgreSQL), {{without_rowid}} `WITHOUT ROWID` on
-- SQLite and nothing on PostgreSQL. The hashes of the keys already in `events` are
-- written by the migration's Rust step (schema.rs), which then deletes the `events` rows
-- that held no document.
CREATE TABLE event_keys (
    hash {{bytes}} PRIMARY KEY,
    received_at BIGINT NOT NULL
){{without_rowid}};
