-- Median days spent between stages, per region in scope plus the total row (region_id 0, last),
-- from GROUP BY ROLLUP over the same leads. Each median is over the leads whose later stage fell
-- in the period [$start, $end) (NULL when none did):
--   lead_to_mql            created -> MQL, MQLs qualified in the period
--   mql_to_decision        MQL -> accepted or rejected, decided in the period
--   sal_to_opportunity     accepted -> opportunity, opened in the period
--   opportunity_to_close   opportunity -> closed (won or lost), closed in the period
--   lead_to_won            created -> won (velocity), won in the period
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all).
WITH
scope_regions AS (
    SELECT region_id FROM regions
    WHERE in_scope(region_id, $regions)
    UNION ALL SELECT 0
),
-- One scan per step, each over the leads whose later stage fell in the period: a range test on one
-- timestamp lets DuckDB skip every row group outside the period. A rejected MQL has no sal_at
-- (CHECK in 001), so acceptances and rejections are the decisions, each once.
steps AS (
    SELECT region_id, 'lead_to_mql' AS step, date_diff('second', created_at, mql_at) / 86400.0 AS days
    FROM leads
    WHERE mql_at >= $start AND mql_at < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    UNION ALL
    SELECT region_id, 'mql_to_decision', date_diff('second', mql_at, sal_at) / 86400.0
    FROM leads
    WHERE sal_at >= $start AND sal_at < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    UNION ALL
    SELECT region_id, 'mql_to_decision', date_diff('second', mql_at, rejected_at) / 86400.0
    FROM leads
    WHERE rejected_at >= $start AND rejected_at < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    UNION ALL
    SELECT region_id, 'sal_to_opportunity', date_diff('second', sal_at, opportunity_at) / 86400.0
    FROM leads
    WHERE opportunity_at >= $start AND opportunity_at < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    UNION ALL
    SELECT region_id, CASE WHEN k = 1 THEN 'opportunity_to_close' ELSE 'lead_to_won' END,
           date_diff('second', CASE WHEN k = 1 THEN opportunity_at ELSE created_at END, closed_at) / 86400.0
    FROM leads, (VALUES (1), (2)) ks(k)
    WHERE closed_at >= $start AND closed_at < $end AND (k = 1 OR outcome = 'won')
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
),
t AS (
    SELECT coalesce(region_id, 0) AS region_id,
           median(days) FILTER (WHERE step = 'lead_to_mql') AS lead_to_mql,
           median(days) FILTER (WHERE step = 'mql_to_decision') AS mql_to_decision,
           median(days) FILTER (WHERE step = 'sal_to_opportunity') AS sal_to_opportunity,
           median(days) FILTER (WHERE step = 'opportunity_to_close') AS opportunity_to_close,
           median(days) FILTER (WHERE step = 'lead_to_won') AS lead_to_won
    FROM steps
    GROUP BY ROLLUP (region_id)
)
SELECT s.region_id, r.name_zh, r.name_en,
       t.lead_to_mql, t.mql_to_decision, t.sal_to_opportunity,
       t.opportunity_to_close, t.lead_to_won
FROM scope_regions s
LEFT JOIN t USING (region_id)
LEFT JOIN regions r USING (region_id)
ORDER BY s.region_id = 0, s.region_id
