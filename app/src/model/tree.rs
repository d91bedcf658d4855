//! The replication tree of one cluster, built from each member's `MasterKey`. Pure: used by the
//! server's text rendering and by the browser's graph alike.

use super::{Instance, InstanceKey};
use std::collections::{BTreeMap, BTreeSet};

/// Members of one cluster arranged as a forest: roots, and children per parent.
#[derive(Debug, Default, Clone)]
pub struct Tree<'a> {
    /// Tops of the tree: instances whose source is not a member (the primary), and co-masters.
    pub roots: Vec<&'a Instance>,
    /// Direct replicas of each member, ordered by key.
    pub children: BTreeMap<&'a InstanceKey, Vec<&'a Instance>>,
}

impl<'a> Tree<'a> {
    /// Builds the tree. Co-masters (two members replicating from each other) both become roots,
    /// as orchestrator prints them; any other cycle is broken at its smallest key.
    pub fn build(members: &'a [Instance]) -> Tree<'a> {
        let by_key: BTreeMap<&InstanceKey, &Instance> = members.iter().map(|i| (&i.key, i)).collect();
        let mut tree = Tree::default();
        let mut sorted: Vec<&Instance> = members.iter().collect();
        sorted.sort_by(|a, b| a.key.cmp(&b.key));
        for inst in &sorted {
            let parent = by_key.get(&inst.master_key).filter(|_| !inst.master_key.is_empty());
            match parent {
                Some(parent) if !inst.is_co_master => tree.children.entry(&parent.key).or_default().push(inst),
                _ => tree.roots.push(inst),
            }
        }
        // Members unreachable from any root sit on a cycle that is not a co-master pair.
        let reached: BTreeSet<&InstanceKey> = tree.depth_first().iter().map(|(_, i)| &i.key).collect();
        if reached.len() < members.len() {
            if let Some(orphan) = sorted.iter().find(|i| !reached.contains(&i.key)) {
                for list in tree.children.values_mut() {
                    list.retain(|c| c.key != orphan.key);
                }
                tree.roots.push(orphan);
            }
        }
        tree
    }

    /// Every member with its depth below the roots, parents before children.
    pub fn depth_first(&self) -> Vec<(usize, &'a Instance)> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for root in &self.roots {
            self.walk(root, 0, &mut out, &mut seen);
        }
        out
    }

    fn walk(&self, inst: &'a Instance, depth: usize, out: &mut Vec<(usize, &'a Instance)>, seen: &mut BTreeSet<&'a InstanceKey>) {
        if !seen.insert(&inst.key) {
            return;
        }
        out.push((depth, inst));
        if let Some(kids) = self.children.get(&inst.key) {
            for kid in kids {
                self.walk(kid, depth + 1, out, seen);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str, master: Option<&str>) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(name, 3306));
        if let Some(m) = master {
            i.master_key = InstanceKey::new(m, 3306);
        }
        i
    }

    #[test]
    fn chain_and_star_are_walked_depth_first() {
        let members = vec![inst("c", Some("b")), inst("a", None), inst("b", Some("a")), inst("d", Some("a"))];
        let tree = Tree::build(&members);
        let order: Vec<(usize, String)> =
            tree.depth_first().iter().map(|(d, i)| (*d, i.key.hostname.clone())).collect();
        assert_eq!(order, vec![(0, "a".into()), (1, "b".into()), (2, "c".into()), (1, "d".into())]);
    }

    #[test]
    fn co_masters_are_both_roots_and_a_plain_cycle_is_broken() {
        let mut a = inst("a", Some("b"));
        let mut b = inst("b", Some("a"));
        a.is_co_master = true;
        b.is_co_master = true;
        let members = vec![a, b, inst("r", Some("a"))];
        let tree = Tree::build(&members);
        assert_eq!(tree.roots.len(), 2);
        assert_eq!(tree.depth_first().len(), 3);

        let cycle = vec![inst("x", Some("y")), inst("y", Some("x"))];
        let tree = Tree::build(&cycle);
        assert_eq!(tree.depth_first().len(), 2);
    }
}
