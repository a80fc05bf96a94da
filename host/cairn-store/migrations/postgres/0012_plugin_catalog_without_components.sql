-- PostgreSQL keeps a large component out of line (TOAST), so the catalog's
-- other columns read without touching it. This migration keeps the two
-- backends' layouts numbered alike (see the SQLite one).
SELECT 1;
