-- Stage events and period conversions per month of [$start, $end) (funnel.py passes the trend
-- window: at least the 12 months ending with the period). One row per month, even without events
-- (ratios NULL). Each event is counted in the month it happened, within the window:
-- leads created, MQLs qualified, SALs accepted, MQLs rejected, opportunities opened, deals won
-- and lost. mql_rate = mql / leads, sal_rate = sal / mql, opportunity_rate = opportunity / sal,
-- win_rate = won / (won + lost) as in docs/kpis.md.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all).
WITH
months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(date_trunc('month', $start::DATE), $end::DATE, INTERVAL 1 MONTH) t(m)
),
-- Stage events by the day they happened, from the daily summary (migration 007).
counted AS (
    SELECT CAST(date_trunc('month', day) AS DATE) AS month,
           CAST(sum(leads) AS BIGINT) AS leads,
           CAST(sum(mql) AS BIGINT) AS mql,
           CAST(sum(sal) AS BIGINT) AS sal,
           CAST(sum(rejected) AS BIGINT) AS rejected,
           CAST(sum(opportunities) AS BIGINT) AS opportunity,
           CAST(sum(won) AS BIGINT) AS won,
           CAST(sum(lost) AS BIGINT) AS lost
    FROM daily_leads
    WHERE day >= $start AND day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
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
