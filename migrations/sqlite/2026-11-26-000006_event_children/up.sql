-- Each event's children as the API shows them, in one JSON document beside the row:
-- [audiences, partner department ids, organisers as [full_name, role, organisation], breakdown as
-- [audience, count]]. The child tables stay the truth that lists filter and reports aggregate;
-- every write that changes them rewrites this column in the same transaction, so reading an event
-- or a page reads rows only.
ALTER TABLE events ADD COLUMN children TEXT NOT NULL DEFAULT '[[],[],[],[]]';
UPDATE events SET children = json_array(
    json((SELECT json_group_array(audience ORDER BY audience) FROM event_audiences WHERE event_id = events.id)),
    json((SELECT json_group_array(department_id ORDER BY department_id) FROM event_partners
          WHERE event_id = events.id)),
    json((SELECT json_group_array(json_array(full_name, role, organisation) ORDER BY position)
          FROM event_organisers WHERE event_id = events.id)),
    json((SELECT json_group_array(json_array(audience, count) ORDER BY audience) FROM event_breakdown
          WHERE event_id = events.id)));
