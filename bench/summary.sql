-- The aggregates GET /api/v1/reports/summary runs (src/reports/store.rs), for 2024 in
-- Asia/Almaty (UTC+6 until 2024-03-01, then UTC+5), so `bench/run.sh` can time the same work
-- done by sqlite3 or psql directly. Keep in step with the server's queries.
SELECT e.status, e.attendance_basis, COUNT(*), COALESCE(SUM(e.attendance_total), 0) FROM events e
 WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00'
 GROUP BY e.status, e.attendance_basis;
SELECT e.lead_department_id, COUNT(*), COALESCE(SUM(e.attendance_total), 0) FROM events e
 WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00' AND e.status = 'held'
 GROUP BY e.lead_department_id;
SELECT ep.department_id, COUNT(*) FROM event_partners ep JOIN events e ON e.id = ep.event_id
 WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00' AND e.status = 'held'
 GROUP BY ep.department_id;
SELECT e.kind, COUNT(*), COALESCE(SUM(e.attendance_total), 0) FROM events e
 WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00' AND e.status = 'held'
 GROUP BY e.kind;
SELECT ea.audience, COUNT(*) FROM event_audiences ea JOIN events e ON e.id = ea.event_id
 WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00' AND e.status = 'held'
 GROUP BY ea.audience;
SELECT eb.audience, COALESCE(SUM(eb.count), 0) FROM event_breakdown eb JOIN events e ON e.id = eb.event_id
 WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00' AND e.status = 'held'
 GROUP BY eb.audience;
SELECT CASE WHEN e.starts_at < '2024-01-31 18:00:00' THEN '2024-01' WHEN e.starts_at < '2024-02-29 18:00:00' THEN '2024-02'
 WHEN e.starts_at < '2024-03-31 19:00:00' THEN '2024-03' WHEN e.starts_at < '2024-04-30 19:00:00' THEN '2024-04'
 WHEN e.starts_at < '2024-05-31 19:00:00' THEN '2024-05' WHEN e.starts_at < '2024-06-30 19:00:00' THEN '2024-06'
 WHEN e.starts_at < '2024-07-31 19:00:00' THEN '2024-07' WHEN e.starts_at < '2024-08-31 19:00:00' THEN '2024-08'
 WHEN e.starts_at < '2024-09-30 19:00:00' THEN '2024-09' WHEN e.starts_at < '2024-10-31 19:00:00' THEN '2024-10'
 WHEN e.starts_at < '2024-11-30 19:00:00' THEN '2024-11' ELSE '2024-12' END AS month, COUNT(*), COALESCE(SUM(e.attendance_total), 0)
 FROM events e WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00' AND e.status = 'held'
 GROUP BY 1;
SELECT COUNT(DISTINCT a.iin_hash) + COALESCE(SUM(CASE WHEN a.iin_hash IS NULL THEN 1 ELSE 0 END), 0)
 FROM attendees a JOIN events e ON e.id = a.event_id
 WHERE e.deleted_at IS NULL AND e.starts_at >= '2023-12-31 18:00:00' AND e.starts_at < '2024-12-31 19:00:00' AND e.status = 'held';
