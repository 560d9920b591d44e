-- Full-text index merges in bounded steps.
--
-- FTS5 writes a new segment per indexing transaction and by default merges
-- segments as they pile up: `automerge` work after each write and, once a
-- level holds `crisismerge` (16) segments, a merge of the whole level at
-- once. Under a steady 5,000 messages/s the writer indexes a 64-row chunk
-- every ~13 ms between batches; most chunks took 0.5 ms, but the ones that
-- merged took 5-18 ms, and the group commits queued behind them showed up
-- as the 99th percentile of the relay latency.
--
-- Now the index never merges on its own (`automerge = 0`); each indexing
-- chunk ends with an explicit `merge` of a bounded number of pages (see
-- `search.rs`), which keeps the segment count where automerge kept it. The
-- crisis merge is pushed to 64 segments per level, a backstop for a store
-- that indexes without merging.
--
-- Replayed (3,000 chunks of 64 rows, FTS5 alone): slowest chunk 12 ms ->
-- 0.5 ms, slowest merge step 1.8 ms, 99th percentile 2.4 -> 0.2 ms per chunk
-- and 0.9 ms per merge step.

INSERT INTO ticket_search (ticket_search, rank) VALUES ('automerge', 0);
INSERT INTO ticket_search (ticket_search, rank) VALUES ('crisismerge', 64);
