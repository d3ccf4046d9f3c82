//! The form: controls for what people change most, built from the spec as HTML (every
//! control names its [`Field`] or [`Action`] key), the series picker fed by the
//! server's live series list, and (in the browser) refreshing the controls in place.

use std::collections::BTreeMap;

use render_core::spec::PanelKind;
use render_core::Spec;
use serde::Deserialize;

use crate::actions::{format_query, Action};
use crate::fields::{choices, Field, PanelField, SeriesField, ThresholdField};
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

/// What decides the form's structure: when it is unchanged, the controls are only
/// given their new values (so focus and the caret stay where they are).
pub fn signature(spec: &Spec, selected: usize, series: &[SeriesInfo]) -> String {
    let panels: Vec<String> = spec
        .panels
        .iter()
        .map(|p| {
            let title = p.title.as_deref().unwrap_or("");
            format!(
                "{:?}:{}:{}:{title}",
                p.kind,
                p.series.len(),
                p.thresholds.len()
            )
        })
        .collect();
    format!(
        "{selected}|{}|{}",
        panels.join(","),
        series_choices(series).len()
    )
}

fn control(field: Field, label: &str, spec: &Spec, hint: &str) -> String {
    let key = field.key();
    let value = escape(&field.get(spec));
    let body = match choices(&field) {
        Some(options) => {
            let options: String = options
                .iter()
                .map(|o| {
                    let text = if o.is_empty() { "(default)" } else { o };
                    let selected = if escape(o) == value { " selected" } else { "" };
                    format!(
                        "<option value=\"{0}\"{selected}>{1}</option>",
                        escape(o),
                        escape(text)
                    )
                })
                .collect();
            format!("<select data-field=\"{key}\">{options}</select>")
        }
        None if matches!(field, Field::Panel(_, PanelField::Text)) => {
            format!("<textarea data-field=\"{key}\" rows=\"3\">{value}</textarea>")
        }
        None => format!(
            "<input data-field=\"{key}\" value=\"{value}\" placeholder=\"{}\">",
            escape(hint)
        ),
    };
    let picker = if matches!(
        field,
        Field::Series(_, _, SeriesField::Color) | Field::Threshold(_, _, ThresholdField::Color)
    ) {
        let color = if is_hex6(&field.get(spec)) {
            value.clone()
        } else {
            "#000000".into()
        };
        format!("<input type=\"color\" data-field=\"{key}\" data-color value=\"{color}\">")
    } else {
        String::new()
    };
    format!(
        "<label><span>{}</span>{body}{picker}</label>",
        escape(label)
    )
}

