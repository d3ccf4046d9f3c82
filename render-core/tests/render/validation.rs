//! Validation: bad specs are rejected with every problem listed at its JSON path; the
//! caps hold; the JSON Schema describes the spec.

use render_core::{Spec, ValidationErrors};

fn errors(json: &str) -> Vec<String> {
    let spec = Spec::from_json(json).expect("syntactically valid spec");
    match render_core::validate(spec) {
        Ok(_) => Vec::new(),
        Err(ValidationErrors(list)) => list.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_problem_is_reported_with_its_json_path() {
    let found = errors(
        r##"{"version":1,"width":800,"height":450,"timezone":"Mars/Base","panels":[
            {"series":[{"metric":"a"}]},
            {"series":[{"metric":"b","color":"#12","width":40}],"window":"5 minutes",
             "y_axis":{"min":5,"max":1},"thresholds":[{"value":1,"color":"red"}]}]}"##,
    );
    let expected = [
        "timezone: \"Mars/Base\" is not an IANA time zone",
        "panels[1].window: \"5 minutes\" is not a duration",
        "panels[1].series[0].color: \"#12\" is not a colour",
        "panels[1].series[0].width: 40 is outside 0.5..=10",
        "panels[1].y_axis.min: 5 must be below max 1",
        "panels[1].thresholds[0].color: \"red\" is not a colour",
    ];
    for message in expected {
        assert!(
            found.iter().any(|f| f.starts_with(message)),
            "missing {message:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn caps_are_enforced() {
    let huge =
        errors(r#"{"version":1,"width":4097,"height":4096,"panels":[{"kind":"text","text":"x"}]}"#);
    assert!(
        huge.iter()
            .any(|e| e.starts_with("width: 4097 is outside 1..=4096")),
        "{huge:?}"
    );
    assert!(
        huge.iter().any(|e| e.contains("more than 16000000")),
        "{huge:?}"
    );
    let panels = vec![r#"{"kind":"text","text":"x"}"#; 65].join(",");
    let many = errors(&format!(
        r#"{{"version":1,"width":100,"height":100,"panels":[{panels}]}}"#
    ));
    assert!(
        many.iter()
            .any(|e| e.starts_with("panels: needs 1..=64 panels, has 65")),
        "{many:?}"
    );
    let series = vec![r#"{"metric":"m"}"#; 65].join(",");
    let crowded = errors(&format!(
        r#"{{"version":1,"width":100,"height":100,"panels":[{{"series":[{series}]}}]}}"#
    ));
    assert!(
        crowded
            .iter()
            .any(|e| e.starts_with("panels[0].series: has 65 series")),
        "{crowded:?}"
    );
    let long = "x".repeat(201);
    let titled = errors(&format!(
        r#"{{"version":1,"width":100,"height":100,"title":"{long}","panels":[{{"kind":"text"}}]}}"#
    ));
    assert_eq!(
        titled,
        vec!["title: is 201 characters long, at most 200".to_string()]
    );
}

#[test]
fn layout_cells_must_fit_and_not_overlap() {
    let found = errors(
        r#"{"version":1,"width":800,"height":450,"layout":{"columns":2,"rows":1},"panels":[
            {"kind":"text","cell":{"col":0,"row":0,"col_span":2}},
            {"kind":"text","cell":{"col":1,"row":0}},
            {"kind":"text","cell":{"col":2,"row":0}}]}"#,
    );
    assert!(
        found
            .iter()
            .any(|e| e.starts_with("panels[1].cell: overlaps another panel")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|e| e.starts_with("panels[2].cell: columns 2+1")),
        "{found:?}"
    );
}

#[test]
fn unknown_fields_and_wrong_types_fail_to_parse_with_their_place() {
    let unknown =
        Spec::from_json(r##"{"version":1,"width":10,"height":10,"panels":[],"colour":"#fff"}"##)
            .expect_err("unknown field");
    assert!(
        unknown.to_string().contains("unknown field `colour`"),
        "{unknown}"
    );
    let nested = Spec::from_json(r##"{"version":1,"width":10,"height":10,"panels":[{"series":[{"metric":"m","colr":"#fff"}]}]}"##)
        .expect_err("unknown nested field");
    assert!(
        nested.to_string().contains("unknown field `colr`"),
        "{nested}"
    );
    let negative = Spec::from_json(r#"{"version":1,"width":-5,"height":10,"panels":[]}"#)
        .expect_err("negative width");
    assert!(negative.to_string().contains("line 1"), "{negative}");
}

#[test]
fn log_axes_need_positive_bounds() {
    let found = errors(
        r#"{"version":1,"width":100,"height":100,"panels":[{"series":[{"metric":"m"}],"y_axis":{"scale":"log","min":0}}]}"#,
    );
    assert_eq!(
        found,
        vec!["panels[0].y_axis.min: 0 must be above 0 on a log scale".to_string()]
    );
}

#[test]
fn schema_describes_the_spec() {
    let schema = render_core::json_schema();
    let properties = &schema["properties"];
    for field in [
        "version", "width", "height", "theme", "panels", "layout", "timezone", "fps", "scroll",
    ] {
        assert!(
            properties.get(field).is_some(),
            "schema lacks {field}: {schema}"
        );
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}

#[test]
fn chart_ids_are_short_slugs() {
    for ok in ["cpu", "0", "a-b_c", &"x".repeat(64)] {
        assert!(render_core::valid_chart_id(ok), "{ok}");
    }
    for bad in ["", "-a", "_a", "A", "a.b", "a/b", "é", &"x".repeat(65)] {
        assert!(!render_core::valid_chart_id(bad), "{bad}");
    }
}

#[test]
fn by_needs_an_aggregate_and_distinct_tag_keys() {
    let found = errors(
        r#"{"version":1,"width":100,"height":100,"panels":[{"series":[
            {"metric":"cpu","aggregate":"sum","by":["host"]},
            {"metric":"cpu","transform":"rate","by":["host"]},
            {"metric":"cpu","aggregate":"avg","by":["host","","host"]}]}]}"#,
    );
    assert_eq!(
        found,
        [
            "panels[0].series[1].by: groups an aggregate; set \"aggregate\" (sum, avg, min or max) or remove \"by\"",
            "panels[0].series[2].by[1]: is empty",
            "panels[0].series[2].by[2]: \"host\" is listed twice",
        ]
    );
}

#[test]
fn transforms_and_aggregates_are_closed_lists() {
    for (field, value) in [("transform", "irate"), ("aggregate", "median")] {
        let json = format!(
            r#"{{"version":1,"width":10,"height":10,"panels":[{{"series":[{{"metric":"m","{field}":"{value}"}}]}}]}}"#
        );
        let error = Spec::from_json(&json).expect_err("unknown variant");
        assert!(
            error
                .to_string()
                .contains(&format!("unknown variant `{value}`")),
            "{error}"
        );
    }
}

#[test]
fn scroll_is_step_unless_the_spec_says_smooth() {
    let spec = |extra: &str| {
        Spec::from_json(&format!(
            r#"{{"version":1,"width":10,"height":10,{extra}"panels":[{{"series":[{{"metric":"m"}}]}}]}}"#
        ))
    };
    let scroll = |extra: &str| {
        render_core::validate(spec(extra).expect("parses"))
            .expect("valid")
            .scroll()
    };
    assert_eq!(scroll(""), render_core::Scroll::Step);
    assert_eq!(scroll(r#""scroll":"step","#), render_core::Scroll::Step);
    assert_eq!(scroll(r#""scroll":"smooth","#), render_core::Scroll::Smooth);
    let error = spec(r#""scroll":"fast","#).expect_err("unknown variant");
    assert!(
        error.to_string().contains("unknown variant `fast`"),
        "{error}"
    );
}

#[test]
fn schema_lists_transforms_aggregates_and_by() {
    let schema = render_core::json_schema();
    let defs = &schema["$defs"];
    for field in ["transform", "aggregate", "by"] {
        assert!(
            defs["SeriesSpec"]["properties"].get(field).is_some(),
            "schema lacks series.{field}"
        );
    }
    let variants = |name: &str| -> Vec<String> {
        defs[name]["oneOf"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v["const"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        variants("Transform"),
        ["rate", "increase", "delta", "derivative"]
    );
    assert_eq!(variants("Aggregate"), ["sum", "avg", "min", "max"]);
}

#[test]
fn a_query_series_names_a_source_and_nothing_only_metrics_have() {
    let found = errors(
        r#"{"version":1,"width":100,"height":100,"panels":[{"series":[
            {"source":"prom","query":"up","label":"{{job}}","refresh":"10s"},
            {"query":"up"},
            {"source":"prom"},
            {"source":"bad name!","query":" ","metric":"cpu","transform":"rate"},
            {"metric":"cpu","refresh":"0s"}]}]}"#,
    );
    assert_eq!(
        found,
        [
            "panels[0].series[1].source: is missing: a query is asked of a configured source (GET /api/sources)",
            "panels[0].series[2].query: is missing: a series of a source is a query of it",
            "panels[0].series[3].source: \"bad name!\" is not a source name (1 to 64 of a-z, A-Z, 0-9, '_', '-')",
            "panels[0].series[3].query: is empty",
            "panels[0].series[3].metric: does not apply to a query (write it in PromQL)",
            "panels[0].series[3].transform: does not apply to a query (write it in PromQL)",
            "panels[0].series[4].refresh: only applies to a query of a source",
            "panels[0].series[4].refresh: \"0s\" is not a duration within 1s..=1h",
        ]
    );
}

#[test]
fn a_promql_query_takes_only_variables_whose_values_are_listed_or_patterned() {
    let spec = |allowed: &str| {
        format!(
            r#"{{"version":1,"width":400,"height":300,
            "variables":{{"host":{{"default":"db1"{allowed}}}}},
            "panels":[{{"series":[{{"source":"prom","query":"up{{instance=\"${{host}}\"}}"}}]}}]}}"#
        )
    };
    assert_eq!(
        errors(&spec("")),
        [
            "panels[0].series[0].query: uses a variable without `allowed` values: give it a \
          list or a pattern, or a viewer could have the source run any query"
        ]
    );
    let listed = Spec::from_json(&spec(r#","allowed":["db1","db2"]"#)).expect("spec");
    let mut params = render_core::Params::default();
    params.set("var-host", "db2").expect("a known parameter");
    let resolved = render_core::resolve(&listed, &params).expect("db2 is allowed");
    let query = resolved.spec().panels[0].series[0].query.as_deref();
    assert_eq!(
        query,
        Some(r#"up{instance="db2"}"#),
        "substituted into the query"
    );
}
