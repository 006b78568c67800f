-- board_response_summary: first-response times per direction (field reports first), appended to
-- "WITH facts AS (...)" (board_facts.sql). answered: posts with a first response by $now;
-- within_target: answered by due_at, over the posts answered or already past due.
SELECT d.direction,
       count(f.post_id) AS posts,
       count(f.first_response_at) AS answered,
       median(f.response_hours) AS median_hours,
       quantile_cont(f.response_hours, 0.9) AS p90_hours,
       count(*) FILTER (WHERE f.within_target) / nullif(count(f.within_target), 0) AS within_target,
       count(*) FILTER (WHERE f.status = 'overdue') AS overdue_now
FROM (VALUES ('field', 1), ('plan', 2)) d(direction, position)
LEFT JOIN facts f ON f.direction = d.direction
GROUP BY d.direction, d.position
ORDER BY d.position
