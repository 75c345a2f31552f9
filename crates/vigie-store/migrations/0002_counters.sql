-- Running totals of the big tables, kept in the same transactions that change them, so
-- `Store::counts` (called after commits and on every /metrics scrape) reads three rows
-- instead of counting millions. Seeded from the tables as they are.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) SELECT 'events', COUNT(*) FROM events;
INSERT INTO counters (name, value)
    SELECT 'events_with_document', COUNT(*) FROM events WHERE document IS NOT NULL;
INSERT INTO counters (name, value) SELECT 'detections', COUNT(*) FROM detections;
