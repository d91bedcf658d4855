-- Operations record their plan, the statements each step ran, timings and rollback (JSON).
ALTER TABLE audit ADD COLUMN details TEXT NOT NULL DEFAULT '';
