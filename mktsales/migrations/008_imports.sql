-- 008: import and export (issue 8). A row that came from a file keeps the id it has there (its
-- external id), so importing the same file again updates rather than duplicates; and the column
-- mappings an admin made by hand are remembered for the next file of the same kind.
-- No foreign keys: internal_id points at the kind's own table (people, customers, orders, ...),
-- and DuckDB refuses some updates of referenced rows (see 006).

CREATE TABLE external_keys (
    kind        VARCHAR NOT NULL,               -- importer.KINDS: 'orders', 'customers', ...
    external_id VARCHAR NOT NULL,               -- as written in the file, trimmed
    internal_id BIGINT NOT NULL,                -- the row's id in the kind's table
    PRIMARY KEY (kind, external_id)
);

-- header_key = mktsales.cells.header_key(header): case, spacing and punctuation ignored.
CREATE TABLE import_mappings (
    kind       VARCHAR NOT NULL,
    header_key VARCHAR NOT NULL,
    field      VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, header_key)
);
