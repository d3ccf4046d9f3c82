//! The form's buttons: each [`Action`] (add/remove panels, add a series from the picker,
//! add/remove an item of any array of objects such as thresholds, select a panel, undo,
//! redo) has a key the DOM carries in `data-action`. Adding a panel finds it a free
//! cell of the layout grid; a series query is `metric{k=v,..}`.

use std::collections::BTreeMap;

use render_core::spec::{Cell, Panel, PanelKind, SeriesSpec};
use render_core::Spec;
use serde_json::Value;

use crate::fields::{self, parse_tags};
use crate::path::Path;

/// A form button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Adds a panel (placed on the grid when there is one).
    AddPanel,
    /// Removes a panel.
    RemovePanel(usize),
    /// Shows a panel in the form.
    SelectPanel(usize),
    /// Adds a series query to a panel: metric and `k=v` tag filters.
    AddSeries(usize, String),
    /// Appends an item to the array of objects at a path (`panels[0].thresholds`).
    AddItem(Path),
    /// Removes the array item at a path (`panels[0].series[1]`).
    RemoveItem(Path),
    /// Undo.
    Undo,
    /// Redo.
    Redo,
}

impl Action {
    /// The key the DOM carries in `data-action`.
    pub fn key(&self) -> String {
        match self {
            Action::AddPanel => "add-panel".into(),
            Action::RemovePanel(p) => format!("remove-panel:{p}"),
            Action::SelectPanel(p) => format!("select-panel:{p}"),
            Action::AddSeries(p, query) => format!("add-series:{p}:{query}"),
            Action::AddItem(path) => format!("add:{path}"),
            Action::RemoveItem(path) => format!("remove:{path}"),
            Action::Undo => "undo".into(),
            Action::Redo => "redo".into(),
        }
    }

    /// Parses a key made by [`Action::key`].
    pub fn parse(key: &str) -> Option<Action> {
        let mut parts = key.splitn(3, ':');
        let name = parts.next()?;
        let mut n = || parts.next().and_then(|v| v.parse::<usize>().ok());
        Some(match name {
            "add-panel" => Action::AddPanel,
            "remove-panel" => Action::RemovePanel(n()?),
            "select-panel" => Action::SelectPanel(n()?),
            "add-series" => {
                let p = n()?;
                Action::AddSeries(p, parts.next()?.to_string())
            }
            "add" => Action::AddItem(Path::parse(parts.next()?)?),
            "remove" => Action::RemoveItem(Path::parse(parts.next()?)?),
            "undo" => Action::Undo,
            "redo" => Action::Redo,
            _ => return None,
        })
    }

    /// Applies a spec-changing action (not select, undo or redo) to `spec`.
    pub fn apply(&self, spec: &mut Spec) -> Result<(), String> {
        match self {
            Action::AddPanel => add_panel(spec),
            Action::RemovePanel(p) => {
                if spec.panels.len() <= 1 {
                    return Err("a chart needs at least one panel".into());
                }
                if *p < spec.panels.len() {
                    spec.panels.remove(*p);
                }
            }
            Action::AddSeries(p, query) => {
                let (metric, tags) = parse_query(query)?;
                let panel = panel_mut(spec, *p)?;
                if panel.kind == PanelKind::Text {
                    return Err("a text panel draws no series".into());
                }
                panel.series.push(SeriesSpec {
                    metric,
                    tags,
                    ..SeriesSpec::default()
                });
            }
            Action::AddItem(path) => *spec = add_item(spec, path)?,
            Action::RemoveItem(path) => {
                let mut doc = fields::doc(spec);
                fields::remove(&mut doc, path);
                *spec = fields::to_spec(doc)?;
            }
            Action::SelectPanel(_) | Action::Undo | Action::Redo => {}
        }
        Ok(())
    }
}

/// A series query as the series picker writes it: `metric` or `metric{k=v,k2=v2}`.
pub fn format_query(metric: &str, tags: &BTreeMap<String, String>) -> String {
    if tags.is_empty() {
        metric.to_string()
    } else {
        let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{metric}{{{}}}", pairs.join(","))
    }
}

/// Parses [`format_query`]'s form.
pub fn parse_query(query: &str) -> Result<(String, BTreeMap<String, String>), String> {
    match query.split_once('{') {
        None => Ok((query.to_string(), BTreeMap::new())),
        Some((metric, rest)) => {
            let inner = rest
                .strip_suffix('}')
                .ok_or_else(|| format!("series query {query:?} lacks its closing brace"))?;
            Ok((metric.to_string(), parse_tags(inner)?))
        }
    }
}

