-- The funnel by one dimension for the period [$start, $end): per group, the stage events that
-- fell in the period, counted as the overview counts them (kpis_by_region.sql), plus a total row
-- from GROUP BY ROLLUP over the same rows (is_total).
-- $by is 'region', 'category', 'source' or 'campaign' (validated by funnel.py); it only chooses
-- among the fixed key expressions below. The key is key_id (region, category, campaign; NULL
-- campaign = the "no campaign" group) or key_code (source). Regions and categories in scope, and
-- campaigns running in the period, are listed even without events.
-- A won deal counts as collected on the day its order became fully paid (its last payment); its
-- region and category are the order's (as on the overview), its source and campaign the lead's.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all), $by (VARCHAR).
WITH
-- Stage events by the day they happened, from the daily summary (migration 007; campaign -1 = none).
ld AS (
    SELECT CASE $by WHEN 'region' THEN region_id WHEN 'category' THEN category_id
                    WHEN 'campaign' THEN nullif(campaign_id, -1) END AS key_id,
           CASE WHEN $by = 'source' THEN source END AS key_code,
           sum(leads) AS lead,
           sum(mql) AS mql,
           sum(sal) AS sal,
           sum(rejected) AS rejected,
           sum(opportunities) AS opportunity,
           sum(won) AS won,
           sum(lost) AS lost
    FROM daily_leads
    WHERE day >= $start AND day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ALL
    HAVING lead + mql + sal + rejected + opportunity + won + lost > 0  -- a group with events only
),
-- Orders of won leads by the day they became fully paid (lead_orders: the order's region and
-- category, the lead's source and campaign; source '' = the lead is missing).
col AS (
    SELECT CASE $by WHEN 'region' THEN region_id WHEN 'category' THEN category_id
                    WHEN 'campaign' THEN nullif(campaign_id, -1) END AS key_id,
           CASE WHEN $by = 'source' THEN nullif(source, '') END AS key_code,
           count(*) AS collected
    FROM lead_orders
    WHERE settled_on >= $start AND settled_on < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ALL
),
-- Groups listed even without events: no counts, so they add nothing to the total.
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
    FROM (SELECT * FROM ld UNION ALL BY NAME SELECT * FROM col UNION ALL BY NAME SELECT * FROM listed)
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
