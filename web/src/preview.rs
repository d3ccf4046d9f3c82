//! The preview: render-core draws the last valid spec with the server's data into a
//! frame, whose RGBA bytes go to the canvas through `ImageData` — the same pixels the
//! stream encodes. Data comes from `GET /api/series/points` (the same stretches at
//! the same resolutions the stream reads: `ValidSpec::read_plan`) and is refreshed the way
//! the stream would re-render. The exact spec, data and "now" of the frame on the
//! canvas are kept so a check can ask the server for the same render.

use render_core::{Data, Frame, Renderer, Timestamp, ValidSpec};
use serde::Serialize;

use crate::html::url_encode;

/// The `/api/series/points` paths that fetch everything `spec` draws at `now`: one per
/// metric (render-core matches the tag filters itself, as the server does) over the
/// stretches of its read plan, and one per PromQL query (which the server asks of its
/// source, at the step the stream asks).
pub fn points_paths(spec: &ValidSpec, now: Timestamp) -> Vec<String> {
    let (from, to) = spec.data_range(now);
    let metrics = spec.metrics().into_iter().filter_map(|metric| {
        let plan = spec.read_plan(metric, now);
        let (first, later) = plan.split_first()?;
        let then: String = later
            .iter()
            .map(|s| format!("&then={}:{}", s.from, s.step_param()))
            .collect();
        Some(format!(
            "/api/series/points?metric={}&from={}&to={to}&step={}{then}",
            url_encode(metric),
            first.from,
            first.step_param()
        ))
    });
    let step = spec.query_resolution_ms();
    let queries = spec.queries().into_iter().map(|(source, query)| {
        format!(
            "/api/series/points?source={}&query={}&from={from}&to={to}&step={step}",
            url_encode(source),
            url_encode(query)
        )
    });
    metrics.chain(queries).collect()
}

/// What the preview's data must hold for `spec`: its metrics and its queries (as
/// `source` + NUL + `query`).
pub fn reads(spec: &ValidSpec) -> Vec<String> {
    let queries = spec
        .queries()
        .into_iter()
        .map(|(source, query)| format!("{source}\0{query}"));
    spec.metrics()
        .into_iter()
        .map(String::from)
        .chain(queries)
        .collect()
}

/// What is on the canvas: enough to ask `POST /api/render` for the same frame.
#[derive(Debug, Clone, Serialize)]
pub struct Shown<'a> {
    /// The spec.
    pub spec: &'a render_core::Spec,
    /// The data.
    pub data: &'a Data,
    /// "Now" in ms since the epoch.
    pub now: Timestamp,
}

/// The preview's renderer, frame and data.
#[derive(Default)]
pub struct Preview {
    renderer: Renderer,
    frame: Frame,
    /// The data the preview draws from.
    pub data: Data,
    /// Metrics and queries `data` holds ([`reads`]).
    pub metrics: Vec<String>,
    shown: Option<(ValidSpec, Timestamp)>,
    /// How long the last render took, in ms.
    pub render_ms: f64,
    /// Renders so far.
    pub renders: u64,
}

impl Preview {
    /// Adds a font to the renderer's fallback chain (as the server registered it).
    pub fn register_font(&mut self, bytes: Vec<u8>) -> Result<(), render_core::FontError> {
        self.renderer.register_font(bytes)
    }

    /// Where the grid and each panel of `spec` lie in the preview.
    pub fn layout(&self, spec: &ValidSpec) -> render_core::PanelLayout {
        self.renderer.layout(spec)
    }

    /// Draws `spec` as of `now` into the frame; returns its RGBA bytes and size.
    pub fn render(&mut self, spec: &ValidSpec, now: Timestamp) -> (&[u8], u32, u32) {
        self.renderer.render(spec, &self.data, now, &mut self.frame);
        self.shown = Some((spec.clone(), now));
        self.renders += 1;
        (self.frame.rgba(), self.frame.width(), self.frame.height())
    }

