//! Who may use the web UI and API: authentication and TLS (reference §3.6).

use super::secret::Secret;
use super::section::{s, strings};

config_section! {
    /// Authentication of HTTP users and TLS on the HTTP port.
    pub struct AuthConfig {
        /// `""` (none), `basic`, `multi`, `proxy`, `token` or `oauth` (case-insensitive).
        "AuthenticationMethod" => authentication_method: String = s(""),
        /// Basic-auth user (`basic`/`multi`); with `multi`, other users get read-only access.
        "HTTPAuthUser" => http_auth_user: String = s(""),
        /// Basic-auth password; `${VAR}` is read from the environment at load.
        "HTTPAuthPassword" => http_auth_password: Secret = Secret::default(),
        /// Header carrying the user name when `AuthenticationMethod` is `proxy`.
        "AuthUserHeader" => auth_user_header: String = s("X-Forwarded-User"),
        /// With `proxy`, users allowed to make changes (`*` = everyone).
        "PowerAuthUsers" => power_auth_users: Vec<String> = strings(&["*"]),
        /// Unix groups whose members may make changes.
        "PowerAuthGroups" => power_auth_groups: Vec<String> = Vec::new(),
        /// Seconds within which an issued access token must be used.
        "AccessTokenUseExpirySeconds" => access_token_use_expiry_seconds: u64 = 60,
        /// Minutes after which an access token expires.
        "AccessTokenExpiryMinutes" => access_token_expiry_minutes: u64 = 1440,
        /// OAuth client id (accepted; OAuth was never completed in orchestrator).
        "OAuthClientId" => oauth_client_id: String = s(""),
        /// OAuth client secret; `${VAR}` is read from the environment at load.
        "OAuthClientSecret" => oauth_client_secret: Secret = Secret::default(),
        /// OAuth scopes.
        "OAuthScopes" => oauth_scopes: Vec<String> = Vec::new(),
        /// Serve HTTPS on the HTTP port.
        "UseSSL" => use_ssl: bool = false,
        /// Require client certificates on the HTTP port.
        "UseMutualTLS" => use_mutual_tls: bool = false,
        /// Do not verify certificates (client certificates, and peers' when proxying to the leader).
        "SSLSkipVerify" => ssl_skip_verify: bool = false,
        /// Server private key for HTTPS.
        "SSLPrivateKeyFile" => ssl_private_key_file: String = s(""),
        /// Server certificate for HTTPS.
        "SSLCertFile" => ssl_cert_file: String = s(""),
        /// CA for verifying client certificates.
        "SSLCAFile" => ssl_ca_file: String = s(""),
        /// Organizational units accepted in client certificates with mutual TLS.
        "SSLValidOUs" => ssl_valid_ous: Vec<String> = Vec::new(),
    }
}
