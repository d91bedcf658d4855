-- Accounts on every managed server (run on the primary; replicas receive it through replication).
-- orchestrator's account: reads topology and, for recoveries and refactoring, changes replication.
CREATE USER IF NOT EXISTS 'orchestrator'@'%' IDENTIFIED BY 'change-me';
GRANT SUPER, PROCESS, REPLICATION SLAVE, REPLICATION CLIENT, RELOAD ON *.* TO 'orchestrator'@'%';
GRANT SYSTEM_VARIABLES_ADMIN, REPLICATION_SLAVE_ADMIN, BINLOG_ADMIN ON *.* TO 'orchestrator'@'%';
GRANT SELECT ON mysql.slave_master_info TO 'orchestrator'@'%';
GRANT SELECT ON performance_schema.* TO 'orchestrator'@'%';

-- The account replicas connect to their source with.
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'change-me-too';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
