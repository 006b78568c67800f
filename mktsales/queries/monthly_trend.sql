-- Monthly revenue against target, and leads and MQLs, for the months overlapping [$start, $end).
-- Months at the edges count only their days inside the period (targets prorated the same way).
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(date_trunc('month', $start::DATE), $end::DATE, INTERVAL 1 MONTH) t(m)
),
rev AS (  -- from the daily summary (migration 007), not the orders
    SELECT date_trunc('month', day) AS month, sum(amount) AS revenue
    FROM daily_orders
    WHERE day >= $start AND day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ALL
),
tgt AS (
    SELECT month,
           sum(revenue_target
               * date_diff('day', greatest(month, $start), least(month + INTERVAL 1 MONTH, $end))
               / date_diff('day', month, month + INTERVAL 1 MONTH)) AS target_revenue
    FROM targets
    WHERE month < $end AND month + INTERVAL 1 MONTH > $start
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ALL
),
ld AS (  -- leads created and MQLs qualified, by the day they happened (daily summary)
    SELECT date_trunc('month', day) AS month,
           CAST(sum(leads) AS BIGINT) AS leads,
           CAST(sum(mql) AS BIGINT) AS mql
    FROM daily_leads
    WHERE day >= $start AND day < $end
      AND in_scope(region_id, $regions)
      AND in_scope(category_id, $categories)
    GROUP BY ALL
)
SELECT m.month,
       -- how much of the month the period covers: a month to date is drawn lighter
       date_diff('day', greatest(m.month, $start), least(m.month + INTERVAL 1 MONTH, $end)) AS days_in_period,
       date_diff('day', m.month, m.month + INTERVAL 1 MONTH) AS days_in_month,
       CAST(coalesce(rev.revenue, 0) AS DOUBLE) AS revenue,
       CAST(coalesce(tgt.target_revenue, 0) AS DOUBLE) AS target_revenue,
       coalesce(ld.leads, 0) AS leads,
       coalesce(ld.mql, 0) AS mql
FROM months m
LEFT JOIN rev ON rev.month = m.month
LEFT JOIN tgt ON tgt.month = m.month
LEFT JOIN ld ON ld.month = m.month
ORDER BY m.month
