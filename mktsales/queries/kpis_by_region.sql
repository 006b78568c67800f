-- Every KPI of shared/KPIS.md for the period [$start, $end), one row per region in scope plus a
-- total row (region_id 0), from GROUP BY ROLLUP so that totals are computed over exactly the
-- same rows as the regions (medians and weighted means included, never summed afterwards).
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all).
WITH
scope_regions AS (
    SELECT region_id FROM regions
    WHERE $regions::INTEGER[] IS NULL OR list_contains($regions, region_id)
    UNION ALL SELECT 0
),
act AS (
    SELECT coalesce(region_id, 0) AS region_id,
           sum(reach) FILTER (WHERE track = 'marketing') AS reach,
           sum(engaged) FILTER (WHERE track = 'marketing') AS engaged,
           sum(cost) FILTER (WHERE track = 'marketing') AS marketing_spend,
           count(*) AS activities,
           count(advisor_id) AS activities_with_advisor
    FROM activities
    WHERE activity_date >= $start AND activity_date < $end
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, category_id))
    GROUP BY ROLLUP (region_id)
),
ld AS (
    SELECT coalesce(region_id, 0) AS region_id,
           count(*) FILTER (WHERE created_at >= $start) AS leads,
           count(*) FILTER (WHERE mql_at >= $start AND mql_at < $end) AS mql,
           count(*) FILTER (WHERE sal_at >= $start AND sal_at < $end) AS sal,
           count(*) FILTER (WHERE opportunity_at >= $start AND opportunity_at < $end) AS opportunities,
           count(*) FILTER (WHERE closed_at >= $start AND closed_at < $end AND outcome = 'won') AS won_deals,
           count(*) FILTER (WHERE closed_at >= $start AND closed_at < $end AND outcome = 'lost') AS lost_deals,
           median(date_diff('second', mql_at, sal_at) / 3600.0)
               FILTER (WHERE sal_at >= $start AND sal_at < $end) AS accept_hours,
           sum(value) FILTER (WHERE opportunity_at < $end AND (closed_at IS NULL OR closed_at >= $end))
               AS open_pipeline
    FROM leads
    WHERE created_at < $end
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, category_id))
    GROUP BY ROLLUP (region_id)
),
ord AS (
    SELECT coalesce(region_id, 0) AS region_id,
           sum(amount) FILTER (WHERE order_date >= $start) AS revenue,
           sum(amount) AS booked_to_end
    FROM orders
    WHERE order_date < $end
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, category_id))
    GROUP BY ROLLUP (region_id)
),
pay AS (
    SELECT coalesce(o.region_id, 0) AS region_id,
           sum(p.amount) FILTER (WHERE p.paid_on >= $start) AS collections,
           sum(p.amount) AS paid_to_end
    FROM payments p JOIN orders o USING (order_id)
    WHERE p.paid_on < $end
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, o.region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, o.category_id))
    GROUP BY ROLLUP (o.region_id)
),
-- A won deal counts as collected on the day its order became fully paid (its last payment).
settled AS (
    SELECT o.region_id, max(p.paid_on) AS settled_on
    FROM orders o JOIN payments p USING (order_id)
    WHERE o.lead_id IS NOT NULL
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, o.region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, o.category_id))
    GROUP BY o.order_id, o.region_id, o.amount
    HAVING sum(p.amount) >= o.amount
),
col AS (
    SELECT coalesce(region_id, 0) AS region_id, count(*) AS collected
    FROM settled WHERE settled_on >= $start AND settled_on < $end
    GROUP BY ROLLUP (region_id)
),
-- Monthly targets prorated by the days of each month that fall inside the period.
tgt AS (
    SELECT coalesce(region_id, 0) AS region_id,
           sum(revenue_target
               * date_diff('day', greatest(month, $start), least(month + INTERVAL 1 MONTH, $end))
               / date_diff('day', month, month + INTERVAL 1 MONTH)) AS target_revenue
    FROM targets
    WHERE month < $end AND month + INTERVAL 1 MONTH > $start
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, category_id))
    GROUP BY ROLLUP (region_id)
),
-- Brand awareness: each region's latest survey in or before the period, sample-weighted.
latest_survey AS (
    SELECT region_id,
           arg_max(awareness_pct, survey_date) AS pct,
           arg_max(sample_size, survey_date) AS n
    FROM brand_surveys
    WHERE survey_date < $end
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
    GROUP BY region_id
),
brand AS (
    SELECT coalesce(region_id, 0) AS region_id, sum(pct * n) / sum(n) AS brand_awareness
    FROM latest_survey GROUP BY ROLLUP (region_id)
)
SELECT
    s.region_id,
    CAST(coalesce(act.reach, 0) AS BIGINT) AS reach,
    CAST(coalesce(act.engaged, 0) AS BIGINT) AS engaged,
    coalesce(ld.leads, 0) AS leads,
    coalesce(ld.mql, 0) AS mql,
    coalesce(ld.sal, 0) AS sal,
    coalesce(ld.opportunities, 0) AS opportunities,
    coalesce(ld.won_deals, 0) AS won_deals,
    coalesce(ld.lost_deals, 0) AS lost_deals,
    coalesce(col.collected, 0) AS collected,
    CAST(coalesce(act.marketing_spend, 0) AS DOUBLE) AS marketing_spend,
    CAST(act.marketing_spend AS DOUBLE) / nullif(ld.leads, 0) AS cost_per_lead,
    ld.mql / nullif(ld.leads, 0) AS mql_rate,
    brand.brand_awareness,
    CAST(coalesce(ord.revenue, 0) AS DOUBLE) AS revenue,
    CAST(coalesce(pay.collections, 0) AS DOUBLE) AS collections,
    CAST(coalesce(ord.booked_to_end, 0) - coalesce(pay.paid_to_end, 0) AS DOUBLE) AS receivables,
    ld.won_deals / nullif(ld.won_deals + ld.lost_deals, 0) AS win_rate,
    CAST(coalesce(tgt.target_revenue, 0) AS DOUBLE) AS target_revenue,
    CAST(coalesce(ord.revenue, 0) AS DOUBLE) / nullif(CAST(tgt.target_revenue AS DOUBLE), 0) AS attainment,
    CAST(coalesce(ld.open_pipeline, 0) AS DOUBLE) AS open_pipeline,
    ld.sal / nullif(ld.mql, 0) AS sal_rate,
    ld.accept_hours,
    act.activities_with_advisor / nullif(act.activities, 0) AS advisor_share
FROM scope_regions s
LEFT JOIN act USING (region_id)
LEFT JOIN ld USING (region_id)
LEFT JOIN ord USING (region_id)
LEFT JOIN pay USING (region_id)
LEFT JOIN col USING (region_id)
LEFT JOIN tgt USING (region_id)
LEFT JOIN brand USING (region_id)
ORDER BY s.region_id
