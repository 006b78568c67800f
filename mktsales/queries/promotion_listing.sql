-- promotion_listing: one row per promotion for the board, the queue, the CLI and a detail page.
-- Promotions overlapping [$start, $end), or still waiting (requested, drafting, consulting)
-- whatever their dates; touching a region in $regions; of a category in $categories; optionally
-- one $status, one $origin, or the promotions in $ids. Overdue: a request undecided since before
-- $decision_before; consulting with a region asked before $consult_before and not answered; live
-- with a region whose last status report (or the start, if none) is before $feedback_before.
-- $visible: the regions the user may see (NULL: all); the execution reports counted (reports,
-- as_planned_share) and the regions judged for feedback are theirs only (issue 23).
WITH p AS (
    SELECT p.*
    FROM promotions p
    WHERE ((p.start_date < $end AND p.end_date >= $start)
           OR p.status IN ('requested', 'drafting', 'consulting'))
      AND in_scope(p.category_id, $categories)
      AND ($status::VARCHAR IS NULL OR p.status = $status)
      AND ($origin::VARCHAR IS NULL OR p.origin = $origin)
      AND in_scope(p.promotion_id, $ids)
      AND ($regions::INTEGER[] IS NULL OR EXISTS (
            SELECT 1 FROM promotion_regions r
            WHERE r.promotion_id = p.promotion_id AND in_scope(r.region_id, $regions)))
),
touched AS (
    SELECT r.promotion_id, list(r.region_id ORDER BY r.region_id) AS region_ids,
           list(g.name_zh ORDER BY r.region_id) AS region_names_zh,
           list(g.name_en ORDER BY r.region_id) AS region_names_en
    FROM promotion_regions r JOIN regions g USING (region_id)
    WHERE r.promotion_id IN (SELECT promotion_id FROM p)
    GROUP BY ALL
),
reports AS (
    SELECT promotion_id, count(*) AS reports,
           avg(CASE WHEN as_planned THEN 1.0 ELSE 0.0 END) FILTER (WHERE kind = 'status') AS as_planned_share
    FROM execution_reports
    WHERE promotion_id IN (SELECT promotion_id FROM p)
      AND in_scope(region_id, $visible)
    GROUP BY ALL
),
went_live AS (
    SELECT promotion_id, max(event_at) AS live_at
    FROM promotion_events
    WHERE to_status = 'live' AND promotion_id IN (SELECT promotion_id FROM p)
    GROUP BY ALL
),
silent AS (  -- live promotions' regions without a status report since $feedback_before
    SELECT r.promotion_id, count(*) AS regions
    FROM promotion_regions r
    JOIN p USING (promotion_id)
    LEFT JOIN went_live w USING (promotion_id)
    LEFT JOIN (SELECT promotion_id, region_id, max(reported_at) AS last_report
               FROM execution_reports WHERE kind = 'status' GROUP BY ALL) e USING (promotion_id, region_id)
    WHERE p.status = 'live'
      AND in_scope(r.region_id, $visible)
      AND coalesce(e.last_report, greatest(w.live_at, CAST(p.start_date AS TIMESTAMP)),
                   CAST(p.start_date AS TIMESTAMP)) < $feedback_before
    GROUP BY ALL
),
unanswered AS (  -- consulting promotions' regions asked before $consult_before, still silent
    SELECT c.promotion_id, count(*) AS regions
    FROM promotion_consultation_status c JOIN p USING (promotion_id)
    WHERE p.status = 'consulting' AND NOT c.answered AND c.asked_at < $consult_before
    GROUP BY ALL
)
SELECT p.promotion_id, p.title_zh, p.title_en, p.kind, p.origin, p.status, p.category_id,
       p.start_date, p.end_date, CAST(p.budget AS DOUBLE) AS budget, o.name AS owner_name,
       coalesce(t.region_ids, []) AS region_ids, coalesce(t.region_names_zh, []) AS region_names_zh,
       coalesce(t.region_names_en, []) AS region_names_en, p.requested_at, p.decided_at,
       date_diff('second', p.requested_at, p.decided_at) / 3600.0 AS turnaround_hours,
       coalesce(rd.ready, false) AS ready, coalesce(rd.missing, []) AS missing,
       coalesce(rd.consulted, 0) AS consulted, coalesce(rd.consult_total, 0) AS consult_total,
       CASE WHEN p.status = 'requested' AND p.requested_at < $decision_before THEN 'decision'
            WHEN p.status = 'consulting' AND coalesce(u.regions, 0) > 0 THEN 'consultation'
            WHEN p.status = 'live' AND coalesce(s.regions, 0) > 0 THEN 'feedback'
       END AS overdue_reason,
       overdue_reason IS NOT NULL AS overdue,
       CASE WHEN p.status = 'live' THEN
           least(1.0, greatest(0.0, date_diff('second', CAST(p.start_date AS TIMESTAMP), $now)
                 / (86400.0 * (date_diff('day', p.start_date, p.end_date) + 1))))
       END AS progress,
       coalesce(r.reports, 0) AS reports, r.as_planned_share,
       w.live_at
FROM p
LEFT JOIN touched t USING (promotion_id)
LEFT JOIN promotion_overall_owner o USING (promotion_id)
LEFT JOIN promotion_readiness rd USING (promotion_id)
LEFT JOIN reports r USING (promotion_id)
LEFT JOIN went_live w USING (promotion_id)
LEFT JOIN silent s USING (promotion_id)
LEFT JOIN unanswered u USING (promotion_id)
ORDER BY p.start_date, p.promotion_id
