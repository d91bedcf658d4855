//! Pan and zoom of the graph, and which card (and which part of it) a point falls on. Pure
//! arithmetic on the layout, so dragging needs no DOM hit testing and is tested without a
//! browser.

use crate::model::layout::{Layout, LayoutSettings};
use crate::model::InstanceKey;
use crate::rules::drop::Zone;

/// Zoom limits: 500 servers fit at the smallest, text is large at the biggest.
pub const MIN_SCALE: f64 = 0.05;
pub const MAX_SCALE: f64 = 3.0;
/// Room around the drawing.
pub const MARGIN: f64 = 24.0;
/// Height of the strip at the top of a card that means "in place of this server".
pub const REPLACE_STRIP: f64 = 22.0;
/// Height of the replicas handle below a card with replicas.
pub const HANDLE: f64 = 18.0;

/// Screen position of the drawing: screen = drawing × scale + (x, y).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub x: f64,
    pub y: f64,
    pub scale: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport { x: MARGIN, y: MARGIN, scale: 1.0 }
    }
}

impl Viewport {
    /// The `transform` attribute of the drawing's group.
    pub fn transform(&self) -> String {
        format!("translate({:.1} {:.1}) scale({:.4})", self.x, self.y, self.scale)
    }

    /// A screen point (relative to the SVG's corner) in drawing units.
    pub fn to_drawing(&self, sx: f64, sy: f64) -> (f64, f64) {
        ((sx - self.x) / self.scale, (sy - self.y) / self.scale)
    }

    pub fn panned(&self, dx: f64, dy: f64) -> Viewport {
        Viewport { x: self.x + dx, y: self.y + dy, ..*self }
    }

    /// Zoomed by `factor` keeping the drawing point under (sx, sy) where it is.
    pub fn zoomed(&self, factor: f64, sx: f64, sy: f64) -> Viewport {
        let scale = (self.scale * factor).clamp(MIN_SCALE, MAX_SCALE);
        let (dx, dy) = self.to_drawing(sx, sy);
        Viewport { x: sx - dx * scale, y: sy - dy * scale, scale }
    }

    /// Shows the whole drawing in a `width` × `height` screen area, never enlarged above 1:1,
    /// centred horizontally.
    pub fn fit(layout: &Layout, width: f64, height: f64) -> Viewport {
        if layout.width <= 0.0 || width <= 0.0 || height <= 0.0 {
            return Viewport::default();
        }
        let sx = (width - 2.0 * MARGIN) / layout.width;
        let sy = (height - 2.0 * MARGIN) / (layout.height + HANDLE);
        let scale = sx.min(sy).clamp(MIN_SCALE, 1.0);
        let x = ((width - layout.width * scale) / 2.0).max(MARGIN.min(width / 2.0));
        Viewport { x, y: MARGIN, scale }
    }
}

/// What lies under a drawing point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A card, and which zone of it.
    Card(InstanceKey, Zone),
    /// The replicas handle below a card.
    Handle(InstanceKey),
}

/// The card or handle at drawing point (x, y), if any.
pub fn hit(layout: &Layout, s: &LayoutSettings, x: f64, y: f64, has_replicas: impl Fn(&InstanceKey) -> bool) -> Option<Hit> {
    // Cards of one row share a y; a row's cards never overlap, so the first match is the one.
    layout.positions.iter().find_map(|(key, &(cx, cy))| {
        if x < cx || x > cx + s.card_width {
            return None;
        }
        if y >= cy && y <= cy + s.card_height {
            let zone = if y <= cy + REPLACE_STRIP { Zone::Replace } else { Zone::Below };
            return Some(Hit::Card(key.clone(), zone));
        }
        let handle_left = cx + s.card_width / 2.0 - 30.0;
        let on_handle = y > cy + s.card_height && y <= cy + s.card_height + HANDLE && x >= handle_left && x <= handle_left + 60.0;
        (on_handle && has_replicas(key)).then(|| Hit::Handle(key.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn layout() -> (Layout, LayoutSettings) {
        let s = LayoutSettings::default();
        let mut positions = BTreeMap::new();
        positions.insert(InstanceKey::new("p", 1), (122.0, 0.0));
        positions.insert(InstanceKey::new("a", 1), (0.0, 152.0));
        positions.insert(InstanceKey::new("b", 1), (244.0, 152.0));
        (Layout { positions, width: 464.0, height: 248.0 }, s)
    }

    #[test]
    fn points_map_to_cards_zones_and_handles() {
        let (l, s) = layout();
        let yes = |_: &InstanceKey| true;
        assert_eq!(hit(&l, &s, 130.0, 5.0, yes), Some(Hit::Card(InstanceKey::new("p", 1), Zone::Replace)));
        assert_eq!(hit(&l, &s, 130.0, 60.0, yes), Some(Hit::Card(InstanceKey::new("p", 1), Zone::Below)));
        assert_eq!(hit(&l, &s, 300.0, 200.0, yes), Some(Hit::Card(InstanceKey::new("b", 1), Zone::Below)));
        assert_eq!(hit(&l, &s, 232.0, 105.0, yes), Some(Hit::Handle(InstanceKey::new("p", 1))));
        assert_eq!(hit(&l, &s, 232.0, 105.0, |_| false), None);
        assert_eq!(hit(&l, &s, 230.0, 200.0, yes), None, "the gap between a and b");
    }

    #[test]
    fn zoom_keeps_the_point_under_the_pointer() {
        let v = Viewport::default();
        let before = v.to_drawing(400.0, 300.0);
        let z = v.zoomed(1.7, 400.0, 300.0);
        let after = z.to_drawing(400.0, 300.0);
        assert!((before.0 - after.0).abs() < 1e-9 && (before.1 - after.1).abs() < 1e-9);
        assert_eq!(v.zoomed(1e9, 0.0, 0.0).scale, MAX_SCALE);
        assert_eq!(v.panned(10.0, -5.0).to_drawing(MARGIN + 10.0, MARGIN - 5.0), (0.0, 0.0));
    }

    #[test]
    fn fit_shows_a_wide_cluster_whole() {
        let (mut l, _) = layout();
        l.width = 500.0 * 244.0;
        let v = Viewport::fit(&l, 1280.0, 700.0);
        assert!(l.width * v.scale <= 1280.0 - 2.0 * MARGIN + 1e-6 || v.scale == MIN_SCALE);
        let small = Viewport::fit(&layout().0, 1280.0, 700.0);
        assert_eq!(small.scale, 1.0, "a small cluster is not blown up");
        assert!(small.x > MARGIN, "and is centred");
    }
}
