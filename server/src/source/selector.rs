//! [`Selector`]: which series a chart's series query asks for — a metric and tag
//! filters — as the sources take it; [`Promql`]: a PromQL query of a configured source
//! at a step; and [`Selectors`], both kinds of a whole spec.

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

    /// Every distinct selector of `spec`'s metric series queries, sorted. A selector
    /// whose tag filters are a superset of another's of the same metric is left out:
    /// the wider one already selects its series.
    fn of_spec(spec: &ValidSpec) -> Vec<Selector> {
        let mut all: Vec<Selector> = spec
            .spec()
            .panels
            .iter()
            .flat_map(|panel| &panel.series)
            .filter(|series| series.query.is_none())
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

/// Prometheus refuses a range query of more than 11,000 points per series.
pub const MAX_POINTS: i64 = 11_000;

/// The steps a query is asked at: the first at least a chart's time per pixel column.
const NICE_STEPS_MS: [i64; 18] = [
    1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
    1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/// A PromQL query of a configured source, asked over the last `span_ms` at `step_ms`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Promql {
    /// The source's name.
    pub source: String,
    /// The query.
    pub query: String,
    /// Time between the points asked for, ms: a nice step of at least the time per pixel
    /// column, and at most [`MAX_POINTS`] over the span.
    pub step_ms: i64,
    /// How far back the answer reaches, ms.
    pub span_ms: i64,
    /// How often the spec wants it asked again, ms (`None`: the source's setting).
    pub refresh_ms: Option<i64>,
}

impl Promql {
    /// `query` of `source` over the last `span_ms`, drawn at `resolution_ms` per pixel
    /// column.
    pub fn new(
        source: &str,
        query: &str,
        resolution_ms: i64,
        span_ms: i64,
        refresh_ms: Option<i64>,
    ) -> Promql {
        let span_ms = span_ms.max(1);
        let least = resolution_ms.max(span_ms.saturating_add(MAX_POINTS - 1) / MAX_POINTS);
        let day = NICE_STEPS_MS[NICE_STEPS_MS.len() - 1];
        let step_ms = NICE_STEPS_MS
            .iter()
            .copied()
            .find(|step| *step >= least)
            .unwrap_or_else(|| least.saturating_add(day - 1) / day * day);
        Promql {
            source: source.to_string(),
            query: query.to_string(),
            step_ms,
            span_ms,
            refresh_ms,
        }
    }

    /// Every distinct query of `spec`'s series, at the step of its finest time axis
    /// over its data range.
    fn of_spec(spec: &ValidSpec) -> Vec<Promql> {
        let (from, to) = spec.data_range(0);
        let resolution = spec.query_resolution_ms();
        let mut all: Vec<Promql> = spec
            .spec()
            .panels
            .iter()
            .flat_map(|panel| &panel.series)
            .filter_map(|series| {
                let (source, query) = (series.source.as_ref()?, series.query.as_ref()?);
                let refresh = series
                    .refresh
                    .as_deref()
                    .and_then(render_core::parse_duration_ms);
                Some(Promql::new(source, query, resolution, to - from, refresh))
            })
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// What a chart (or a preview) reads: built-in series and PromQL queries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectors {
    /// Series of the built-in store.
    pub series: Vec<Selector>,
    /// Queries of configured sources.
    pub promql: Vec<Promql>,
}

impl Selectors {
    /// Everything `spec` reads.
    pub fn of_spec(spec: &ValidSpec) -> Selectors {
        Selectors {
            series: Selector::of_spec(spec),
            promql: Promql::of_spec(spec),
        }
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
        let selectors = Selectors::of_spec(&spec.expect("valid spec")).series;
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

    #[test]
    fn a_query_is_asked_at_a_nice_step_within_prometheus_cap() {
        let q = |resolution, span| Promql::new("p", "up", resolution, span, None).step_ms;
        assert_eq!(q(375, 420_000), 1_000, "finer than a second: 1 s");
        assert_eq!(q(1_100, 420_000), 2_000);
        assert_eq!(q(40_000, 86_400_000), 60_000);
        // A year at 1 s per column would be 31.6 M points: the cap decides (1 h).
        let year = 366 * 86_400_000;
        let step = q(1_000, year);
        assert!(year / step <= MAX_POINTS && step == 3_600_000, "{step}");
        assert_eq!(q(3 * 86_400_000, year), 3 * 86_400_000);
    }
}
