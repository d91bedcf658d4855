//! Named fail points before each step of an operation, so tests can break a server at an exact
//! moment (kill the target just before the replica is pointed at it) or hold an operation in the
//! middle (to see what a second operation on the same servers gets). Arming exists only with the
//! `testing` feature; without it `hit` does nothing.
//!
//! The fail point before a step is `<step kind>:<server>`, e.g. `change-source:127.0.0.1:3307`.

#[cfg(feature = "testing")]
mod armed {
    use futures::future::BoxFuture;
    use futures::FutureExt;
    use std::collections::HashMap;
    use std::future::Future;
    use std::sync::{Mutex, OnceLock};

    type Action = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

    fn registry() -> &'static Mutex<HashMap<String, Action>> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Action>>> = OnceLock::new();
        REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
    }

    /// Runs `action` (once) when the fail point `name` is reached.
    pub fn arm(name: &str, action: impl FnOnce() + Send + 'static) {
        arm_async(name, move || {
            action();
            async {}
        });
    }

    /// Runs `action` (once) when the fail point `name` is reached, and holds the operation until
    /// the future it returns completes (without blocking the runtime's threads).
    pub fn arm_async<F>(name: &str, action: impl FnOnce() -> F + Send + 'static)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let action: Action = Box::new(move || action().boxed());
        registry().lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), action);
    }

    /// Removes the action armed at `name`, if it was not reached; true if there was one.
    pub fn disarm(name: &str) -> bool {
        registry().lock().unwrap_or_else(|p| p.into_inner()).remove(name).is_some()
    }

    pub async fn hit(name: &str) {
        // Taken out of the registry before it runs: the lock is never held across an await.
        let action = registry().lock().unwrap_or_else(|p| p.into_inner()).remove(name);
        if let Some(action) = action {
            tracing::warn!(fail_point = name, "fail point reached");
            action().await;
        }
    }
}

#[cfg(feature = "testing")]
pub use armed::{arm, arm_async, disarm, hit};

#[cfg(not(feature = "testing"))]
pub async fn hit(_name: &str) {}
