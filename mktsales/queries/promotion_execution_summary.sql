-- promotion_execution_summary: status reports made in [$start, $end), by region: how many, how
-- many executed as planned and their share, and how often each deviation was named. Regions and
-- categories (the promotion's) in scope.
SELECT e.region_id, g.name_zh, g.name_en,
       count(*) AS reports,
       count(*) FILTER (WHERE e.as_planned) AS as_planned,
       count(*) FILTER (WHERE e.as_planned) / count(*) AS share_as_planned,
       count(*) FILTER (WHERE list_contains(e.deviations, 'price')) AS dev_price,
       count(*) FILTER (WHERE list_contains(e.deviations, 'display')) AS dev_display,
       count(*) FILTER (WHERE list_contains(e.deviations, 'pop_dm')) AS dev_pop_dm,
       count(*) FILTER (WHERE list_contains(e.deviations, 'stock')) AS dev_stock,
       count(*) FILTER (WHERE list_contains(e.deviations, 'timing')) AS dev_timing
FROM execution_reports e
JOIN promotions p USING (promotion_id)
JOIN regions g ON g.region_id = e.region_id
WHERE e.kind = 'status'
  AND e.reported_at >= $start AND e.reported_at < $end
  AND in_scope(e.region_id, $regions)
  AND in_scope(p.category_id, $categories)
GROUP BY ALL
ORDER BY e.region_id
