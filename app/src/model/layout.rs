//! A tidy-tree layout for the topology graph: every server a card of the same size, replicas
//! one row below their source, parents centred over their replicas, subtrees packed as close
//! as their contours allow and never overlapping, however wide. Pure and deterministic, so the
//! server can render the SVG and the browser lays it out identically.
//!
//! The algorithm is the contour method of Reingold and Tilford: lay out each subtree, then
//! place sibling subtrees left to right, each as far left as the right contour of those already
//! placed allows, level by level. O(n · depth).

use super::tree::Tree;
use super::{Instance, InstanceKey};
use std::collections::BTreeMap;

/// Sizes in SVG user units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutSettings {
    pub card_width: f64,
    pub card_height: f64,
    /// Horizontal space between neighbouring cards.
    pub gap_x: f64,
    /// Vertical space between a source and its replicas.
    pub gap_y: f64,
}

impl Default for LayoutSettings {
    fn default() -> Self {
        LayoutSettings { card_width: 220.0, card_height: 96.0, gap_x: 24.0, gap_y: 56.0 }
    }
}

/// Where each card goes (its top-left corner) and the size of the whole drawing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub positions: BTreeMap<InstanceKey, (f64, f64)>,
    pub width: f64,
    pub height: f64,
}

/// A laid-out subtree: x of each node relative to the subtree's root, and per level the
/// leftmost and rightmost x.
struct Subtree {
    xs: Vec<(InstanceKey, f64, usize)>,
    contour: Vec<(f64, f64)>,
}

impl Subtree {
    fn shift(&mut self, dx: f64) {
        for (_, x, _) in &mut self.xs {
            *x += dx;
        }
        for (l, r) in &mut self.contour {
            *l += dx;
            *r += dx;
        }
    }
}

/// Places `next` right of `placed` (both relative to the same origin), as close as the
/// contours allow; returns the shift applied to `next`.
fn pack(placed: &mut Subtree, mut next: Subtree, spacing: f64) -> f64 {
    let shift = placed
        .contour
        .iter()
        .zip(&next.contour)
        .map(|((_, right), (left, _))| right - left + spacing)
        .fold(f64::MIN, f64::max);
    let shift = if shift == f64::MIN { 0.0 } else { shift };
    next.shift(shift);
    for (level, bounds) in next.contour.iter().enumerate() {
        match placed.contour.get_mut(level) {
            Some(c) => {
                c.0 = c.0.min(bounds.0);
                c.1 = c.1.max(bounds.1);
            }
            None => placed.contour.push(*bounds),
        }
    }
    placed.xs.extend(next.xs);
    shift
}

fn lay_out(tree: &Tree, inst: &Instance, depth: usize, spacing: f64, guard: &mut usize) -> Subtree {
    *guard += 1;
    let kids = tree.children.get(&inst.key).cloned().unwrap_or_default();
    if kids.is_empty() || *guard > 100_000 {
        return Subtree { xs: vec![(inst.key.clone(), 0.0, depth)], contour: vec![(0.0, 0.0)] };
    }
    let mut children = Subtree { xs: Vec::new(), contour: Vec::new() };
    let mut child_xs = Vec::new();
    for kid in kids {
        let sub = lay_out(tree, kid, depth + 1, spacing, guard);
        let shift = if children.xs.is_empty() {
            children = sub;
            0.0
        } else {
            pack(&mut children, sub, spacing)
        };
        child_xs.push(shift);
    }
    // Centre the parent over its first and last replica, at x = 0.
    let centre = (child_xs.first().copied().unwrap_or(0.0) + child_xs.last().copied().unwrap_or(0.0)) / 2.0;
    children.shift(-centre);
    let mut contour = vec![(0.0, 0.0)];
    contour.extend(children.contour);
    let mut xs = vec![(inst.key.clone(), 0.0, depth)];
    xs.extend(children.xs);
    Subtree { xs, contour }
}