    /// JSON `{"spec", "data", "now"}` of the frame last rendered.
    pub fn shown_json(&self) -> String {
        match &self.shown {
            Some((spec, now)) => serde_json::to_string(&Shown {
                spec: spec.spec(),
                data: &self.data,
                now: *now,
            })
            .unwrap_or_default(),
            None => "null".into(),
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::draw;

#[cfg(target_arch = "wasm32")]
mod browser {
    //! Canvas output.

    use render_core::ValidSpec;
    use wasm_bindgen::{Clamped, JsCast};
    use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

    use super::Preview;
    use crate::dom;

    /// Renders `spec` as of now into `#preview`.
    pub fn draw(preview: &mut Preview, spec: &ValidSpec) {
        let Some(canvas) =
            dom::by_id("preview").and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
        else {
            return;
        };
        let started = dom::perf_now();
        let now = dom::now_ms();
        let (rgba, width, height) = preview.render(spec, now);
        if canvas.width() != width || canvas.height() != height {
            canvas.set_width(width);
            canvas.set_height(height);
        }
        let image = match ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), width, height)
        {
            Ok(image) => image,
            Err(e) => {
                dom::show_error(&format!("preview: {e:?}"));
                return;
            }
        };
        let context = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
        if let Some(context) = context {
            let _ = context.put_image_data(&image, 0.0, 0.0);
        }
        preview.render_ms = dom::perf_now() - started;
        let _ = canvas.set_attribute("data-now", &now.to_string());
        let _ = canvas.set_attribute("data-renders", &preview.renders.to_string());
        dom::set_text(
            "preview-info",
            &format!(
                "{width}×{height}, rendered in {:.1} ms, {} points",
                preview.render_ms,
                preview
                    .data
                    .series
                    .iter()
                    .map(|s| s.points.len())
                    .sum::<usize>()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::check;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    const SPEC: &str = r##"{"version":1,"width":120,"height":80,"window":"1m",
        "panels":[{"series":[{"metric":"temp","tags":{"room":"a"},"color":"#ff0000"},{"metric":"cpu load"}]},
                  {"kind":"stat","window":"10m","series":[{"metric":"temp"}]}]}"##;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fetches_each_metric_over_the_stretches_of_its_panels() {
        let spec = check(SPEC).expect("valid");
        let now = 1_000_000_000;
        let from = |window_ms: i64| now - window_ms - render_core::DATA_MARGIN_MS;
        let to = now + render_core::DATA_MARGIN_MS;
        // The resolution of the finest time axis, as the stream reads at; the stat
        // panel's ten minutes of temp at its own.
        let step = spec.time_resolution_ms().unwrap_or(1);
        let stat_step = spec.read_plan("temp", now)[0].resolution_ms;
        assert!(stat_step > step);
        assert_eq!(
            points_paths(&spec, now),
            [
                format!(
                    "/api/series/points?metric=cpu%20load&from={}&to={to}&step={step}",
                    from(60_000)
                ),
                format!(
                    "/api/series/points?metric=temp&from={}&to={to}&step={stat_step}&then={}:{step}",
                    from(600_000),
                    from(60_000)
                ),
            ]
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_query_is_fetched_once_from_its_source_through_the_server() {
        let spec = check(
            r#"{"version":1,"width":120,"height":80,"window":"1m","panels":[
                {"series":[{"source":"prom","query":"sum by (mode) (rate(x[1m]))","label":"{{mode}}"}]},
                {"kind":"stat","series":[{"source":"prom","query":"sum by (mode) (rate(x[1m]))"},{"metric":"temp"}]}]}"#,
        )
        .expect("valid");
        let now = 1_000_000_000;
        let (from, to) = spec.data_range(now);
        let step = spec.query_resolution_ms();
        let paths = points_paths(&spec, now);
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert_eq!(
            paths[1],
            format!("/api/series/points?source=prom&query=sum%20by%20%28mode%29%20%28rate%28x%5B1m%5D%29%29&from={from}&to={to}&step={step}")
        );
        assert_eq!(reads(&spec), ["temp", "prom\0sum by (mode) (rate(x[1m]))"]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_shown_frame_can_be_rendered_again_identically() {
        let spec = check(SPEC).expect("valid");
        let mut preview = Preview::default();
        assert_eq!(preview.shown_json(), "null");
        preview.data = Data::from_json(
            r#"{"series":[{"metric":"temp","tags":{"room":"a"},"points":[[999990000,20],[999995000,null],[1000000000,30]]}]}"#,
        )
        .expect("data");
        let rgba = preview.render(&spec, 1_000_000_000).0.to_vec();
        assert_eq!(rgba.len(), 120 * 80 * 4);

        let shown: serde_json::Value = serde_json::from_str(&preview.shown_json()).expect("json");
        let again = check(&shown["spec"].to_string()).expect("spec");
        let data = Data::from_json(&shown["data"].to_string()).expect("data");
        let now = shown["now"].as_i64().expect("now");
        let mut frame = Frame::default();
        Renderer::default().render(&again, &data, now, &mut frame);
        assert_eq!(frame.rgba(), &rgba[..]);
    }
}
