-- The MQLs waiting for sales at $as_of, oldest first: qualified before $as_of and neither accepted
-- nor rejected before it (a snapshot, whatever the period); overdue = waiting longer than
-- $target_hours. At most $limit rows (NULL = all).
-- Parameters: $regions, $categories (INTEGER[] or NULL = all), $as_of (TIMESTAMP),
-- $target_hours (DOUBLE), $limit (BIGINT or NULL). No period: the queue is the same for any period.
SELECT lead_id, region_id, category_id, source, campaign_id, mql_at,
       date_diff('second', mql_at, $as_of::TIMESTAMP) / 3600.0 AS age_hours,
       date_diff('second', mql_at, $as_of::TIMESTAMP) / 3600.0 > $target_hours AS overdue
FROM leads
WHERE mql_at < $as_of::TIMESTAMP
  -- coalesce(sal_at, rejected_at, infinity) >= $as_of, column by column (a rejected MQL has no
  -- sal_at, CHECK in 001), so the scan filters before it reads the other columns
  AND (sal_at IS NULL OR sal_at >= $as_of::TIMESTAMP)
  AND (rejected_at IS NULL OR rejected_at >= $as_of::TIMESTAMP)
  AND in_scope(region_id, $regions)
  AND in_scope(category_id, $categories)
ORDER BY mql_at, lead_id
LIMIT $limit
