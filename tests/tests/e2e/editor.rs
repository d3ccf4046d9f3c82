//! The editor end to end in headless Chromium (chromedriver's WebDriver API): the server
//! serves the trunk-built editor at `/`; a chart is built from a live series, retitled,
//! checked in the JSON view, published (asking for the API token) and streamed. The preview canvas must hold
//! exactly the pixels of the server's `POST /api/render` of the same spec, data and
//! "now" — the preview is the stream frame, Chinese title included: the server finds
//! the installed CJK font by itself (no `--font`) and the editor fetches it. A
//! screenshot (1280×800) goes to `target/editor-e2e.png` (the README shows one as
//! `docs/editor.png`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use tests::webdriver::{PageLoad, WebDriver};
use tests::{config, now_ms, poll, send_ok, within, Image, TestServer};

/// The title the test gives its chart: Latin and Chinese (fonts-wqy-microhei, which
/// `cargo xtask test` installs, is the only font here that has the Chinese characters).
const TITLE: &str = "Kitchen 城市温度";

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Builds the editor into `web/dist` (where the server looks for it) with trunk, in
/// its own target directory so it never waits on the lock of the running `cargo test`;
/// once per test run, whichever test asks first.
pub(crate) async fn build_editor() {
    static BUILT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    BUILT.get_or_init(trunk_build).await;
}

async fn trunk_build() {
    let root = root();
    let status = tokio::process::Command::new("trunk")
        .args(["build", "--release", "--offline"])
        .current_dir(root.join("web"))
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("CARGO_TARGET_DIR", root.join("target/editor-e2e"))
        .stdout(Stdio::null())
        .status();
    let status = within(
        Duration::from_secs(900),
        "trunk build of the editor",
        status,
    )
    .await
    .expect("trunk runs (cargo xtask installs it: cargo install trunk --version 0.21.14 --locked)");
    assert!(
        status.success(),
        "trunk build --release --offline failed in web/"
    );
    assert!(root.join("web/dist/index.html").is_file());
}

/// What the preview shows: its canvas pixels and the spec, data and now they were
/// drawn from, read in one script so no render can come between.
pub(crate) struct Shown {
    pub(crate) spec: Value,
    pub(crate) data: Value,
    pub(crate) now: i64,
    pub(crate) image: Image,
}

impl Shown {
    pub(crate) fn points(&self) -> usize {
        self.data["series"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["points"].as_array().map_or(0, Vec::len))
            .sum()
    }
}

pub(crate) async fn shown(driver: &WebDriver) -> Option<Shown> {
    let value = driver
        .eval(
            "const c = document.getElementById('preview');
             if (!c || !c.width || !window.plotcastPreview) return null;
             const shown = window.plotcastPreview();
             const rgba = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let text = '';
             for (let i = 0; i < rgba.length; i += 0x8000) {
               text += String.fromCharCode.apply(null, rgba.subarray(i, i + 0x8000));
             }
             return {shown, width: c.width, height: c.height, rgba: btoa(text)};",
        )
        .await;
    if value.is_null() {
        return None;
    }
    let shown: Value = serde_json::from_str(value["shown"].as_str()?).ok()?;
    let rgba = base64::engine::general_purpose::STANDARD
        .decode(value["rgba"].as_str()?)
        .ok()?;
    assert!(
        rgba.chunks_exact(4).all(|p| p[3] == 255),
        "the preview is opaque"
    );
    let image = Image {
        width: value["width"].as_u64()? as usize,
        height: value["height"].as_u64()? as usize,
        rgb: rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
    };
    Some(Shown {
        spec: shown["spec"].clone(),
        data: shown["data"].clone(),
        now: shown["now"].as_i64()?,
        image,
    })
}

/// The server's render of exactly what the preview drew.
async fn server_render(server: &TestServer, shown: &Shown) -> Image {
    let response = send_ok(
        server
            .client
            .post(server.url("/api/render"))
            .json(&json!({"spec": shown.spec, "data": shown.data, "now": shown.now})),
        "POST /api/render",
    )
    .await;
    Image::from_png(&response.bytes().await.expect("PNG"))
}

