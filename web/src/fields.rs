//! One field of the spec read and written as the form's text, for any field the
//! schema describes ([`crate::schema`]): the control at `panels[0].y_axis.min` shows
//! `text_at` and an edit calls `set`, which writes the spec's JSON (creating the optional
//! objects on the way, dropping them once they only hold defaults), applies
//! [`crate::rules::after_edit`] and parses the result back into a [`Spec`]. Pure Rust:
//! unit-tested natively and in wasm.

use std::collections::BTreeMap;

use render_core::Spec;
use serde_json::{Map, Value};

use crate::path::{Path, Step};
use crate::rules;
use crate::schema::{self, spec_fields, Field, Kind};

/// The spec as JSON, through its text so `f32`s keep their short form (`0.3`).
pub fn doc(spec: &Spec) -> Value {
    serde_json::to_string(spec)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// Parses edited JSON back into a spec; the message names the path of a mismatch.
pub fn to_spec(doc: Value) -> Result<Spec, String> {
    serde_path_to_error::deserialize(doc)
        .map_err(|error| format!("{}: {}", error.path(), error.inner()))
}

/// The value at `path` in `doc`.
pub fn at<'a>(doc: &'a Value, path: &Path) -> Option<&'a Value> {
    path.0.iter().try_fold(doc, |value, step| match step {
        Step::Key(name) => value.get(name),
        Step::Index(index) => value.get(index),
    })
}

/// The value at `path` in `doc`, to change it.
pub fn at_mut<'a>(doc: &'a mut Value, path: &Path) -> Option<&'a mut Value> {
    path.0.iter().try_fold(doc, |value, step| match step {
        Step::Key(name) => value.get_mut(name),
        Step::Index(index) => value.get_mut(index),
    })
}

/// Removes the property or item at `path` from `doc`.
pub fn remove(doc: &mut Value, path: &Path) {
    let Some((parent, last)) = path.split_last() else {
        return;
    };
    match (at_mut(doc, &parent), last) {
        (Some(Value::Object(object)), Step::Key(name)) => {
            object.remove(name);
        }
        (Some(Value::Array(items)), Step::Index(index)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
}

/// The field at `path` of the spec's JSON `doc` ([`doc`]) as the form shows it: ""
/// when unset (or its default, if the schema names one).
pub fn text_at(doc: &Value, path: &Path) -> String {
    let Some(field) = schema::find(spec_fields(), path) else {
        return String::new();
    };
    match at(doc, path)
        .filter(|v| !v.is_null())
        .or(field.default.as_ref())
    {
        Some(value) => text(&field.kind, value),
        None => String::new(),
    }
}

/// Writes `value` (as typed in the form) into the field at `path`. An empty value
/// unsets an optional field, or drops the optional object of a required one (no
/// columns: no grid). Range rules are left to validation, which names the path. On
/// error `spec` is left as it was.
pub fn set(spec: &mut Spec, path: &Path, value: &str) -> Result<(), String> {
    let fields = spec_fields();
    let field = schema::find(fields, path).ok_or_else(|| format!("the spec has no {path}"))?;
    let (parent, _) = path.split_last().ok_or("the spec itself is no field")?;
    let value = parse(&field.kind, value.trim(), path)?;
    let mut doc = doc(spec);
    if value.is_none() && at(&doc, &parent).is_none_or(Value::is_null) {
        return Ok(());
    }
    let holder = make_object(&mut doc, &parent)?;
    let name = path.name().to_string();
    match value {
        Some(value) => {
            holder.insert(name, value);
        }
        None if !field.required => {
            holder.remove(&name);
        }
        None => {
            let optional = schema::find(fields, &parent)
                .is_some_and(|p| !p.required && matches!(p.kind, Kind::Object(_)));
            if !optional {
                return Err(format!("{path}: needs a value"));
            }
            remove(&mut doc, &parent);
        }
    }
    if let Some(Value::Object(holder)) = at_mut(&mut doc, &parent) {
        rules::after_edit(&path.pattern(), holder);
    }
    prune(&mut doc, &parent);
    *spec = to_spec(doc)?;
    Ok(())
}

/// The object at `path`, creating the missing optional objects on the way (as
/// [`seed`] says); a missing array item is an error.
fn make_object<'a>(doc: &'a mut Value, path: &Path) -> Result<&'a mut Map<String, Value>, String> {
    let before = doc.clone();
    let mut current = doc;
    let mut walked = Path::root();
    for step in &path.0 {
        let holder = walked.clone();
        walked.0.push(step.clone());
        current = match step {
            Step::Key(name) => {
                let object = current
                    .as_object_mut()
                    .ok_or_else(|| format!("{holder} is not an object"))?;
                let entry = object.entry(name.clone()).or_insert(Value::Null);
                if entry.is_null() {
                    *entry = seed(&walked, at(&before, &holder).unwrap_or(&Value::Null));
                }
                entry
            }
            Step::Index(index) => current
                .get_mut(*index)
                .ok_or_else(|| format!("there is no {walked}"))?,
        };
    }
    current
        .as_object_mut()
        .ok_or_else(|| format!("{path} is not an object"))
}

