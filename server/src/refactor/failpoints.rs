//! Named fail points before each step of an operation, so tests can break a server at an exact
//! moment (kill the target just before the replica is pointed at it). Arming exists only with
//! the `testing` feature; without it `hit` does nothing.

#[cfg(feature = "testing")]
mod armed {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};

    type Action = Arc<dyn Fn() + Send + Sync>;

    fn registry() -> &'static Mutex<HashMap<String, Action>> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Action>>> = OnceLock::new();
        REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
    }

    /// Runs `action` (once) when the fail point `name` is reached.
    pub fn arm(name: &str, action: impl Fn() + Send + Sync + 'static) {
        registry().lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), Arc::new(action));
    }

    pub fn hit(name: &str) {
        let action = registry().lock().unwrap_or_else(|p| p.into_inner()).remove(name);
        if let Some(action) = action {
            tracing::warn!(fail_point = name, "fail point reached");
            action();
        }
    }
}

#[cfg(feature = "testing")]
pub use armed::{arm, hit};

/// The fail point before a step: `<step kind>:<server>`, e.g. `change-source:127.0.0.1:3307`.
#[cfg(not(feature = "testing"))]
pub fn hit(_name: &str) {}