/// `spec` with an item appended to the array of objects at `path`, starting as
/// [`fields::seed`] says.
fn add_item(spec: &Spec, path: &Path) -> Result<Spec, String> {
    let mut doc = fields::doc(spec);
    let (holder, _) = path.split_last().ok_or("the spec itself is no array")?;
    let holder_value = fields::at(&doc, &holder)
        .cloned()
        .ok_or_else(|| format!("there is no {holder}"))?;
    let count = fields::at(&doc, path)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let item = fields::seed(&path.index(count), &holder_value);
    match fields::at_mut(&mut doc, &holder).and_then(Value::as_object_mut) {
        Some(object) => {
            let items = object
                .entry(path.name().to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            match items.as_array_mut() {
                Some(items) => items.push(item),
                None => return Err(format!("{path} is not a list")),
            }
        }
        None => return Err(format!("{holder} is not an object")),
    }
    fields::to_spec(doc)
}

/// Appends a panel; with an explicit grid it takes the first free cell, adding a row
/// when the grid is full.
fn add_panel(spec: &mut Spec) {
    let title = Some(format!("Panel {}", spec.panels.len() + 1));
    let mut panel = Panel {
        title,
        ..Panel::default()
    };
    if let Some(layout) = &mut spec.layout {
        let taken = |col: u32, row: u32| {
            spec.panels.iter().any(|p| {
                p.cell.is_some_and(|c| {
                    (c.col..c.col + c.col_span).contains(&col)
                        && (c.row..c.row + c.row_span).contains(&row)
                })
            })
        };
        let free = (0..layout.rows)
            .flat_map(|row| (0..layout.columns).map(move |col| (col, row)))
            .find(|(col, row)| !taken(*col, *row));
        let (col, row) = free.unwrap_or_else(|| {
            layout.rows += 1;
            (0, layout.rows - 1)
        });
        // Panels without a cell fill free cells in order; only place the new one
        // explicitly when every other panel is placed too.
        if spec.panels.iter().all(|p| p.cell.is_some()) {
            panel.cell = Some(Cell {
                col,
                row,
                col_span: 1,
                row_span: 1,
            });
        } else if spec.panels.len() as u32 >= layout.columns * layout.rows {
            layout.rows += 1;
        }
    }
    spec.panels.push(panel);
}

fn panel_mut(spec: &mut Spec, p: usize) -> Result<&mut Panel, String> {
    spec.panels
        .get_mut(p)
        .ok_or_else(|| format!("there is no panel {p}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::set;
    use crate::state::check;
    use crate::test_specs::{new_chart, path};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn keys_round_trip() {
        for action in [
            Action::AddPanel,
            Action::RemovePanel(2),
            Action::SelectPanel(1),
            Action::AddSeries(0, "cpu{core=1,host=a:b}".into()),
            Action::AddItem(path("panels[0].thresholds")),
            Action::RemoveItem(path("panels[1].series[3]")),
            Action::Undo,
            Action::Redo,
        ] {
            assert_eq!(
                Action::parse(&action.key()),
                Some(action.clone()),
                "{}",
                action.key()
            );
        }
        assert_eq!(Action::parse("remove-panel:x"), None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn added_panels_fit_the_grid() {
        let mut spec = new_chart();
        set(&mut spec, &path("layout.columns"), "2").expect("columns");
        set(&mut spec, &path("layout.rows"), "1").expect("rows");
        set(&mut spec, &path("panels[0].cell.col"), "0").expect("col");
        for _ in 0..3 {
            Action::AddPanel.apply(&mut spec).expect("add");
            let json = serde_json::to_string(&spec).expect("json");
            assert!(check(&json).is_ok(), "{:?}", check(&json).err());
        }
        assert_eq!(spec.panels.len(), 4);
        assert_eq!(spec.layout.as_ref().map(|l| l.rows), Some(2));
        assert_eq!(spec.panels[3].cell.map(|c| (c.col, c.row)), Some((1, 1)));
        Action::RemovePanel(1).apply(&mut spec).expect("remove");
        assert_eq!(spec.panels.len(), 3);
        // Clearing the columns drops the explicit grid.
        set(&mut spec, &path("layout.columns"), "").expect("no grid");
        assert_eq!(spec.layout, None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn items_are_added_as_seeded_and_removed_by_path() {
        let mut spec = new_chart();
        set(&mut spec, &path("panels[0].y_axis.max"), "50").expect("max");
        let thresholds = Action::AddItem(path("panels[0].thresholds"));
        thresholds.apply(&mut spec).expect("first");
        thresholds.apply(&mut spec).expect("second");
        let values: Vec<f64> = spec.panels[0].thresholds.iter().map(|t| t.value).collect();
        assert_eq!(values, [40.0, 40.0], "80 % of the axis top");
        assert!(check(&serde_json::to_string(&spec).expect("json")).is_ok());
        Action::RemoveItem(path("panels[0].thresholds[0]"))
            .apply(&mut spec)
            .expect("remove");
        assert_eq!(spec.panels[0].thresholds.len(), 1);
        assert!(Action::AddItem(path("panels[4].thresholds"))
            .apply(&mut spec)
            .is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn series_queries_round_trip() {
        let tags = parse_tags("host=a, core=1").expect("tags");
        let query = format_query("cpu", &tags);
        assert_eq!(query, "cpu{core=1,host=a}");
        assert_eq!(parse_query(&query), Ok(("cpu".to_string(), tags)));
        assert_eq!(parse_query("mem"), Ok(("mem".to_string(), BTreeMap::new())));
        assert!(parse_query("cpu{core=1").is_err());
    }
}