/// Lays out one cluster's members.
pub fn layout(members: &[Instance], s: &LayoutSettings) -> Layout {
    let tree = Tree::build(members);
    let spacing = s.card_width + s.gap_x;
    let mut forest = Subtree { xs: Vec::new(), contour: Vec::new() };
    let mut guard = 0;
    for root in &tree.roots {
        let sub = lay_out(&tree, root, 0, spacing, &mut guard);
        if forest.xs.is_empty() {
            forest = sub;
        } else {
            pack(&mut forest, sub, spacing);
        }
    }
    let min_x = forest.xs.iter().map(|(_, x, _)| *x).fold(f64::INFINITY, f64::min);
    let max_x = forest.xs.iter().map(|(_, x, _)| *x).fold(f64::NEG_INFINITY, f64::max);
    let levels = forest.xs.iter().map(|(_, _, d)| *d).max().map(|d| d + 1).unwrap_or(0);
    let positions = forest
        .xs
        .into_iter()
        .map(|(k, x, depth)| (k, (x - min_x, depth as f64 * (s.card_height + s.gap_y))))
        .collect::<BTreeMap<_, _>>();
    let width = if positions.is_empty() { 0.0 } else { max_x - min_x + s.card_width };
    let height = if levels == 0 { 0.0 } else { levels as f64 * s.card_height + (levels - 1) as f64 * s.gap_y };
    Layout { positions, width, height }
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

    fn assert_no_overlap(l: &Layout, s: &LayoutSettings) {
        let cards: Vec<&(f64, f64)> = l.positions.values().collect();
        for (i, a) in cards.iter().enumerate() {
            for b in &cards[i + 1..] {
                let apart = (a.0 - b.0).abs() >= s.card_width + s.gap_x - 1e-6 || (a.1 - b.1).abs() >= s.card_height - 1e-6;
                assert!(apart, "cards at {a:?} and {b:?} overlap");
            }
        }
    }

    #[test]
    fn a_primary_is_centred_over_its_replicas() {
        let s = LayoutSettings::default();
        let members = [inst("p", None), inst("a", Some("p")), inst("b", Some("p")), inst("c", Some("p"))];
        let l = layout(&members, &s);
        let x = |n: &str| l.positions[&InstanceKey::new(n, 1)].0;
        assert!((x("p") - x("b")).abs() < 1e-9, "p centred over the middle replica");
        assert!((x("b") - x("a") - (s.card_width + s.gap_x)).abs() < 1e-9);
        assert_eq!(l.positions[&InstanceKey::new("a", 1)].1, s.card_height + s.gap_y);
        assert!((l.width - (3.0 * s.card_width + 2.0 * s.gap_x)).abs() < 1e-9);
        assert_no_overlap(&l, &s);
    }

    #[test]
    fn deep_and_wide_subtrees_never_overlap() {
        let s = LayoutSettings::default();
        // A primary with 20 intermediate primaries of 0..25 replicas each (500+ servers).
        let mut members = vec![inst("p", None)];
        for i in 0..20 {
            members.push(inst(&format!("im{i}"), Some("p")));
            for j in 0..(i * 7 % 26) {
                members.push(inst(&format!("r{i}-{j}"), Some(&format!("im{i}"))));
                if j % 5 == 0 {
                    members.push(inst(&format!("rr{i}-{j}"), Some(&format!("r{i}-{j}"))));
                }
            }
        }
        let l = layout(&members, &s);
        assert_eq!(l.positions.len(), members.len());
        assert_no_overlap(&l, &s);
        assert!(l.positions.values().all(|(x, y)| *x >= 0.0 && *y >= 0.0 && *x + s.card_width <= l.width + 1e-6));
    }

    #[test]
    fn co_masters_and_separate_roots_sit_side_by_side() {
        let mut a = inst("a", Some("b"));
        let mut b = inst("b", Some("a"));
        a.is_co_master = true;
        b.is_co_master = true;
        let members = [a, b, inst("r", Some("a"))];
        let s = LayoutSettings::default();
        let l = layout(&members, &s);
        assert_eq!(l.positions[&InstanceKey::new("a", 1)].1, 0.0);
        assert_eq!(l.positions[&InstanceKey::new("b", 1)].1, 0.0);
        assert_no_overlap(&l, &s);
    }
}
