-- Every KPI of docs/kpis.md for the period [$start, $end), one row per region in scope plus a
-- total row (region_id 0), from GROUP BY ROLLUP so that totals are computed over exactly the
-- same rows as the regions (medians and weighted means included, never summed afterwards).
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all).
WITH
scope_regions AS (
    SELECT region_id FROM regions
    WHERE in_scope(region_id, $regions)
    UNION ALL SELECT 0
),
-- Activities, lead stages, orders, payments and settled orders come from the summary tables of
-- migration 007 (kept current by every write: mktsales/summaries.py), never from the base tables'
-- millions of rows; only accept_hours (a median) reads leads, and only the period's acceptances.
act AS (
    SELECT coalesce(region_id, 0) AS region_id,
           CAST(sum(reach) AS BIGINT) AS reach,
           CAST(sum(engaged) AS BIGINT) AS engaged,
           -- NULL without a marketing activity, as a sum over none (cost_per_lead is then NULL)
           CASE WHEN sum(marketing) > 0 THEN sum(spend) END AS marketing_spend,
           CAST(sum(activities) AS BIGINT) AS activities,
           CAST(sum(with_advisor) AS BIGINT) AS activities_with_advisor
    FROM daily_activities
    WHERE day >= $start AND day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ROLLUP (region_id)
),
-- Stage events by the day they happened; the pipeline open at $end is what opened before it less
-- what closed before it.
ld AS (
    SELECT coalesce(region_id, 0) AS region_id,
           CAST(coalesce(sum(leads) FILTER (WHERE day >= $start), 0) AS BIGINT) AS leads,
           CAST(coalesce(sum(mql) FILTER (WHERE day >= $start), 0) AS BIGINT) AS mql,
           CAST(coalesce(sum(sal) FILTER (WHERE day >= $start), 0) AS BIGINT) AS sal,
           CAST(coalesce(sum(opportunities) FILTER (WHERE day >= $start), 0) AS BIGINT) AS opportunities,
           CAST(coalesce(sum(won) FILTER (WHERE day >= $start), 0) AS BIGINT) AS won_deals,
           CAST(coalesce(sum(lost) FILTER (WHERE day >= $start), 0) AS BIGINT) AS lost_deals,
           sum(pipeline_opened) - sum(pipeline_closed) AS open_pipeline
    FROM daily_leads
    WHERE day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ROLLUP (region_id)
),
handoff AS (
    SELECT coalesce(region_id, 0) AS region_id,
           median(date_diff('second', mql_at, sal_at) / 3600.0) AS accept_hours
    FROM leads
    WHERE sal_at >= $start AND sal_at < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ROLLUP (region_id)
),
ord AS (
    SELECT coalesce(region_id, 0) AS region_id,
           sum(amount) FILTER (WHERE day >= $start) AS revenue,
           sum(amount) AS booked_to_end
    FROM daily_orders
    WHERE day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ROLLUP (region_id)
),
-- Payments by their order's region and category.
pay AS (
    SELECT coalesce(region_id, 0) AS region_id,
           sum(amount) FILTER (WHERE day >= $start) AS collections,
           sum(amount) AS paid_to_end
    FROM daily_payments
    WHERE day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ROLLUP (region_id)
),
-- A won deal counts as collected on the day its order became fully paid (its last payment).
col AS (
    SELECT coalesce(region_id, 0) AS region_id, count(*) AS collected
    FROM lead_orders
    WHERE settled_on >= $start AND settled_on < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
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
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ROLLUP (region_id)
),
-- Brand awareness: each region's latest survey in or before the period, sample-weighted.
latest_survey AS (
    SELECT region_id,
           arg_max(awareness_pct, survey_date) AS pct,
           arg_max(sample_size, survey_date) AS n
    FROM brand_surveys
    WHERE survey_date < $end
      AND in_scope(region_id, $regions)
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
    handoff.accept_hours,
    act.activities_with_advisor / nullif(act.activities, 0) AS advisor_share
FROM scope_regions s
LEFT JOIN act USING (region_id)
LEFT JOIN ld USING (region_id)
LEFT JOIN handoff USING (region_id)
LEFT JOIN ord USING (region_id)
LEFT JOIN pay USING (region_id)
LEFT JOIN col USING (region_id)
LEFT JOIN tgt USING (region_id)
LEFT JOIN brand USING (region_id)
ORDER BY s.region_id
