//! Key-value stores (Consul, ZooKeeper) and Graphite metrics (reference §3.6).

use super::secret::Secret;
use super::section::s;

config_section! {
    /// Where cluster masters are published and metrics are sent.
    pub struct IntegrationsConfig {
        /// Prefix of cluster-master entries in KV stores; normalized at load to end in `/`.
        "KVClusterMasterPrefix" => kv_cluster_master_prefix: String = s("mysql/master"),
        /// Consul HTTP API address (e.g. `127.0.0.1:8500`); empty disables Consul.
        "ConsulAddress" => consul_address: String = s(""),
        /// `http` or `https` for Consul.
        "ConsulScheme" => consul_scheme: String = s("http"),
        /// Consul ACL token; `${VAR}` is read from the environment at load.
        "ConsulAclToken" => consul_acl_token: Secret = Secret::default(),
        /// Write KV entries to every Consul data center.
        "ConsulCrossDataCenterDistribution" => consul_cross_data_center_distribution: bool = false,
        /// `consul` or `consul-txn`.
        "ConsulKVStoreProvider" => consul_kv_store_provider: String = s("consul"),
        /// KV operations per Consul transaction (`consul-txn`); clamped to 5..=64 at load.
        "ConsulMaxKVsPerTransaction" => consul_max_kvs_per_transaction: usize = 5,
        /// ZooKeeper servers (`srv1[:port1][,srv2[:port2]...]`); unsupported in orchestrator too.
        "ZkAddress" => zk_address: String = s(""),
        /// Graphite address; empty disables metrics export.
        "GraphiteAddr" => graphite_addr: String = s(""),
        /// Graphite path prefix; may contain `{hostname}`.
        "GraphitePath" => graphite_path: String = s(""),
        /// Turn dots into underscores in the hostname used in `GraphitePath`.
        "GraphiteConvertHostnameDotsToUnderscores" => graphite_convert_hostname_dots_to_underscores: bool = true,
        /// Seconds between Graphite writes; 0 disables.
        "GraphitePollSeconds" => graphite_poll_seconds: u64 = 60,
    }
}
