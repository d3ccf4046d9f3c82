//! "New chart" starts from something that moves: a template (`GET /api/templates`:
//! "This host" and the gallery examples), a duplicate of a published chart, or the blank
//! chart — each with its series queries that match no live series pointed at live
//! ones ([`with_live_series`]), so the preview draws data at once.

use render_core::spec::SeriesSpec;
use render_core::Spec;
use serde::Deserialize;
use serde_json::Value;

use crate::html::escape;
use crate::picker::SeriesInfo;

/// One template from `GET /api/templates`.
#[derive(Debug, Clone, Deserialize)]
pub struct Template {
    /// Name in the page's location (`#/new/NAME`).
    pub name: String,
    /// What the chooser shows.
    pub title: String,
    /// The spec.
    pub spec: Value,
}

/// `GET /api/templates`'s answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TemplateList {
    /// The templates, in the order to offer them.
    pub templates: Vec<Template>,
}

/// Points every series query of `spec` that matches none of `live` at a live series
/// (the live series in turn, so two replaced queries draw two different series), with
/// the query's own label dropped (it named the old series); a spec without any series
/// gets the first live series in its first panel. Queries of other sources (PromQL,
/// no metric) stay as they are. Returns how many queries now read live series instead.
pub fn with_live_series(spec: &mut Spec, live: &[SeriesInfo]) -> usize {
    if live.is_empty() {
        return 0;
    }
    let matches = |metric: &str, tags: &std::collections::BTreeMap<String, String>| {
        live.iter().any(|series| {
            series.metric == metric && tags.iter().all(|(k, v)| series.tags.get(k) == Some(v))
        })
    };
    let mut next = live.iter().cycle();
    let mut replaced = 0;
    for panel in &mut spec.panels {
        for query in &mut panel.series {
            if query.metric.is_empty() || matches(&query.metric, &query.tags) {
                continue;
            }
            if let Some(series) = next.next() {
                query.metric = series.metric.clone();
                query.tags = series.tags.clone();
                query.label = None;
                replaced += 1;
            }
        }
    }
    let no_series = spec.panels.iter().all(|panel| panel.series.is_empty());
    if let (true, Some(panel), Some(series)) = (no_series, spec.panels.first_mut(), live.first()) {
        panel.series.push(SeriesSpec {
            metric: series.metric.clone(),
            tags: series.tags.clone(),
            ..Default::default()
        });
        replaced += 1;
    }
    replaced
}

/// The chooser's cards: the blank chart, each template, and "duplicate" of each
/// published chart in `charts`.
pub fn chooser_html(templates: &[Template], charts: &[String]) -> String {
    let card = |href: String, title: &str, note: &str| {
        format!(
            "<a class=\"card template\" href=\"{href}\"><span>{}</span><small>{}</small></a>",
            escape(title),
            escape(note)
        )
    };
    let mut html = card(
        "#/new/blank".into(),
        "Blank chart",
        "one panel, the first live series",
    );
    for template in templates {
        let note = if template.name == "this-host" {
            "the host collector's CPU, memory and network"
        } else {
            "gallery example, drawn with live series"
        };
        html += &card(
            format!("#/new/{}", escape(&template.name)),
            &template.title,
            note,
        );
    }
    for id in charts {
        html += &card(
            format!("#/duplicate/{}", escape(id)),
            &format!("Duplicate {id}"),
            "a copy of the published chart",
        );
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn live(metric: &str, tags: &[(&str, &str)]) -> SeriesInfo {
        SeriesInfo {
            metric: metric.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            last: Some((0, Some(1.0))),
        }
    }

    fn spec(text: &str) -> Spec {
        Spec::from_json(text).expect("a spec")
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn series_without_live_data_are_pointed_at_live_series_in_turn() {
        let mut template = spec(
            r#"{"version":1,"width":400,"height":300,"panels":[{"series":[
                {"metric":"temperature","tags":{"room":"lab"},"label":"lab"},
                {"metric":"temp","tags":{"room":"hall"}},
                {"metric":"humidity"}]}]}"#,
        );
        let live = [
            live("temp", &[("room", "hall")]),
            live("cpu", &[("core", "0")]),
        ];
        assert_eq!(with_live_series(&mut template, &live), 2);
        let series = &template.panels[0].series;
        assert_eq!(
            (series[0].metric.as_str(), series[0].label.as_deref()),
            ("temp", None)
        );
        assert_eq!(series[0].tags.get("room").map(String::as_str), Some("hall"));
        assert_eq!(series[1].metric, "temp", "a live query stays as it is");
        assert_eq!(series[2].metric, "cpu", "the next live series");
        assert_eq!(series[2].tags.get("core").map(String::as_str), Some("0"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_blank_chart_gets_the_first_live_series_and_nothing_changes_without_live_data() {
        let mut blank = spec(crate::state::NEW_CHART);
        assert_eq!(with_live_series(&mut blank.clone(), &[]), 0);
        assert_eq!(
            with_live_series(&mut blank, &[live("cpu", &[("core", "1")])]),
            1
        );
        assert_eq!(blank.panels[0].series[0].metric, "cpu");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_chooser_offers_blank_templates_and_duplicates() {
        let templates = [Template {
            name: "this-host".into(),
            title: "This <host>".into(),
            spec: Value::Null,
        }];
        let html = chooser_html(&templates, &["kitchen".into()]);
        assert!(html.contains("href=\"#/new/blank\""), "{html}");
        assert!(
            html.contains("href=\"#/new/this-host\"") && html.contains("This &lt;host&gt;"),
            "{html}"
        );
        assert!(html.contains("href=\"#/duplicate/kitchen\""), "{html}");
    }
}
