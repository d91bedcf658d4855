//! The topology graph: an SVG tree of cards, laid out in Rust, with pan and zoom, and drag to
//! relocate. While a card (or its replicas handle) is dragged, every card says whether a drop
//! there is accepted, from the same rules the server enforces (`rules::drop`); the hovered card
//! says what the drop would do or why not. A drop hands the operation to the page, which asks
//! the server for its plan before anything runs.
//!
//! The same works without a mouse: the page sets `picking` (from the instance panel's "Move
//! below…"), cards show their verdicts, and Enter on a card drops there; Escape cancels.

use super::card::{card, CardView};
use super::viewport::{hit, Hit, Viewport, HANDLE, REPLACE_STRIP};
use crate::model::layout::{layout, Layout, LayoutSettings};
use crate::model::ops::Operation;
use crate::model::{Instance, InstanceKey};
use crate::rules::drop::{decide, DropDecision, Dragged, Zone};
use crate::rules::RuleSettings;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Card sizes of the graph (room for seven lines of text).
pub fn graph_settings() -> LayoutSettings {
    LayoutSettings { card_width: 236.0, card_height: 142.0, gap_x: 28.0, gap_y: 64.0 }
}

/// Pointer moves shorter than this are a click, not a drag.
const DRAG_THRESHOLD: f64 = 5.0;

#[derive(Clone, Debug, PartialEq)]
enum Gesture {
    Idle,
    /// Pointer down on a card or handle, not yet moved far enough to be a drag.
    Pressed { hit: Hit, sx: f64, sy: f64 },
    /// Dragging: pointer position in drawing units.
    Dragging { dragged: Dragged, x: f64, y: f64 },
    Panning { sx: f64, sy: f64, from: Viewport },
}

/// What every card would do with the dragged thing dropped on its body.
fn previews(members: &[Instance], dragged: &Dragged, settings: &RuleSettings) -> BTreeMap<InstanceKey, DropDecision> {
    members.iter().map(|m| (m.key.clone(), decide(members, dragged, &m.key, Zone::Below, settings))).collect()
}

/// The edges of the tree: (from source's bottom centre to replica's top centre) as SVG paths.
fn edges(members: &[Instance], l: &Layout, s: &LayoutSettings) -> Vec<(String, String, bool)> {
    members
        .iter()
        .filter_map(|i| {
            let (cx, cy) = *l.positions.get(&i.key)?;
            let (px, py) = *l.positions.get(&i.master_key)?;
            if i.is_co_master {
                // Co-masters sit side by side: a horizontal double arrow between them.
                let (a, b) = if px < cx { (px + s.card_width, cx) } else { (cx + s.card_width, px) };
                let y = cy + s.card_height / 2.0;
                return Some((i.key.to_string(), format!("M {a:.1} {y:.1} L {b:.1} {y:.1}"), true));
            }
            // From below the source's replicas handle.
            let (x1, y1) = (px + s.card_width / 2.0, py + s.card_height + HANDLE);
            let (x2, y2) = (cx + s.card_width / 2.0, cy);
            let my = (y1 + y2) / 2.0;
            let broken = !i.is_replicating();
            Some((i.key.to_string(), format!("M {x1:.1} {y1:.1} C {x1:.1} {my:.1}, {x2:.1} {my:.1}, {x2:.1} {y2:.1}"), broken))
        })
        .collect()
}

