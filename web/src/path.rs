//! A place in the spec: `panels[0].series[1].color`, written exactly as validation
//! names the place of a problem. Form controls carry it in `data-field`, buttons in
//! `data-action`; [`Path::pattern`] (`panels[].series[].color`) names the field for
//! every panel and series at once, as the override tables key it.

use std::fmt;

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object's property.
    Key(String),
    /// An array's item.
    Index(usize),
}

/// A place in the spec's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Step>);

impl Path {
    /// The document itself.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// This path with property `name` appended.
    pub fn key(&self, name: &str) -> Path {
        let mut steps = self.0.clone();
        steps.push(Step::Key(name.to_string()));
        Path(steps)
    }

    /// This path with item `index` appended.
    pub fn index(&self, index: usize) -> Path {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        Path(steps)
    }

    /// The path without its last step, and that step (`None` for the root).
    pub fn split_last(&self) -> Option<(Path, &Step)> {
        let (last, parent) = self.0.split_last()?;
        Some((Path(parent.to_vec()), last))
    }

    /// The last property name (`color` of `panels[0].series[1].color`).
    pub fn name(&self) -> &str {
        match self.0.last() {
            Some(Step::Key(name)) => name,
            _ => "",
        }
    }

    /// The path with every index left out: `panels[].series[].color`.
    pub fn pattern(&self) -> String {
        let mut text = String::new();
        for step in &self.0 {
            match step {
                Step::Key(name) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(name);
                }
                Step::Index(_) => text.push_str("[]"),
            }
        }
        text
    }

    /// The first index of the path (the panel of `panels[2].title`).
    pub fn first_index(&self) -> Option<usize> {
        self.0.iter().find_map(|step| match step {
            Step::Index(i) => Some(*i),
            Step::Key(_) => None,
        })
    }

    /// Parses what [`fmt::Display`] writes; `None` for anything else.
    pub fn parse(text: &str) -> Option<Path> {
        let mut steps = Vec::new();
        if text.is_empty() {
            return Some(Path(steps));
        }
        for part in text.split('.') {
            let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            steps.push(Step::Key(name.to_string()));
            while let Some(inner) = rest.strip_prefix('[') {
                let (number, after) = inner.split_once(']')?;
                steps.push(Step::Index(number.parse().ok()?));
                rest = after;
            }
            if !rest.is_empty() {
                return None;
            }
        }
        Some(Path(steps))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(name) if i == 0 => write!(f, "{name}")?,
                Step::Key(name) => write!(f, ".{name}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn paths_round_trip_as_validation_writes_them() {
        for text in [
            "",
            "title",
            "layout.columns",
            "panels[0].series[12].color",
            "panels[3].y_axis.min",
            "a[1][2].b",
        ] {
            let path = Path::parse(text).expect(text);
            assert_eq!(path.to_string(), text);
        }
        let path = Path::root().key("panels").index(2).key("series").index(0);
        assert_eq!(path.key("color").to_string(), "panels[2].series[0].color");
        assert_eq!(path.key("color").pattern(), "panels[].series[].color");
        assert_eq!(path.first_index(), Some(2));
        assert_eq!(path.key("color").name(), "color");
        for bad in [
            "panels[x]",
            "panels[0",
            ".a",
            "a..b",
            "a]",
            "a b",
            "panels[0]x",
        ] {
            assert_eq!(Path::parse(bad), None, "{bad}");
        }
    }
}
