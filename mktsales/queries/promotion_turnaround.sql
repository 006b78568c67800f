-- promotion_turnaround: sales requests decided in [$start, $end) (touching the regions and
-- categories in scope): how many, the median and 90th percentile of the hours from request to
-- decision, and the share decided within $target hours. Same requests as approval_hours.
WITH decided AS (
    SELECT date_diff('second', p.requested_at, p.decided_at) / 3600.0 AS hours
    FROM promotions p
    WHERE p.origin = 'sales' AND p.requested_at IS NOT NULL
      AND p.decided_at >= $start AND p.decided_at < $end
      AND in_scope(p.category_id, $categories)
      AND ($regions::INTEGER[] IS NULL OR EXISTS (
            SELECT 1 FROM promotion_regions r
            WHERE r.promotion_id = p.promotion_id AND in_scope(r.region_id, $regions)))
)
SELECT count(*) AS n, median(hours) AS median_hours, quantile_cont(hours, 0.9) AS p90_hours,
       avg(CASE WHEN hours <= $target THEN 1.0 ELSE 0.0 END) AS within_target
FROM decided
