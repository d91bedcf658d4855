//! Compiled hostname and cluster filters, matching exactly as orchestrator does.

use regex::Regex;

/// A compiled `*HostnameFilters` list.
///
/// Except for `RecoveryIgnoreHostnameFilters`, an entry that parses as an IP address matches
/// that exact hostname (so `10.0.0.3` does not match `10.0.0.38`), and any other entry is a
/// regex searched in `host:port`. `RecoveryIgnoreHostnameFilters` entries are all regexes
/// searched in the hostname alone. As in orchestrator, an empty entry matches everything.
#[derive(Debug, Clone, Default)]
pub struct HostnameFilters {
    entries: Vec<HostnameFilter>,
    hostname_only: bool,
}

#[derive(Debug, Clone)]
enum HostnameFilter {
    Ip(String),
    Pattern(Regex),
}

impl HostnameFilters {
    /// Compiles host:port filters; `Err((index, message))` names the first bad entry.
    pub(crate) fn host_port(patterns: &[String]) -> Result<Self, (usize, String)> {
        Self::compile(patterns, false)
    }

    /// Compiles hostname-only regex filters (`RecoveryIgnoreHostnameFilters`).
    pub(crate) fn hostname_only(patterns: &[String]) -> Result<Self, (usize, String)> {
        Self::compile(patterns, true)
    }

