//! The spec's fields as the form needs them, read from render-core's JSON Schema
//! ([`render_core::json_schema`], derived by schemars from `spec.rs`): the one
//! description of the spec. Each property becomes a [`Field`] whose [`Kind`] picks its
//! control (a choice list becomes a select, a number with its limits a number input, a
//! `format: color` string a colour input, an array of objects repeated groups), so a
//! field added to the spec shows up in the form without editing the editor.

use std::sync::OnceLock;

use serde_json::Value;

use crate::path::{Path, Step};

/// What a field holds, and so which control edits it.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A string: a text input.
    Text,
    /// A colour string (`format: color`): a text input and a colour input.
    Color,
    /// A number: a number input with the schema's limits.
    Number {
        /// Whole numbers only.
        integer: bool,
        /// Smallest value, if the schema names one.
        min: Option<f64>,
        /// Largest value, if the schema names one.
        max: Option<f64>,
    },
    /// True or false: a checkbox.
    Bool,
    /// One of these strings: a select.
    Choice(Vec<String>),
    /// An array of scalars (`last, max`): a text input, comma-separated.
    List(Box<Kind>),
    /// A map of strings (tag filters `k=v, k2=v2`): a text input.
    Tags,
    /// An object: its fields, inline.
    Object(Vec<Field>),
    /// An array of objects: a group of its fields per item, with add and remove.
    Items(Vec<Field>),
    /// Anything else (a map of objects, an untagged union): its JSON in a textarea.
    Json,
}

impl Kind {
    /// The fields inside an object or an array of objects (none for the rest).
    pub fn children(&self) -> &[Field] {
        match self {
            Kind::Object(fields) | Kind::Items(fields) => fields,
            _ => &[],
        }
    }
}

/// One property of an object in the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name in the JSON.
    pub name: String,
    /// The schema's description (the doc comment in `spec.rs`).
    pub description: String,
    /// Whether a spec must have it (listed as required, not nullable).
    pub required: bool,
    /// The value serde uses when it is absent, if the schema says.
    pub default: Option<Value>,
    /// What it holds.
    pub kind: Kind,
}

/// The fields of the spec (the root object), read once from render-core's schema.
pub fn spec_fields() -> &'static [Field] {
    static FIELDS: OnceLock<Vec<Field>> = OnceLock::new();
    FIELDS.get_or_init(|| fields_of(&render_core::json_schema()))
}

/// The fields of the root object of `schema`.
pub fn fields_of(schema: &Value) -> Vec<Field> {
    match kind(schema, schema, 0).0 {
        Kind::Object(fields) => fields,
        _ => Vec::new(),
    }
}

/// The field at `path` (indices step into arrays of objects).
pub fn find<'a>(fields: &'a [Field], path: &Path) -> Option<&'a Field> {
    let mut fields = fields;
    let mut found: Option<&Field> = None;
    let mut steps = path.0.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Key(name) = step else {
            return None;
        };
        let field = fields.iter().find(|f| f.name == *name)?;
        if matches!(field.kind, Kind::Items(_)) {
            if let Some(Step::Index(_)) = steps.peek() {
                steps.next();
            }
        }
        fields = field.kind.children();
        found = Some(field);
    }
    found
}

/// Deeper than this, a (recursive) schema is edited as JSON.
const MAX_DEPTH: usize = 12;

