//! The form, built from the spec's schema ([`crate::schema`]): a control per field,
//! chosen by its kind (select, checkbox, number input with the schema's limits, text,
//! colour, repeated groups for arrays of objects), grouped like Grafana's options:
//! Chart · Panel · Series · Axis · Legend · Thresholds. Every control carries its
//! field's path in `data-field`, every button its [`Action`] key in `data-action`.
//! Presentation the schema does not say comes from [`crate::overrides`]; in the browser
//! the controls are refreshed in place.

use render_core::Spec;
use serde_json::Value;

use crate::actions::Action;
use crate::fields::{self, at};
use crate::html::escape;
use crate::overrides::{self, Widget, PANEL_GROUPS, PICKED};
use crate::path::Path;
use crate::picker::{picker_options, series_choices, SeriesInfo};
use crate::rules;
use crate::schema::{spec_fields, Field, Kind};

/// The form's HTML and its signature: what decides its structure (when that is
/// unchanged, the controls are only given their new values, so focus and the caret
/// stay where they are).
struct Form<'a> {
    doc: Value,
    series: &'a [SeriesInfo],
    html: String,
    signature: String,
}

/// The whole form for `spec`, showing panel `selected`.
pub fn form_html(spec: &Spec, selected: usize, series: &[SeriesInfo]) -> String {
    build(spec, selected, series).html
}

/// The structure of the form [`form_html`] builds: its controls, buttons and tabs.
pub fn signature(spec: &Spec, selected: usize, series: &[SeriesInfo]) -> String {
    build(spec, selected, series).signature
}

fn build<'a>(spec: &Spec, selected: usize, series: &'a [SeriesInfo]) -> Form<'a> {
    let mut form = Form {
        doc: fields::doc(spec),
        series,
        html: String::new(),
        signature: format!("{selected}|{}|", series_choices(series).len()),
    };
    let root = Path::root();
    form.group("Chart", |form| {
        form.fields(spec_fields(), &root, &|field| field.name != "panels");
    });
    let panels = root.key("panels");
    let panel_path = panels.index(selected);
    let panel_fields = spec_fields()
        .iter()
        .find(|f| f.name == "panels")
        .map_or(&[][..], |f| f.kind.children());
    let kind = spec.panels.get(selected).map(|p| p.kind);
    form.group("Panel", |form| {
        form.tabs(spec, selected);
        let Some(kind) = kind else {
            return;
        };
        form.fields(panel_fields, &panel_path, &|field| {
            rules::applies(&field.name, kind) && !PANEL_GROUPS.iter().any(|(n, _)| *n == field.name)
        });
        if spec.panels.len() > 1 {
            form.button(Action::RemovePanel(selected), "Remove panel");
        }
    });
    let Some(kind) = kind else {
        return form;
    };
    for (name, title) in PANEL_GROUPS {
        let Some(field) = panel_fields.iter().find(|f| f.name == name) else {
            continue;
        };
        if rules::applies(name, kind) {
            form.group(title, |form| form.content(field, &panel_path.key(name)));
        }
    }
    form
}