    fn compile(patterns: &[String], hostname_only: bool) -> Result<Self, (usize, String)> {
        let entries = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if !hostname_only && p.parse::<std::net::IpAddr>().is_ok() {
                    return Ok(HostnameFilter::Ip(p.clone()));
                }
                Regex::new(p)
                    .map(HostnameFilter::Pattern)
                    .map_err(|e| (i, e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(HostnameFilters {
            entries,
            hostname_only,
        })
    }

    /// True when some entry matches the instance `hostname:port`.
    pub fn matches(&self, hostname: &str, port: u16) -> bool {
        let host_port = format!("{hostname}:{port}");
        self.entries.iter().any(|entry| match entry {
            HostnameFilter::Ip(ip) => ip == hostname,
            HostnameFilter::Pattern(re) if self.hostname_only => re.is_match(hostname),
            HostnameFilter::Pattern(re) => re.is_match(&host_port),
        })
    }

    /// True when there are no entries (nothing is filtered).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A compiled `Recover*ClusterFilters` list.
///
/// An entry matches a cluster when it equals the cluster name or alias, or is `*`, or is
/// `alias=<alias>` (exact alias), `alias~=<regex>` (regex on the alias), or otherwise a regex
/// found in the cluster name. An entry that is not a valid regex only matches exactly.
#[derive(Debug, Clone, Default)]
pub struct ClusterFilters {
    entries: Vec<ClusterFilter>,
}

#[derive(Debug, Clone)]
struct ClusterFilter {
    raw: String,
    rule: ClusterRule,
}

#[derive(Debug, Clone)]
enum ClusterRule {
    Any,
    Alias(String),
    AliasPattern(Regex),
    NamePattern(Regex),
    ExactOnly,
}

/// What compiling a cluster filter list found wrong.
#[derive(Debug)]
pub(crate) enum ClusterFilterProblem {
    /// An `alias~=` entry whose regex does not compile: it could never match.
    BadAliasPattern(usize, String),
    /// A plain entry that is not a valid regex: it still matches a name or alias exactly.
    NotARegex(usize, String),
}

impl ClusterFilters {
    /// Compiles the list. Errors are fatal; warnings (`NotARegex`) are returned beside it.
    pub(crate) fn compile(
        patterns: &[String],
    ) -> Result<(Self, Vec<ClusterFilterProblem>), ClusterFilterProblem> {
        let mut warnings = Vec::new();
        let mut entries = Vec::new();
        for (i, raw) in patterns.iter().enumerate() {
            let rule = if raw == "*" {
                ClusterRule::Any
            } else if let Some(alias) = raw.strip_prefix("alias=") {
                ClusterRule::Alias(alias.to_owned())
            } else if let Some(pattern) = raw.strip_prefix("alias~=") {
                let re = Regex::new(pattern)
                    .map_err(|e| ClusterFilterProblem::BadAliasPattern(i, e.to_string()))?;
                ClusterRule::AliasPattern(re)
            } else if raw.is_empty() {
                ClusterRule::ExactOnly
            } else {
                match Regex::new(raw) {
                    Ok(re) => ClusterRule::NamePattern(re),
                    Err(e) => {
                        warnings.push(ClusterFilterProblem::NotARegex(i, e.to_string()));
                        ClusterRule::ExactOnly
                    }
                }
            };
            entries.push(ClusterFilter {
                raw: raw.clone(),
                rule,
            });
        }
        Ok((ClusterFilters { entries }, warnings))
    }

    /// True when some entry matches the cluster (`cluster_alias` may be empty).
    pub fn matches(&self, cluster_name: &str, cluster_alias: &str) -> bool {
        self.entries.iter().any(|f| {
            f.raw == cluster_name
                || f.raw == cluster_alias
                || match &f.rule {
                    ClusterRule::Any => true,
                    ClusterRule::Alias(alias) => alias == cluster_alias,
                    ClusterRule::AliasPattern(re) => re.is_match(cluster_alias),
                    ClusterRule::NamePattern(re) => re.is_match(cluster_name),
                    ClusterRule::ExactOnly => false,
                }
        })
    }

    /// True when there are no entries (no cluster recovers automatically).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How Pseudo-GTID entries are recognized in binary logs (`PseudoGTIDPattern`).
#[derive(Debug, Clone)]
pub enum PseudoGtidMatcher {
    /// `PseudoGTIDPatternIsFixedSubstring`: a plain substring search.
    Substring(String),
    /// A regex search.
    Pattern(Regex),
}

impl PseudoGtidMatcher {
    /// True when `binlog_entry` is a Pseudo-GTID marker.
    pub fn is_match(&self, binlog_entry: &str) -> bool {
        match self {
            PseudoGtidMatcher::Substring(s) => binlog_entry.contains(s.as_str()),
            PseudoGtidMatcher::Pattern(re) => re.is_match(binlog_entry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ip_filters_match_exactly_and_others_search_host_port() {
        let f = HostnameFilters::host_port(&strings(&[
            "10.0.0.3",
            "ignored[.]example[.]com",
            ":3307$",
        ]))
        .unwrap();
        assert!(f.matches("10.0.0.3", 3306));
        assert!(!f.matches("10.0.0.38", 3306));
        assert!(f.matches("db.ignored.example.com", 3306));
        assert!(f.matches("db1", 3307));
        assert!(!f.matches("db1", 3306));
        assert!(HostnameFilters::host_port(&strings(&["("])).is_err());
    }

    #[test]
    fn recovery_ignore_filters_search_the_hostname_only() {
        let f = HostnameFilters::hostname_only(&strings(&["10.0.0.3", "3306"])).unwrap();
        assert!(f.matches("10.0.0.38", 1), "a regex, as in orchestrator");
        assert!(!f.matches("db1", 3306), "the port is not part of the text");
    }

    #[test]
    fn cluster_filters_follow_orchestrator_rules() {
        let (f, warnings) = ClusterFilters::compile(&strings(&[
            "alias=orders",
            "alias~=^pay",
            "^db-main",
            "*prod*",
        ]))
        .unwrap();
        assert_eq!(warnings.len(), 1, "*prod* is not a regex");
        assert!(f.matches("x:3306", "orders"));
        assert!(f.matches("x:3306", "payments"));
        assert!(f.matches("db-main-1:3306", ""));
        assert!(
            f.matches("x:3306", "*prod*"),
            "invalid regex still matches exactly"
        );
        assert!(!f.matches("other:3306", "other"));
        let (any, _) = ClusterFilters::compile(&strings(&["*"])).unwrap();
        assert!(any.matches("anything:1", ""));
        assert!(ClusterFilters::compile(&strings(&["alias~=("])).is_err());
        assert!(!ClusterFilters::default().matches("a", "b"));
    }
}
