-- Raft: the node's log and the pointers openraft persists (module raft). Replicated tables are
-- the others (intents, aliases, recoveries, ...); these two are each node's own raft state.

-- The raft log: one row per entry, the openraft entry as JSON. Indexes are consecutive; purged
-- entries are deleted (the last purged log id is kept in raft_meta).
CREATE TABLE raft_log (
    log_index INTEGER PRIMARY KEY,
    entry     TEXT    NOT NULL
);

-- Small named values, as JSON: 'vote', 'committed', 'last_purged' (log store), 'last_applied',
-- 'membership' (state machine), and 'snapshot': the current snapshot's meta in value, its bytes
-- in data.
CREATE TABLE raft_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    data  BLOB
);

-- Discovery seeds (replicated): every server an operator asked to discover, until forgotten. A
-- node that restarts, or rejoins with an empty data directory, starts probing from these; the
-- rest of each topology is crawled from them.
CREATE TABLE discovery_seeds (
    hostname TEXT    NOT NULL,
    port     INTEGER NOT NULL,
    PRIMARY KEY (hostname, port)
);
