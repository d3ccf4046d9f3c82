//! What the unit tests start from: the new chart, the new chart with a series, and
//! paths written in the tests.

use render_core::Spec;

use crate::actions::Action;
use crate::path::Path;
use crate::state::NEW_CHART;

/// The spec "New chart" starts from.
pub fn new_chart() -> Spec {
    Spec::from_json(NEW_CHART).expect("the new chart parses")
}

/// The new chart with the series `query` (`temp{room=a}`) added to its panel.
pub fn with_series(query: &str) -> Spec {
    let mut spec = new_chart();
    Action::AddSeries(0, query.into())
        .apply(&mut spec)
        .expect("add series");
    spec
}

/// `text` as a path; the tests write valid ones.
pub fn path(text: &str) -> Path {
    Path::parse(text).expect("a path")
}
