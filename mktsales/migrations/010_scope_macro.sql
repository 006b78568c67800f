-- 010: the scope filter, written once (issue 15). ``in_scope(id, ids)`` is true when ``ids`` is NULL
-- (no restriction: the user sees everything, or chose no filter) or lists ``id``. Every query that
-- reads a region-scoped table filters with ``in_scope(x.region_id, $regions)``; the category filter
-- uses the same macro. A macro lives in the database file: a restored older backup gets it from
-- this migration, a newer one carries it (COPY FROM DATABASE copies macros).
-- tests/test_scope_sql.py fails when a query reads a table with a region_id column without it.
CREATE OR REPLACE MACRO in_scope(id, ids) AS ids::INTEGER[] IS NULL OR list_contains(ids::INTEGER[], id);
