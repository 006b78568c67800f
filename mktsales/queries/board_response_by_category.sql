-- board_response_by_category: first-response times per direction and category, for the groups
-- with posts, categories in $order (field categories, then plan categories); appended to
-- "WITH facts AS (...)". Category codes get their names in the UI (name_zh, name_en are NULL).
SELECT f.direction, f.category AS key, NULL::VARCHAR AS name_zh, NULL::VARCHAR AS name_en,
       count(*) AS posts,
       median(f.response_hours) AS median_hours,
       quantile_cont(f.response_hours, 0.9) AS p90_hours,
       count(*) FILTER (WHERE f.within_target) / nullif(count(f.within_target), 0) AS within_target
FROM facts f
GROUP BY f.direction, f.category
ORDER BY f.direction = 'plan', list_position($order::VARCHAR[], f.category), f.category
