//! Typed forms of the string keys that take one of a few values.

/// The backend database (`BackendDB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// A MySQL server (`mysql`, or an explicit empty string, as in orchestrator).
    MySql,
    /// Embedded SQLite (`sqlite` or `sqlite3`); our default when `BackendDB` is absent.
    #[default]
    Sqlite,
}

impl Backend {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "mysql" | "" => Some(Backend::MySql),
            "sqlite" | "sqlite3" => Some(Backend::Sqlite),
            _ => None,
        }
    }

    pub(crate) fn canonical(self) -> &'static str {
        match self {
            Backend::MySql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// How hostnames are normalized (`HostnameResolveMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostnameResolve {
    /// `none`: names are used as given.
    None,
    /// `default`: names are used as given (orchestrator does not resolve either).
    #[default]
    Default,
    /// `cname`: names are replaced by their CNAME.
    Cname,
    /// `ip`: names are replaced by their IP address.
    Ip,
}

impl HostnameResolve {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Some(HostnameResolve::None),
            "default" => Some(HostnameResolve::Default),
            "cname" => Some(HostnameResolve::Cname),
            "ip" => Some(HostnameResolve::Ip),
            _ => None,
        }
    }

    pub(crate) fn canonical(self) -> &'static str {
        match self {
            HostnameResolve::None => "none",
            HostnameResolve::Default => "default",
            HostnameResolve::Cname => "cname",
            HostnameResolve::Ip => "ip",
        }
    }
}

/// What an instance is keyed by (`MySQLHostnameResolveMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MySqlHostnameResolve {
    /// `none`: the name the instance was reached by.
    None,
    /// `@@hostname` (also `default`, `hostname`).
    #[default]
    Hostname,
    /// `@@report_host` (also `report_host`); a probe fails when it is empty.
    ReportHost,
}

impl MySqlHostnameResolve {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Some(MySqlHostnameResolve::None),
            "@@hostname" | "hostname" | "default" => Some(MySqlHostnameResolve::Hostname),
            "@@report_host" | "report_host" => Some(MySqlHostnameResolve::ReportHost),
            _ => None,
        }
    }

    pub(crate) fn canonical(self) -> &'static str {
        match self {
            MySqlHostnameResolve::None => "none",
            MySqlHostnameResolve::Hostname => "@@hostname",
            MySqlHostnameResolve::ReportHost => "@@report_host",
        }
    }
}

/// HTTP authentication (`AuthenticationMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// `""`: no authentication.
    #[default]
    None,
    /// `basic`: one user (`HTTPAuthUser`/`HTTPAuthPassword`).
    Basic,
    /// `multi`: the basic user has full access, any other user/password is read-only.
    Multi,
    /// `proxy`: the user name comes from `AuthUserHeader`; `PowerAuthUsers` may change things.
    Proxy,
    /// `token`: access tokens.
    Token,
    /// `oauth`: accepted by orchestrator but never completed.
    OAuth,
}

impl AuthMethod {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "" => Some(AuthMethod::None),
            "basic" => Some(AuthMethod::Basic),
            "multi" => Some(AuthMethod::Multi),
            "proxy" => Some(AuthMethod::Proxy),
            "token" => Some(AuthMethod::Token),
            "oauth" => Some(AuthMethod::OAuth),
            _ => None,
        }
    }

    pub(crate) fn canonical(self) -> &'static str {
        match self {
            AuthMethod::None => "",
            AuthMethod::Basic => "basic",
            AuthMethod::Multi => "multi",
            AuthMethod::Proxy => "proxy",
            AuthMethod::Token => "token",
            AuthMethod::OAuth => "oauth",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_orchestrator_spellings() {
        assert_eq!(Backend::parse("SQLite3"), Some(Backend::Sqlite));
        assert_eq!(Backend::parse("mysql"), Some(Backend::MySql));
        assert_eq!(Backend::parse("postgres"), None);
        assert_eq!(
            MySqlHostnameResolve::parse("report_host"),
            Some(MySqlHostnameResolve::ReportHost)
        );
        assert_eq!(
            MySqlHostnameResolve::parse("@@HOSTNAME"),
            Some(MySqlHostnameResolve::Hostname)
        );
        assert_eq!(MySqlHostnameResolve::parse("@@server_id"), None);
        assert_eq!(
            HostnameResolve::parse("CNAME"),
            Some(HostnameResolve::Cname)
        );
        assert_eq!(HostnameResolve::parse("dns"), None);
        assert_eq!(AuthMethod::parse("Basic"), Some(AuthMethod::Basic));
        assert_eq!(AuthMethod::parse("basc"), None);
    }

    #[test]
    fn canonical_forms_parse_back() {
        for b in [Backend::MySql, Backend::Sqlite] {
            assert_eq!(Backend::parse(b.canonical()), Some(b));
        }
        for m in [
            MySqlHostnameResolve::None,
            MySqlHostnameResolve::Hostname,
            MySqlHostnameResolve::ReportHost,
        ] {
            assert_eq!(MySqlHostnameResolve::parse(m.canonical()), Some(m));
        }
        for h in [
            HostnameResolve::None,
            HostnameResolve::Default,
            HostnameResolve::Cname,
            HostnameResolve::Ip,
        ] {
            assert_eq!(HostnameResolve::parse(h.canonical()), Some(h));
        }
        for a in [
            AuthMethod::None,
            AuthMethod::Basic,
            AuthMethod::Multi,
            AuthMethod::Proxy,
            AuthMethod::Token,
            AuthMethod::OAuth,
        ] {
            assert_eq!(AuthMethod::parse(a.canonical()), Some(a));
        }
    }
}
