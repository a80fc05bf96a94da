-- SQLite compares text byte by byte (BINARY) unless told otherwise, so
-- read-model keys already sort as prefix listing needs. This migration keeps
-- the two backends' layouts numbered alike (see the PostgreSQL one).
SELECT 1;
