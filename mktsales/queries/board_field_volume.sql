-- board_field_volume: field reports created in [$start, $end) per region in scope and field
-- category (in $order); every pair appears, 0 where none. A report naming a product counts only
-- when its category is in $categories (NULL = all).
WITH
scope_regions AS (
    SELECT region_id, name_zh, name_en FROM regions
    WHERE in_scope(region_id, $regions)
),
codes AS (
    SELECT unnest($order::VARCHAR[]) AS category, generate_subscripts($order::VARCHAR[], 1) AS position
),
reports AS (
    SELECT pr.region_id, p.category, count(*) AS reports
    FROM posts p
    JOIN post_regions pr ON pr.post_id = p.post_id
    LEFT JOIN products pd ON pd.product_id = p.product_id
    WHERE p.direction = 'field'
      AND p.created_at >= $start AND p.created_at < $end
      AND (p.product_id IS NULL
           OR in_scope(pd.category_id, $categories))
    GROUP BY pr.region_id, p.category
)
SELECT s.region_id, s.name_zh, s.name_en, c.category, coalesce(r.reports, 0) AS reports
FROM scope_regions s
CROSS JOIN codes c
LEFT JOIN reports r ON r.region_id = s.region_id AND r.category = c.category
ORDER BY s.region_id, c.position
