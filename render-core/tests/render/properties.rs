//! Property tests: random valid specs (with transforms and aggregates) with random data
//! (empty, single points, NaN, ±Inf, huge and tiny values, unsorted and duplicate
//! timestamps) never panic and always produce a full, opaque frame of the spec's size.

use std::collections::BTreeMap;

use proptest::prelude::*;
use render_core::spec::{
    Aggregate, Axis, Cell, Layout, Legend, LegendPosition, LegendValue, NumberFormat, Panel,
    PanelKind, Scale, SeriesSpec, SeriesStyle, ThemeName, Threshold, Transform,
};
use render_core::{Data, Frame, Point, Renderer, Series, Spec};

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e3..1e3f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => -1e300..1e300f64,
        1 => -1e-300..1e-300f64,
        1 => Just(f64::MAX),
    ]
}

fn points() -> impl Strategy<Value = Vec<Point>> {
    prop::collection::vec((-400_000i64..10_000, value()), 0..300).prop_map(|raw| {
        raw.into_iter()
            .map(|(t, v)| Point {
                t: 1_000_000 + t,
                v,
            })
            .collect()
    })
}

fn data() -> impl Strategy<Value = Data> {
    prop::collection::vec((0..3usize, 0..3u8, points()), 0..6).prop_map(|all| Data {
        series: all
            .into_iter()
            .map(|(metric, tag, points)| Series {
                metric: format!("m{metric}"),
                tags: BTreeMap::from([("k".to_string(), tag.to_string())]),
                points,
                source: None,
            })
            .collect(),
        notes: Vec::new(),
    })
}

fn axis() -> impl Strategy<Value = Option<Axis>> {
    let format = prop::sample::select(NumberFormat::ALL.to_vec());
    prop::option::of(
        (
            any::<bool>(),
            prop::option::of(-1e6..1e6f64),
            1e-3..1e6f64,
            format,
            prop::option::of(0..6u32),
        )
            .prop_map(|(log, min, span, format, decimals)| {
                let min = if log {
                    min.map(|m| m.abs() + 1e-3)
                } else {
                    min
                };
                Axis {
                    min,
                    max: min.map(|m| m + span),
                    scale: if log { Scale::Log } else { Scale::Linear },
                    format,
                    unit: Some("u".into()),
                    decimals,
                }
            }),
    )
}

fn panel(index: u32) -> impl Strategy<Value = Panel> {
    let kind = prop::sample::select(PanelKind::ALL.to_vec());
    let style = prop::sample::select(SeriesStyle::ALL.to_vec());
    let position = prop::sample::select(LegendPosition::ALL.to_vec());
    (
        kind,
        style,
        position,
        axis(),
        prop::collection::vec(
            (
                (0..3usize, prop::option::of(0..3u8), 0.5..10f32, 0.0..1f32),
                prop::option::of(prop::sample::select(Transform::ALL.to_vec())),
                prop::option::of(prop::sample::select(Aggregate::ALL.to_vec())),
                any::<bool>(),
            ),
            0..4,
        ),
        prop::collection::vec(-100.0..100f64, 0..3),
        "[a-z 中]{0,30}",
    )
        .prop_map(
            move |(kind, style, position, y_axis, series, thresholds, title)| Panel {
                kind,
                title: Some(title.clone()),
                cell: Some(Cell {
                    col: 0,
                    row: index,
                    col_span: 1,
                    row_span: 1,
                }),
                series: if kind == PanelKind::Text {
                    Vec::new()
                } else {
                    series
                        .into_iter()
                        .map(|((metric, tag, width, fill), transform, aggregate, by_k)| {
                            SeriesSpec {
                                metric: format!("m{metric}"),
                                tags: tag
                                    .map(|t| BTreeMap::from([("k".to_string(), t.to_string())]))
                                    .unwrap_or_default(),
                                source: None,
                                query: None,
                                refresh: None,
                                label: None,
                                color: None,
                                width: Some(width),
                                fill: Some(fill),
                                transform,
                                aggregate,
                                by: if aggregate.is_some() && by_k {
                                    vec!["k".into()]
                                } else {
                                    Vec::new()
                                },
                            }
                        })
                        .collect()
                },
                style: (kind == PanelKind::Timeseries).then_some(style),
                window: None,
                y_axis: if kind == PanelKind::Text {
                    None
                } else {
                    y_axis
                },
                thresholds: if kind == PanelKind::Text {
                    Vec::new()
                } else {
                    thresholds
                        .into_iter()
                        .map(|value| Threshold {
                            value,
                            color: "#c00".into(),
                            to: None,
                            label: Some("t".into()),
                        })
                        .collect()
                },
                legend: Some(Legend {
                    position,
                    values: vec![LegendValue::Last, LegendValue::Avg],
                }),
                text: (kind == PanelKind::Text).then(|| title.repeat(5)),
                font_size: None,
            },
        )
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        1..600u32,
        1..400u32,
        any::<bool>(),
        1..4u32,
        prop::sample::select(vec!["10s", "5m", "2h"]),
    )
        .prop_flat_map(|(width, height, dark, rows, window)| {
            let panels: Vec<_> = (0..rows).map(panel).collect();
            (Just((width, height, dark, rows, window)), panels)
        })
        .prop_map(|((width, height, dark, rows, window), panels)| Spec {
            version: 1,
            width,
            height,
            theme: if dark {
                ThemeName::Dark
            } else {
                ThemeName::Light
            },
            colors: None,
            title: Some("Random".into()),
            timezone: Some("Europe/Berlin".into()),
            window: Some(window.into()),
            fps: None,
            scroll: None,
            layout: Some(Layout {
                columns: 1,
                rows,
                gap: None,
            }),
            panels,
            variables: Default::default(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_valid_spec_with_any_data_renders_a_full_frame(spec in spec(), data in data(), now in 900_000i64..1_100_000) {
        let (width, height) = (spec.width, spec.height);
        let valid = render_core::validate(spec).expect("generated specs are valid");
        let mut frame = Frame::default();
        Renderer::default().render(&valid, &data, now, &mut frame);
        prop_assert_eq!((frame.width(), frame.height()), (width, height));
        prop_assert_eq!(frame.rgb().len(), (width * height * 3) as usize);
        prop_assert!(frame.rgba().chunks_exact(4).all(|p| p[3] == 255));
    }

    /// The newest stretch of a metric's read plan is read at the finest aggregation
    /// column of the panels drawing it: the window over the panel's width (its rendered
    /// cell inside the 10 px padding) in whole pixels — what a source may reduce a
    /// values-only read to, so an aggregate gets every point it takes.
    #[test]
    fn the_read_plan_reads_at_the_columns_panels_aggregate_on(spec in spec(), now in 900_000i64..1_100_000) {
        let valid = render_core::validate(spec.clone()).expect("generated specs are valid");
        let layout = Renderer::default().layout(&valid);
        // The generated panels all have the spec's window.
        let window_ms = valid.longest_window_ms();
        for metric in valid.metrics() {
            let finest = spec
                .panels
                .iter()
                .zip(&layout.panels)
                .filter(|(panel, _)| panel.series.iter().any(|s| s.query.is_none() && s.metric == metric))
                .map(|(_, (_, rect))| {
                    let columns = ((rect[2] - rect[0] - 20.0).max(1.0) as i64).max(1);
                    (window_ms / columns).max(1)
                })
                .min();
            let plan = valid.read_plan(metric, now);
            prop_assert_eq!(plan.last().map(|s| s.resolution_ms), finest, "{}", metric);
        }
    }
}
