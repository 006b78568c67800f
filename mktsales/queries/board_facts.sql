-- board_facts: one row per post created in [$start, $end) that concerns a region in $regions and,
-- when it names a product, a category in $categories (posts naming no product are kept), with its
-- timings and status at $now. Every board query reads posts through this, so the status has one
-- definition. Events after $now (a response, an acknowledgement, a close) have not happened yet.
-- It is the body of a CTE named facts: board.py prefixes the queries that use it with
-- "WITH facts AS (<this>)".
-- With $pending, posts still waiting at $now (not closed, and without a first response or with a
-- region yet to acknowledge) created before the period's end are kept, however old: the board and
-- its counts are a queue of what is owed, and an answer owed since last month is still owed.
-- Metrics pass false.
-- Parameters: $start, $end (DATE), $regions, $categories (INTEGER[] or NULL = all), $now (TIMESTAMP),
-- $pending (BOOLEAN).
WITH
scoped AS (
    SELECT p.*
    FROM posts p
    LEFT JOIN products pd ON pd.product_id = p.product_id
    WHERE ((p.created_at >= $start AND p.created_at < $end)
           OR ($pending AND p.created_at <= $now::TIMESTAMP
               -- before the period's end, or up to now when the period runs to today
               AND (p.created_at < $end OR $end >= CAST($now::TIMESTAMP AS DATE))
               AND (p.closed_at IS NULL OR p.closed_at > $now::TIMESTAMP)))
      AND (p.product_id IS NULL
           OR in_scope(pd.category_id, $categories))
),
places AS (
    SELECT pr.post_id,
           list(pr.region_id ORDER BY pr.region_id) AS region_ids,
           count(*) AS n_regions,
           count(a.post_id) AS regions_acked
    FROM post_regions pr
    JOIN scoped s ON s.post_id = pr.post_id
    LEFT JOIN post_acks a
           ON a.post_id = pr.post_id AND a.region_id = pr.region_id AND a.acked_at <= $now::TIMESTAMP
    GROUP BY pr.post_id
),
timed AS (
    SELECT s.*,
           g.region_ids, g.n_regions, g.regions_acked,
           CASE WHEN s.needs_ack THEN g.n_regions - g.regions_acked ELSE 0 END AS acks_missing,
           CASE WHEN s.first_response_at <= $now::TIMESTAMP THEN s.first_response_at END AS responded_at,
           s.closed_at IS NOT NULL AND s.closed_at <= $now::TIMESTAMP AS is_closed
    FROM scoped s
    JOIN places g ON g.post_id = s.post_id
    WHERE ($regions::INTEGER[] IS NULL OR list_has_any(g.region_ids, $regions::INTEGER[]))
)
SELECT post_id, direction, category, priority, title, body, needs_ack,
       author_user_id, author_person_id, author_name AS author_snapshot,
       CASE direction WHEN 'field' THEN 'sales' ELSE 'marketing' END AS author_side,
       CASE direction WHEN 'field' THEN 'marketing' ELSE 'sales' END AS owed_by,
       customer_id, product_id, competitor, promotion_id,
       created_at, target_hours, due_at,
       responded_at AS first_response_at,
       CASE WHEN responded_at IS NOT NULL THEN first_responder END AS first_responder,
       date_diff('second', created_at, responded_at) / 3600.0 AS response_hours,
       -- within target: answered by due_at; judged once answered or once past due (else NULL)
       CASE WHEN responded_at IS NOT NULL THEN responded_at <= due_at
            WHEN $now::TIMESTAMP > due_at THEN false END AS within_target,
       CASE WHEN is_closed THEN 'closed'
            WHEN responded_at IS NOT NULL AND acks_missing = 0 THEN 'answered'
            WHEN $now::TIMESTAMP > due_at THEN 'overdue'
            ELSE 'open' END AS status,
       CASE WHEN is_closed THEN closed_at END AS closed_at,
       CASE WHEN is_closed THEN closed_by END AS closed_by,
       CASE WHEN is_closed THEN outcome END AS outcome,
       CASE WHEN is_closed THEN close_note END AS close_note,
       region_ids, n_regions, regions_acked, acks_missing,
       last_activity_at, last_activity_user_id, last_activity_person_id
FROM timed
WHERE (created_at >= $start AND created_at < $end)
   OR (NOT is_closed AND (responded_at IS NULL OR acks_missing > 0))
