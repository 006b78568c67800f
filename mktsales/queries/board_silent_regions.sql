-- board_silent_regions: regions in scope that have stopped reporting from the field: no field
-- report in the last $days days before $now, but at least one in the 90 days before that.
-- last_report_at: the latest field report before $now; days_silent: whole days since it.
WITH last_reports AS (
    SELECT pr.region_id,
           max(p.created_at) AS last_report_at,
           count(*) FILTER (WHERE p.created_at >= $now::TIMESTAMP - to_days($days + 90)
                              AND p.created_at < $now::TIMESTAMP - to_days($days)) AS before
    FROM posts p
    JOIN post_regions pr ON pr.post_id = p.post_id
    WHERE p.direction = 'field' AND p.created_at <= $now::TIMESTAMP
    GROUP BY pr.region_id
)
SELECT r.region_id, r.name_zh, r.name_en, l.last_report_at,
       CAST(floor(date_diff('second', l.last_report_at, $now::TIMESTAMP) / 86400) AS INTEGER) AS days_silent
FROM regions r
JOIN last_reports l ON l.region_id = r.region_id
WHERE in_scope(r.region_id, $regions)
  AND l.last_report_at < $now::TIMESTAMP - to_days($days)
  AND l.before > 0
ORDER BY days_silent DESC, r.region_id
