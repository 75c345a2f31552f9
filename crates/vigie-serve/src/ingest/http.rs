//! Decoding of `POST /api/v1/events` bodies: JSON lines or one JSON array, optionally
//! gzip (`Content-Encoding: gzip`), into an [`super::IngestBatch`]. (API engineer.)
