//! The series picker: the server's live series (`GET /api/series`) as choices (each
//! metric, then each series with its tags as filters, showing its latest value), and a
//! search over metric names and tag values that keeps thousands of series usable.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::actions::format_query;
use crate::html::escape;

/// One live series from `GET /api/series`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SeriesInfo {
    /// Metric name.
    pub metric: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Latest point `[t, v]`.
    #[serde(default)]
    pub last: Option<(i64, Option<f64>)>,
}

/// The series picker's choices: each metric (all its series), then each series with
/// its tags as filters. Values are series queries (`metric{k=v}`), labels show the
/// latest value.
pub fn series_choices(series: &[SeriesInfo]) -> Vec<(String, String)> {
    let mut choices: Vec<(String, String)> = Vec::new();
    let mut metrics: Vec<&str> = series.iter().map(|s| s.metric.as_str()).collect();
    metrics.sort_unstable();
    metrics.dedup();
    for metric in metrics {
        let matching: Vec<&SeriesInfo> = series.iter().filter(|s| s.metric == metric).collect();
        if matching.len() > 1 || matching.iter().any(|s| !s.tags.is_empty()) {
            choices.push((
                metric.to_string(),
                format!("{metric} (all {} series)", matching.len()),
            ));
        }
        for s in matching {
            let query = format_query(&s.metric, &s.tags);
            let last = match s.last {
                Some((_, Some(v))) => format!(" = {v}"),
                _ => String::new(),
            };
            choices.push((query.clone(), format!("{query}{last}")));
        }
    }
    choices
}

/// Most series the picker lists at once: a search narrows thousands down.
pub const PICKER_LIMIT: usize = 200;

/// The series picker's `<option>`s for `search`: the choices whose value or label
/// contains every word of it (any case), at most [`PICKER_LIMIT`], then a disabled
/// line saying how many more matched.
pub fn picker_options(series: &[SeriesInfo], search: &str) -> String {
    let words: Vec<String> = search.split_whitespace().map(str::to_lowercase).collect();
    let choices = series_choices(series);
    let mut matching = choices.iter().filter(|(value, label)| {
        let (value, label) = (value.to_lowercase(), label.to_lowercase());
        words.iter().all(|w| value.contains(w) || label.contains(w))
    });
    let mut html: String = matching
        .by_ref()
        .take(PICKER_LIMIT)
        .map(|(value, label)| {
            format!(
                "<option value=\"{}\">{}</option>",
                escape(value),
                escape(label)
            )
        })
        .collect();
    let more = matching.count();
    if more > 0 {
        html += &format!("<option disabled>… {more} more: refine the search</option>");
    } else if html.is_empty() {
        html += "<option disabled>no series matches</option>";
    }
    html
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    pub(crate) fn live() -> Vec<SeriesInfo> {
        serde_json::from_str(
            r#"[{"metric":"temp","tags":{"room":"a"},"last":[1,21.5],"points":3},
                {"metric":"temp","tags":{"room":"b"},"last":null,"points":0},
                {"metric":"load","tags":{},"last":[1,0.5],"points":1}]"#,
        )
        .expect("series list")
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_picker_offers_metrics_and_tagged_series() {
        let values: Vec<String> = series_choices(&live())
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        assert_eq!(values, ["load", "temp", "temp{room=a}", "temp{room=b}"]);
        assert_eq!(series_choices(&live())[2].1, "temp{room=a} = 21.5");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_picker_search_narrows_thousands_of_series_by_name_and_tag_value() {
        let many: Vec<SeriesInfo> = (0..3000)
            .map(|i| SeriesInfo {
                metric: if i % 2 == 0 { "disk_used" } else { "net_rx" }.into(),
                tags: [("host".to_string(), format!("web{i:04}"))].into(),
                last: Some((0, Some(f64::from(i)))),
            })
            .collect();
        let options = |search: &str| picker_options(&many, search);
        let all = options("");
        assert_eq!(all.matches("<option value=").count(), PICKER_LIMIT);
        assert!(all.contains("more: refine the search"), "{all}");
        let one = options("NET web0007");
        assert_eq!(one.matches("<option value=").count(), 1, "{one}");
        assert!(one.contains("net_rx{host=web0007} = 7"), "{one}");
        assert!(!one.contains("more"), "{one}");
        assert!(options("nothing like it").contains("no series matches"));
    }
}
