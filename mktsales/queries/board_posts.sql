-- board_posts: the board's rows for one viewer, newest first (appended to "WITH facts AS (...)",
-- see board_facts.sql). The viewer: $user_id, $person_id (NULL without an account or person),
-- $side ('sales' | 'marketing' | NULL), $user_regions (INTEGER[], NULL = every region),
-- $sales_head (BOOLEAN). Filters, each NULL for none: $post_id, $direction, $category, $status,
-- $author (part of the author's name, any case), $text (an ILIKE pattern, escaped with \),
-- $owed_by_me, $unread_only (BOOLEAN); $limit (NULL = all).
, shown AS (
    SELECT f.*,
           coalesce(u.display_name, pe.name, f.author_snapshot) AS author_name,
           r.region_names_zh, r.region_names_en, r.mine, r.my_missing_ack,
           coalesce(t.replies, 0) AS replies,
           coalesce(ph.photos, 0) AS photos,
           c.name AS customer_name,
           pd.name_zh AS product_name_zh, pd.name_en AS product_name_en,
           rd.read_at
    FROM facts f
    LEFT JOIN users u ON u.user_id = f.author_user_id
    LEFT JOIN people pe ON pe.person_id = f.author_person_id
    LEFT JOIN customers c ON c.customer_id = f.customer_id
    LEFT JOIN products pd ON pd.product_id = f.product_id
    LEFT JOIN post_reads rd ON rd.post_id = f.post_id AND rd.user_id = $user_id
    LEFT JOIN (
        SELECT pr.post_id,
               string_agg(g.name_zh, ', ' ORDER BY g.region_id) AS region_names_zh,
               string_agg(g.name_en, ', ' ORDER BY g.region_id) AS region_names_en,
               bool_or(in_scope(pr.region_id, $user_regions)) AS mine,
               bool_or(a.post_id IS NULL
                       AND in_scope(pr.region_id, $user_regions))
                   AS my_missing_ack
        FROM post_regions pr
        JOIN regions g ON g.region_id = pr.region_id
        LEFT JOIN post_acks a
               ON a.post_id = pr.post_id AND a.region_id = pr.region_id AND a.acked_at <= $now::TIMESTAMP
        WHERE pr.post_id IN (SELECT post_id FROM facts)
        GROUP BY pr.post_id
    ) r ON r.post_id = f.post_id
    LEFT JOIN (
        SELECT post_id, count(*) AS replies FROM post_replies
        WHERE kind = 'reply' AND created_at <= $now::TIMESTAMP AND post_id IN (SELECT post_id FROM facts)
        GROUP BY post_id
    ) t ON t.post_id = f.post_id
    LEFT JOIN (
        SELECT post_id, count(*) AS photos FROM post_photos
        WHERE post_id IN (SELECT post_id FROM facts) GROUP BY post_id
    ) ph ON ph.post_id = f.post_id
    WHERE ($post_id::BIGINT IS NULL OR f.post_id = $post_id)
      AND ($direction::VARCHAR IS NULL OR f.direction = $direction)
      AND ($category::VARCHAR IS NULL OR f.category = $category)
),
marked AS (
    SELECT *,
           status = 'overdue' AS overdue,
           coalesce($side::VARCHAR = owed_by AND mine AND status IN ('open', 'overdue')
                    AND (first_response_at IS NULL
                         OR ($sales_head::BOOLEAN AND needs_ack AND my_missing_ack)), false) AS owed_by_me,
           $user_id::INTEGER IS NOT NULL
               AND (read_at IS NULL OR last_activity_at > read_at)
               AND NOT coalesce(last_activity_user_id = $user_id, false)
               AND NOT coalesce(last_activity_person_id = $person_id::INTEGER, false) AS unread
    FROM shown
)
SELECT post_id, direction, category, priority, title,
       left(body, 140) AS body_preview,
       region_ids, region_names_zh, region_names_en,
       author_name, author_side, created_at, due_at, first_response_at, first_responder,
       response_hours, status, overdue, closed_at, closed_by, outcome, close_note,
       replies, photos, needs_ack, acks_missing, owed_by, owed_by_me, unread,
       competitor, customer_id, customer_name, product_id, product_name_zh, product_name_en,
       promotion_id, within_target, target_hours
FROM marked
WHERE ($status::VARCHAR IS NULL OR status = $status)
  AND ($author::VARCHAR IS NULL OR contains(lower(author_name), lower($author)))
  AND ($text::VARCHAR IS NULL OR title ILIKE $text ESCAPE '\' OR body ILIKE $text ESCAPE '\'
       OR competitor ILIKE $text ESCAPE '\')
  AND (NOT $owed_by_me::BOOLEAN OR owed_by_me)
  AND (NOT $unread_only::BOOLEAN OR unread)
ORDER BY created_at DESC, post_id DESC
LIMIT $limit