/// What the object or item at `path` starts as: the rule's seed, else its required
/// fields at their smallest values (`holder`: the JSON it goes into).
pub fn seed(path: &Path, holder: &Value) -> Value {
    if let Some(value) = rules::seed(&path.pattern(), holder) {
        return value;
    }
    match schema::find(spec_fields(), path) {
        Some(field) if matches!(path.0.last(), Some(Step::Index(_))) => {
            seed_object(field.kind.children())
        }
        Some(field) => seed_value(&field.kind),
        None => Value::Null,
    }
}

fn seed_object(fields: &[Field]) -> Value {
    let object = fields
        .iter()
        .filter(|f| f.required && f.default.is_none())
        .map(|f| (f.name.clone(), seed_value(&f.kind)))
        .collect();
    Value::Object(object)
}

fn seed_value(kind: &Kind) -> Value {
    match kind {
        Kind::Text | Kind::Color => Value::from(""),
        Kind::Number { min, .. } => min.map_or(Value::from(0), number),
        Kind::Bool => Value::Bool(false),
        Kind::Choice(names) => names
            .first()
            .map_or(Value::Null, |n| Value::from(n.as_str())),
        Kind::List(_) | Kind::Items(_) => Value::Array(Vec::new()),
        Kind::Tags => Value::Object(Map::new()),
        Kind::Object(fields) => seed_object(fields),
        Kind::Json => Value::Null,
    }
}

/// Drops the optional objects along `path` (deepest first) that only hold defaults.
fn prune(doc: &mut Value, path: &Path) {
    let mut path = path.clone();
    while !path.0.is_empty() {
        if let Some(field) = schema::find(spec_fields(), &path) {
            let only_defaults = match (&field.kind, at(doc, &path)) {
                (Kind::Object(children), Some(Value::Object(object))) if !field.required => {
                    object.iter().all(|(name, value)| {
                        let child = children.iter().find(|c| c.name == *name);
                        child.and_then(|c| c.default.as_ref()) == Some(value)
                    })
                }
                _ => false,
            };
            if only_defaults && matches!(path.0.last(), Some(Step::Key(_))) {
                remove(doc, &path);
            }
        }
        path.0.pop();
    }
}

/// The form's text of `value`, a value of `kind`.
fn text(kind: &Kind, value: &Value) -> String {
    match (kind, value) {
        (_, Value::String(text)) => text.clone(),
        (_, Value::Number(n)) => n.as_i64().map_or_else(
            || n.as_f64().map(format_number).unwrap_or_default(),
            |i| i.to_string(),
        ),
        (_, Value::Bool(on)) => on.to_string(),
        (Kind::List(inner), Value::Array(items)) => items
            .iter()
            .map(|item| text(inner, item))
            .collect::<Vec<_>>()
            .join(", "),
        (Kind::Tags, Value::Object(tags)) => tags
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", "),
        (_, Value::Null) => String::new(),
        (_, other) => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// A float as people write it: `2`, not `2.0`.
fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// Parses the form's `text` for a field of `kind` at `path`; `None` (empty) unsets.
fn parse(kind: &Kind, text: &str, path: &Path) -> Result<Option<Value>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let value = match kind {
        Kind::Text | Kind::Color => Value::from(text),
        Kind::Number { integer, .. } => {
            let value: f64 = text
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| format!("{path}: {text:?} is not a number"))?;
            if *integer && value.fract() != 0.0 {
                return Err(format!("{path}: {text:?} is not a whole number"));
            }
            number(value)
        }
        Kind::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("{path}: {text:?} is neither true nor false")),
        },
        Kind::Choice(names) => {
            if !names.iter().any(|n| n == text) {
                return Err(format!(
                    "{path}: {text:?} is not one of {}",
                    names.join(", ")
                ));
            }
            Value::from(text)
        }
        Kind::List(inner) => {
            let items: Vec<Value> = text
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| parse(inner, item, path).map(Option::unwrap_or_default))
                .collect::<Result<_, _>>()?;
            if items.is_empty() {
                return Ok(None);
            }
            Value::Array(items)
        }
        Kind::Tags => {
            let tags = parse_tags(text)?;
            if tags.is_empty() {
                return Ok(None);
            }
            Value::Object(tags.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
        }
        Kind::Json => serde_json::from_str(text).map_err(|e| format!("{path}: {e}"))?,
        Kind::Object(_) | Kind::Items(_) => {
            return Err(format!("{path} is edited field by field"));
        }
    };
    Ok(Some(value))
}

