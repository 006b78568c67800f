-- promotion_deviations: status reports made in [$start, $end) that were not executed as planned,
-- newest first, at most $limit; regions and categories (the promotion's) in scope.
SELECT e.report_id, e.promotion_id, p.title_zh, p.title_en, e.region_id, g.name_zh AS region_name_zh,
       g.name_en AS region_name_en, e.customer_id, c.name AS customer_name, e.deviations, e.note,
       e.source, e.by_name, e.reported_at, e.photo IS NOT NULL AS has_photo
FROM execution_reports e
JOIN promotions p USING (promotion_id)
JOIN regions g ON g.region_id = e.region_id
LEFT JOIN customers c ON c.customer_id = e.customer_id
WHERE e.kind = 'status' AND NOT e.as_planned
  AND e.reported_at >= $start AND e.reported_at < $end
  AND in_scope(e.region_id, $regions)
  AND in_scope(p.category_id, $categories)
ORDER BY e.reported_at DESC, e.report_id DESC
LIMIT $limit
