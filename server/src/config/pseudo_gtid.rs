//! Pseudo-GTID keys (reference §3.4).

use super::section::s;

config_section! {
    /// Pseudo-GTID: markers injected into binary logs so replicas can be matched without GTID.
    pub struct PseudoGtidConfig {
        /// Inject a marker every 5 s on every writable master it may `DROP VIEW` on, and set
        /// the pattern, fixed-substring, monotonic-hint and detect-query keys itself.
        "AutoPseudoGTID" => auto_pseudo_gtid: bool = false,
        /// Regex (or fixed substring) identifying a marker in binlogs; empty disables Pseudo-GTID.
        "PseudoGTIDPattern" => pseudo_gtid_pattern: String = s(""),
        /// Treat `PseudoGTIDPattern` as a plain substring (faster scans).
        "PseudoGTIDPatternIsFixedSubstring" => pseudo_gtid_pattern_is_fixed_substring: bool = false,
        /// Substring of a marker indicating markers increase monotonically.
        "PseudoGTIDMonotonicHint" => pseudo_gtid_monotonic_hint: String = s(""),
        /// Query deciding authoritatively whether an instance uses Pseudo-GTID.
        "DetectPseudoGTIDQuery" => detect_pseudo_gtid_query: String = s(""),
        /// Rows per `SHOW BINLOG|RELAYLOG EVENTS LIMIT` chunk.
        "BinlogEventsChunkSize" => binlog_events_chunk_size: u64 = 10000,
        /// Binlog entries containing any of these substrings are skipped when matching.
        "SkipBinlogEventsContaining" => skip_binlog_events_containing: Vec<String> = Vec::new(),
    }
}
