//! orchestrator-agent keys (legacy integration; reference §3.6).

use super::section::s;

config_section! {
    /// The orchestrator-agent HTTP interface and seeding.
    pub struct AgentsConfig {
        /// Serve a second HTTP interface for orchestrator-agent.
        "ServeAgentsHttp" => serve_agents_http: bool = false,
        /// Listen address of the agents interface.
        "AgentsServerPort" => agents_server_port: String = s(":3001"),
        /// TLS on the agents interface and to agents.
        "AgentsUseSSL" => agents_use_ssl: bool = false,
        /// Mutual TLS with agents.
        "AgentsUseMutualTLS" => agents_use_mutual_tls: bool = false,
        /// Do not verify agents' certificates.
        "AgentSSLSkipVerify" => agent_ssl_skip_verify: bool = false,
        /// Private key for the agents interface.
        "AgentSSLPrivateKeyFile" => agent_ssl_private_key_file: String = s(""),
        /// Certificate for the agents interface.
        "AgentSSLCertFile" => agent_ssl_cert_file: String = s(""),
        /// CA for agents' certificates.
        "AgentSSLCAFile" => agent_ssl_ca_file: String = s(""),
        /// Organizational units accepted from agents with mutual TLS.
        "AgentSSLValidOUs" => agent_ssl_valid_ous: Vec<String> = Vec::new(),
        /// Minutes between agent polls.
        "AgentPollMinutes" => agent_poll_minutes: u64 = 60,
        /// Forget agents not seen for this many hours.
        "UnseenAgentForgetHours" => unseen_agent_forget_hours: u64 = 6,
        /// Minutes without progress after which a seed is failed.
        "StaleSeedFailMinutes" => stale_seed_fail_minutes: u64 = 60,
        /// Size difference (bytes) between seed source and target still counted as success.
        "SeedAcceptableBytesDiff" => seed_acceptable_bytes_diff: i64 = 8192,
        /// Seconds to wait before the agent starts sending seed data.
        "SeedWaitSecondsBeforeSend" => seed_wait_seconds_before_send: u64 = 2,
    }
}
