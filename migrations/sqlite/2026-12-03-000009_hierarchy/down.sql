DROP TABLE department_tree;
DROP INDEX departments_parent;
ALTER TABLE departments DROP COLUMN name_en;
ALTER TABLE departments DROP COLUMN kind;
