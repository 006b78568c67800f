-- approval_hours: median hours from a sales promotion request to marketing's decision, for
-- requests decided in [$start, $end), touching the regions and categories in scope.
SELECT median(date_diff('second', p.requested_at, p.decided_at) / 3600.0) AS approval_hours,
       count(*) AS decided_requests
FROM promotions p
WHERE p.origin = 'sales'
  AND p.decided_at >= $start AND p.decided_at < $end
  AND in_scope(p.category_id, $categories)
  AND ($regions::INTEGER[] IS NULL OR EXISTS (
        SELECT 1 FROM promotion_regions r
        WHERE r.promotion_id = p.promotion_id AND in_scope(r.region_id, $regions)))