impl Form<'_> {
    /// A `<fieldset>` titled `title`.
    fn group(&mut self, title: &str, content: impl FnOnce(&mut Self)) {
        self.html.push_str(&format!(
            "<fieldset data-group=\"{0}\"><legend>{0}</legend>",
            escape(title)
        ));
        self.signature.push_str(title);
        content(self);
        self.html.push_str("</fieldset>");
    }

    /// The panel tabs and the "+ panel" button.
    fn tabs(&mut self, spec: &Spec, selected: usize) {
        self.html.push_str("<div class=\"tabs\">");
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
            self.html.push_str(&format!(
                "<button type=\"button\"{class} data-action=\"{}\">{}</button>",
                Action::SelectPanel(i).key(),
                escape(&name)
            ));
            self.signature.push_str(&format!("|{name}"));
        }
        self.button(Action::AddPanel, "+ panel");
        self.html.push_str("</div>");
    }

    /// The controls of `fields` (the properties of the object at `at`) that `keep`.
    fn fields(&mut self, fields: &[Field], at: &Path, keep: &dyn Fn(&Field) -> bool) {
        let mut shown: Vec<&Field> = fields
            .iter()
            .filter(|f| keep(f) && !overrides::hidden(&at.key(&f.name).pattern()))
            .collect();
        // Plain controls first, then the nested objects and lists.
        shown.sort_by_key(|f| (!f.kind.children().is_empty(), overrides::rank(&f.name)));
        for field in shown {
            let path = at.key(&field.name);
            match &field.kind {
                Kind::Object(_) | Kind::Items(_) => {
                    // Folded away until the spec has it, as Grafana folds its options.
                    let label = overrides::label(&path.pattern(), &field.name);
                    let open = if fields::at(&self.doc, &path).is_some_and(|v| !v.is_null()) {
                        " open"
                    } else {
                        ""
                    };
                    self.html.push_str(&format!(
                        "<details class=\"sub\"{open}><summary title=\"{}\">{}</summary>",
                        escape(&field.description),
                        escape(&label)
                    ));
                    self.content(field, &path);
                    self.html.push_str("</details>");
                }
                _ => self.control(field, &path),
            }
        }
    }

    /// What a group shows for `field` at `path`: an object's fields, or an array's items.
    fn content(&mut self, field: &Field, path: &Path) {
        match &field.kind {
            Kind::Items(children) => self.items(children, path),
            kind => self.fields(kind.children(), path, &|_| true),
        }
    }

    /// An array of objects: each item's fields with a remove button, then a way to add.
    fn items(&mut self, children: &[Field], path: &Path) {
        let pattern = path.pattern();
        let name = overrides::item_name(&pattern);
        let count = at(&self.doc, path)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for i in 0..count {
            let item = path.index(i);
            self.html.push_str("<div class=\"item\">");
            self.fields(children, &item, &|_| true);
            self.button(Action::RemoveItem(item), &format!("Remove {name}"));
            self.html.push_str("</div>");
        }
        if pattern == PICKED {
            let panel = path.first_index().unwrap_or(0);
            let add = Action::AddSeries(panel, String::new());
            self.html.push_str(&format!(
                "<div class=\"picker\"><input type=\"search\" id=\"series-search\" \
                 placeholder=\"Search series: name, tag value\" aria-label=\"Search series\">\
                 <select id=\"series-pick\">{}</select>",
                picker_options(self.series, "")
            ));
            self.button(add, "Add series");
            self.html.push_str("</div>");
        } else {
            self.button(Action::AddItem(path.clone()), &format!("Add {name}"));
        }
    }

    fn button(&mut self, action: Action, text: &str) {
        let key = action.key();
        self.html.push_str(&format!(
            "<button type=\"button\" data-action=\"{}\">{}</button>",
            escape(&key),
            escape(text)
        ));
        self.signature.push_str(&format!("|{key}"));
    }

    /// The control of a plain field.
    fn control(&mut self, field: &Field, path: &Path) {
        let key = escape(&path.to_string());
        let pattern = path.pattern();
        let text = fields::text_at(&self.doc, path);
        let value = escape(&text);
        let hint = escape(&hint(field));
        let body = match (&field.kind, overrides::widget(&pattern)) {
            (Kind::Choice(names), _) => {
                let blank = (!field.required).then(String::new);
                let options: String = blank
                    .iter()
                    .chain(names)
                    .map(|name| {
                        let shown = if name.is_empty() { "(default)" } else { name };
                        let selected = if *name == text { " selected" } else { "" };
                        format!(
                            "<option value=\"{0}\"{selected}>{1}</option>",
                            escape(name),
                            escape(shown)
                        )
                    })
                    .collect();
                format!("<select data-field=\"{key}\">{options}</select>")
            }
            (Kind::Bool, _) => {
                let checked = if text == "true" { " checked" } else { "" };
                format!("<input type=\"checkbox\" data-field=\"{key}\"{checked}>")
            }
            (Kind::Number { integer, min, max }, _) => {
                let step = if *integer { "1" } else { "any" };
                let limit = |name: &str, limit: &Option<f64>| {
                    limit.map_or_else(String::new, |l| format!(" {name}=\"{l}\""))
                };
                format!(
                    "<input type=\"number\" data-field=\"{key}\" value=\"{value}\" \
                     placeholder=\"{hint}\" step=\"{step}\"{}{}>",
                    limit("min", min),
                    limit("max", max)
                )
            }
            (Kind::Json, _) | (_, Widget::TextArea) => {
                let class = if field.kind == Kind::Json {
                    " class=\"json\" spellcheck=\"false\""
                } else {
                    ""
                };
                format!("<textarea data-field=\"{key}\" rows=\"3\"{class}>{value}</textarea>")
            }
            (kind, widget) => {
                let list = match widget {
                    Widget::Suggest(id) => format!(" list=\"{id}\""),
                    _ => String::new(),
                };
                let picker = if *kind == Kind::Color {
                    let color = if is_hex6(&text) { &value } else { "#000000" };
                    format!(
                        "<input type=\"color\" data-field=\"{key}\" data-color value=\"{color}\">"
                    )
                } else {
                    String::new()
                };
                format!(
                    "<input data-field=\"{key}\" value=\"{value}\" placeholder=\"{hint}\"{list}>{picker}"
                )
            }
        };
        self.signature.push_str(&format!("|{key}"));
        self.html.push_str(&format!(
            "<label><span title=\"{}\">{}</span>{body}</label>",
            escape(&field.description),
            escape(&overrides::label(&pattern, &field.name))
        ));
    }
}

