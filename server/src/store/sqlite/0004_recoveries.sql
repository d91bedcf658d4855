-- Recoveries, detections, blocked recoveries and the node-wide recovery switches. These are
-- records that must outlive the process (anti-flapping and acknowledgements would otherwise be
-- forgotten on restart, and a restarted node would fail over a cluster again within its block
-- period). Times are RFC 3339 UTC with nanoseconds, fixed width, so they compare as text.

-- One row per recovery, automated or manual (orchestrator's topology_recovery). A recovery is
-- active (blocks automated recoveries of its cluster) from started_at for
-- RecoveryPeriodBlockSeconds unless acknowledged.
CREATE TABLE topology_recovery (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    uid                  TEXT    NOT NULL UNIQUE,
    hostname             TEXT    NOT NULL,
    port                 INTEGER NOT NULL,
    cluster              TEXT    NOT NULL,
    cluster_alias        TEXT    NOT NULL,
    analysis             TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    command              TEXT    NOT NULL,
    processing_node      TEXT    NOT NULL,
    started_at           TEXT    NOT NULL,
    ended_at             TEXT    NOT NULL DEFAULT '',
    successful           INTEGER NOT NULL DEFAULT 0,
    successor_hostname   TEXT    NOT NULL DEFAULT '',
    successor_port       INTEGER NOT NULL DEFAULT 0,
    summary              TEXT    NOT NULL DEFAULT '',
    record               TEXT    NOT NULL DEFAULT '',
    acknowledged         INTEGER NOT NULL DEFAULT 0,
    acknowledged_at      TEXT    NOT NULL DEFAULT '',
    acknowledged_by      TEXT    NOT NULL DEFAULT '',
    acknowledged_comment TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX topology_recovery_by_cluster ON topology_recovery (cluster, started_at);

-- One row per detected failure that calls for a recovery, at most one active per server
-- (active: FailureDetectionPeriodBlockMinutes from detected_at, unless acknowledged).
CREATE TABLE failure_detection (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    hostname             TEXT    NOT NULL,
    port                 INTEGER NOT NULL,
    cluster              TEXT    NOT NULL,
    cluster_alias        TEXT    NOT NULL,
    analysis             TEXT    NOT NULL,
    description          TEXT    NOT NULL,
    count_replicas       INTEGER NOT NULL,
    detected_at          TEXT    NOT NULL,
    processing_node      TEXT    NOT NULL,
    acknowledged         INTEGER NOT NULL DEFAULT 0,
    acknowledged_at      TEXT    NOT NULL DEFAULT '',
    acknowledged_by      TEXT    NOT NULL DEFAULT '',
    acknowledged_comment TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX failure_detection_by_instance ON failure_detection (hostname, port, detected_at);

-- A recovery that did not run, and why; refreshed while the failure lasts, removed when the
-- failure ends or the blocking recovery is acknowledged.
CREATE TABLE blocked_recovery (
    hostname             TEXT    NOT NULL,
    port                 INTEGER NOT NULL,
    cluster              TEXT    NOT NULL,
    analysis             TEXT    NOT NULL,
    reason               TEXT    NOT NULL,
    blocking_recovery_id INTEGER NOT NULL DEFAULT 0,
    first_blocked_at     TEXT    NOT NULL,
    last_blocked_at      TEXT    NOT NULL,
    PRIMARY KEY (hostname, port)
);

-- Node-wide switches set at runtime: 'recoveries-disabled', 'observe-only' ('1' or '0').
CREATE TABLE node_settings (
    name   TEXT NOT NULL PRIMARY KEY,
    value  TEXT NOT NULL,
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
);

-- Old primaries a recovery could not make read-only (they did not answer): fenced as soon as
-- they answer again, so a primary that was hung, not dead, never takes writes next to its
-- successor.
CREATE TABLE pending_fence (
    hostname    TEXT    NOT NULL,
    port        INTEGER NOT NULL,
    recovery_id INTEGER NOT NULL,
    since       TEXT    NOT NULL,
    PRIMARY KEY (hostname, port)
);
