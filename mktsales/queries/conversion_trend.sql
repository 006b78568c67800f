-- Stage events and period conversions per month of [$start, $end) (funnel.py passes the trend
-- window: at least the 12 months ending with the period). One row per month, even without events
-- (ratios NULL). Each event is counted in the month it happened, within the window:
-- leads created, MQLs qualified, SALs accepted, MQLs rejected, opportunities opened, deals won
-- and lost. mql_rate = mql / leads, sal_rate = sal / mql, opportunity_rate = opportunity / sal,
-- win_rate = won / (won + lost) as in shared/KPIS.md.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all).
WITH
months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(date_trunc('month', $start::DATE), $end::DATE, INTERVAL 1 MONTH) t(m)
),
scoped AS (
    SELECT created_at, mql_at, sal_at, rejected_at, opportunity_at, closed_at, outcome
    FROM leads
    WHERE created_at < $end
      AND ($regions::INTEGER[] IS NULL OR list_contains($regions, region_id))
      AND ($categories::INTEGER[] IS NULL OR list_contains($categories, category_id))
),
events AS (
    SELECT 'lead' AS stage, created_at AS event_at FROM scoped WHERE created_at >= $start
    UNION ALL SELECT 'mql', mql_at FROM scoped WHERE mql_at >= $start AND mql_at < $end
    UNION ALL SELECT 'sal', sal_at FROM scoped WHERE sal_at >= $start AND sal_at < $end
    UNION ALL SELECT 'rejected', rejected_at FROM scoped WHERE rejected_at >= $start AND rejected_at < $end
    UNION ALL SELECT 'opportunity', opportunity_at FROM scoped WHERE opportunity_at >= $start AND opportunity_at < $end
    UNION ALL SELECT outcome, closed_at FROM scoped WHERE closed_at >= $start AND closed_at < $end
),
counted AS (
    SELECT CAST(date_trunc('month', event_at) AS DATE) AS month,
           count(*) FILTER (WHERE stage = 'lead') AS leads,
           count(*) FILTER (WHERE stage = 'mql') AS mql,
           count(*) FILTER (WHERE stage = 'sal') AS sal,
           count(*) FILTER (WHERE stage = 'rejected') AS rejected,
           count(*) FILTER (WHERE stage = 'opportunity') AS opportunity,
           count(*) FILTER (WHERE stage = 'won') AS won,
           count(*) FILTER (WHERE stage = 'lost') AS lost
    FROM events
    GROUP BY 1
)
SELECT m.month,
       coalesce(c.leads, 0) AS leads,
       coalesce(c.mql, 0) AS mql,
       coalesce(c.sal, 0) AS sal,
       coalesce(c.rejected, 0) AS rejected,
       coalesce(c.opportunity, 0) AS opportunity,
       coalesce(c.won, 0) AS won,
       coalesce(c.lost, 0) AS lost,
       c.mql / nullif(c.leads, 0) AS mql_rate,
       c.sal / nullif(c.mql, 0) AS sal_rate,
       c.opportunity / nullif(c.sal, 0) AS opportunity_rate,
       c.won / nullif(c.won + c.lost, 0) AS win_rate
FROM months m
LEFT JOIN counted c USING (month)
ORDER BY m.month
