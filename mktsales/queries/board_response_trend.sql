-- board_response_trend: per month of [$start, $end) and direction: posts created, median
-- first-response hours and the share answered within target; every month and direction appears
-- (0 posts, NULL times where none). Appended to "WITH facts AS (...)" (board_facts.sql).
SELECT m.month, d.direction,
       count(f.post_id) AS posts,
       median(f.response_hours) AS median_hours,
       count(*) FILTER (WHERE f.within_target) / nullif(count(f.within_target), 0) AS within_target
FROM (
    SELECT CAST(m AS DATE) AS month
    FROM range(CAST(date_trunc('month', $start::DATE) AS TIMESTAMP), CAST($end::DATE AS TIMESTAMP),
               INTERVAL 1 MONTH) t(m)
) m
CROSS JOIN (VALUES ('field', 1), ('plan', 2)) d(direction, position)
LEFT JOIN facts f ON f.direction = d.direction AND date_trunc('month', f.created_at) = m.month
GROUP BY m.month, d.direction, d.position
ORDER BY m.month, d.position
