//! What an edit means beyond the schema, keyed by field pattern (`panels[].kind`):
//! which panel kinds a panel field is for, what a new object or item starts as, and
//! the settings an edit makes invalid (a PromQL query replaces the metric, a new kind
//! drops another kind's settings), so a form edit keeps the spec valid. Validation
//! stays the judge; these only spare the user a refusal they did not ask for.

use render_core::spec::PanelKind;
use serde_json::{json, Map, Value};

/// Which kinds a panel property is for; `refused` when validation refuses it on other
/// kinds (else it is only pointless there, and the form hides it).
struct OnlyFor {
    name: &'static str,
    kinds: &'static [PanelKind],
    refused: bool,
}

const DRAWN: &[PanelKind] = &[
    PanelKind::Timeseries,
    PanelKind::Bar,
    PanelKind::Gauge,
    PanelKind::Stat,
];

const ONLY_FOR: [OnlyFor; 8] = [
    OnlyFor {
        name: "style",
        kinds: &[PanelKind::Timeseries],
        refused: true,
    },
    OnlyFor {
        name: "text",
        kinds: &[PanelKind::Text],
        refused: true,
    },
    OnlyFor {
        name: "font_size",
        kinds: &[PanelKind::Text],
        refused: true,
    },
    OnlyFor {
        name: "series",
        kinds: DRAWN,
        refused: true,
    },
    OnlyFor {
        name: "window",
        kinds: DRAWN,
        refused: false,
    },
    OnlyFor {
        name: "y_axis",
        kinds: DRAWN,
        refused: false,
    },
    OnlyFor {
        name: "legend",
        kinds: DRAWN,
        refused: false,
    },
    OnlyFor {
        name: "thresholds",
        kinds: DRAWN,
        refused: false,
    },
];

/// Whether panel property `name` is for panels of `kind` (the form shows it).
pub fn applies(name: &str, kind: PanelKind) -> bool {
    ONLY_FOR
        .iter()
        .find(|rule| rule.name == name)
        .is_none_or(|rule| rule.kinds.contains(&kind))
}

/// What the object or item at `pattern` starts as when an edit creates it, if it is
/// not what the schema's required fields give; `holder` is the JSON object it goes
/// into (the spec for `layout`, the panel for a threshold).
pub fn seed(pattern: &str, holder: &Value) -> Option<Value> {
    match pattern {
        // A grid with room for every panel.
        "layout" => {
            let panels = holder["panels"].as_array().map_or(1, Vec::len).max(1);
            Some(json!({"columns": 1, "rows": panels}))
        }
        // A red line at 80 % of a fixed axis top, else at 0.
        "panels[].thresholds[]" => {
            let value = holder["y_axis"]["max"]
                .as_f64()
                .map_or(0.0, |max| max * 0.8);
            Some(json!({"value": value, "color": "#e02f44"}))
        }
        _ => None,
    }
}

/// Drops what the edit of field `pattern` made invalid in `object`, the JSON object
/// holding the field.
pub fn after_edit(pattern: &str, object: &mut Map<String, Value>) {
    let set = |object: &Map<String, Value>, name: &str| {
        object
            .get(name)
            .is_some_and(|v| !v.is_null() && v != "" && v != &json!([]))
    };
    let drop = |object: &mut Map<String, Value>, names: &[&str]| {
        for name in names {
            object.remove(*name);
        }
    };
    match pattern {
        "panels[].kind" => {
            let kind = object.get("kind").cloned();
            for rule in ONLY_FOR.iter().filter(|rule| rule.refused) {
                let allowed = rule
                    .kinds
                    .iter()
                    .any(|k| kind.as_ref().is_some_and(|name| *name == json!(k)));
                if !allowed {
                    object.remove(rule.name);
                }
            }
        }
        // A metric of the built-in store is not a query of a source.
        "panels[].series[].metric" if set(object, "metric") => {
            drop(object, &["source", "query", "refresh"]);
        }
        // PromQL does tags, transforms and aggregation itself.
        "panels[].series[].query" if set(object, "query") => {
            drop(object, &["metric", "tags", "transform", "aggregate", "by"]);
        }
        // Grouping without an aggregate is refused.
        "panels[].series[].aggregate" if !set(object, "aggregate") => drop(object, &["by"]),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_new_kind_drops_only_what_it_refuses() {
        let mut panel = json!({"kind": "text", "style": "area", "text": "hi",
            "series": [{"metric": "m"}], "y_axis": {"min": 1}})
        .as_object()
        .cloned()
        .expect("an object");
        after_edit("panels[].kind", &mut panel);
        let names: Vec<&String> = panel.keys().collect();
        assert_eq!(names, ["kind", "text", "y_axis"]);
        assert!(applies("text", PanelKind::Text) && !applies("text", PanelKind::Stat));
        assert!(applies("title", PanelKind::Gauge));
        assert!(!applies("y_axis", PanelKind::Text));
    }
}
