//! `GET /api/templates`: what "New chart" in the editor starts from — "This host" (the
//! demo chart, drawing the host collector's series) and the gallery examples
//! (`examples/*.json`, compiled in). The editor points each template's series that
//! have no live data at live ones, so a new chart moves at once.

use axum::Json;
use serde_json::{json, Value};

use crate::demo::DEMO_SPEC;

/// The templates: name and spec text, in the order the editor offers them.
const TEMPLATES: &[(&str, &str)] = &[
    ("this-host", DEMO_SPEC),
    (
        "reference",
        include_str!("../../../examples/reference.json"),
    ),
    (
        "dashboard",
        include_str!("../../../examples/dashboard.json"),
    ),
    ("network", include_str!("../../../examples/network.json")),
    ("requests", include_str!("../../../examples/requests.json")),
    ("latency", include_str!("../../../examples/latency.json")),
    ("memory", include_str!("../../../examples/memory.json")),
    (
        "temperature",
        include_str!("../../../examples/temperature.json"),
    ),
    ("chinese", include_str!("../../../examples/chinese.json")),
];

/// `GET /api/templates`: `{"templates": [{"name", "title", "spec"}]}`.
pub async fn list() -> Json<Value> {
    let templates: Vec<Value> = TEMPLATES
        .iter()
        .filter_map(|(name, text)| {
            let spec: Value = serde_json::from_str(text).ok()?;
            let title = spec["title"].as_str().unwrap_or(name).to_string();
            Some(json!({"name": name, "title": title, "spec": spec}))
        })
        .collect();
    Json(json!({ "templates": templates }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_a_valid_spec() {
        for (name, text) in TEMPLATES {
            let spec = render_core::Spec::from_json(text).map_err(|e| e.to_string());
            let valid = spec.and_then(|s| render_core::validate(s).map_err(|e| e.to_string()));
            assert!(valid.is_ok(), "template {name}: {valid:?}");
        }
    }

    #[test]
    fn every_gallery_example_is_a_template() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        let mut examples: Vec<String> = std::fs::read_dir(dir)
            .expect("examples/")
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".json")?;
                (!stem.ends_with(".data")).then(|| stem.to_string())
            })
            .collect();
        examples.sort();
        let mut listed: Vec<String> = TEMPLATES[1..].iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(listed, examples, "add new examples to TEMPLATES");
    }
}