/// Waits (20 s at most, else panics with `what`) until the publish status says `status`,
/// then returns chart `kitchen` as the server has stored it.
async fn published(driver: &WebDriver, server: &TestServer, status: &str, what: &str) -> Value {
    driver
        .wait_for_text("#publish-status", status, Duration::from_secs(20), what)
        .await;
    server.get_json("/api/charts/kitchen").await
}

/// Asserts that `server` renders exactly what the preview drew (`shown`).
pub(crate) async fn assert_server_draws(server: &TestServer, shown: &Shown, what: &str) {
    let (preview, server) = (&shown.image, &server_render(server, shown).await);
    assert_eq!(
        (preview.width, preview.height),
        (server.width, server.height),
        "{what}: size"
    );
    let differing = preview
        .rgb
        .iter()
        .zip(&server.rgb)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differing, 0,
        "{what}: {differing} bytes of the preview differ from the server's render"
    );
}

/// Asserts that the page is no wider than the window (no horizontal scrolling).
async fn assert_fits_the_window(driver: &WebDriver, what: &str) {
    let sizes = driver
        .eval("return [document.documentElement.scrollWidth, window.innerWidth];")
        .await;
    let (page, window) = (sizes[0].as_u64(), sizes[1].as_u64());
    assert!(
        page <= window,
        "{what}: the page is {page:?} px wide in a {window:?} px window"
    );
}

/// How wide the preview canvas is drawn on the page, in CSS pixels (without its border).
async fn preview_shown_width(driver: &WebDriver) -> u64 {
    let width = driver
        .eval("return document.getElementById('preview').clientWidth;")
        .await;
    width.as_u64().expect("a width")
}

/// On the template chooser, waits for the card titled `title`, clicks the one linking
/// to `href`, and waits for a preview that passes `ready`.
async fn pick_template(
    driver: &WebDriver,
    title: &str,
    href: &str,
    ready: impl Fn(&Shown) -> bool,
) -> Shown {
    let what = format!("the template card {title:?}");
    driver
        .wait_for_text("#template-list", title, Duration::from_secs(30), &what)
        .await;
    driver.click(&format!("a[href='{href}']")).await;
    preview_where(driver, "the template's preview", ready).await
}

/// Opens `url` and waits (30 s at most) until the element `css` contains `text`.
async fn open_showing(driver: &WebDriver, url: &str, css: &str, text: &str) {
    driver.open(url).await;
    let what = format!("{text:?} in {css}");
    driver
        .wait_for_text(css, text, Duration::from_secs(30), &what)
        .await;
}

/// Waits (30 s at most, else panics with `what`) for a preview that passes `ready`.
pub(crate) async fn preview_where(
    driver: &WebDriver,
    what: &str,
    ready: impl Fn(&Shown) -> bool,
) -> Shown {
    poll(Duration::from_secs(30), what, || async {
        let shown = shown(driver).await?;
        ready(&shown).then_some(shown)
    })
    .await
}

/// Waits until the image `css` selects shows a picture 640 px wide (the chart's width).
async fn wait_for_a_640_px_image(driver: &WebDriver, css: &str, what: &str) {
    let width =
        format!("const i = document.querySelector('{css}'); return i ? i.naturalWidth : 0;");
    let loaded = |width: &Value| width == 640;
    driver
        .wait_for_value(&width, loaded, Duration::from_secs(20), what)
        .await;
}

/// A fresh server with the editor built (its page at `/`).
async fn editor_server() -> TestServer {
    build_editor().await;
    TestServer::start_fresh(|_| {}).await
}

/// A point a second over the `seconds` s before `now`: `(i, t)` for the `i`th, at `t`.
fn each_second_before(now: i64, seconds: i64) -> impl Iterator<Item = (i64, i64)> {
    (0..seconds).map(move |i| (i, now - (seconds - i) * 1000))
}

