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
    WHERE $regions::INTEGER[] IS NULL OR list_contains($regions, region_id)
    UNION ALL SELECT 0
),
t AS (
    SELECT coalesce(region_id, 0) AS region_id,
           median(date_diff('second', created_at, mql_at) / 86400.0)
               FILTER (WHERE mql_at >= $start AND mql_at < $end) AS lead_to_mql,
           median(date_diff('second', mql_at, coalesce(sal_at, rejected_at)) / 86400.0)
               FILTER (WHERE coalesce(sal_at, rejected_at) >= $start AND coalesce(sal_at, rejected_at) < $end)
               AS mql_to_decision,
           median(date_diff('second', sal_at, opportunity_at) / 86400.0)
               FILTER (WHERE opportunity_at >= $start AND opportunity_at < $end) AS sal_to_opportunity,
           median(date_diff('second', opportunity_at, closed_at) / 86400.0)
               FILTER (WHERE closed_at >= $start AND closed_at < $end) AS opportunity_to_close,
           median(date_diff('second', created_at, closed_at) / 86400.0)
               FILTER (WHERE closed_at >= $start AND closed_at < $end AND outcome = 'won') AS lead_to_won
    FROM leads
    WHERE mql_at < $end  -- every step measured ends at the MQL or later
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, category_id))
    GROUP BY ROLLUP (region_id)
)
SELECT s.region_id, r.name_zh, r.name_en,
       t.lead_to_mql, t.mql_to_decision, t.sal_to_opportunity,
       t.opportunity_to_close, t.lead_to_won
FROM scope_regions s
LEFT JOIN t USING (region_id)
LEFT JOIN regions r USING (region_id)
ORDER BY s.region_id = 0, s.region_id
