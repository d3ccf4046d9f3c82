//! Fault injection for the end-to-end tests: make one chart's render panic, make the
//! store refuse writes. Reachable only through [`crate::Hooks`], which code passes to
//! [`crate::run_with`] itself (the tests); no flag, variable or config key sets it, so a
//! deployed server never has a fault armed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Faults to inject; all off by default.
#[derive(Debug, Default)]
pub struct Faults {
    panic_chart: Mutex<Option<String>>,
    read_only_store: AtomicBool,
}

impl Faults {
    /// Makes every render of chart `id` panic (`None` stops it).
    pub fn set_panic_chart(&self, id: Option<&str>) {
        if let Ok(mut chart) = self.panic_chart.lock() {
            *chart = id.map(str::to_string);
        }
    }

    /// Panics if renders of `id` are set to panic (called inside the guarded render).
    pub fn maybe_panic(&self, id: &str) {
        let armed = self
            .panic_chart
            .lock()
            .is_ok_and(|chart| chart.as_deref() == Some(id));
        if armed {
            panic!("fault injection: render of chart {id:?} panics");
        }
    }

    /// Makes the store's SQLite connection read-only (`PRAGMA query_only`) before its
    /// next write, so writes fail inside SQLite as with a read-only or full disk.
    pub fn set_read_only_store(&self, on: bool) {
        self.read_only_store.store(on, Ordering::Release);
    }

    /// Whether the store should be read-only.
    pub fn read_only_store(&self) -> bool {
        self.read_only_store.load(Ordering::Acquire)
    }
}
