//! Keys for connecting to the managed MySQL servers (reference §3.1).

use super::secret::Secret;
use super::section::s;

config_section! {
    /// Credentials, TLS and timeouts for the MySQL servers orchestrator manages.
    pub struct TopologyConfig {
        /// User for the managed servers (overridden by `MySQLTopologyCredentialsConfigFile`).
        "MySQLTopologyUser" => mysql_topology_user: String = s(""),
        /// Password for the managed servers; `${VAR}` is read from the environment at load
        /// (overridden by `MySQLTopologyCredentialsConfigFile`).
        "MySQLTopologyPassword" => mysql_topology_password: Secret = Secret::default(),
        /// my.cnf-style file whose `[client]` `user`/`password` replace the two keys above.
        "MySQLTopologyCredentialsConfigFile" => mysql_topology_credentials_config_file: String = s(""),
        /// Client private key for TLS to managed servers.
        "MySQLTopologySSLPrivateKeyFile" => mysql_topology_ssl_private_key_file: String = s(""),
        /// Client certificate for TLS to managed servers.
        "MySQLTopologySSLCertFile" => mysql_topology_ssl_cert_file: String = s(""),
        /// CA certificate for TLS to managed servers.
        "MySQLTopologySSLCAFile" => mysql_topology_ssl_ca_file: String = s(""),
        /// Do not verify managed servers' certificates.
        "MySQLTopologySSLSkipVerify" => mysql_topology_ssl_skip_verify: bool = false,
        /// Use (mutual) TLS to managed servers.
        "MySQLTopologyUseMutualTLS" => mysql_topology_use_mutual_tls: bool = false,
        /// Allow a mix of TLS and plain connections to managed servers.
        "MySQLTopologyUseMixedTLS" => mysql_topology_use_mixed_tls: bool = true,
        /// TLS-capability cache expiry, as a multiple of `InstancePollSeconds`.
        "TLSCacheTTLFactor" => tls_cache_ttl_factor: u64 = 100,
        /// Seconds before a connection attempt (managed server or backend) is abandoned.
        "MySQLConnectTimeoutSeconds" => mysql_connect_timeout_seconds: u64 = 2,
        /// Seconds before a discovery probe's read is abandoned.
        "MySQLDiscoveryReadTimeoutSeconds" => mysql_discovery_read_timeout_seconds: u64 = 10,
        /// Seconds before any other read on a managed server is abandoned.
        "MySQLTopologyReadTimeoutSeconds" => mysql_topology_read_timeout_seconds: u64 = 600,
        /// Seconds after which a pooled connection is recycled; 0 keeps connections.
        "MySQLConnectionLifetimeSeconds" => mysql_connection_lifetime_seconds: u64 = 0,
        /// Port assumed when an instance is named without one.
        "DefaultInstancePort" => default_instance_port: u16 = 3306,
    }
}
