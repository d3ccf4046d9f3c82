//! [`Selector`]: which series a chart's series query asks for — a metric and tag
//! filters — as the sources take it, and the selectors of a whole spec.

use std::collections::BTreeMap;

use render_core::ValidSpec;

/// A metric and the tags a series of it must carry (with these values).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Selector {
    /// Metric name.
    pub metric: String,
    /// Tag filters.
    pub tags: BTreeMap<String, String>,
}

impl Selector {
    /// Whether a series `metric` + `tags` is selected.
    pub fn matches(&self, metric: &str, tags: &BTreeMap<String, String>) -> bool {
        self.metric == metric && self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
    }

    /// Every distinct selector of `spec`'s series queries, sorted. A selector whose
    /// tag filters are a superset of another's of the same metric is left out: the
    /// wider one already selects its series.
    pub fn of_spec(spec: &ValidSpec) -> Vec<Selector> {
        let mut all: Vec<Selector> = spec
            .spec()
            .panels
            .iter()
            .flat_map(|panel| &panel.series)
            .map(|series| Selector {
                metric: series.metric.clone(),
                tags: series.tags.clone(),
            })
            .collect();
        all.sort();
        all.dedup();
        let wider = |narrow: &Selector, wide: &Selector| {
            narrow != wide && wide.matches(&narrow.metric, &narrow.tags)
        };
        let kept: Vec<Selector> = all
            .iter()
            .filter(|s| !all.iter().any(|other| wider(s, other)))
            .cloned()
            .collect();
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_selects_with_its_tag_filters_and_wider_filters_absorb_narrower() {
        let json = r#"{"version":1,"width":320,"height":200,"panels":[
            {"series":[{"metric":"cpu","tags":{"host":"a","core":"0"}},{"metric":"cpu","tags":{"host":"a"}}]},
            {"series":[{"metric":"mem","tags":{"host":"b"}},{"metric":"cpu","tags":{"host":"a"}}]}]}"#;
        let spec = render_core::Spec::from_json(json).and_then(|s| {
            render_core::validate(s).map_err(|e| serde::de::Error::custom(e.to_string()))
        });
        let selectors = Selector::of_spec(&spec.expect("valid spec"));
        let tags = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(
            selectors,
            [
                Selector {
                    metric: "cpu".into(),
                    tags: tags("host", "a")
                },
                Selector {
                    metric: "mem".into(),
                    tags: tags("host", "b")
                },
            ]
        );
        assert!(selectors[0].matches(
            "cpu",
            &BTreeMap::from([
                ("host".to_string(), "a".to_string()),
                ("core".to_string(), "3".to_string())
            ])
        ));
        assert!(!selectors[0].matches("cpu", &tags("host", "b")));
    }
}