/// Rows `rows` of two same-size images differ somewhere.
fn rows_differ(a: &Image, b: &Image, rows: std::ops::Range<usize>) -> bool {
    let span = rows.start * a.width * 3..rows.end * a.width * 3;
    a.rgb[span.clone()] != b.rgb[span]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_builds_previews_exactly_and_publishes_a_chart_from_live_data() {
    build_editor().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.token = Some("s3cret".into());
    settings.system_fonts = true;
    let server = TestServer::start(settings).await;
    // A live series: a minute of a rising temperature, plus another room.
    let now = now_ms();
    let points: Vec<Value> = each_second_before(now, 60)
        .map(|(i, t)| json!({"metric": "temp", "tags": {"room": "kitchen"}, "t": t, "v": 15.0 + f64::from(i as u32) / 4.0}))
        .chain([json!({"metric": "temp", "tags": {"room": "hall"}, "t": now, "v": 12.0})])
        .collect();
    send_ok(
        server
            .client
            .post(server.url("/api/points"))
            .bearer_auth("s3cret")
            .json(&json!({ "points": points })),
        "POST /api/points",
    )
    .await;

    // A 1280x800 screen: the editor fits without horizontal scrolling.
    let driver = WebDriver::start(1280, 800, PageLoad::Normal).await;
    // The start page is the editor's.
    open_showing(&driver, &server.url("/"), "#chart-list", "No charts").await;
    // "New chart" offers templates; the blank chart starts with the first live series,
    // so its preview draws data at once.
    driver.click("#new-chart").await;
    let blank = pick_template(&driver, "Blank chart", "#/new/blank", |shown| {
        shown.points() > 0
    })
    .await;
    assert_eq!(blank.spec["panels"][0]["series"][0]["metric"], "temp");
    driver
        .click("[data-action='remove:panels[0].series[0]']")
        .await;
    driver
        .wait_for_value(
            "return [...document.querySelectorAll('#series-pick option')].map(o => o.value);",
            |options| {
                options
                    .as_array()
                    .is_some_and(|o| o.iter().any(|o| o == "temp{room=kitchen}"))
            },
            Duration::from_secs(30),
            "the series picker with the live series",
        )
        .await;

    // Build the chart from the live series, found by searching the picker.
    driver.set("#series-search", "KITCHEN").await;
    let found = driver
        .eval("return [...document.querySelectorAll('#series-pick option')].map(o => o.value);")
        .await;
    assert_eq!(
        found,
        json!(["temp{room=kitchen}"]),
        "the search narrows the picker"
    );
    driver.set("#series-pick", "temp{room=kitchen}").await;
    driver.click("[data-action='add-series:0:']").await;
    driver
        .set("[data-field='panels[0].series[0].color']", "#ff0000")
        .await;
    let first = poll(
        Duration::from_secs(30),
        "a preview of the live series",
        || async {
            let shown = shown(&driver).await?;
            let series = &shown.spec["panels"][0]["series"][0];
            (series["tags"]["room"] == "kitchen"
                && series["color"] == "#ff0000"
                && shown.points() >= 60)
                .then_some(shown)
        },
    )
    .await;
    assert_eq!(
        first.data["series"].as_array().map(Vec::len),
        Some(2),
        "both temp series are fetched, render-core filters"
    );
    assert!(
        first
            .image
            .count(0..first.image.width, 0..first.image.height, tests::red)
            > 200,
        "the red line is drawn"
    );
    assert_server_draws(&server, &first, "the first preview").await;

    // Retitle: the preview changes where the title is, and still equals the server's render.
    driver.set("[data-field='title']", TITLE).await;
    let retitled = preview_where(&driver, "the retitled preview", |shown| {
        shown.spec["title"] == TITLE
    })
    .await;
    assert!(
        rows_differ(&first.image, &retitled.image, 0..30),
        "the title area changed"
    );
    assert_server_draws(&server, &retitled, "the retitled preview").await;
    // A server without system fonts draws boxes for the Chinese characters.
    let without_fonts = TestServer::start_fresh(|_| {}).await;
    assert!(
        rows_differ(
            &retitled.image,
            &server_render(&without_fonts, &retitled).await,
            0..30
        ),
        "the Chinese title is drawn with the system's CJK font, not as boxes"
    );
    without_fonts.stop().await;

    // The preview is scaled to fit beside the form; 1:1 shows it at its real size, in
    // its own scrolling box, never widening the page.
    assert_fits_the_window(&driver, "the editor").await;
    assert_eq!(
        preview_shown_width(&driver).await,
        640,
        "640 px fit at 1280x800"
    );
    driver.click("#toggle-json").await;
    assert_fits_the_window(&driver, "the editor with the JSON view").await;
    let scaled = preview_shown_width(&driver).await;
    assert!(
        scaled < 640,
        "with the JSON view open the preview is scaled down ({scaled} px)"
    );
    driver.click("#toggle-size").await;
    assert_eq!(preview_shown_width(&driver).await, 640, "1:1");
    assert_fits_the_window(&driver, "the editor at 1:1").await;
    driver.click("#toggle-size").await;

    // The JSON view names the path of a problem and the preview keeps the last valid spec.
    let bad = driver
        .eval(
            "return document.getElementById('spec-json').value.replace('\"#ff0000\"', '\"#12\"');",
        )
        .await;
    driver
        .set("#spec-json", bad.as_str().expect("spec text"))
        .await;
    driver
        .wait_for_text(
            "#problems",
            "panels[0].series[0].color",
            Duration::from_secs(10),
            "the problem with its path",
        )
        .await;
    let kept = shown(&driver).await.expect("a preview");
    assert_eq!(kept.spec["panels"][0]["series"][0]["color"], "#ff0000");
    driver.click("#undo").await;
    poll(
        Duration::from_secs(10),
        "undo to clear the problem",
        || async { driver.text("#problems").await.is_empty().then_some(()) },
    )
    .await;
    driver.click("#toggle-json").await;

    // Publish, then the stream plays the published design.
    driver.set("#chart-id", "kitchen").await;
    driver.click("#publish").await;
    // The server wants the API token: the page asks for it, then publishes.
    poll(Duration::from_secs(20), "the token prompt", || async {
        let hidden = driver
            .eval("return document.getElementById('token-prompt').hidden;")
            .await;
        (hidden == false && driver.text("#message").await.contains("401")).then_some(())
    })
    .await;
    driver.set("#token-input", "s3cret").await;
    driver.click("#token-submit").await;
    let chart = published(
        &driver,
        &server,
        "Published kitchen",
        "the publish to finish",
    )
    .await;
    assert_eq!(
        chart["spec"], retitled.spec,
        "the published spec is the previewed one"
    );
    let snippet = driver
        .eval("return document.getElementById('embed-snippet').value;")
        .await;
    assert_eq!(
        snippet.as_str(),
        Some(
            format!(
                "<img src=\"{}\" width=\"640\" height=\"360\" alt=\"{TITLE}\">",
                server.url("/charts/kitchen.mjpg")
            )
            .as_str()
        )
    );
    let mut stream = server.stream("/charts/kitchen.mjpg").await;
    let frame = stream
        .next_part_within(Duration::from_secs(20))
        .await
        .jpeg();
    assert_eq!((frame.width, frame.height), (640, 360));
    assert!(
        frame.count(0..640, 0..360, tests::red) > 200,
        "the stream draws the red series"
    );
    let latest = shown(&driver).await.expect("a preview");
    let difference: u64 = frame
        .rgb
        .iter()
        .zip(&latest.image.rgb)
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    let mean = difference as f64 / frame.rgb.len() as f64;
    assert!(
        mean < 6.0,
        "the stream frame looks like the preview (mean difference {mean:.2})"
    );
    wait_for_a_640_px_image(&driver, "#stream", "the stream beside the preview").await;
    let screenshot = driver.screenshot().await;
    let path = root().join("target/editor-e2e.png");
    std::fs::write(&path, &screenshot).expect("writing the screenshot");
    eprintln!("editor screenshot: {}", path.display());

    // The start page lists the chart with a live thumbnail.
    driver.open(&server.url("/#/")).await;
    let thumbnail = "img[data-thumb=\"kitchen\"]";
    wait_for_a_640_px_image(&driver, thumbnail, "the thumbnail of the published chart").await;

    // Open it again, change it and republish: the open stream shows the new design.
    driver.click("a[data-chart='kitchen']").await;
    poll(
        Duration::from_secs(20),
        "the chart in the editor",
        || async {
            let title = driver
                .eval(
                    "const e = document.querySelector(\"[data-field='title']\");
                 return e && !document.getElementById('editor-view').hidden ? e.value : null;",
                )
                .await;
            (title == TITLE).then_some(())
        },
    )
    .await;
    driver
        .set("[data-field='title']", "Kitchen, republished")
        .await;
    driver.click("#publish").await;
    let chart = published(&driver, &server, "version 2", "the republish").await;
    assert_eq!(chart["spec"]["title"], "Kitchen, republished");
    within(
        Duration::from_secs(20),
        "a frame of the new design on the open stream",
        async {
            loop {
                let part = stream.next_part().await.expect("a part");
                if rows_differ(&frame, &part.jpeg(), 0..30) {
                    break;
                }
            }
        },
    )
    .await;
    driver.close().await;
    server.stop().await;
}

/// "New chart" starts from something that moves: a gallery template whose series have
/// no data here draws a live series instead, and "duplicate" copies a published chart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_charts_start_from_templates_with_live_series_or_duplicates() {
    let server = editor_server().await;
    let points: Vec<Value> = each_second_before(now_ms(), 30)
        .map(|(i, t)| json!({"metric": "temp", "tags": {"room": "hall"}, "t": t, "v": 20.0 + f64::from(i as u32) / 10.0}))
        .collect();
    server.write_points(points).await;
    server
        .create_chart("hall", &crate::temp_chart("timeseries", "5m"))
        .await;

    let driver = WebDriver::start(1600, 1000, PageLoad::Normal).await;
    driver.open(&server.url("/#/new")).await;
    let lab = pick_template(&driver, "Lab temperature", "#/new/temperature", |shown| {
        shown.spec["title"] == "Lab temperature" && shown.points() > 0
    })
    .await;
    let series = &lab.spec["panels"][0]["series"][0];
    assert_eq!(
        (&series["metric"], &series["tags"]["room"]),
        (&json!("temp"), &json!("hall"))
    );
    assert_eq!(series["color"], "#D55E00", "the template's design is kept");
    assert_server_draws(&server, &lab, "the template's preview").await;

    open_showing(
        &driver,
        &server.url("/#/new"),
        "#template-list",
        "Duplicate hall",
    )
    .await;
    driver.click("a[href='#/duplicate/hall']").await;
    let published = server.get_json("/api/charts/hall").await;
    poll(
        Duration::from_secs(30),
        "the duplicate in the editor",
        || async {
            let shown = shown(&driver).await?;
            (shown.spec == published["spec"]).then_some(())
        },
    )
    .await;
    drop(driver);
    server.stop().await;
}