/// The kind of `schema` (a part of `root`) and whether it may be null.
fn kind(root: &Value, schema: &Value, depth: usize) -> (Kind, bool) {
    if depth > MAX_DEPTH {
        return (Kind::Json, false);
    }
    if let Some(target) = schema["$ref"].as_str() {
        return match resolve(root, target) {
            Some(target) => kind(root, target, depth + 1),
            None => (Kind::Json, false),
        };
    }
    if let Some(alternatives) = schema["anyOf"]
        .as_array()
        .or_else(|| schema["oneOf"].as_array())
    {
        let present: Vec<&Value> = alternatives.iter().filter(|a| !is_null(a)).collect();
        let nullable = present.len() < alternatives.len();
        let constants: Option<Vec<String>> = present
            .iter()
            .map(|a| a["const"].as_str().map(String::from))
            .collect();
        return match (constants, present.as_slice()) {
            (Some(names), _) if !names.is_empty() => (Kind::Choice(names), nullable),
            (_, [only]) => (kind(root, only, depth + 1).0, nullable),
            _ => (Kind::Json, nullable),
        };
    }
    if let Some(names) = schema["enum"].as_array() {
        let nullable = names.iter().any(Value::is_null);
        let names = names.iter().filter_map(|n| n.as_str().map(String::from));
        return (Kind::Choice(names.collect()), nullable);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let nullable = types.contains(&"null");
    let kind = match types.iter().find(|t| **t != "null") {
        Some(&"string") if schema["format"] == "color" => Kind::Color,
        Some(&"string") => Kind::Text,
        Some(&"boolean") => Kind::Bool,
        Some(&number @ ("integer" | "number")) => Kind::Number {
            integer: number == "integer",
            min: schema["minimum"].as_f64(),
            max: schema["maximum"].as_f64(),
        },
        Some(&"array") => match kind(root, &schema["items"], depth + 1).0 {
            Kind::Object(fields) => Kind::Items(fields),
            scalar @ (Kind::Text
            | Kind::Color
            | Kind::Number { .. }
            | Kind::Bool
            | Kind::Choice(_)) => Kind::List(Box::new(scalar)),
            _ => Kind::Json,
        },
        Some(&"object") => object(root, schema, depth),
        _ => Kind::Json,
    };
    (kind, nullable)
}

/// An object's kind: its properties as fields, a map of strings as tags, else JSON.
fn object(root: &Value, schema: &Value, depth: usize) -> Kind {
    if let Some(properties) = schema["properties"].as_object() {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let fields = properties
            .iter()
            .map(|(name, property)| {
                let (kind, nullable) = kind(root, property, depth + 1);
                Field {
                    name: name.clone(),
                    description: property["description"].as_str().unwrap_or("").to_string(),
                    required: required.contains(&name.as_str()) && !nullable,
                    default: property.get("default").cloned(),
                    kind,
                }
            })
            .collect();
        return Kind::Object(fields);
    }
    match kind(root, &schema["additionalProperties"], depth + 1).0 {
        Kind::Text => Kind::Tags,
        _ => Kind::Json,
    }
}

fn is_null(schema: &Value) -> bool {
    schema["type"] == "null"
}

/// The definition a `$ref` such as `#/$defs/Panel` names.
fn resolve<'a>(root: &'a Value, target: &str) -> Option<&'a Value> {
    let pointer = target.strip_prefix('#')?;
    root.pointer(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn field<'a>(path: &str) -> &'a Field {
        let path = Path::parse(path).expect("a path");
        find(spec_fields(), &path).unwrap_or_else(|| panic!("no field {path}"))
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_spec_schema_gives_each_field_its_control() {
        assert_eq!(
            field("width").kind,
            Kind::Number {
                integer: true,
                min: Some(1.0),
                max: Some(4096.0)
            }
        );
        assert!(field("width").required);
        assert_eq!(
            field("theme").kind,
            Kind::Choice(vec!["light".into(), "dark".into()])
        );
        assert_eq!(field("theme").default, Some(Value::from("light")));
        assert!(!field("title").required);
        assert_eq!(field("panels[0].series[0].color").kind, Kind::Color);
        assert_eq!(field("colors.background").kind, Kind::Color);
        assert_eq!(field("panels[0].series[0].tags").kind, Kind::Tags);
        assert_eq!(
            field("panels[0].legend.values").kind,
            Kind::List(Box::new(Kind::Choice(
                ["last", "min", "max", "avg"].map(String::from).to_vec()
            )))
        );
        assert!(matches!(field("panels[3].thresholds").kind, Kind::Items(_)));
        assert!(matches!(field("layout").kind, Kind::Object(_)));
        assert!(field("layout.columns").required && !field("layout").required);
        // A map of objects and an untagged union are edited as JSON.
        assert_eq!(field("variables").kind, Kind::Json);
        let Kind::Choice(styles) = &field("panels[0].style").kind else {
            panic!("style is a choice");
        };
        assert_eq!(styles.len(), render_core::spec::SeriesStyle::ALL.len());
        assert!(find(spec_fields(), &Path::parse("panels[0].nope").expect("path")).is_none());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn any_schema_maps_onto_controls() {
        let schema = serde_json::json!({
            "type": "object",
            "required": ["on"],
            "properties": {
                "on": {"type": "boolean", "description": "Switch."},
                "mode": {"enum": ["a", "b", null]},
                "rows": {"type": "array", "items": {"type": "object",
                    "properties": {"n": {"type": "number", "maximum": 3}}}},
                "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
            }
        });
        let fields = fields_of(&schema);
        let get = |name: &str| fields.iter().find(|f| f.name == name).expect(name);
        assert_eq!(get("on").kind, Kind::Bool);
        assert!(get("on").required);
        assert_eq!(get("on").description, "Switch.");
        assert_eq!(get("mode").kind, Kind::Choice(vec!["a".into(), "b".into()]));
        assert_eq!(
            get("rows").kind,
            Kind::Items(vec![Field {
                name: "n".into(),
                description: String::new(),
                required: false,
                default: None,
                kind: Kind::Number {
                    integer: false,
                    min: None,
                    max: Some(3.0)
                },
            }])
        );
        assert_eq!(get("either").kind, Kind::Json);
    }
}