/// A control's placeholder: the default the schema or the description names
/// ("Default 10."), else its first example ("e.g. `5m`"), else the accepted values.
fn hint(field: &Field) -> String {
    match &field.default {
        Some(Value::String(default)) => return default.clone(),
        Some(Value::Number(default)) => return default.to_string(),
        _ => {}
    }
    let description = &field.description;
    let default = description.find("Default ").and_then(|start| {
        let rest = &description[start + "Default ".len()..];
        let end = rest.find([',', ';', ' ', '\n']).unwrap_or(rest.len());
        let word = rest[..end].trim_end_matches('.');
        word.starts_with(|c: char| c == '`' || c.is_ascii_digit())
            .then(|| word.trim_matches('`').to_string())
    });
    let example = || {
        let start = description.find("e.g. `")? + "e.g. `".len();
        description[start..].split('`').next().map(String::from)
    };
    if let Some(hint) = default.or_else(example) {
        return hint;
    }
    match &field.kind {
        Kind::List(inner) => match inner.as_ref() {
            Kind::Choice(names) => names.join(", "),
            _ => "a, b, ...".into(),
        },
        Kind::Tags => "key=value, ...".into(),
        _ => String::new(),
    }
}

/// Whether `text` is a `#rrggbb` colour (what `<input type=color>` takes).
pub fn is_hex6(text: &str) -> bool {
    text.len() == 7 && text.starts_with('#') && text[1..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(target_arch = "wasm32")]
pub use browser::{field_path, show};

#[cfg(target_arch = "wasm32")]
mod browser {
    //! Puts the form into the page.

    use render_core::Spec;
    use wasm_bindgen::JsCast;

    use super::{build, is_hex6};
    use crate::dom;
    use crate::fields;
    use crate::path::Path;
    use crate::picker::SeriesInfo;

    /// The path of the field `control` edits (its `data-field`), if it is one.
    pub fn field_path(control: &web_sys::Element) -> Option<Path> {
        control
            .get_attribute("data-field")
            .and_then(|k| Path::parse(&k))
    }

    /// Shows the form for `spec` in `#form`: rebuilt when its structure changed
    /// (`last_signature`), else each control not being edited gets its new value.
    pub fn show(spec: &Spec, selected: usize, series: &[SeriesInfo], last_signature: &mut String) {
        let Some(container) = dom::by_id("form") else {
            return;
        };
        let form = build(spec, selected, series);
        if form.signature != *last_signature {
            container.set_inner_html(&form.html);
            *last_signature = form.signature;
            return;
        }
        let focused = dom::document().and_then(|d| d.active_element());
        let Ok(controls) = container.query_selector_all("[data-field]") else {
            return;
        };
        let doc = fields::doc(spec);
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
            let Some(path) = field_path(&element) else {
                continue;
            };
            let mut value = fields::text_at(&doc, &path);
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
    use crate::picker::tests::live;
    use crate::test_specs::{new_chart, path, with_series};
    use render_core::spec::PanelKind;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The new chart with a series and a threshold on its panel.
    fn full_spec() -> Spec {
        let mut spec = with_series("temp{room=a}");
        Action::AddItem(path("panels[0].thresholds"))
            .apply(&mut spec)
            .expect("threshold");
        spec
    }

    /// The `data-field` keys of `html`.
    fn keys(html: &str) -> Vec<String> {
        html.split("data-field=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(String::from))
            .collect()
    }

    /// The patterns of every plain (not object, not list of objects) field under `at`.
    fn leaves(fields: &[Field], at: &Path, out: &mut Vec<String>) {
        for field in fields {
            let path = at.key(&field.name);
            match &field.kind {
                Kind::Object(children) => leaves(children, &path, out),
                Kind::Items(children) => leaves(children, &path.index(0), out),
                _ => out.push(path.pattern()),
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_field_of_the_schema_has_a_control() {
        let mut spec = full_spec();
        let mut shown: Vec<String> = Vec::new();
        for kind in PanelKind::ALL {
            spec.panels[0].kind = kind;
            let html = form_html(&spec, 0, &live());
            shown.extend(keys(&html).iter().map(|k| path(k).pattern()));
        }
        let mut expected = Vec::new();
        leaves(spec_fields(), &Path::root(), &mut expected);
        let missing: Vec<&String> = expected
            .iter()
            .filter(|p| !overrides::hidden(p) && !shown.contains(p))
            .collect();
        assert!(missing.is_empty(), "no control for {missing:?}");
        assert!(expected.len() > 50, "{expected:?}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fields_no_editor_code_names_get_the_control_of_their_kind() {
        let html = form_html(&full_spec(), 0, &live());
        // Nothing in the editor mentions these: the schema alone gives their controls.
        assert!(
            html.contains("<input data-field=\"timezone\" value=\"\" placeholder=\"UTC\">"),
            "{html}"
        );
        assert!(html.contains("<select data-field=\"scroll\"><option value=\"\" selected>(default)</option><option value=\"step\">"), "{html}");
        assert!(html.contains("<input type=\"color\" data-field=\"colors.background\""));
        assert!(html.contains("type=\"number\" data-field=\"width\" value=\"640\" placeholder=\"\" step=\"1\" min=\"1\" max=\"4096\""), "{html}");
        assert!(html.contains("data-field=\"panels[0].series[0].fill\" value=\"\" placeholder=\"0\" step=\"any\" min=\"0\" max=\"1\""), "{html}");
        assert!(html.contains("<textarea data-field=\"variables\" rows=\"3\" class=\"json\""));
        assert!(
            !html.contains("data-field=\"version\""),
            "left to the JSON view"
        );
        // A checkbox for a boolean, when the schema grows one.
        let mut form = Form {
            doc: serde_json::json!({"on": true}),
            series: &[],
            html: String::new(),
            signature: String::new(),
        };
        let on = Field {
            name: "on".into(),
            description: "Switch.".into(),
            required: false,
            default: None,
            kind: Kind::Bool,
        };
        form.control(&on, &Path::root().key("on"));
        assert!(
            form.html
                .contains("<input type=\"checkbox\" data-field=\"on\">"),
            "{}",
            form.html
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn options_are_grouped_like_grafanas() {
        let groups = |spec: &Spec| -> Vec<String> {
            form_html(spec, 0, &live())
                .split("data-group=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next().map(String::from))
                .collect()
        };
        let mut spec = full_spec();
        assert_eq!(
            groups(&spec),
            ["Chart", "Panel", "Series", "Axis", "Legend", "Thresholds"]
        );
        let html = form_html(&spec, 0, &live());
        let group_of = |key: &str| {
            let at = html.find(&format!("data-field=\"{key}\"")).expect(key);
            html[..at]
                .rsplit("data-group=\"")
                .next()
                .and_then(|g| g.split('"').next())
                .map(String::from)
        };
        assert_eq!(group_of("layout.columns").as_deref(), Some("Chart"));
        assert_eq!(group_of("panels[0].cell.col").as_deref(), Some("Panel"));
        assert_eq!(
            group_of("panels[0].series[0].color").as_deref(),
            Some("Series")
        );
        assert_eq!(group_of("panels[0].y_axis.min").as_deref(), Some("Axis"));
        assert_eq!(
            group_of("panels[0].legend.values").as_deref(),
            Some("Legend")
        );
        assert_eq!(
            group_of("panels[0].thresholds[0].value").as_deref(),
            Some("Thresholds")
        );
        // A text panel has no series, axis, legend or thresholds.
        spec.panels[0].kind = PanelKind::Text;
        assert_eq!(groups(&spec), ["Chart", "Panel"]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_form_names_every_control_and_escapes_values() {
        let mut spec = full_spec();
        spec.title = Some("<b>\"hot\"</b>".into());
        let html = form_html(&spec, 0, &live());
        assert!(
            html.contains("value=\"&lt;b&gt;&quot;hot&quot;&lt;/b&gt;\""),
            "{html}"
        );
        for key in [
            "title",
            "panels[0].kind",
            "panels[0].series[0].metric",
            "panels[0].series[0].color",
            "panels[0].series[0].transform",
            "panels[0].series[0].by",
            "layout.columns",
        ] {
            assert!(html.contains(&format!("data-field=\"{key}\"")), "{key}");
        }
        assert!(html.contains("data-action=\"add-series:0:\""));
        assert!(html.contains("data-action=\"remove:panels[0].series[0]\""));
        assert!(html.contains("data-action=\"add:panels[0].thresholds\""));
        assert!(html.contains("<option value=\"temp{room=b}\">"));
        assert!(html.contains("<option value=\"timeseries\" selected>"));
        assert!(html.contains("<option value=\"rate\">rate</option>"));
        assert!(html.contains("list=\"source-names\""));
        // One panel: it cannot be removed.
        assert!(!html.contains("remove-panel"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_signature_changes_with_the_structure_only() {
        let mut spec = new_chart();
        let before = signature(&spec, 0, &live());
        spec.title = Some("Other".into());
        assert_eq!(signature(&spec, 0, &live()), before);
        Action::AddSeries(0, "load".into())
            .apply(&mut spec)
            .expect("series");
        assert_ne!(signature(&spec, 0, &live()), before);
    }
}