/// The graph of one cluster.
#[component]
pub fn Graph(
    /// The cluster's members, live.
    members: Signal<Vec<Instance>>,
    /// The card whose details the page shows.
    selected: RwSignal<Option<InstanceKey>>,
    /// Keyboard path: what is being moved while the operator picks a target.
    picking: RwSignal<Option<Dragged>>,
    /// Called with the operation of an accepted drop.
    on_drop: Callback<Operation>,
    settings: Signal<RuleSettings>,
    /// False on a read-only node: nothing can be dragged.
    can_write: Signal<bool>,
) -> AnyView {
    let ls = graph_settings();
    let laid = Memo::new(move |_| members.with(|m| layout(m, &ls)));
    let cards = Memo::new(move |_| {
        members.with(|m| {
            let mut below: BTreeMap<&InstanceKey, usize> = BTreeMap::new();
            for i in m.iter().filter(|i| i.is_replica() && !i.is_co_master) {
                *below.entry(&i.master_key).or_default() += 1;
            }
            m.iter().map(|i| (i.key.clone(), card(i, below.get(&i.key).copied().unwrap_or(0)))).collect::<BTreeMap<_, _>>()
        })
    });
    let viewport = RwSignal::new(Viewport::default());
    // Whether the view follows the drawing's size (until the operator pans or zooms).
    let auto_fit = RwSignal::new(true);
    let gesture = RwSignal::new(Gesture::Idle);
    let hover = RwSignal::new(None::<Hit>);
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();

    let dragged = Memo::new(move |_| match gesture.get() {
        Gesture::Dragging { dragged, .. } => Some(dragged),
        _ => picking.get(),
    });
    let verdicts = Memo::new(move |_| match dragged.get() {
        Some(d) => members.with(|m| previews(m, &d, &settings.get())),
        None => BTreeMap::new(),
    });
    // The hovered target's decision, for the zone under the pointer.
    let hovered = Memo::new(move |_| {
        let d = dragged.get()?;
        let Some(Hit::Card(key, zone)) = hover.get() else { return None };
        let decision = members.with(|m| decide(m, &d, &key, zone, &settings.get()));
        Some((key, zone, decision))
    });

    // Screen point of a pointer event, relative to the SVG's corner.
    let local = move |client_x: i32, client_y: i32| -> (f64, f64) {
        #[cfg(feature = "hydrate")]
        if let Some(svg) = svg_ref.get_untracked() {
            let r = svg.get_bounding_client_rect();
            return (f64::from(client_x) - r.left(), f64::from(client_y) - r.top());
        }
        (f64::from(client_x), f64::from(client_y))
    };
    let hit_at = move |sx: f64, sy: f64| {
        let (x, y) = viewport.get_untracked().to_drawing(sx, sy);
        let has_replicas = |k: &InstanceKey| cards.with_untracked(|c| c.get(k).map(|c| c.replicas > 0).unwrap_or(false));
        laid.with_untracked(|l| hit(l, &ls, x, y, has_replicas))
    };
    let finish_drop = move |target: Option<(InstanceKey, Zone, DropDecision)>| {
        if let Some((_, _, DropDecision::Accept { operation, .. })) = target {
            on_drop.run(operation);
        }
    };

    let on_pointerdown = move |ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let (sx, sy) = local(ev.client_x(), ev.client_y());
        let next = match hit_at(sx, sy) {
            Some(h) => Gesture::Pressed { hit: h, sx, sy },
            None => Gesture::Panning { sx, sy, from: viewport.get_untracked() },
        };
        #[cfg(feature = "hydrate")]
        if let Some(svg) = svg_ref.get_untracked() {
            let _ = svg.set_pointer_capture(ev.pointer_id());
        }
        gesture.set(next);
    };
    let on_pointermove = move |ev: leptos::ev::PointerEvent| {
        let (sx, sy) = local(ev.client_x(), ev.client_y());
        match gesture.get_untracked() {
            Gesture::Idle => {}
            Gesture::Panning { sx: x0, sy: y0, from } => {
                auto_fit.set(false);
                viewport.set(from.panned(sx - x0, sy - y0));
            }
            Gesture::Pressed { hit: h, sx: x0, sy: y0 } => {
                if (sx - x0).hypot(sy - y0) >= DRAG_THRESHOLD && can_write.get_untracked() {
                    let dragged = match h {
                        Hit::Card(k, _) => Dragged::Instance(k),
                        Hit::Handle(k) => Dragged::ReplicasOf(k),
                    };
                    let (x, y) = viewport.get_untracked().to_drawing(sx, sy);
                    picking.set(None);
                    gesture.set(Gesture::Dragging { dragged, x, y });
                }
            }
            Gesture::Dragging { dragged, .. } => {
                let (x, y) = viewport.get_untracked().to_drawing(sx, sy);
                gesture.set(Gesture::Dragging { dragged, x, y });
                let h = hit_at(sx, sy);
                if hover.get_untracked() != h {
                    hover.set(h);
                }
            }
        }
    };
    let on_pointerup = move |_ev: leptos::ev::PointerEvent| {
        match gesture.get_untracked() {
            Gesture::Pressed { hit: Hit::Card(k, _), .. } | Gesture::Pressed { hit: Hit::Handle(k), .. } => {
                if let Some(d) = picking.get_untracked() {
                    let decision = members.with_untracked(|m| decide(m, &d, &k, Zone::Below, &settings.get_untracked()));
                    picking.set(None);
                    finish_drop(Some((k, Zone::Below, decision)));
                } else {
                    selected.set(Some(k));
                }
            }
            Gesture::Dragging { .. } => finish_drop(hovered.get_untracked()),
            _ => {}
        }
        gesture.set(Gesture::Idle);
        hover.set(None);
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let (sx, sy) = local(ev.client_x(), ev.client_y());
        let factor = (-ev.delta_y() * 0.0015).exp();
        auto_fit.set(false);
        viewport.update(|v| *v = v.zoomed(factor, sx, sy));
    };
    let fit = move || {
        #[cfg(feature = "hydrate")]
        if let Some(svg) = svg_ref.get_untracked() {
            let r = svg.get_bounding_client_rect();
            viewport.set(laid.with_untracked(|l| Viewport::fit(l, r.width(), r.height())));
        }
    };
    // Fit the drawing to the view when it first shows and whenever its size changes (a move
    // adds a level, a server joins), until the operator pans or zooms; "Fit" resumes that.
    let size = Memo::new(move |_| laid.with(|l| (l.width.round() as i64, l.height.round() as i64)));
    Effect::new(move |_| {
        // `get`, not `track`: the effect must subscribe to the size.
        let _ = size.get();
        if auto_fit.get_untracked() {
            fit();
        }
    });

    // And when the window changes size (a phone turned, a window resized).
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        if auto_fit.get_untracked() {
            fit();
        }
    });
    on_cleanup(move || resize.remove());

    let cancel = move || {
        picking.set(None);
        gesture.set(Gesture::Idle);
        hover.set(None);
    };
    let hint = move || {
        if let Some((key, _, d)) = hovered.get() {
            let verb = if d.is_accepted() { "✓" } else { "✕ refused:" };
            return Some((d.is_accepted(), format!("{verb} {} — {}", key, d.text())));
        }
        dragged.get().map(|d| {
            let what = match d {
                Dragged::Instance(k) => format!("Moving {k}"),
                Dragged::ReplicasOf(k) => format!("Moving the replicas of {k}"),
            };
            (true, format!("{what}: drop on a server (its top strip: take its place). Escape cancels."))
        })
    };

    view! {
        <div class="graph" class:dragging=move || dragged.get().is_some()
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { cancel() }>
            <div class="graph-tools">
                <button type="button" title="Zoom in" on:click=move |_| { auto_fit.set(false); viewport.update(|v| *v = v.zoomed(1.25, 200.0, 120.0)) }>"+"</button>
                <button type="button" title="Zoom out" on:click=move |_| { auto_fit.set(false); viewport.update(|v| *v = v.zoomed(0.8, 200.0, 120.0)) }>"−"</button>
                <button type="button" title="Show the whole cluster" on:click=move |_| { auto_fit.set(true); fit() }>"Fit"</button>
                {move || dragged.get().is_some().then(|| view! {
                    <button type="button" class="cancel" on:click=move |_| cancel()>"Cancel move"</button>
                })}
            </div>
            {move || hint().map(|(ok, text)| view! {
                <p class="drop-hint" class:refused=!ok role="status">{text}</p>
            })}
            <svg node_ref=svg_ref class="topology" role="group" aria-label="Replication topology"
                on:pointerdown=on_pointerdown on:pointermove=on_pointermove on:pointerup=on_pointerup
                on:pointercancel=move |_| cancel() on:wheel=on_wheel>
                <g transform=move || viewport.get().transform()>
                    <g class="edges">
                        {move || members.with(|m| laid.with(|l| edges(m, l, &ls))).into_iter().map(|(id, d, broken)| view! {
                            <path class="edge" class:broken=broken data-edge=id d=d/>
                        }).collect_view()}
                    </g>
                    <For each=move || laid.with(|l| l.positions.keys().cloned().collect::<Vec<_>>()) key=|k| k.to_string() let:key>
                        <Card key=key laid cards verdicts hovered selected picking on_drop settings members/>
                    </For>
                    {move || match gesture.get() {
                        Gesture::Dragging { dragged: Dragged::Instance(k), x, y } => {
                            let title = cards.with_untracked(|c| c.get(&k).map(|c| c.title.clone())).unwrap_or_default();
                            Some(view! {
                                <g class="ghost" transform=format!("translate({:.1} {:.1})", x - 20.0, y - 14.0)>
                                    <rect width="180" height="30" rx="6"/>
                                    <text x="10" y="20">{title}</text>
                                </g>
                            }.into_any())
                        }
                        Gesture::Dragging { dragged: Dragged::ReplicasOf(k), x, y } => Some(view! {
                            <g class="ghost" transform=format!("translate({:.1} {:.1})", x - 20.0, y - 14.0)>
                                <rect width="200" height="30" rx="6"/>
                                <text x="10" y="20">{format!("replicas of {k}")}</text>
                            </g>
                        }.into_any()),
                        _ => None,
                    }}
                </g>
            </svg>
        </div>
    }
    .into_any()
}

