//! HTTP service, logging, web UI and audit keys (reference §3.1, §3.6).

use super::section::s;

config_section! {
    /// How this node serves HTTP, logs, and audits.
    pub struct ServiceConfig {
        /// HTTP listen address as `[host]:port`; orchestrator's `:3000` means all interfaces
        /// (see [`Config::listen_addr`](super::Config::listen_addr)).
        "ListenAddress" => listen_address: String = s(":3000"),
        /// Unix socket path to serve HTTP on instead of TCP (TCP is then not served).
        "ListenSocket" => listen_socket: String = s(""),
        /// Path prefix to serve the web UI and API under (e.g. `/orchestrator` behind a proxy);
        /// normalized at load to one leading `/` and no trailing `/`.
        "URLPrefix" => url_prefix: String = s(""),
        /// Whole service read-only: refuse every operation that changes a topology.
        "ReadOnly" => read_only: bool = false,
        /// Debug-level logging (same as `--debug`).
        "Debug" => debug: bool = false,
        /// Also send logs to the syslog daemon.
        "EnableSyslog" => enable_syslog: bool = false,
        /// Path of the plain status endpoint, for load balancers.
        "StatusEndpoint" => status_endpoint: String = s("/api/status"),
        /// With mutual TLS, also verify the client certificate's OU on the status endpoint.
        "StatusOUVerify" => status_ou_verify: bool = false,
        /// Banner shown below the title bar on every web page.
        "WebMessage" => web_message: String = s(""),
        /// Text stripped from hostnames on the cluster pages (e.g. `.mydomain.com:3306`).
        "RemoveTextFromHostnameDisplay" => remove_text_from_hostname_display: String = s(""),
        /// File to append audit entries to; empty disables file auditing.
        "AuditLogFile" => audit_log_file: String = s(""),
        /// Also write audit entries to syslog.
        "AuditToSyslog" => audit_to_syslog: bool = false,
        /// Write audit entries to the backend `audit` table. orchestrator's default is false
        /// (its comment claims true), so the Audit page stays empty unless this is enabled.
        "AuditToBackendDB" => audit_to_backend_db: bool = false,
        /// Days after which audit entries are purged from the backend.
        "AuditPurgeDays" => audit_purge_days: u64 = 7,
    }
}
