-- The cohort funnel by one dimension: of the leads created in [$start, $end) (and before $as_of),
-- how many reached each stage before $as_of, per group plus a total row from GROUP BY ROLLUP over
-- the same leads (is_total). A lead counts as collected when it was won before $as_of and its
-- order (orders.lead_id) was fully paid by payments with paid_on < $as_of (a payment counts from
-- the start of its day). rejected = MQL rejected by sales, lost = opportunity closed lost.
-- $by chooses among fixed key expressions as in funnel_breakdown.sql; the same groups are listed.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all), $by (VARCHAR),
-- $as_of (TIMESTAMP).
WITH
cohort AS (
    SELECT lead_id, region_id, category_id, source, campaign_id, mql_at, sal_at, rejected_at,
           opportunity_at, closed_at, outcome
    FROM leads
    WHERE created_at >= $start AND created_at < $end AND created_at < $as_of::TIMESTAMP
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
),
paid AS (
    SELECT DISTINCT o.lead_id
    FROM orders o JOIN payments p ON p.order_id = o.order_id AND p.paid_on < $as_of::TIMESTAMP
    WHERE o.lead_id IN (
        SELECT lead_id FROM cohort WHERE outcome = 'won' AND closed_at < $as_of::TIMESTAMP
    )
    GROUP BY o.order_id, o.lead_id, o.amount
    HAVING sum(p.amount) >= o.amount
),
reached AS (
    SELECT CASE $by WHEN 'region' THEN c.region_id WHEN 'category' THEN c.category_id
                    WHEN 'campaign' THEN c.campaign_id END AS key_id,
           CASE WHEN $by = 'source' THEN c.source END AS key_code,
           count(*) AS lead,
           count(*) FILTER (WHERE c.mql_at < $as_of::TIMESTAMP) AS mql,
           count(*) FILTER (WHERE c.sal_at < $as_of::TIMESTAMP) AS sal,
           count(*) FILTER (WHERE c.rejected_at < $as_of::TIMESTAMP) AS rejected,
           count(*) FILTER (WHERE c.opportunity_at < $as_of::TIMESTAMP) AS opportunity,
           count(*) FILTER (WHERE c.closed_at < $as_of::TIMESTAMP AND c.outcome = 'won') AS won,
           count(*) FILTER (WHERE c.closed_at < $as_of::TIMESTAMP AND c.outcome = 'lost') AS lost,
           count(p.lead_id) AS collected
    FROM cohort c LEFT JOIN paid p ON p.lead_id = c.lead_id
    GROUP BY ALL
),
listed AS (
    SELECT region_id AS key_id FROM regions
    WHERE $by = 'region' AND in_scope(region_id, $regions)
    UNION ALL
    SELECT category_id FROM categories
    WHERE $by = 'category' AND in_scope(category_id, $categories)
    UNION ALL
    SELECT campaign_id FROM campaigns
    WHERE $by = 'campaign' AND start_date < $end AND end_date >= $start
      AND (category_id IS NULL OR in_scope(category_id, $categories))
),
grouped AS (
    SELECT grouping(key_id) = 1 AS is_total, key_id, key_code,
           coalesce(sum(lead), 0) AS lead,
           coalesce(sum(mql), 0) AS mql,
           coalesce(sum(sal), 0) AS sal,
           coalesce(sum(rejected), 0) AS rejected,
           coalesce(sum(opportunity), 0) AS opportunity,
           coalesce(sum(won), 0) AS won,
           coalesce(sum(lost), 0) AS lost,
           coalesce(sum(collected), 0) AS collected
    FROM (SELECT * FROM reached UNION ALL BY NAME SELECT * FROM listed)
    GROUP BY ROLLUP ((key_id, key_code))
),
names AS (
    SELECT 'region' AS dimension, region_id AS key_id, name_zh, name_en FROM regions
    UNION ALL SELECT 'category', category_id, name_zh, name_en FROM categories
    UNION ALL SELECT 'campaign', campaign_id, name_zh, name_en FROM campaigns
)
SELECT g.is_total, g.key_id, g.key_code,
       CASE WHEN NOT g.is_total THEN coalesce(n.name_zh, g.key_code) END AS name_zh,
       CASE WHEN NOT g.is_total THEN coalesce(n.name_en, g.key_code) END AS name_en,
       CAST(g.lead AS BIGINT) AS lead, CAST(g.mql AS BIGINT) AS mql, CAST(g.sal AS BIGINT) AS sal,
       CAST(g.rejected AS BIGINT) AS rejected, CAST(g.opportunity AS BIGINT) AS opportunity,
       CAST(g.won AS BIGINT) AS won, CAST(g.lost AS BIGINT) AS lost, CAST(g.collected AS BIGINT) AS collected,
       g.mql / nullif(g.lead, 0) AS mql_rate,
       g.sal / nullif(g.mql, 0) AS sal_rate,
       g.opportunity / nullif(g.sal, 0) AS opportunity_rate,
       g.won / nullif(g.opportunity, 0) AS win_rate,
       g.won / nullif(g.lead, 0) AS lead_to_won,
       g.won / nullif(g.won + g.lost, 0) AS closed_win_rate
FROM grouped g
LEFT JOIN names n ON n.dimension = $by AND n.key_id = g.key_id AND NOT g.is_total
ORDER BY g.is_total, g.key_id NULLS LAST, g.key_code