/// Parses `k=v, k2=v2` tag filters.
pub fn parse_tags(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("tag filter {pair:?} is not key=value")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;
    use crate::state::check;
    use crate::test_specs::{new_chart, path, with_series};
    use render_core::spec::Transform;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn put(spec: &mut Spec, at: &str, value: &str) {
        set(spec, &path(at), value).unwrap_or_else(|e| panic!("{at} = {value:?}: {e}"));
    }

    fn valid(spec: &Spec) -> bool {
        check(&serde_json::to_string(spec).expect("json")).is_ok()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_query_replaces_the_metric_and_a_metric_the_query() {
        let mut spec = with_series("cpu{host=a}");
        for (field, value) in [
            ("transform", "rate"),
            ("source", "prom"),
            ("query", "sum(rate(cpu[1m]))"),
            ("refresh", "10s"),
        ] {
            put(&mut spec, &format!("panels[0].series[0].{field}"), value);
        }
        let series = &spec.panels[0].series[0];
        assert!(series.metric.is_empty() && series.tags.is_empty() && series.transform.is_none());
        assert_eq!(series.query.as_deref(), Some("sum(rate(cpu[1m]))"));
        assert!(valid(&spec));
        put(&mut spec, "panels[0].series[0].metric", "cpu");
        let series = &spec.panels[0].series[0];
        assert!(series.source.is_none() && series.query.is_none() && series.refresh.is_none());
        assert!(valid(&spec));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_field_reads_back_what_was_set() {
        let mut spec = with_series("temp{room=kitchen}");
        Action::AddItem(path("panels[0].thresholds"))
            .apply(&mut spec)
            .expect("add threshold");
        let cases = [
            ("title", "Heat"),
            ("width", "800"),
            ("theme", "dark"),
            ("window", "15m"),
            ("timezone", "Europe/Berlin"),
            ("scroll", "smooth"),
            ("fps", "5"),
            ("colors.background", "#101010"),
            ("colors.palette", "#ff0000, #00ff00"),
            ("layout.columns", "2"),
            ("layout.rows", "3"),
            ("layout.gap", "4"),
            ("panels[0].style", "area"),
            ("panels[0].cell.col", "1"),
            ("panels[0].cell.row_span", "2"),
            ("panels[0].y_axis.min", "-5.5"),
            ("panels[0].y_axis.scale", "log"),
            ("panels[0].y_axis.format", "bytes"),
            ("panels[0].y_axis.unit", "°C"),
            ("panels[0].legend.position", "right"),
            ("panels[0].legend.values", "last, max"),
            ("panels[0].series[0].tags", "host=a, room=b"),
            ("panels[0].series[0].color", "#ff0000"),
            ("panels[0].series[0].width", "1.5"),
            ("panels[0].series[0].fill", "0.3"),
            ("panels[0].series[0].transform", "rate"),
            ("panels[0].series[0].aggregate", "sum"),
            ("panels[0].series[0].by", "host, room"),
            ("panels[0].thresholds[0].value", "90"),
            ("panels[0].thresholds[0].to", "95"),
            ("panels[0].thresholds[0].label", "hot"),
            (
                "variables",
                "{\n  \"room\": {\n    \"default\": \"b\"\n  }\n}",
            ),
        ];
        for (at, value) in cases {
            put(&mut spec, at, value);
            assert_eq!(text_at(&doc(&spec), &path(at)), value, "{at}");
        }
        assert_eq!(
            spec.panels[0].series[0]
                .tags
                .get("room")
                .map(String::as_str),
            Some("b")
        );
        assert_eq!(spec.panels[0].thresholds[0].color, "#e02f44");
        // Empty unsets optional settings; the now-default axis and legend go away.
        put(&mut spec, "title", "");
        assert_eq!(spec.title, None);
        for at in ["panels[0].y_axis.min", "panels[0].y_axis.unit"] {
            put(&mut spec, at, "");
        }
        put(&mut spec, "panels[0].y_axis.scale", "linear");
        put(&mut spec, "panels[0].y_axis.format", "number");
        assert_eq!(spec.panels[0].y_axis, None);
        assert_eq!(
            text_at(&doc(&spec), &path("panels[0].y_axis.scale")),
            "linear",
            "the default"
        );
        put(&mut spec, "colors.background", "");
        put(&mut spec, "colors.palette", "");
        assert_eq!(spec.colors, None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn new_objects_start_valid_and_go_with_their_required_fields() {
        let mut spec = new_chart();
        Action::AddPanel.apply(&mut spec).expect("a second panel");
        put(&mut spec, "layout.columns", "2");
        assert_eq!(
            spec.layout.as_ref().map(|l| (l.columns, l.rows)),
            Some((2, 2)),
            "rows for every panel"
        );
        put(&mut spec, "panels[1].cell.col", "1");
        assert_eq!(spec.panels[1].cell.map(|c| (c.col, c.row)), Some((1, 0)));
        assert!(valid(&spec));
        // An empty span unsets it; emptying a required field drops its object.
        put(&mut spec, "panels[0].cell.col_span", "");
        assert_eq!(spec.panels[0].cell, None, "no cell made for nothing");
        put(&mut spec, "panels[1].cell.row", "");
        assert_eq!(spec.panels[1].cell, None);
        put(&mut spec, "layout.columns", "");
        assert_eq!(spec.layout, None);
        let error = set(&mut spec, &path("width"), "").expect_err("width is required");
        assert!(error.contains("width"), "{error}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_input_is_refused_with_a_message() {
        let mut spec = new_chart();
        let refused = |spec: &mut Spec, at: &str, value: &str| {
            let error = set(spec, &path(at), value).expect_err(value);
            assert!(!error.is_empty());
            error
        };
        assert!(refused(&mut spec, "width", "wide").contains("width"));
        refused(&mut spec, "width", "1.5");
        refused(&mut spec, "width", "-1");
        refused(&mut spec, "theme", "neon");
        refused(&mut spec, "panels[0].legend.values", "last, median");
        refused(&mut spec, "panels[9].title", "x");
        refused(&mut spec, "panels[0].series[0].color", "#fff");
        refused(&mut spec, "panels[0].nope", "x");
        refused(&mut spec, "variables", "{");
        assert!(parse_tags("host").is_err());
        assert!(
            Action::RemovePanel(0).apply(&mut spec).is_err(),
            "the last panel stays"
        );
        assert_eq!(spec, new_chart());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn transform_aggregate_and_by_edit_the_series_query() {
        let mut spec = with_series("net_bytes");
        put(&mut spec, "panels[0].series[0].transform", "rate");
        put(&mut spec, "panels[0].series[0].by", " host,, core ");
        let series = &spec.panels[0].series[0];
        assert_eq!(series.transform, Some(Transform::Rate));
        assert_eq!(series.by, ["host", "core"]);
        // `by` without an aggregate: validation names the place.
        let problems =
            check(&serde_json::to_string(&spec).expect("json")).expect_err("no aggregate");
        assert_eq!(
            problems.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["panels[0].series[0].by"]
        );
        put(&mut spec, "panels[0].series[0].aggregate", "avg");
        assert!(valid(&spec));
        // Unsetting the aggregate drops its grouping, so the spec stays valid.
        put(&mut spec, "panels[0].series[0].aggregate", "");
        put(&mut spec, "panels[0].series[0].transform", "");
        let series = &spec.panels[0].series[0];
        assert_eq!((series.aggregate, series.transform), (None, None));
        assert!(series.by.is_empty());
        assert!(valid(&spec));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn changing_the_kind_keeps_the_spec_valid() {
        let mut spec = new_chart();
        put(&mut spec, "panels[0].style", "step");
        Action::AddSeries(0, "cpu".into())
            .apply(&mut spec)
            .expect("series");
        for kind in ["gauge", "text", "stat", "bar", "timeseries"] {
            put(&mut spec, "panels[0].kind", kind);
            assert!(valid(&spec), "{kind}");
        }
        put(&mut spec, "panels[0].kind", "text");
        put(&mut spec, "panels[0].text", "Hello");
        put(&mut spec, "panels[0].kind", "stat");
        assert_eq!(spec.panels[0].text, None);
    }
}
