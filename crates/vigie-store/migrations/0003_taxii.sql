-- TAXII 2.1 collections of `vigie serve` (`/taxii2/`): every version of every object
-- each collection holds, and the status resources of POSTs. Versions are the object's
-- `modified` (else `created`, else its date added), in microseconds for ordering, with
-- the text as the object spells it; `date_added` is strictly increasing per collection
-- (so a page's last `date_added` is an exact `added_after` for the next).
CREATE TABLE taxii_objects (
    seq {{serial}},
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    version BIGINT NOT NULL,
    version_text TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    date_added BIGINT NOT NULL,
    document TEXT NOT NULL,
    UNIQUE (collection, id, version)
);
CREATE INDEX taxii_objects_added ON taxii_objects (collection, date_added, seq);
CREATE INDEX taxii_objects_type ON taxii_objects (collection, type);

CREATE TABLE taxii_status (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    request_timestamp BIGINT NOT NULL,
    document TEXT NOT NULL
);
