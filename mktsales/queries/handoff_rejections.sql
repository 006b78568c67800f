-- MQLs rejected by sales in the period [$start, $end), counted per region and reason, most
-- frequent first. No total rows: every rejection has one region, so the page's pivot adds them up
-- exactly. A NULL reason is a rejection recorded without one.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all).
SELECT region_id, reject_reason, count(*) AS count
FROM leads
WHERE rejected_at >= $start AND rejected_at < $end
  AND in_scope(region_id, $regions)
  AND in_scope(category_id, $categories)
GROUP BY region_id, reject_reason
ORDER BY region_id, count DESC, reject_reason NULLS LAST
