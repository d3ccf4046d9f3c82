//! Variables: their names, the values they allow (a list, or a regular expression the
//! whole value must match) and `$name` / `${name}` substitution into text.

use std::collections::BTreeMap;

use crate::spec::{Allowed, Spec};

/// Most variables in one spec.
pub const MAX_VARIABLES: usize = 16;
/// Longest variable name, in characters.
pub const MAX_VARIABLE_NAME: usize = 64;
/// Most values in an `allowed` list.
pub const MAX_ALLOWED: usize = 256;
/// Most bytes a compiled `allowed` pattern may take (regex-lite's size limit).
const PATTERN_SIZE_LIMIT: usize = 64 * 1024;

/// Whether `name` is a variable name: an identifier `[A-Za-z_][A-Za-z0-9_]*` of at
/// most [`MAX_VARIABLE_NAME`] characters.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_VARIABLE_NAME
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(is_identifier_char)
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The values one variable allows, ready to check values against.
pub(crate) enum Matcher<'a> {
    /// Any value.
    Any,
    /// One of these.
    List(&'a [String]),
    /// What this anchored pattern matches.
    Pattern(regex_lite::Regex),
}

impl<'a> Matcher<'a> {
    /// Compiles `allowed`; the error says why a pattern does not compile.
    pub fn new(allowed: Option<&'a Allowed>) -> Result<Matcher<'a>, String> {
        match allowed {
            None => Ok(Matcher::Any),
            Some(Allowed::List(values)) => Ok(Matcher::List(values)),
            Some(Allowed::Pattern(pattern)) => {
                regex_lite::RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .build()
                    .map(Matcher::Pattern)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Whether `value` is allowed.
    pub fn allows(&self, value: &str) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::List(values) => values.iter().any(|v| v == value),
            Matcher::Pattern(regex) => regex.is_match(value),
        }
    }
}

/// `text` with every `$name` (the longest identifier after the `$`) and `${name}` of a
/// name in `values` replaced by its value; other `$` stay as written ("Cost in $",
/// `$undeclared`). Inserted values are not scanned again.
pub fn substitute(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !is_identifier_char(c))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match values.get(name) {
            Some(value) if !name.is_empty() => {
                out.push_str(value);
                rest = &after[consumed..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Calls `each` on every text of `spec` that variables are substituted into: the
/// chart's and panels' titles, text panels' text, series labels, PromQL queries and tag
/// filter values, threshold labels. **The one place a new substitutable string field is
/// added.**
pub(crate) fn for_each_text(spec: &mut Spec, mut each: impl FnMut(&mut String)) {
    if let Some(title) = &mut spec.title {
        each(title);
    }
    for panel in &mut spec.panels {
        for text in [&mut panel.title, &mut panel.text].into_iter().flatten() {
            each(text);
        }
        for series in &mut panel.series {
            for text in [&mut series.label, &mut series.query].into_iter().flatten() {
                each(text);
            }
            for value in series.tags.values_mut() {
                each(value);
            }
        }
        for threshold in &mut panel.thresholds {
            if let Some(label) = &mut threshold.label {
                each(label);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<String, String> {
        [("host", "db2"), ("dc", "fra")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn declared_names_are_substituted_and_everything_else_stays() {
        let v = values();
        assert_eq!(substitute("CPU of $host", &v), "CPU of db2");
        assert_eq!(substitute("${host}-${dc}", &v), "db2-fra");
        assert_eq!(substitute("$host.$dc!", &v), "db2.fra!");
        assert_eq!(substitute("${host}s", &v), "db2s");
        // The longest identifier is the name: `$hosts` is not `$host` + "s".
        assert_eq!(substitute("$hosts", &v), "$hosts");
        assert_eq!(substitute("Cost in $", &v), "Cost in $");
        assert_eq!(substitute("$$host", &v), "$db2");
        assert_eq!(substitute("${host", &v), "${host");
        assert_eq!(substitute("${}", &v), "${}");
        assert_eq!(
            substitute("$undeclared ${other}", &v),
            "$undeclared ${other}"
        );
        assert_eq!(substitute("äö $dc €", &v), "äö fra €");
        let nested: BTreeMap<String, String> = [
            ("a".to_string(), "$b".to_string()),
            ("b".to_string(), "x".to_string()),
        ]
        .into();
        assert_eq!(substitute("$a", &nested), "$b");
    }

    #[test]
    fn names_are_identifiers() {
        assert!(valid_name("host"));
        assert!(valid_name("_dc2"));
        assert!(!valid_name(""));
        assert!(!valid_name("2dc"));
        assert!(!valid_name("host-name"));
        assert!(!valid_name(&"a".repeat(MAX_VARIABLE_NAME + 1)));
    }

    #[test]
    fn patterns_match_whole_values() {
        let pattern = Allowed::Pattern("db[0-9]+|web".into());
        let matcher = Matcher::new(Some(&pattern)).expect("compiles");
        assert!(matcher.allows("db12"));
        assert!(matcher.allows("web"));
        assert!(!matcher.allows("db12x"));
        assert!(!matcher.allows("xweb"));
        assert!(Matcher::new(Some(&Allowed::Pattern("(".into()))).is_err());
        let list = Allowed::List(vec!["a".into()]);
        let matcher = Matcher::new(Some(&list)).expect("a list");
        assert!(matcher.allows("a") && !matcher.allows("b"));
        assert!(Matcher::new(None).expect("any").allows("whatever"));
    }
}
