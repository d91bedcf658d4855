-- Observed cache: the last probe of every known instance (rebuilt by discovery; kept so that a
-- restarted node knows what to poll and shows the last known state at once).
CREATE TABLE instances (
    hostname     TEXT    NOT NULL,
    port         INTEGER NOT NULL,
    last_checked TEXT,
    last_seen    TEXT,
    observed     TEXT    NOT NULL,
    PRIMARY KEY (hostname, port)
);

-- Operator intent: cluster aliases set with set-cluster-alias.
CREATE TABLE cluster_aliases (
    cluster_name TEXT PRIMARY KEY,
    alias        TEXT NOT NULL,
    set_at       TEXT NOT NULL
);

-- History: what operators and the node did (discover, forget, alias, ...).
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    hostname   TEXT    NOT NULL DEFAULT '',
    port       INTEGER NOT NULL DEFAULT 0,
    cluster    TEXT    NOT NULL DEFAULT '',
    who        TEXT    NOT NULL DEFAULT '',
    message    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);
