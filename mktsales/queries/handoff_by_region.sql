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
    WHERE $regions::INTEGER[] IS NULL OR list_contains($regions, region_id)
    UNION ALL SELECT 0
),
mqls AS (
    SELECT region_id,
           sal_at >= $start AND sal_at < $end AS accepted,
           rejected_at >= $start AND rejected_at < $end AS rejected,
           date_diff('second', mql_at, coalesce(sal_at, rejected_at)) / 3600.0 AS decision_hours,
           mql_at < $as_of::TIMESTAMP
               AND coalesce(sal_at, rejected_at, 'infinity'::TIMESTAMP) >= $as_of::TIMESTAMP AS waiting,
           date_diff('second', mql_at, $as_of::TIMESTAMP) / 3600.0 AS age_hours
    FROM leads
    WHERE mql_at IS NOT NULL
      AND ((sal_at >= $start AND sal_at < $end)
           OR (rejected_at >= $start AND rejected_at < $end)
           OR (mql_at < $as_of::TIMESTAMP
               AND coalesce(sal_at, rejected_at, 'infinity'::TIMESTAMP) >= $as_of::TIMESTAMP))
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, category_id))
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
