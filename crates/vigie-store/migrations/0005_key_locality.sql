-- Locality of the deduplication index (issue 9 point 10, ingest speed). Keys that name a
-- position in a stream (`rec:<Computer>/<Channel>/<EventRecordID>`, `pos:<source>:<n>`)
-- are hashed from now on as (stream hash, position, digest), 28 bytes, so that a commit's
-- keys land on a few pages of `event_keys` instead of one page each; other keys keep
-- schema 4's 16-byte digest (`codec::key_hash`). The keys already stored cannot be
-- rehashed (only their hashes are kept): the latest receive time among them is recorded,
-- and until the retention sweep has forgotten every key received by then, lookups of
-- stream keys try schema 4's hash too (`schema::legacy_key_hashes`). 0: nothing to try.
INSERT INTO counters (name, value)
    SELECT 'legacy_key_hashes', COALESCE(MAX(received_at), 0) FROM event_keys;
