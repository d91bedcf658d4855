//! Ancestry in one topology: who is whose source, descendant, sibling or grandparent.

use crate::model::{Instance, InstanceKey};
use std::collections::{BTreeMap, BTreeSet};

/// A set of instances indexed by key, for ancestry questions.
#[derive(Clone, Debug, Default)]
pub struct Family<'a> {
    by_key: BTreeMap<&'a InstanceKey, &'a Instance>,
}

impl<'a> Family<'a> {
    pub fn new(instances: impl IntoIterator<Item = &'a Instance>) -> Family<'a> {
        Family { by_key: instances.into_iter().map(|i| (&i.key, i)).collect() }
    }

    pub fn get(&self, key: &InstanceKey) -> Option<&'a Instance> {
        self.by_key.get(key).copied()
    }

    /// The source of `key`, when it is a known instance.
    pub fn source_of(&self, key: &InstanceKey) -> Option<&'a Instance> {
        let inst = self.get(key)?;
        if inst.master_key.is_empty() {
            return None;
        }
        self.get(&inst.master_key)
    }

    /// Known instances replicating directly from `key`, ordered by key.
    pub fn replicas_of(&self, key: &InstanceKey) -> Vec<&'a Instance> {
        self.by_key.values().filter(|i| i.master_key == *key).copied().collect()
    }

    /// True when `candidate` replicates, directly or not, from `ancestor`.
    pub fn is_descendant(&self, candidate: &InstanceKey, ancestor: &InstanceKey) -> bool {
        let mut seen = BTreeSet::new();
        let mut current = candidate.clone();
        while let Some(inst) = self.get(&current) {
            if inst.master_key.is_empty() || !seen.insert(current.clone()) {
                return false;
            }
            if inst.master_key == *ancestor {
                return true;
            }
            current = inst.master_key.clone();
        }
        false
    }

    /// Both replicate from the same source.
    pub fn are_siblings(&self, a: &InstanceKey, b: &InstanceKey) -> bool {
        match (self.get(a), self.get(b)) {
            (Some(x), Some(y)) => a != b && !x.master_key.is_empty() && x.master_key == y.master_key,
            _ => false,
        }
    }

    /// The source of the source of `key`.
    pub fn grandparent_of(&self, key: &InstanceKey) -> Option<&'a Instance> {
        let parent = self.source_of(key)?;
        self.source_of(&parent.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str, master: Option<&str>) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(name, 1));
        if let Some(m) = master {
            i.master_key = InstanceKey::new(m, 1);
        }
        i
    }

    #[test]
    fn ancestry_questions() {
        let all = [inst("p", None), inst("a", Some("p")), inst("b", Some("p")), inst("c", Some("a")), inst("x", Some("y")), inst("y", Some("x"))];
        let f = Family::new(all.iter());
        let k = |n: &str| InstanceKey::new(n, 1);
        assert!(f.is_descendant(&k("c"), &k("p")));
        assert!(f.is_descendant(&k("c"), &k("a")));
        assert!(!f.is_descendant(&k("a"), &k("c")));
        assert!(!f.is_descendant(&k("x"), &k("p")), "a cycle ends the walk");
        assert!(f.are_siblings(&k("a"), &k("b")));
        assert!(!f.are_siblings(&k("a"), &k("a")));
        assert!(!f.are_siblings(&k("p"), &k("x")));
        assert_eq!(f.grandparent_of(&k("c")).map(|i| i.key.hostname.as_str()), Some("p"));
        assert_eq!(f.replicas_of(&k("p")).len(), 2);
    }
}