/// Whether `text` is a `#rrggbb` colour (what `<input type=color>` takes).
pub fn is_hex6(text: &str) -> bool {
    text.len() == 7 && text.starts_with('#') && text[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn button(action: Action, text: &str) -> String {
    format!(
        "<button type=\"button\" data-action=\"{}\">{}</button>",
        escape(&action.key()),
        escape(text)
    )
}

/// The whole form for `spec`, showing panel `selected`.
pub fn form_html(spec: &Spec, selected: usize, series: &[SeriesInfo]) -> String {
    let mut html = String::from("<fieldset><legend>Chart</legend>");
    for (field, label, hint) in [
        (Field::Title, "Title", ""),
        (Field::Width, "Width", "px"),
        (Field::Height, "Height", "px"),
        (Field::Theme, "Theme", ""),
        (Field::Window, "Time window", "5m"),
        (Field::Fps, "Max fps", "10"),
    ] {
        html.push_str(&control(field, label, spec, hint));
    }
    html.push_str("</fieldset><fieldset><legend>Layout grid</legend>");
    for (field, label, hint) in [
        (Field::Columns, "Columns", "auto"),
        (Field::Rows, "Rows", "auto"),
        (Field::Gap, "Gap", "8"),
    ] {
        html.push_str(&control(field, label, spec, hint));
    }
    html.push_str("<div class=\"tabs\">");
    for (i, panel) in spec.panels.iter().enumerate() {
        let name = panel
            .title
            .clone()
            .unwrap_or_else(|| format!("Panel {}", i + 1));
        let class = if i == selected {
            " class=\"selected\""
        } else {
            ""
        };
        html.push_str(&format!(
            "<button type=\"button\"{class} data-action=\"{}\">{}</button>",
            Action::SelectPanel(i).key(),
            escape(&name)
        ));
    }
    html.push_str(&button(Action::AddPanel, "+ panel"));
    html.push_str("</div></fieldset>");
    if let Some(panel) = spec.panels.get(selected) {
        let p = selected;
        html.push_str(&format!("<fieldset><legend>Panel {}</legend>", p + 1));
        let mut fields = vec![
            (PanelField::Kind, "Kind", ""),
            (PanelField::Title, "Title", ""),
        ];
        if panel.kind == PanelKind::Timeseries {
            fields.push((PanelField::Style, "Style", ""));
        }
        if panel.kind == PanelKind::Text {
            fields.extend([
                (PanelField::Text, "Text", ""),
                (PanelField::FontSize, "Font size", "16"),
            ]);
        } else {
            fields.extend([
                (PanelField::Window, "Time window", "chart's"),
                (PanelField::YMin, "Y min", "auto"),
                (PanelField::YMax, "Y max", "auto"),
                (PanelField::Scale, "Y scale", ""),
                (PanelField::Format, "Format", ""),
                (PanelField::Unit, "Unit", ""),
                (PanelField::Decimals, "Decimals", "auto"),
                (PanelField::Legend, "Legend", ""),
                (
                    PanelField::LegendValues,
                    "Legend values",
                    "last, min, max, avg",
                ),
            ]);
        }
        fields.extend([
            (PanelField::Col, "Grid column", "auto"),
            (PanelField::Row, "Grid row", "auto"),
            (PanelField::ColSpan, "Column span", "1"),
            (PanelField::RowSpan, "Row span", "1"),
        ]);
        for (field, label, hint) in fields {
            html.push_str(&control(Field::Panel(p, field), label, spec, hint));
        }
        if spec.panels.len() > 1 {
            html.push_str(&button(Action::RemovePanel(p), "Remove panel"));
        }
        html.push_str("</fieldset>");
        if panel.kind != PanelKind::Text {
            html.push_str("<fieldset><legend>Series</legend>");
            for (s, _) in panel.series.iter().enumerate() {
                html.push_str("<div class=\"item\">");
                for (field, label, hint) in [
                    (SeriesField::Metric, "Metric", ""),
                    (SeriesField::Tags, "Tag filters", "key=value, ..."),
                    (SeriesField::Label, "Label", "auto"),
                    (SeriesField::Color, "Colour", "palette"),
                    (SeriesField::Width, "Line width", "2"),
                    (SeriesField::Fill, "Fill", "0..1"),
                    (SeriesField::Transform, "Transform", ""),
                    (SeriesField::Aggregate, "Aggregate", ""),
                    (SeriesField::By, "Aggregate by", "tag, ..."),
                ] {
                    html.push_str(&control(Field::Series(p, s, field), label, spec, hint));
                }
                html.push_str(&button(Action::RemoveSeries(p, s), "Remove series"));
                html.push_str("</div>");
            }
            html.push_str(&format!(
                "<div class=\"picker\"><input type=\"search\" id=\"series-search\" \
                 placeholder=\"Search series: name, tag value\" aria-label=\"Search series\">\
                 <select id=\"series-pick\">{}</select>{}</div>",
                picker_options(series, ""),
                button(Action::AddSeries(p, String::new()), "Add series")
            ));
            html.push_str("</fieldset><fieldset><legend>Thresholds</legend>");
            for (t, _) in panel.thresholds.iter().enumerate() {
                html.push_str("<div class=\"item\">");
                for (field, label, hint) in [
                    (ThresholdField::Value, "Value", ""),
                    (ThresholdField::To, "Band to", "line"),
                    (ThresholdField::Color, "Colour", ""),
                    (ThresholdField::Label, "Label", ""),
                ] {
                    html.push_str(&control(Field::Threshold(p, t, field), label, spec, hint));
                }
                html.push_str(&button(Action::RemoveThreshold(p, t), "Remove threshold"));
                html.push_str("</div>");
            }
            html.push_str(&button(Action::AddThreshold(p), "Add threshold"));
            html.push_str("</fieldset>");
        }
    }
    html
}

#[cfg(target_arch = "wasm32")]
pub use browser::show;

#[cfg(target_arch = "wasm32")]
mod browser {
    //! Puts the form into the page.

    use render_core::Spec;
    use wasm_bindgen::JsCast;

    use super::{form_html, is_hex6, signature, SeriesInfo};
    use crate::dom;
    use crate::fields::Field;

    /// Shows the form for `spec` in `#form`: rebuilt when its structure changed
    /// (`last_signature`), else each control not being edited gets its new value.
    pub fn show(spec: &Spec, selected: usize, series: &[SeriesInfo], last_signature: &mut String) {
        let Some(container) = dom::by_id("form") else {
            return;
        };
        let sig = signature(spec, selected, series);
        if sig != *last_signature {
            container.set_inner_html(&form_html(spec, selected, series));
            *last_signature = sig;
            return;
        }
        let focused = dom::document().and_then(|d| d.active_element());
        let Ok(controls) = container.query_selector_all("[data-field]") else {
            return;
        };
        for i in 0..controls.length() {
            let Some(element) = controls
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            if focused.as_ref() == Some(&element) {
                continue;
            }
            let Some(field) = element
                .get_attribute("data-field")
                .and_then(|k| Field::parse(&k))
            else {
                continue;
            };
            let mut value = field.get(spec);
            if element.has_attribute("data-color") && !is_hex6(&value) {
                value = "#000000".into();
            }
            if dom::value(&element) != value {
                dom::set_value(&element, &value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::NEW_CHART;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn live() -> Vec<SeriesInfo> {
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

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_form_names_every_control_and_escapes_values() {
        let mut spec = Spec::from_json(NEW_CHART).expect("spec");
        spec.title = Some("<b>\"hot\"</b>".into());
        Action::AddSeries(0, "temp{room=a}".into())
            .apply(&mut spec)
            .expect("series");
        let html = form_html(&spec, 0, &live());
        assert!(
            html.contains("value=\"&lt;b&gt;&quot;hot&quot;&lt;/b&gt;\""),
            "{html}"
        );
        for key in [
            "title",
            "p0.kind",
            "p0.s0.metric",
            "p0.s0.color",
            "p0.s0.transform",
            "p0.s0.aggregate",
            "p0.s0.by",
            "columns",
        ] {
            assert!(html.contains(&format!("data-field=\"{key}\"")), "{key}");
        }
        assert!(html.contains("data-action=\"add-series:0:\""));
        assert!(html.contains("<option value=\"temp{room=b}\">"));
        assert!(html.contains("<option value=\"timeseries\" selected>"));
        assert!(html.contains("<option value=\"rate\">rate</option>"));
        // One panel: it cannot be removed.
        assert!(!html.contains("remove-panel"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_signature_changes_with_the_structure_only() {
        let mut spec = Spec::from_json(NEW_CHART).expect("spec");
        let before = signature(&spec, 0, &live());
        spec.title = Some("Other".into());
        assert_eq!(signature(&spec, 0, &live()), before);
        Action::AddSeries(0, "load".into())
            .apply(&mut spec)
            .expect("series");
        assert_ne!(signature(&spec, 0, &live()), before);
    }
}
