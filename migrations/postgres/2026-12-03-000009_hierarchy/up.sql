-- The department hierarchy: region → city or district → department. `kind` marks an akimat
-- (`administration`), whose subtree its principals read; `name_en` is optional.
ALTER TABLE departments ADD COLUMN kind TEXT NOT NULL DEFAULT 'unit';
ALTER TABLE departments ADD COLUMN name_en TEXT;
CREATE INDEX departments_parent ON departments (parent_id);

-- Every department with each of its ancestors and itself (depth 0): a subtree is one indexed
-- lookup, and a roll-up one join. Kept by the writes that create and move departments.
CREATE TABLE department_tree (
    ancestor_id TEXT NOT NULL REFERENCES departments (id),
    department_id TEXT NOT NULL REFERENCES departments (id),
    depth INTEGER NOT NULL,
    PRIMARY KEY (ancestor_id, department_id)
);
CREATE INDEX department_tree_department ON department_tree (department_id, depth);

WITH RECURSIVE up (ancestor_id, department_id, depth) AS (
    SELECT id, id, 0 FROM departments
    UNION ALL
    SELECT d.parent_id, up.department_id, up.depth + 1
    FROM up JOIN departments d ON d.id = up.ancestor_id
    WHERE d.parent_id IS NOT NULL AND up.depth < 16
)
INSERT INTO department_tree (ancestor_id, department_id, depth)
SELECT ancestor_id, department_id, MIN(depth) FROM up GROUP BY ancestor_id, department_id;
