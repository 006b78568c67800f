-- The MQL -> SAL handoff per region in scope plus the total row (region_id 0, last), from
-- GROUP BY ROLLUP over the same leads. Decisions (acceptances, rejections) are those made in the
-- period [$start, $end); median_hours is the overview's accept_hours. The waiting queue is a
-- snapshot at $as_of, whatever the period: MQLs qualified before $as_of and neither accepted nor
-- rejected before it; overdue ones have waited longer than $target_hours.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all), $as_of
-- (TIMESTAMP), $target_hours (DOUBLE).
WITH
scope_regions AS (
    SELECT region_id FROM regions
    WHERE in_scope(region_id, $regions)
    UNION ALL SELECT 0
),
-- Acceptances and rejections in the period, and the queue at $as_of, each its own scan: a range
-- test on one timestamp lets DuckDB skip the row groups outside the period. A lead can be in
-- both (accepted in the period, but after $as_of); each count reads its own rows, as before.
-- The queue test spells out coalesce(sal_at, rejected_at, infinity) >= $as_of column by column
-- (a rejected MQL has no sal_at, CHECK in 001), so the scan filters before reading other columns.
mqls AS (
    SELECT region_id, true AS accepted, false AS rejected,
           date_diff('second', mql_at, sal_at) / 3600.0 AS decision_hours,
           false AS waiting, NULL::DOUBLE AS age_hours
    FROM leads
    WHERE sal_at >= $start AND sal_at < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    UNION ALL
    SELECT region_id, false, true, date_diff('second', mql_at, rejected_at) / 3600.0, false, NULL
    FROM leads
    WHERE rejected_at >= $start AND rejected_at < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    UNION ALL
    SELECT region_id, false, false, NULL, true, date_diff('second', mql_at, $as_of::TIMESTAMP) / 3600.0
    FROM leads
    WHERE mql_at < $as_of::TIMESTAMP
      AND (sal_at IS NULL OR sal_at >= $as_of::TIMESTAMP)
      AND (rejected_at IS NULL OR rejected_at >= $as_of::TIMESTAMP)
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
),
h AS (
    SELECT coalesce(region_id, 0) AS region_id,
           count(*) FILTER (WHERE accepted) AS accepted,
           count(*) FILTER (WHERE rejected) AS rejected,
           median(decision_hours) FILTER (WHERE accepted) AS median_hours,
           quantile_cont(decision_hours, 0.9) FILTER (WHERE accepted) AS p90_hours,
           count(*) FILTER (WHERE (accepted OR rejected) AND decision_hours <= $target_hours) AS within_target,
           count(*) FILTER (WHERE waiting) AS waiting,
           count(*) FILTER (WHERE waiting AND age_hours > $target_hours) AS waiting_overdue,
           max(age_hours) FILTER (WHERE waiting) AS oldest_waiting_hours
    FROM mqls
    GROUP BY ROLLUP (region_id)
)
SELECT s.region_id, r.name_zh, r.name_en,
       coalesce(h.accepted, 0) AS accepted,
       coalesce(h.rejected, 0) AS rejected,
       h.accepted / nullif(h.accepted + h.rejected, 0) AS accept_rate,
       h.median_hours,
       h.p90_hours,
       h.within_target / nullif(h.accepted + h.rejected, 0) AS decided_within_target,
       coalesce(h.waiting, 0) AS waiting,
       coalesce(h.waiting_overdue, 0) AS waiting_overdue,
       h.oldest_waiting_hours
FROM scope_regions s
LEFT JOIN h USING (region_id)
LEFT JOIN regions r USING (region_id)
ORDER BY s.region_id = 0, s.region_id
