//! How the form presents the schema's fields where the schema says nothing, keyed by
//! field pattern (`panels[].series[].source`) or bare name: the groups a panel's
//! options fall into (like Grafana's Panel · Series · Axis · Legend · Thresholds), the
//! order fields come in, labels nicer than JSON names, the fields left to the JSON
//! view and the special widgets. A field named nowhere here still gets the control
//! its kind gives it, at the end of its group.

/// The panel properties shown as groups of their own after the Panel group, in order,
/// with their titles.
pub const PANEL_GROUPS: [(&str, &str); 4] = [
    ("series", "Series"),
    ("y_axis", "Axis"),
    ("legend", "Legend"),
    ("thresholds", "Thresholds"),
];

/// Fields the form leaves to the JSON view: the format version (always 1).
const HIDDEN: [&str; 1] = ["version"];

/// The array of objects whose items are added with the series picker.
pub const PICKED: &str = "panels[].series";

/// Names that come first in their group, in this order; others follow by name.
const FIRST: [&str; 41] = [
    "kind",
    "title",
    "text",
    "font_size",
    "style",
    "window",
    "metric",
    "source",
    "query",
    "refresh",
    "tags",
    "value",
    "to",
    "label",
    "color",
    "width",
    "height",
    "fill",
    "theme",
    "timezone",
    "fps",
    "scroll",
    "min",
    "max",
    "scale",
    "format",
    "unit",
    "decimals",
    "position",
    "values",
    "transform",
    "aggregate",
    "by",
    "columns",
    "rows",
    "gap",
    "col",
    "row",
    "col_span",
    "row_span",
    "layout",
];

/// Labels by pattern, then by name; other fields are labelled by their name.
const LABELS: [(&str, &str); 18] = [
    ("panels[].series[].query", "PromQL query"),
    ("panels[].series[].tags", "Tag filters"),
    ("panels[].series[].by", "Aggregate by"),
    ("panels[].series[].width", "Line width"),
    ("panels[].thresholds[].to", "Band to"),
    ("panels[].y_axis.min", "Y min"),
    ("panels[].y_axis.max", "Y max"),
    ("panels[].y_axis.scale", "Y scale"),
    ("panels[].legend.values", "Legend values"),
    ("panels[].cell", "Grid cell"),
    ("layout", "Layout grid"),
    ("color", "Colour"),
    ("colors", "Colours"),
    ("fps", "Max fps"),
    ("window", "Time window"),
    ("timezone", "Time zone"),
    ("col", "Column"),
    ("col_span", "Column span"),
];

/// What one item of an array of objects is called on its buttons.
const ITEM_NAMES: [(&str, &str); 2] = [
    ("panels[].series", "series"),
    ("panels[].thresholds", "threshold"),
];

/// A control other than the one the field's kind gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Widget {
    /// What the kind gives.
    Plain,
    /// A multi-line text box.
    TextArea,
    /// A text input suggesting from the `<datalist>` with this id.
    Suggest(&'static str),
}

/// The widget of the field at `pattern`.
pub fn widget(pattern: &str) -> Widget {
    match pattern {
        "panels[].text" => Widget::TextArea,
        // The configured sources, which the app lists in `#source-names`.
        "panels[].series[].source" => Widget::Suggest("source-names"),
        _ => Widget::Plain,
    }
}

/// Whether the form leaves the field at `pattern` to the JSON view.
pub fn hidden(pattern: &str) -> bool {
    HIDDEN.contains(&pattern)
}

/// Where a field named `name` comes in its group (smaller first), then by name.
pub fn rank(name: &str) -> (usize, &str) {
    let rank = FIRST.iter().position(|n| *n == name).unwrap_or(FIRST.len());
    (rank, name)
}

/// The label of the field at `pattern` named `name`.
pub fn label(pattern: &str, name: &str) -> String {
    let named = |key: &str| LABELS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l);
    match named(pattern).or_else(|| named(name)) {
        Some(label) => label.to_string(),
        None => {
            let words = name.replace('_', " ");
            let mut chars = words.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    }
}

/// What an item of the array of objects at `pattern` is called.
pub fn item_name(pattern: &str) -> &'static str {
    ITEM_NAMES
        .iter()
        .find(|(k, _)| *k == pattern)
        .map_or("item", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn labels_come_from_the_table_or_the_name() {
        assert_eq!(label("panels[].series[].color", "color"), "Colour");
        assert_eq!(label("panels[].y_axis.min", "min"), "Y min");
        assert_eq!(label("panels[].series[].refresh", "refresh"), "Refresh");
        assert_eq!(label("panels[].font_size", "font_size"), "Font size");
        assert!(rank("title") < rank("zebra") && rank("zebra") < rank("zulu"));
        assert_eq!(item_name("panels[].thresholds"), "threshold");
        assert_eq!(item_name("new[].list"), "item");
    }
}
