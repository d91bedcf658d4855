//! Live data for open pages: the browser listens to the node's server-sent events
//! (`/_live/clusters`) and every page reading `Live` re-draws when a cluster changes, without
//! polling and without reloading. `stale` turns on when the node stops answering (the stream
//! errors, or not even its ping arrived for `STALE_AFTER_MS`), and off with the next message.

use crate::model::ClusterOverview;
use leptos::prelude::*;

/// Where the node streams clusters (see the server's `http::live`).
pub const STREAM_PATH: &str = "/_live/clusters";
/// The node pings every 2 s; three missed pings mean it is gone.
pub const STALE_AFTER_MS: f64 = 6_000.0;

/// What the node last said, and whether it is still saying it.
#[derive(Clone, Copy)]
pub struct Live {
    /// `None` until the first event (pages show their server-rendered data until then).
    pub clusters: RwSignal<Option<Vec<ClusterOverview>>>,
    pub stale: RwSignal<bool>,
}

/// Connects the page to the node's stream for as long as the calling component lives.
pub fn use_live() -> Live {
    let live = Live { clusters: RwSignal::new(None), stale: RwSignal::new(false) };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::connect(live));
    live
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{Live, STALE_AFTER_MS, STREAM_PATH};
    use crate::model::ClusterOverview;
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    /// The stream and its callbacks, kept alive together and closed together.
    struct Connection {
        source: EventSource,
        _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    }

    /// Milliseconds on the page's monotonic clock.
    fn now() -> f64 {
        web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
    }

    pub fn connect(live: Live) {
        let Ok(source) = EventSource::new(STREAM_PATH) else {
            live.stale.set(true);
            return;
        };
        let last_heard = StoredValue::new(now());
        let heard = move || {
            last_heard.set_value(now());
            if live.stale.get_untracked() {
                live.stale.set(false);
            }
        };
        let on_clusters = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            heard();
            let Some(data) = e.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string()) else { return };
            if let Ok(clusters) = serde_json::from_str::<Vec<ClusterOverview>>(&data) {
                live.clusters.set(Some(clusters));
            }
        });
        let on_ping = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| heard());
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| live.stale.set(true));
        let _ = source.add_event_listener_with_callback("clusters", on_clusters.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("ping", on_ping.as_ref().unchecked_ref());
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let connection = StoredValue::new_local(Some(Connection { source, _callbacks: vec![on_clusters, on_ping, on_error] }));
        let watchdog = set_interval_with_handle(
            move || {
                if now() - last_heard.get_value() > STALE_AFTER_MS && !live.stale.get_untracked() {
                    live.stale.set(true);
                }
            },
            std::time::Duration::from_millis(1000),
        );
        on_cleanup(move || {
            if let Ok(w) = watchdog {
                w.clear();
            }
            connection.update_value(|c| {
                if let Some(c) = c.take() {
                    c.source.close();
                }
            });
        });
    }
}
