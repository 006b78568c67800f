-- The leads behind one stage of the funnel, ordered by lead_id, at most $limit (NULL = all).
-- Period view ($cohort false): the leads whose $stage event fell in [$start, $end), as counted by
-- funnel_breakdown.sql. Cohort view ($cohort true): the leads created in [$start, $end) and
-- before $as_of that reached $stage before $as_of, as counted by funnel_cohort.sql.
-- $stage is one of lead, mql, sal, rejected, opportunity, won, lost, collected (validated by
-- funnel.py); it only chooses among the fixed timestamps below.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all), $stage
-- (VARCHAR), $cohort (BOOLEAN), $as_of (TIMESTAMP), $limit (BIGINT or NULL).
WITH
-- Orders of won leads, only when the stage is 'collected': fully paid on settled_on (the
-- overview's definition), and whether payments before $as_of cover the amount (the cohort's).
paid AS (
    SELECT o.lead_id,
           max(p.paid_on) AS last_paid,
           sum(p.amount) >= o.amount AS settled,
           coalesce(sum(p.amount) FILTER (WHERE p.paid_on < $as_of::TIMESTAMP), 0) >= o.amount AS paid_by_as_of
    FROM orders o JOIN payments p USING (order_id)
    WHERE $stage = 'collected' AND o.lead_id IS NOT NULL
      AND in_scope(o.region_id, $regions)
      AND in_scope(o.category_id, $categories)
    GROUP BY o.order_id, o.lead_id, o.amount
),
collected AS (
    SELECT lead_id,
           min(last_paid) FILTER (WHERE settled AND last_paid >= $start AND last_paid < $end) AS settled_on,
           bool_or(paid_by_as_of) AS paid_by_as_of
    FROM paid
    GROUP BY lead_id
),
staged AS (
    SELECT l.*,
           CASE $stage
               WHEN 'lead' THEN l.created_at
               WHEN 'mql' THEN l.mql_at
               WHEN 'sal' THEN l.sal_at
               WHEN 'rejected' THEN l.rejected_at
               WHEN 'opportunity' THEN l.opportunity_at
               WHEN 'won' THEN CASE WHEN l.outcome = 'won' THEN l.closed_at END
               WHEN 'lost' THEN CASE WHEN l.outcome = 'lost' THEN l.closed_at END
               WHEN 'collected' THEN CASE
                   WHEN NOT $cohort THEN CAST(c.settled_on AS TIMESTAMP)
                   WHEN l.outcome = 'won' AND c.paid_by_as_of THEN l.closed_at
               END
           END AS stage_at
    FROM leads l LEFT JOIN collected c USING (lead_id)
    WHERE in_scope(l.region_id, $regions)
      AND in_scope(l.category_id, $categories)
)
SELECT lead_id, region_id, category_id, source, campaign_id, created_at, mql_at, sal_at, rejected_at,
       reject_reason, opportunity_at, closed_at, outcome, lost_reason, value
FROM staged
WHERE CASE WHEN $cohort
           THEN created_at >= $start AND created_at < $end AND created_at < $as_of::TIMESTAMP
                AND stage_at < $as_of::TIMESTAMP
           ELSE stage_at >= $start AND stage_at < $end END
ORDER BY lead_id
LIMIT $limit