/// One card: its box, its text lines, its drop verdict while something is dragged.
#[component]
fn Card(
    key: InstanceKey,
    laid: Memo<Layout>,
    cards: Memo<BTreeMap<InstanceKey, CardView>>,
    verdicts: Memo<BTreeMap<InstanceKey, DropDecision>>,
    hovered: Memo<Option<(InstanceKey, Zone, DropDecision)>>,
    selected: RwSignal<Option<InstanceKey>>,
    picking: RwSignal<Option<Dragged>>,
    on_drop: Callback<Operation>,
    settings: Signal<RuleSettings>,
    members: Signal<Vec<Instance>>,
) -> impl IntoView {
    let ls = graph_settings();
    let k = key.clone();
    let pos = Memo::new(move |_| laid.with(|l| l.positions.get(&k).copied().unwrap_or_default()));
    let k = key.clone();
    let view_of = Memo::new(move |_| cards.with(|c| c.get(&k).cloned()));
    let k = key.clone();
    let verdict = Memo::new(move |_| verdicts.with(|v| v.get(&k).cloned()));
    let k = key.clone();
    let is_hovered = Memo::new(move |_| hovered.with(|h| h.as_ref().and_then(|(hk, zone, _)| (hk == &k).then_some(*zone))));
    let k = key.clone();
    let is_selected = Memo::new(move |_| selected.with(|s| s.as_ref() == Some(&k)));
    let id = key.to_string();
    let k = key.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Enter" && ev.key() != " " {
            return;
        }
        ev.prevent_default();
        match picking.get_untracked() {
            Some(d) => {
                let decision = members.with_untracked(|m| decide(m, &d, &k, Zone::Below, &settings.get_untracked()));
                if let DropDecision::Accept { operation, .. } = decision {
                    picking.set(None);
                    on_drop.run(operation);
                }
            }
            None => selected.set(Some(k.clone())),
        }
    };
    let (w, h) = (ls.card_width, ls.card_height);
    let label = move || {
        view_of.with(|c| match c {
            Some(c) => format!("{}, {}, {}{}", c.title, c.role, c.health.icon(), verdict.with(|v| v.as_ref().map(|d| format!(", drop: {}", d.text())).unwrap_or_default())),
            None => String::new(),
        })
    };
    view! {
        <g class=move || {
                let mut class = String::from("card");
                if let Some(c) = view_of.get() { class.push(' '); class.push_str(c.health.class()); }
                match verdict.get() {
                    Some(d) if d.is_accepted() => class.push_str(" drop-ok"),
                    Some(_) => class.push_str(" drop-no"),
                    None => {}
                }
                if is_hovered.get().is_some() { class.push_str(" hovered"); }
                if is_hovered.get() == Some(Zone::Replace) { class.push_str(" hovered-replace"); }
                if is_selected.get() { class.push_str(" selected"); }
                class
            }
            style=move || { let (x, y) = pos.get(); format!("transform: translate({x:.1}px, {y:.1}px)") }
            data-instance=id.clone()
            data-role=move || view_of.with(|c| c.as_ref().map(|c| c.role).unwrap_or_default())
            data-source=move || view_of.with(|c| c.as_ref().map(|c| c.source.clone()).unwrap_or_default())
            data-health=move || view_of.with(|c| c.as_ref().map(|c| c.health.class()).unwrap_or_default())
            data-drop=move || verdict.with(|v| v.as_ref().map(|d| if d.is_accepted() { "accept" } else { "refuse" }).unwrap_or_default())
            data-drop-reason=move || verdict.with(|v| v.as_ref().map(|d| d.text()).unwrap_or_default())
            tabindex="0" role="button" aria-label=label
            on:keydown=on_key>
            <title>{label}</title>
            <rect class="box" width=w height=h rx="8"/>
            {move || view_of.get().and_then(|c| c.data_center).map(|(dc, colour)| view! {
                <rect class="dc" width="6" height=h rx="3" style=format!("fill: {colour}")><title>{format!("data centre {dc}")}</title></rect>
            })}
            <rect class="strip" width=w height=REPLACE_STRIP rx="8"/>
            {move || view_of.get().map(|c| {
                let status = c.problems.first().cloned().or_else(|| c.marks.first().cloned()).unwrap_or_default();
                let extra = c.problems.len() + c.marks.len();
                let status = if extra > 1 { format!("{status} (+{})", extra - 1) } else { status };
                view! {
                    <text class="role" x=w - 10.0 y="15" text-anchor="end">{c.role}</text>
                    <text class="icon" x="12" y="15">{c.health.icon()}</text>
                    <text class="title" x="28" y="40">{c.title.clone()}</text>
                    <text class="line" x="12" y="59">{if c.address.is_empty() { format!("{} · {}", c.version, c.binlog) } else { c.address.clone() }}</text>
                    <text class="line" x="12" y="77">{if c.address.is_empty() { c.mode.to_string() } else { format!("{} · {}", c.version, c.binlog) }}</text>
                    <text class="line" x="12" y="95">{match (c.address.is_empty(), c.gtid.is_empty()) {
                        (true, true) => String::new(),
                        (true, false) => c.gtid.to_string(),
                        (false, true) => c.mode.to_string(),
                        (false, false) => format!("{} · {}", c.mode, c.gtid),
                    }}</text>
                    <text class="line repl" x="12" y="113">{c.replication.clone()}</text>
                    <text class="line status" x="12" y="131">{status}</text>
                    {(c.replicas > 0).then(|| view! {
                        <g class="handle" transform=format!("translate({:.1} {:.1})", w / 2.0 - 30.0, h)>
                            <rect width="60" height=HANDLE rx="5"/>
                            <text x="30" y="13" text-anchor="middle">{format!("⇣ {}", c.replicas)}</text>
                            <title>{format!("Drag to move the {} replicas", c.replicas)}</title>
                        </g>
                    })}
                }
            })}
            {move || verdict.get().map(|d| view! {
                <text class="verdict" x=w - 12.0 y="44" text-anchor="end">{if d.is_accepted() { "✓" } else { "✕" }}</text>
            })}
        </g>
    }
}
