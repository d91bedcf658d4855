//! Backend database keys: where this node keeps its own state (reference §3.1).

use super::secret::Secret;
use super::section::s;

config_section! {
    /// The backend database: embedded SQLite or a MySQL server.
    pub struct BackendConfig {
        /// `mysql`, `sqlite` or `sqlite3`.
        ///
        /// **Deviation:** when the key is absent we use `sqlite` (embedded), where orchestrator
        /// used `mysql`, because a node must be able to run with no external database. With
        /// SQLite and an empty `SQLite3DataFile` (which orchestrator refused) the data file is
        /// `orchestrator.sqlite3` in the current directory. Configs that name `mysql` behave as
        /// in orchestrator.
        "BackendDB" => backend_db: String = s("sqlite"),
        /// SQLite data file; empty means `orchestrator.sqlite3` in the current directory
        /// (see [`Config::sqlite_path`](super::Config::sqlite_path)).
        "SQLite3DataFile" => sqlite3_data_file: String = s(""),
        /// MySQL backend host.
        "MySQLOrchestratorHost" => mysql_orchestrator_host: String = s(""),
        /// MySQL backend port.
        "MySQLOrchestratorPort" => mysql_orchestrator_port: u16 = 3306,
        /// MySQL backend schema name.
        "MySQLOrchestratorDatabase" => mysql_orchestrator_database: String = s(""),
        /// MySQL backend user (overridden by `MySQLOrchestratorCredentialsConfigFile`).
        "MySQLOrchestratorUser" => mysql_orchestrator_user: String = s(""),
        /// MySQL backend password; `${VAR}` is read from the environment at load
        /// (overridden by `MySQLOrchestratorCredentialsConfigFile`).
        "MySQLOrchestratorPassword" => mysql_orchestrator_password: Secret = Secret::default(),
        /// my.cnf-style file whose `[client]` `user`/`password` replace the two keys above.
        "MySQLOrchestratorCredentialsConfigFile" => mysql_orchestrator_credentials_config_file: String = s(""),
        /// Client private key for TLS to the MySQL backend.
        "MySQLOrchestratorSSLPrivateKeyFile" => mysql_orchestrator_ssl_private_key_file: String = s(""),
        /// Client certificate for TLS to the MySQL backend.
        "MySQLOrchestratorSSLCertFile" => mysql_orchestrator_ssl_cert_file: String = s(""),
        /// CA certificate for TLS to the MySQL backend.
        "MySQLOrchestratorSSLCAFile" => mysql_orchestrator_ssl_ca_file: String = s(""),
        /// Do not verify the MySQL backend's certificate.
        "MySQLOrchestratorSSLSkipVerify" => mysql_orchestrator_ssl_skip_verify: bool = false,
        /// Use (mutual) TLS to the MySQL backend.
        "MySQLOrchestratorUseMutualTLS" => mysql_orchestrator_use_mutual_tls: bool = false,
        /// Maximum connections in the backend pool.
        "MySQLOrchestratorMaxPoolConnections" => mysql_orchestrator_max_pool_connections: u32 = 128,
        /// Seconds before a backend read is abandoned.
        "MySQLOrchestratorReadTimeoutSeconds" => mysql_orchestrator_read_timeout_seconds: u64 = 30,
        /// Refuse backend connections to a read-only server (e.g. after a backend failover).
        "MySQLOrchestratorRejectReadOnly" => mysql_orchestrator_reject_read_only: bool = false,
        /// Neither check nor migrate the backend schema.
        "SkipOrchestratorDatabaseUpdate" => skip_orchestrator_database_update: bool = false,
        /// Refuse to start when the backend was deployed by a different version.
        "PanicIfDifferentDatabaseDeploy" => panic_if_different_database_deploy: bool = false,
    }
}
