-- Operator intent: what people declared about servers, written before the request is answered
-- and never rebuilt from the servers. Times are RFC 3339 UTC with nanoseconds (fixed width, so
-- they compare as text). A window or registration stops counting at its end even before the
-- caretaker deletes it.

-- Maintenance locks (begin-maintenance): at most one per server.
CREATE TABLE maintenance (
    hostname TEXT    NOT NULL,
    port     INTEGER NOT NULL,
    owner    TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    begin_at TEXT    NOT NULL,
    end_at   TEXT    NOT NULL,
    PRIMARY KEY (hostname, port)
);

-- Downtimes (begin-downtime): a new one replaces the server's previous one.
CREATE TABLE downtime (
    hostname TEXT    NOT NULL,
    port     INTEGER NOT NULL,
    owner    TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    begin_at TEXT    NOT NULL,
    end_at   TEXT    NOT NULL,
    PRIMARY KEY (hostname, port)
);

-- Promotion rules (register-candidate), expiring after CandidateInstanceExpireMinutes.
CREATE TABLE candidates (
    hostname       TEXT    NOT NULL,
    port           INTEGER NOT NULL,
    promotion_rule TEXT    NOT NULL,
    registered_at  TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    PRIMARY KEY (hostname, port)
);

-- Tags (tag / untag); an empty value is a tag without a value.
CREATE TABLE tags (
    hostname TEXT    NOT NULL,
    port     INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    set_at   TEXT    NOT NULL,
    PRIMARY KEY (hostname, port, name)
);
CREATE INDEX tags_by_name ON tags (name, value);
