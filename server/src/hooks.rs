//! What a test can inject into a server and a deployed server never has: the clock and
//! the fault hooks. [`crate::run_with`] takes them next to the [`crate::Config`], so no
//! flag, variable or config key can reach them; [`crate::run`] uses the defaults.

use std::sync::Arc;

use crate::clock::Clock;
use crate::faults::Faults;

/// The test seams of a server; the default is the system clock and no fault armed.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// Where "now" comes from ([`Clock::tokio`] runs the server on paused time).
    pub clock: Clock,
    /// Faults to inject; the test keeps a clone to arm them while the server runs.
    pub faults: Arc<Faults>,
}