/// The preview's geometry as the editor computed it (`window.plotcastLayout`) and how
/// image pixels map to the viewport: `(layout, [left, top, scale])`.
async fn preview_geometry(driver: &WebDriver) -> Option<(Value, [f64; 3])> {
    let value = driver
        .eval("const c = document.getElementById('preview');
             if (!c || !c.width || !window.plotcastLayout) return null;
             const r = c.getBoundingClientRect();
             return {layout: window.plotcastLayout(),
                     place: [r.left + c.clientLeft, r.top + c.clientTop, c.clientWidth / c.width]};")
        .await;
    let layout: Value = serde_json::from_str(value["layout"].as_str()?).ok()?;
    let place = value["place"].as_array()?;
    let number = |i: usize| place.get(i).and_then(Value::as_f64);
    Some((layout, [number(0)?, number(1)?, number(2)?]))
}

/// The viewport point of image point `(x, y)`.
fn on_screen([left, top, scale]: [f64; 3], (x, y): (f64, f64)) -> (f64, f64) {
    (left + x * scale, top + y * scale)
}

/// The grid's geometry in image pixels: `[x0, y0, cell width, cell height, gap]`.
fn grid(layout: &Value) -> [f64; 5] {
    let number = |v: &Value| v.as_f64().expect("a number");
    let area: Vec<f64> = layout["area"]
        .as_array()
        .expect("area")
        .iter()
        .map(number)
        .collect();
    let (gap, columns, rows) = (
        number(&layout["gap"]),
        number(&layout["columns"]),
        number(&layout["rows"]),
    );
    let width = (area[2] - area[0] - gap * (columns - 1.0)) / columns;
    let height = (area[3] - area[1] - gap * (rows - 1.0)) / rows;
    [area[0], area[1], width, height, gap]
}

/// The image point at the middle of grid cell `(col, row)`.
fn cell_middle(layout: &Value, (col, row): (f64, f64)) -> (f64, f64) {
    let [x0, y0, width, height, gap] = grid(layout);
    (
        x0 + col * (width + gap) + width / 2.0,
        y0 + row * (height + gap) + height / 2.0,
    )
}

/// The image rectangle `[x0, y0, x1, y1]` of grid cell `(col, row)`, on whole pixels
/// as render-core places panels.
fn cell_rect(layout: &Value, (col, row): (f64, f64)) -> [f64; 4] {
    let [x0, y0, width, height, gap] = grid(layout);
    let left = (x0 + col * (width + gap)).round();
    let top = (y0 + row * (height + gap)).round();
    [left, top, (left + width).round(), (top + height).round()]
}

/// The drop outline's viewport rectangle and whether it marks a refused drop, while
/// it is shown.
async fn drop_outline(driver: &WebDriver) -> Option<([f64; 4], bool)> {
    let value = driver
        .eval(
            "const e = document.getElementById('drop-target');
             if (!e || e.hidden) return null;
             const r = e.getBoundingClientRect();
             return [r.left, r.top, r.right, r.bottom, e.classList.contains('refused')];",
        )
        .await;
    let list = value.as_array()?;
    let number = |i: usize| list.get(i).and_then(Value::as_f64);
    Some((
        [number(0)?, number(1)?, number(2)?, number(3)?],
        list.get(4)?.as_bool()?,
    ))
}

/// Waits (10 s at most) for the drop outline to cover image rectangle `rect` (within a
/// pixel) during a drag; returns whether it marks the drop refused.
async fn drop_outline_at(driver: &WebDriver, place: [f64; 3], [x0, y0, x1, y1]: [f64; 4]) -> bool {
    let (left, top) = on_screen(place, (x0, y0));
    let (right, bottom) = on_screen(place, (x1, y1));
    let expected = [left, top, right, bottom];
    let what = format!("the drop outline at {expected:?}");
    poll(Duration::from_secs(10), &what, || async {
        let (rect, refused) = drop_outline(driver).await?;
        let close = rect.iter().zip(expected).all(|(a, b)| (a - b).abs() <= 1.0);
        close.then_some(refused)
    })
    .await
}

/// Panel `panel`'s cell in the spec the preview shows, as `(col, row, col_span, row_span)`.
async fn shown_cell(driver: &WebDriver, panel: usize) -> Option<(u64, u64, u64, u64)> {
    let shown = shown(driver).await?;
    let cell = &shown.spec["panels"][panel]["cell"];
    let span = |key: &str| cell[key].as_u64().or(Some(1));
    Some((
        cell["col"].as_u64()?,
        cell["row"].as_u64()?,
        span("col_span")?,
        span("row_span")?,
    ))
}

/// Panels are placed by direct manipulation on the preview: a column added from the
/// preview, a panel dragged into it, another's corner dragged to widen it; each gesture
/// is one undo step, and the preview still equals the server's render.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panels_are_moved_and_resized_by_dragging_them_on_the_preview() {
    let server = editor_server().await;
    let driver = WebDriver::start(1280, 800, PageLoad::Normal).await;
    // "This host": a 2×2 grid, CPU across the top, memory and network below.
    driver.open(&server.url("/#/new/this-host")).await;
    poll(
        Duration::from_secs(30),
        "the template's preview",
        || async {
            let (layout, _) = preview_geometry(&driver).await?;
            (layout["panels"].as_array()?.len() == 3).then_some(())
        },
    )
    .await;
    driver.click("#grid-add-column").await;
    let (layout, place) = poll(Duration::from_secs(10), "a third column", || async {
        let geometry = preview_geometry(&driver).await?;
        (geometry.0["columns"] == 3).then_some(geometry)
    })
    .await;

    // Drag "Memory used" (column 0, row 1) to the new column's top cell: while it is
    // dragged, that cell is outlined.
    let from = on_screen(place, cell_middle(&layout, (0.0, 1.0)));
    let to = on_screen(place, cell_middle(&layout, (2.0, 0.0)));
    driver.press_and_move(from, to).await;
    let refused = drop_outline_at(&driver, place, cell_rect(&layout, (2.0, 0.0))).await;
    assert!(!refused, "a free cell takes the panel");
    driver.release_at(to).await;
    poll(Duration::from_secs(10), "the moved panel", || async {
        (shown_cell(&driver, 1).await? == (2, 0, 1, 1)).then_some(())
    })
    .await;
    assert_eq!(
        drop_outline(&driver).await,
        None,
        "no outline after the drop"
    );

    // Over CPU's cell the drop would be refused (CPU, two columns wide, cannot take the
    // panel's place), and the outline says so before the release; released back on
    // its own cell, nothing changes.
    let from = on_screen(place, cell_middle(&layout, (2.0, 0.0)));
    let over = on_screen(place, cell_middle(&layout, (1.0, 0.0)));
    driver.press_and_move(from, over).await;
    let refused = drop_outline_at(&driver, place, cell_rect(&layout, (1.0, 0.0))).await;
    assert!(refused, "the outline marks a drop that would be refused");
    driver.release_at(from).await;
    assert_eq!(
        shown_cell(&driver, 1).await,
        Some((2, 0, 1, 1)),
        "still there"
    );
    assert_eq!(
        shown_cell(&driver, 0).await,
        Some((0, 0, 2, 1)),
        "CPU stays"
    );

    // Drag the bottom-right corner of "Network" (column 1, row 1) one column right.
    let (layout, place) = preview_geometry(&driver).await.expect("geometry");
    let corner = &layout["panels"][2][1];
    let (x1, y1) = (
        corner[2].as_f64().expect("x1"),
        corner[3].as_f64().expect("y1"),
    );
    let from = on_screen(place, (x1 - 4.0, y1 - 4.0));
    let to = on_screen(place, cell_middle(&layout, (2.0, 1.0)));
    driver.drag(from, to).await;
    let widened = poll(Duration::from_secs(10), "the widened panel", || async {
        let shown = shown(&driver).await?;
        (shown_cell(&driver, 2).await? == (1, 1, 2, 1)).then_some(shown)
    })
    .await;
    assert_eq!(shown_cell(&driver, 1).await, Some((2, 0, 1, 1)));
    assert_server_draws(&server, &widened, "after the drags").await;

    // One undo takes back the whole resize gesture, not the move before it.
    driver.click("#undo").await;
    poll(Duration::from_secs(10), "the resize undone", || async {
        (shown_cell(&driver, 2).await? == (1, 1, 1, 1)).then_some(())
    })
    .await;
    assert_eq!(
        shown_cell(&driver, 1).await,
        Some((2, 0, 1, 1)),
        "the move stays"
    );
    drop(driver);
    server.stop().await;
}

