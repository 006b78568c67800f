-- board_competitor_intel: posts created in [$start, $end) in scope that name a competitor,
-- grouped by competitor (trimmed, any case; shown as spelled in the latest post), most posts
-- first: posts, last_at, the regions named (Chinese and English), the latest post's title and id.
WITH named AS (
    SELECT p.post_id, p.created_at, p.title, trim(p.competitor) AS competitor,
           lower(trim(p.competitor)) AS competitor_key
    FROM posts p
    LEFT JOIN products pd ON pd.product_id = p.product_id
    WHERE p.competitor IS NOT NULL AND trim(p.competitor) <> ''
      AND p.created_at >= $start AND p.created_at < $end
      AND (p.product_id IS NULL
           OR in_scope(pd.category_id, $categories))
      AND ($regions::INTEGER[] IS NULL OR EXISTS (
            SELECT 1 FROM post_regions pr
            WHERE pr.post_id = p.post_id AND in_scope(pr.region_id, $regions)))
),
places AS (
    SELECT n.competitor_key,
           string_agg(DISTINCT r.name_zh, ', ' ORDER BY r.name_zh) AS regions,
           string_agg(DISTINCT r.name_en, ', ' ORDER BY r.name_en) AS regions_en
    FROM named n
    JOIN post_regions pr ON pr.post_id = n.post_id
    JOIN regions r ON r.region_id = pr.region_id
    WHERE in_scope(r.region_id, $regions)
    GROUP BY n.competitor_key
)
SELECT arg_max(n.competitor, (n.created_at, n.post_id)) AS competitor,
       count(*) AS posts,
       max(n.created_at) AS last_at,
       any_value(pl.regions) AS regions,
       any_value(pl.regions_en) AS regions_en,
       arg_max(n.title, (n.created_at, n.post_id)) AS latest_title,
       arg_max(n.post_id, (n.created_at, n.post_id)) AS latest_post_id
FROM named n
JOIN places pl ON pl.competitor_key = n.competitor_key
GROUP BY n.competitor_key
ORDER BY posts DESC, last_at DESC, competitor
