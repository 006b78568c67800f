-- board_response_by_region: first-response times per direction and region (a plan to several
-- regions counts in each), for the groups with posts; appended to "WITH facts AS (...)".
SELECT f.direction, r.region_id AS key, r.name_zh, r.name_en,
       count(*) AS posts,
       median(f.response_hours) AS median_hours,
       quantile_cont(f.response_hours, 0.9) AS p90_hours,
       count(*) FILTER (WHERE f.within_target) / nullif(count(f.within_target), 0) AS within_target
FROM (SELECT *, unnest(region_ids) AS region_id FROM facts) f
JOIN regions r ON r.region_id = f.region_id
WHERE in_scope(f.region_id, $regions)
GROUP BY f.direction, r.region_id, r.name_zh, r.name_en
ORDER BY f.direction = 'plan', r.region_id