/// The form is the spec's schema, grouped like Grafana's options: fields no editor code
/// names (the chart's background colour, how a stream scrolls) have their controls and
/// change what the preview draws, which still equals the server's render.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_is_built_from_the_schema_and_grouped_like_grafanas_options() {
    let server = editor_server().await;
    let driver = WebDriver::start(1280, 800, PageLoad::Normal).await;
    driver.open(&server.url("/#/new/blank")).await;
    let groups = |count: usize| {
        let driver = &driver;
        async move {
            poll(Duration::from_secs(30), "the form's groups", || async {
                let groups = driver
                    .eval("return [...document.querySelectorAll('#form fieldset')].map(f => f.dataset.group);")
                    .await;
                (groups.as_array()?.len() == count).then_some(groups)
            })
            .await
        }
    };
    assert_eq!(
        groups(6).await,
        json!(["Chart", "Panel", "Series", "Axis", "Legend", "Thresholds"])
    );
    driver
        .set("[data-field='colors.background']", "#203040")
        .await;
    driver.set("[data-field='scroll']", "smooth").await;
    let shown = preview_where(&driver, "the preview with the new background", |shown| {
        shown.spec["colors"]["background"] == "#203040" && shown.spec["scroll"] == "smooth"
    })
    .await;
    assert_eq!(
        shown.image.rgb[..3],
        [0x20, 0x30, 0x40],
        "the background is drawn"
    );
    assert_server_draws(&server, &shown, "the recoloured preview").await;
    assert_fits_the_window(&driver, "the schema's form").await;
    // A text panel has no series, axis, legend or thresholds.
    driver.set("[data-field='panels[0].kind']", "text").await;
    assert_eq!(groups(2).await, json!(["Chart", "Panel"]));
    drop(driver);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_previews_with_chosen_variables_and_embeds_them() {
    let server = editor_server().await;
    let points: Vec<Value> = each_second_before(now_ms(), 30)
        .flat_map(|(_, t)| {
            [
                json!({"metric": "temp", "tags": {"room": "kitchen"}, "t": t, "v": 20.0}),
                json!({"metric": "temp", "tags": {"room": "hall"}, "t": t, "v": 80.0}),
            ]
        })
        .collect();
    server.write_points(points).await;
    server
        .create_chart(
            "rooms",
            r##"{"version":1,"width":400,"height":300,"window":"5m","title":"Temp in $room",
            "variables":{"room":{"default":"kitchen","allowed":["kitchen","hall"]}},
            "panels":[{"series":[{"metric":"temp","tags":{"room":"$room"},"color":"#ff0000"}],
            "y_axis":{"min":0,"max":100},"legend":{"position":"none"}}]}"##,
        )
        .await;

    let driver = WebDriver::start(1600, 1000, PageLoad::Normal).await;
    driver.open(&server.url("/#/edit/rooms")).await;
    let room_of = |shown: &Shown| shown.spec["panels"][0]["series"][0]["tags"]["room"].clone();
    let kitchen = preview_where(&driver, "the preview with the default", |shown| {
        room_of(shown) == "kitchen" && shown.points() >= 30
    })
    .await;
    assert_eq!(kitchen.spec["title"], "Temp in kitchen");
    assert_server_draws(&server, &kitchen, "the preview with the default").await;

    // Choose another value: the preview draws it, exactly as the server would.
    driver.set("select[data-var='room']", "hall").await;
    let hall = preview_where(&driver, "the preview of the hall", |shown| {
        room_of(shown) == "hall" && shown.points() >= 30
    })
    .await;
    assert_eq!(hall.spec["title"], "Temp in hall");
    assert!(
        rows_differ(&kitchen.image, &hall.image, 30..300),
        "the hall's line (80) is not the kitchen's (20)"
    );
    assert_server_draws(&server, &hall, "the preview of the hall").await;

    // The embed snippet and the stream beside the preview carry the value.
    let stream_url = server.url("/charts/rooms.mjpg?var-room=hall");
    poll(
        Duration::from_secs(10),
        "the snippet with the variable",
        || async {
            let snippet = driver
                .eval("return document.getElementById('embed-snippet').value;")
                .await;
            let src = driver
                .eval("return document.getElementById('stream').src;")
                .await;
            (snippet.as_str()?.contains(&format!("src=\"{stream_url}\""))
                && src == stream_url.as_str())
            .then_some(())
        },
    )
    .await;
    driver.close().await;
    server.stop().await;
}
