//! What a sandbox should look like: which server family, how many servers, which replication
//! shape, and GTID or file:pos positioning.

use std::fmt;

/// Which MySQL-family server the sandbox runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SandboxFlavor {
    /// MariaDB from the host's Debian packages (`mariadbd`).
    MariaDb,
    /// Oracle MySQL run from a Debian sid root filesystem under chroot.
    MySql,
}

impl SandboxFlavor {
    /// Short lower-case name, used in cache keys and accepted by [`SandboxFlavor::parse`].
    pub fn name(self) -> &'static str {
        match self {
            SandboxFlavor::MariaDb => "mariadb",
            SandboxFlavor::MySql => "mysql",
        }
    }

    /// `mariadb` or `mysql` (case-insensitive), e.g. from an environment variable.
    pub fn parse(text: &str) -> Option<SandboxFlavor> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mariadb" => Some(SandboxFlavor::MariaDb),
            "mysql" => Some(SandboxFlavor::MySql),
            _ => None,
        }
    }
}

impl fmt::Display for SandboxFlavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the servers replicate from each other right after `Sandbox::start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// No replication.
    Standalone,
    /// servers[0] is the primary; every other server replicates from it.
    PrimaryWithReplicas,
    /// servers[i] replicates from servers[i-1].
    Chain,
    /// servers[1] replicates from servers[0]; servers[2..] replicate from servers[1]; with four
    /// or more servers the last one replicates from servers[0] instead, so the primary has a
    /// direct replica besides the intermediate one.
    IntermediatePrimary,
}

impl Shape {
    /// The index of the server that server `i` (of `count`) replicates from, if any.
    pub fn source_of(self, i: usize, count: usize) -> Option<usize> {
        if i == 0 || i >= count {
            return None;
        }
        match self {
            Shape::Standalone => None,
            Shape::PrimaryWithReplicas => Some(0),
            Shape::Chain => Some(i - 1),
            Shape::IntermediatePrimary if i == 1 => Some(0),
            Shape::IntermediatePrimary if count >= 4 && i == count - 1 => Some(0),
            Shape::IntermediatePrimary => Some(1),
        }
    }
}

/// Everything `Sandbox::start` needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxOptions {
    pub flavor: SandboxFlavor,
    pub count: usize,
    pub shape: Shape,
    /// true: GTID positioning (MariaDB `MASTER_USE_GTID=slave_pos`; MySQL `gtid_mode=ON` and
    /// auto-position). false: file:pos replication (MariaDB `MASTER_USE_GTID=no`; MySQL
    /// `gtid_mode=OFF`).
    pub gtid: bool,
}

impl SandboxOptions {
    /// `count` servers of `flavor` in `shape`, with GTID.
    pub fn new(flavor: SandboxFlavor, count: usize, shape: Shape) -> Self {
        SandboxOptions { flavor, count, shape, gtid: true }
    }

    /// The same options with GTID on or off.
    pub fn with_gtid(mut self, gtid: bool) -> Self {
        self.gtid = gtid;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(shape: Shape, count: usize) -> Vec<Option<usize>> {
        (0..count).map(|i| shape.source_of(i, count)).collect()
    }

    #[test]
    fn shapes_wire_the_documented_sources() {
        assert_eq!(sources(Shape::Standalone, 3), [None, None, None]);
        assert_eq!(sources(Shape::PrimaryWithReplicas, 3), [None, Some(0), Some(0)]);
        assert_eq!(sources(Shape::Chain, 4), [None, Some(0), Some(1), Some(2)]);
        assert_eq!(sources(Shape::IntermediatePrimary, 2), [None, Some(0)]);
        assert_eq!(sources(Shape::IntermediatePrimary, 3), [None, Some(0), Some(1)]);
        assert_eq!(sources(Shape::IntermediatePrimary, 4), [None, Some(0), Some(1), Some(0)]);
        assert_eq!(sources(Shape::IntermediatePrimary, 5), [None, Some(0), Some(1), Some(1), Some(0)]);
        assert_eq!(Shape::Chain.source_of(7, 3), None);
    }

    #[test]
    fn flavors_parse_their_names() {
        for f in [SandboxFlavor::MariaDb, SandboxFlavor::MySql] {
            assert_eq!(SandboxFlavor::parse(f.name()), Some(f));
        }
        assert_eq!(SandboxFlavor::parse(" MySQL "), Some(SandboxFlavor::MySql));
        assert_eq!(SandboxFlavor::parse("percona"), None);
    }
}
