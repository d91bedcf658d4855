//! Oracle MySQL GTID sets (`uuid:1-5:7,uuid2:1-3`): parsing, subtraction, printing. Pure, so
//! errant-GTID detection needs no round trip to the server.

use std::collections::BTreeMap;
use std::fmt;

/// A set of GTIDs: per source UUID, sorted disjoint closed intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GtidSet {
    sets: BTreeMap<String, Vec<(u64, u64)>>,
}

impl GtidSet {
    /// Parses the text form; whitespace and newlines (as the server prints them) are ignored.
    /// Tagged GTIDs (`uuid:tag:1-5`, MySQL 8.3+) keep the tag as part of the source name.
    pub fn parse(text: &str) -> Result<GtidSet, String> {
        let mut set = GtidSet::default();
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for part in compact.split(',').filter(|p| !p.is_empty()) {
            let mut fields = part.split(':');
            let uuid = fields.next().unwrap_or_default().to_ascii_lowercase();
            if uuid.len() < 32 {
                return Err(format!("invalid GTID source {uuid:?}"));
            }
            let mut source = uuid;
            for field in fields {
                if field.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
                    source = format!("{source}:{}", field.to_ascii_lowercase());
                    continue;
                }
                let (lo, hi) = match field.split_once('-') {
                    Some((a, b)) => (parse_num(a)?, parse_num(b)?),
                    None => {
                        let n = parse_num(field)?;
                        (n, n)
                    }
                };
                if lo == 0 || hi < lo {
                    return Err(format!("invalid GTID interval {field:?}"));
                }
                set.add(&source, lo, hi);
            }
        }
        Ok(set)
    }

    fn add(&mut self, source: &str, lo: u64, hi: u64) {
        let list = self.sets.entry(source.to_string()).or_default();
        list.push((lo, hi));
        list.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(list.len());
        for &(a, b) in list.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *list = merged;
    }

    pub fn is_empty(&self) -> bool {
        self.sets.values().all(|v| v.is_empty())
    }

    /// The GTIDs in `self` that are not in `other`.
    pub fn subtract(&self, other: &GtidSet) -> GtidSet {
        let mut out = GtidSet::default();
        for (source, intervals) in &self.sets {
            let holes = other.sets.get(source).map(Vec::as_slice).unwrap_or(&[]);
            let mut kept = Vec::new();
            for &(lo, hi) in intervals {
                let mut start = lo;
                for &(hlo, hhi) in holes {
                    if hhi < start || hlo > hi {
                        continue;
                    }
                    if hlo > start {
                        kept.push((start, hlo - 1));
                    }
                    start = hhi.saturating_add(1);
                    if start > hi {
                        break;
                    }
                }
                if start <= hi {
                    kept.push((start, hi));
                }
            }
            if !kept.is_empty() {
                out.sets.insert(source.clone(), kept);
            }
        }
        out
    }

    /// Removes every GTID originating from `source` (a server UUID).
    pub fn without_source(&self, source: &str) -> GtidSet {
        let source = source.to_ascii_lowercase();
        let mut out = self.clone();
        out.sets.retain(|s, _| s != &source && !s.starts_with(&format!("{source}:")));
        out
    }

    /// The first GTID of the set (smallest source, lowest number), as `uuid:n`.
    pub fn first(&self) -> Option<String> {
        self.sets.iter().find_map(|(source, intervals)| intervals.first().map(|(lo, _)| format!("{source}:{lo}")))
    }

    /// Every GTID of the set one by one (`uuid:n`, or `uuid:tag:n` for tagged ones), smallest
    /// source first, in ascending order: what a server accepts as `gtid_next`.
    pub fn iter(&self) -> impl Iterator<Item = String> + '_ {
        self.sets.iter().flat_map(|(source, intervals)| {
            intervals.iter().flat_map(move |&(lo, hi)| (lo..=hi).map(move |n| format!("{source}:{n}")))
        })
    }

    /// True when every GTID of `self` is also in `other`.
    pub fn is_subset_of(&self, other: &GtidSet) -> bool {
        self.subtract(other).is_empty()
    }
}

fn parse_num(text: &str) -> Result<u64, String> {
    text.parse::<u64>().map_err(|_| format!("invalid GTID number {text:?}"))
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (source, intervals) in &self.sets {
            if intervals.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(source)?;
            for (lo, hi) in intervals {
                if lo == hi {
                    write!(f, ":{lo}")?;
                } else {
                    write!(f, ":{lo}-{hi}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const B: &str = "4f22fa47-71ca-11e1-9e33-c80aa9429562";

    #[test]
    fn parses_and_prints_the_server_form() {
        let s = GtidSet::parse(&format!("{A}:1-5:7,\n{B}:1-3")).unwrap();
        assert_eq!(s.to_string(), format!("{A}:1-5:7,{B}:1-3"));
        assert_eq!(GtidSet::parse(&format!("{A}:1-3:4-6")).unwrap().to_string(), format!("{A}:1-6"));
        assert!(GtidSet::parse("").unwrap().is_empty());
        assert!(GtidSet::parse("nonsense:1").is_err());
        assert!(GtidSet::parse(&format!("{A}:5-1")).is_err());
    }

    #[test]
    fn subtracts_interval_by_interval() {
        let replica = GtidSet::parse(&format!("{A}:1-10,{B}:1-2")).unwrap();
        let source = GtidSet::parse(&format!("{A}:1-3:5-8")).unwrap();
        assert_eq!(replica.subtract(&source).to_string(), format!("{A}:4:9-10,{B}:1-2"));
        assert!(source.is_subset_of(&replica));
        assert!(!replica.is_subset_of(&source));
        assert_eq!(replica.without_source(B).to_string(), format!("{A}:1-10"));
        assert_eq!(replica.subtract(&source).first(), Some(format!("{A}:4")));
        assert_eq!(GtidSet::default().first(), None);
    }

    #[test]
    fn iterates_gtid_by_gtid() {
        let s = GtidSet::parse(&format!("{B}:7,{A}:1-2:5,{A}:tag:3")).unwrap();
        let all: Vec<String> = s.iter().collect();
        assert_eq!(all, [format!("{A}:1"), format!("{A}:2"), format!("{A}:5"), format!("{A}:tag:3"), format!("{B}:7")]);
        assert_eq!(GtidSet::default().iter().count(), 0);
    }
}
