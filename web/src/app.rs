//! The editor application: one [`App`] per page holding the editor state, the preview
//! and what came from the server; page routing (`#/` list, `#/new` the template
//! chooser, `#/new/TEMPLATE`, `#/duplicate/ID`, `#/edit/ID`);
//! delegated event listeners for the form, the JSON view and the buttons; the timers
//! that refresh the preview's data and the list's thumbnails.

use std::cell::RefCell;

use render_core::{Data, Spec, ValidSpec};
use serde_json::Value;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, HtmlCanvasElement, KeyboardEvent, MouseEvent};

use crate::actions::Action;
use crate::fields;
use crate::manipulate::{place, resize_grid, Gesture, Nudge};
use crate::picker::SeriesInfo;
use crate::preview::{points_paths, Preview};
use crate::state::{to_text, EditorState, NEW_CHART};
use crate::templates::{chooser_html, with_live_series, TemplateList};
use crate::variables::{self, Chosen};
use crate::{api, dom, form, json_view, list, picker, preview, publish};

const TOKEN_KEY: &str = "plotcast-token";

#[derive(Default, PartialEq, Eq, Clone, Copy)]
enum View {
    #[default]
    List,
    Editor,
}

/// Where an edit came from: the JSON view keeps its own text (and caret).
#[derive(PartialEq, Eq, Clone, Copy)]
enum Source {
    Json,
    Other,
}

#[derive(Default)]
struct App {
    view: View,
    state: EditorState,
    /// Id of the chart being edited, once it was opened or published.
    chart_id: Option<String>,
    /// The version shown under "Stream" once the chart was opened or published.
    published: Option<u64>,
    /// Values chosen for the spec's variables ("preview with variables").
    chosen: Chosen,
    /// The variables picker's HTML as last shown.
    picker: String,
    series: Vec<SeriesInfo>,
    preview: Preview,
    form_signature: String,
    token: Option<String>,
    /// A publish waits for the token.
    retry_publish: bool,
    fetching: bool,
    ticks: u64,
    /// A drag on the preview in progress.
    gesture: Option<Gesture>,
}

impl App {
    /// What the preview draws: the last valid spec with the chosen variable values.
    fn shown(&self) -> Option<ValidSpec> {
        self.state
            .valid()
            .map(|valid| variables::shown(valid, &self.chosen))
    }

    /// The URL query of the chosen variable values ("" or `?var-…`).
    fn query(&self) -> String {
        self.state
            .valid()
            .map_or_else(String::new, |v| variables::query(v.spec(), &self.chosen))
    }
}

thread_local! {
    static APP: RefCell<App> = RefCell::new(App::default());
}

fn with<R>(f: impl FnOnce(&mut App) -> R) -> R {
    APP.with(|app| f(&mut app.borrow_mut()))
}

fn spawn(future: impl std::future::Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(future);
}

fn session_storage() -> Option<web_sys::Storage> {
    dom::window()?.session_storage().ok().flatten()
}

/// Sets up the page.
pub fn start() {
    let token = session_storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten());
    with(|app| app.token = token);
    let Some(window) = dom::window() else {
        return;
    };
    let Some(document) = dom::document() else {
        return;
    };
    listen(&document, "click", on_click);
    listen(&document, "change", on_change);
    listen(&document, "input", on_input);
    listen(&document, "keydown", on_key);
    listen(&document, "mousedown", on_mouse_down);
    listen(&document, "mousemove", on_mouse_move);
    listen(&document, "mouseup", on_mouse_up);
    listen(&window, "hashchange", |_| route());

    // The check (and anyone curious) can read exactly what the preview shows.
    let shown = Closure::<dyn Fn() -> String>::new(|| with(|app| app.preview.shown_json()));
    let _ = js_sys::Reflect::set(
        &window,
        &JsValue::from_str("plotcastPreview"),
        shown.as_ref(),
    );
    shown.forget();
    // And where each panel lies in it (the drag tests aim with it).
    let layout = Closure::<dyn Fn() -> String>::new(|| {
        with(|app| {
            let layout = app.state.valid().map(|v| app.preview.layout(v));
            serde_json::to_string(&layout).unwrap_or_default()
        })
    });
    let _ = js_sys::Reflect::set(
        &window,
        &JsValue::from_str("plotcastLayout"),
        layout.as_ref(),
    );
    layout.forget();

    let tick = Closure::<dyn FnMut()>::new(on_tick);
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        1000,
    );
    tick.forget();

    spawn(async {
        match api::get_json::<Value>("/api/schema").await {
            Ok(schema) => {
                if let Some(body) = dom::by_id("schema-body") {
                    body.set_inner_html(&json_view::schema_html(&schema));
                }
            }
            Err(error) => dom::show_error(&error.to_string()),
        }
    });
    spawn(load_fonts());
    route();
}

/// Registers the fonts the server renders with (its fallback chain, in order), so the
/// preview draws the same glyphs. `GET /api/fonts` answers `{"fonts": ["/url", ..]}`;
/// a server without it (404) renders with the embedded font only, as the preview does.
async fn load_fonts() {
    let list = match api::get_json::<Value>("/api/fonts").await {
        Ok(list) => list,
        Err(error) if error.status == 404 => return,
        Err(error) => return dom::show_error(&error.to_string()),
    };
    let urls: Vec<String> = list["fonts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u.as_str().map(String::from))
        .collect();
    for url in urls {
        match api::get_bytes(&url).await {
            Ok(bytes) => {
                if let Err(error) = with(|app| app.preview.register_font(bytes)) {
                    dom::show_error(&format!("font {url}: {error}"));
                }
            }
            Err(error) => dom::show_error(&error.to_string()),
        }
    }
    refresh(Source::Other);
}

fn listen(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    closure.forget();
}

fn target_closest(event: &Event, selector: &str) -> Option<Element> {
    event
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest(selector)
        .ok()
        .flatten()
}

/// Shows the page the location's hash names.
fn route() {
    let hash = dom::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if hash == "#/new" {
        with(|app| app.view = View::List);
        show_only("template-view");
        spawn(show_templates());
    } else if let Some(name) = hash.strip_prefix("#/new/") {
        spawn(new_from_template(name.to_string()));
    } else if let Some(id) = hash.strip_prefix("#/duplicate/") {
        spawn(duplicate(id.to_string()));
    } else if let Some(id) = hash.strip_prefix("#/edit/") {
        let id = id.to_string();
        let already = with(|app| app.view == View::Editor && app.chart_id.as_deref() == Some(&id));
        if !already {
            spawn(open_chart(id));
        }
    } else {
        with(|app| app.view = View::List);
        show_only("list-view");
        spawn(async {
            list::load().await;
            list::refresh_thumbnails().await;
        });
    }
}

/// Flips a toggle button's `aria-pressed`; returns whether it is now pressed.
fn toggle(button: &Element) -> bool {
    let pressed = button.get_attribute("aria-pressed").as_deref() != Some("true");
    let _ = button.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
    pressed
}

/// Shows the page section `id` and hides the others.
fn show_only(id: &str) {
    for section in ["list-view", "template-view", "editor-view"] {
        dom::set_visible(section, section == id);
    }
}

/// The template chooser: blank, the server's templates, a duplicate of each chart.
async fn show_templates() {
    let templates = match api::get_json::<TemplateList>("/api/templates").await {
        Ok(list) => list.templates,
        Err(error) => return dom::show_error(&error.to_string()),
    };
    let charts: Vec<String> = match api::get_json::<list::ChartList>("/api/charts").await {
        Ok(list) => list.charts.into_iter().map(|c| c.id).collect(),
        Err(error) => return dom::show_error(&error.to_string()),
    };
    if let Some(container) = dom::by_id("template-list") {
        container.set_inner_html(&chooser_html(&templates, &charts));
    }
}

/// A published chart's spec text (as the editor writes it) and version.
async fn chart_text(id: &str) -> Option<(String, u64)> {
    match api::get_json::<Value>(&format!("/api/charts/{id}")).await {
        Ok(chart) => {
            let text = serde_json::from_value::<Spec>(chart["spec"].clone())
                .map(|spec| to_text(&spec))
                .unwrap_or_else(|_| {
                    serde_json::to_string_pretty(&chart["spec"]).unwrap_or_default()
                });
            Some((text, chart["version"].as_u64().unwrap_or(0)))
        }
        Err(error) => {
            dom::show_error(&error.to_string());
            None
        }
    }
}

async fn open_chart(id: String) {
    if let Some((text, version)) = chart_text(&id).await {
        open_editor(Some((id, version)), text);
    }
}

/// A new chart from template `name` (`blank`: the blank chart), its series pointed at
/// live series where it has none.
async fn new_from_template(name: String) {
    let spec = if name == "blank" {
        Spec::from_json(NEW_CHART).ok()
    } else {
        match api::get_json::<TemplateList>("/api/templates").await {
            Ok(list) => list
                .templates
                .into_iter()
                .find(|t| t.name == name)
                .and_then(|t| serde_json::from_value::<Spec>(t.spec).ok()),
            Err(error) => return dom::show_error(&error.to_string()),
        }
    };
    let Some(spec) = spec else {
        return dom::show_error(&format!("no template {name:?}"));
    };
    open_live(spec).await;
}

/// A new chart copying published chart `id`.
async fn duplicate(id: String) {
    if let Some((text, _)) = chart_text(&id).await {
        match Spec::from_json(&text) {
            Ok(spec) => open_live(spec).await,
            Err(_) => open_editor(None, text),
        }
    }
}

/// Opens `spec` as a new chart, with its series that have no live data pointed at live
/// series (fetched first, so the preview moves at once).
async fn open_live(mut spec: Spec) {
    refresh_series().await;
    let live = with(|app| app.series.clone());
    with_live_series(&mut spec, &live);
    open_editor(None, to_text(&spec));
}

fn open_editor(published: Option<(String, u64)>, text: String) {
    let state = EditorState::new(text);
    let id = published
        .as_ref()
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| {
            let title = state
                .valid()
                .and_then(|v| v.spec().title.clone())
                .unwrap_or_default();
            publish::suggest_id(&title)
        });
    with(|app| {
        app.view = View::Editor;
        app.state = state;
        app.chart_id = published.as_ref().map(|(id, _)| id.clone());
        app.published = published.as_ref().map(|(_, version)| *version);
        app.chosen.clear();
        app.form_signature.clear();
        app.preview.data = Data::default();
        app.preview.metrics.clear();
    });
    if let Some(input) = dom::by_id("chart-id") {
        dom::set_value(&input, &id);
    }
    show_only("editor-view");
    dom::set_visible("published", false);
    refresh(Source::Other);
    spawn(refresh_series());
    spawn(refresh_sources());
    spawn(refresh_data());
}

/// Brings the page in line with the state after an edit.
fn refresh(source: Source) {
    let needs_data = with(|app| {
        if source != Source::Json {
            json_view::show_text(&app.state);
        }
        json_view::show_problems(&app.state);
        if let Some(spec) = app.state.spec() {
            let selected = app.state.selected_panel();
            form::show(&spec, selected, &app.series, &mut app.form_signature);
        }
        set_disabled("undo", !app.state.can_undo());
        set_disabled("redo", !app.state.can_redo());
        let Some(valid) = app.shown() else {
            return false;
        };
        show_variables(app);
        if let (Some(id), Some(version)) = (&app.chart_id, app.published) {
            publish::show_published(id, version, valid.spec(), &app.query());
        }
        preview::draw(&mut app.preview, &valid);
        let layout = app.preview.layout(&valid);
        show_selection(
            layout
                .panels
                .get(app.state.selected_panel())
                .map(|(_, rect)| *rect),
        );
        preview::reads(&valid)
            .iter()
            .any(|m| !app.preview.metrics.contains(m))
    });
    if needs_data {
        spawn(refresh_data());
    }
}

/// Shows the variables picker of the last valid spec, rebuilt only when it changed
/// (so a focused input keeps its caret).
fn show_variables(app: &mut App) {
    let html = app.state.valid().map_or_else(String::new, |v| {
        variables::picker_html(v.spec(), &app.chosen)
    });
    if html != app.picker {
        if let Some(container) = dom::by_id("variables") {
            container.set_inner_html(&html);
        }
        app.picker = html;
    }
}

fn set_disabled(id: &str, disabled: bool) {
    if let Some(element) = dom::by_id(id) {
        if disabled {
            let _ = element.set_attribute("disabled", "");
        } else {
            let _ = element.remove_attribute("disabled");
        }
    }
}

/// Fetches the data of every metric the spec draws, then renders.
async fn refresh_data() {
    let now = dom::now_ms();
    let request = with(|app| {
        if app.fetching || app.view != View::Editor {
            return None;
        }
        let valid = app.shown()?;
        let metrics = preview::reads(&valid);
        app.fetching = true;
        Some((points_paths(&valid, now), metrics))
    });
    let Some((paths, metrics)) = request else {
        return;
    };
    let mut data = Data::default();
    let mut failed = None;
    for path in paths {
        match api::get_json::<Data>(&path).await {
            Ok(part) => {
                data.series.extend(part.series);
                data.notes.extend(part.notes);
            }
            Err(error) => failed = Some(error),
        }
    }
    with(|app| {
        app.fetching = false;
        if failed.is_none() {
            app.preview.data = data;
            app.preview.metrics = metrics;
        }
        if let Some(valid) = app.shown() {
            if app.view == View::Editor {
                preview::draw(&mut app.preview, &valid);
            }
        }
    });
    if let Some(error) = failed {
        dom::show_error(&error.to_string());
    }
}

/// Fetches the configured sources (`GET /api/sources`) into `#source-names`, which
/// the series' source fields suggest from.
async fn refresh_sources() {
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct List {
        sources: Vec<Named>,
    }
    match api::get_json::<List>("/api/sources").await {
        Ok(list) => {
            let options: String = list
                .sources
                .iter()
                .map(|s| format!("<option value=\"{}\">", crate::html::escape(&s.name)))
                .collect();
            if let Some(datalist) = dom::by_id("source-names") {
                datalist.set_inner_html(&options);
            }
        }
        Err(error) => dom::show_error(&error.to_string()),
    }
}

/// Fetches the live series list for the picker.
async fn refresh_series() {
    #[derive(serde::Deserialize)]
    struct List {
        series: Vec<SeriesInfo>,
    }
    match api::get_json::<List>("/api/series").await {
        Ok(list) => {
            let changed = with(|app| {
                let changed = app.series != list.series;
                app.series = list.series;
                changed
            });
            if changed {
                refresh(Source::Other);
            }
        }
        Err(error) => dom::show_error(&error.to_string()),
    }
}

fn on_tick() {
    let (view, ticks) = with(|app| {
        app.ticks += 1;
        (app.view, app.ticks)
    });
    match view {
        View::Editor => {
            spawn(refresh_data());
            if ticks % 5 == 0 {
                spawn(refresh_series());
            }
        }
        View::List => {
            if ticks % 2 == 0 {
                spawn(list::refresh_thumbnails());
            }
        }
    }
}

fn on_input(event: Event) {
    if let Some(search) = target_closest(&event, "#series-search") {
        let options = with(|app| picker::picker_options(&app.series, &dom::value(&search)));
        if let Some(select) = dom::by_id("series-pick") {
            select.set_inner_html(&options);
        }
        return;
    }
    let Some(area) = target_closest(&event, "#spec-json") else {
        return;
    };
    let text = dom::value(&area);
    if with(|app| app.state.type_text(text, dom::now_ms())) {
        refresh(Source::Json);
    }
}

fn on_change(event: Event) {
    if let Some(picker) = target_closest(&event, "[data-var]") {
        if let Some(name) = picker.get_attribute("data-var") {
            let value = dom::value(&picker);
            with(|app| app.chosen.insert(name, value));
            refresh(Source::Other);
            spawn(refresh_data());
        }
        return;
    }
    let Some(control) = target_closest(&event, "[data-field]") else {
        return;
    };
    let Some(path) = form::field_path(&control) else {
        return;
    };
    let value = dom::value(&control);
    let result = with(|app| app.state.edit_spec(|spec| fields::set(spec, &path, &value)));
    match result {
        Ok(true) => {
            dom::clear_error();
            refresh(Source::Other);
        }
        Ok(false) => {}
        Err(message) => {
            dom::show_error(&message);
            refresh(Source::Other);
        }
    }
}

/// Where a mouse event is on the preview image, in image pixels (the canvas may be
/// drawn scaled).
fn image_point(event: &Event) -> Option<(f32, f32)> {
    let mouse = event.dyn_ref::<MouseEvent>()?;
    let canvas = dom::by_id("preview")?
        .dyn_into::<HtmlCanvasElement>()
        .ok()?;
    let bounds = canvas.get_bounding_client_rect();
    let scale_x = canvas.width() as f64 / f64::from(canvas.client_width().max(1));
    let scale_y = canvas.height() as f64 / f64::from(canvas.client_height().max(1));
    let x =
        (f64::from(mouse.client_x()) - bounds.left() - f64::from(canvas.client_left())) * scale_x;
    let y = (f64::from(mouse.client_y()) - bounds.top() - f64::from(canvas.client_top())) * scale_y;
    Some((x as f32, y as f32))
}

/// A press on the preview selects the panel under it and starts moving it (or, at
/// its bottom-right corner, resizing it).
fn on_mouse_down(event: Event) {
    if target_closest(&event, "#preview").is_none() {
        return;
    }
    let Some((x, y)) = image_point(&event) else {
        return;
    };
    let gesture = with(|app| {
        let layout = app.preview.layout(app.state.valid()?);
        let gesture = Gesture::start(&layout, x, y)?;
        app.gesture = Some(gesture);
        Some(gesture)
    });
    if let Some(gesture) = gesture {
        event.prevent_default();
        if let Some(canvas) = dom::by_id("preview") {
            let _ = canvas.dyn_into::<web_sys::HtmlElement>().map(|c| c.focus());
        }
        run_action(Action::SelectPanel(gesture.panel()));
    }
}

/// While a drag is on, the cells it would drop the panel on are outlined (marked, with
/// the reason as its tooltip, when the drop would be refused).
fn on_mouse_move(event: Event) {
    let Some((x, y)) = image_point(&event) else {
        return;
    };
    let drop = with(|app| {
        let gesture = app.gesture?;
        let valid = app.state.valid()?;
        gesture.drop_at(valid.spec(), &app.preview.layout(valid), x, y)
    });
    let Some(drop) = drop else {
        return;
    };
    if let Some(element) = outline("drop-target", Some(drop.rect)) {
        let _ = element
            .class_list()
            .toggle_with_force("refused", drop.refused.is_some());
        let _ = element.set_attribute("title", drop.refused.as_deref().unwrap_or(""));
    }
}

/// Releasing a drag puts the panel where it was dropped: one edit, one undo step.
fn on_mouse_up(event: Event) {
    let Some(gesture) = with(|app| app.gesture.take()) else {
        return;
    };
    outline("drop-target", None);
    let Some((x, y)) = image_point(&event) else {
        return;
    };
    let result = with(|app| {
        let layout = app.preview.layout(app.state.valid()?);
        let target = gesture.target(&layout, x, y)?;
        let panel = gesture.panel();
        if layout.panels.get(panel).map(|(cell, _)| *cell) == Some(target) {
            return None;
        }
        Some(
            app.state
                .edit_spec(|spec| place(spec, &layout, panel, target)),
        )
    });
    show_edit_result(result);
}

/// Arrow keys on the focused preview move the selected panel a cell (Shift: resize),
/// Delete removes it.
fn on_preview_key(event: &Event, key: &KeyboardEvent) -> bool {
    let focused = dom::document().and_then(|d| d.active_element());
    if focused.is_none_or(|e| e.id() != "preview") {
        return false;
    }
    if matches!(key.key().as_str(), "Delete" | "Backspace") {
        event.prevent_default();
        let selected = with(|app| app.state.selected_panel());
        run_action(Action::RemovePanel(selected));
        return true;
    }
    let Some(nudge) = Nudge::of_key(&key.key(), key.shift_key()) else {
        return false;
    };
    event.prevent_default();
    let result = with(|app| {
        let layout = app.preview.layout(app.state.valid()?);
        let panel = app.state.selected_panel();
        let target = nudge.target(&layout, panel)?;
        Some(
            app.state
                .edit_spec(|spec| place(spec, &layout, panel, target)),
        )
    });
    show_edit_result(result);
    true
}

/// Adds or removes a grid column or row (the buttons under the preview).
fn resize_layout(columns: i32, rows: i32) {
    let result = with(|app| {
        let layout = app.preview.layout(app.state.valid()?);
        Some(
            app.state
                .edit_spec(|spec| resize_grid(spec, &layout, columns, rows)),
        )
    });
    show_edit_result(result);
}

/// Outlines the selected panel over the preview.
fn show_selection(rect: Option<[f32; 4]>) {
    outline("selection", rect);
}

/// Puts the outline element `id` over `rect` (image pixels) of the preview, which may
/// be drawn scaled, or hides it (`None`); the preview itself stays exactly the stream's
/// frame. Returns the element when it is shown.
fn outline(id: &str, rect: Option<[f32; 4]>) -> Option<Element> {
    let element = dom::by_id(id)?;
    let canvas = dom::by_id("preview")?
        .dyn_into::<HtmlCanvasElement>()
        .ok()?;
    let Some([x0, y0, x1, y1]) = rect.filter(|_| canvas.width() > 0) else {
        let _ = element.set_attribute("hidden", "");
        return None;
    };
    let scale = canvas.client_width() as f32 / canvas.width() as f32;
    let (left, top) = (canvas.client_left() as f32, canvas.client_top() as f32);
    let style = format!(
        "left:{}px;top:{}px;width:{}px;height:{}px",
        left + x0 * scale,
        top + y0 * scale,
        (x1 - x0) * scale,
        (y1 - y0) * scale
    );
    let _ = element.set_attribute("style", &style);
    let _ = element.remove_attribute("hidden");
    Some(element)
}

/// Brings the page in line after an edit of the preview, or shows why it was refused.
fn show_edit_result(result: Option<Result<bool, String>>) {
    match result {
        Some(Ok(true)) => {
            dom::clear_error();
            refresh(Source::Other);
        }
        Some(Err(message)) => dom::show_error(&message),
        Some(Ok(false)) | None => {}
    }
}

fn on_key(event: Event) {
    let Some(key) = event.dyn_ref::<KeyboardEvent>() else {
        return;
    };
    if on_preview_key(&event, key) {
        return;
    }
    let typing = dom::document()
        .and_then(|d| d.active_element())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    if typing || !(key.ctrl_key() || key.meta_key()) || key.key().to_lowercase() != "z" {
        return;
    }
    event.prevent_default();
    run_action(if key.shift_key() {
        Action::Redo
    } else {
        Action::Undo
    });
}

fn on_click(event: Event) {
    if let Some(button) = target_closest(&event, "[data-action]") {
        if let Some(action) = button
            .get_attribute("data-action")
            .and_then(|k| Action::parse(&k))
        {
            run_action(action);
        }
        return;
    }
    let Some(button) = target_closest(&event, "button[id]") else {
        return;
    };
    match button.id().as_str() {
        "publish" => spawn(publish_chart()),
        "grid-add-column" => resize_layout(1, 0),
        "grid-remove-column" => resize_layout(-1, 0),
        "grid-add-row" => resize_layout(0, 1),
        "grid-remove-row" => resize_layout(0, -1),
        "toggle-json" => {
            let shown = toggle(&button);
            dom::set_visible("json-view", shown);
        }
        "toggle-size" => {
            let actual = toggle(&button);
            if let Some(the_box) = dom::by_id("preview-box") {
                let _ = the_box.class_list().toggle_with_force("actual", actual);
            }
        }
        "copy-snippet" => publish::copy_snippet(),
        "close-message" => dom::clear_error(),
        "token-submit" => {
            let token = dom::value_of("token-input").trim().to_string();
            if let Some(storage) = session_storage() {
                let _ = storage.set_item(TOKEN_KEY, &token);
            }
            dom::set_visible("token-prompt", false);
            let retry = with(|app| {
                app.token = (!token.is_empty()).then_some(token);
                std::mem::take(&mut app.retry_publish)
            });
            if retry {
                spawn(publish_chart());
            }
        }
        _ => {}
    }
}

fn run_action(action: Action) {
    let result = with(|app| match action {
        Action::Undo => Ok(app.state.undo()),
        Action::Redo => Ok(app.state.redo()),
        Action::SelectPanel(p) => {
            app.state.select_panel(p);
            Ok(true)
        }
        Action::AddSeries(p, query) if query.is_empty() => {
            let query = dom::value_of("series-pick");
            if query.is_empty() {
                return Err("No live series yet: write some data to the server first".to_string());
            }
            app.state
                .edit_spec(|spec| Action::AddSeries(p, query).apply(spec))
        }
        Action::AddPanel => {
            let edited = app.state.edit_spec(|spec| action.apply(spec));
            if let Some(count) = app.state.spec().map(|s| s.panels.len()) {
                app.state.select_panel(count.saturating_sub(1));
            }
            edited
        }
        action => app.state.edit_spec(|spec| action.apply(spec)),
    });
    match result {
        Ok(true) => {
            dom::clear_error();
            refresh(Source::Other);
        }
        Ok(false) => {}
        Err(message) => dom::show_error(&message),
    }
}

/// `PUT /api/charts/{id}` with the spec; asks for the token on a 401.
async fn publish_chart() {
    let id = dom::value_of("chart-id").trim().to_string();
    if !publish::valid_id(&id) {
        dom::show_error(&format!(
            "chart id {id:?} is invalid: use 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit"
        ));
        return;
    }
    let ready = with(|app| {
        if !app.state.is_valid() {
            return Err("Fix the problems in the spec before publishing".to_string());
        }
        Ok((app.state.text().to_string(), app.token.clone()))
    });
    let (text, token) = match ready {
        Ok(ready) => ready,
        Err(message) => return dom::show_error(&message),
    };
    dom::set_text("publish-status", "Publishing…");
    match api::send(
        "PUT",
        &format!("/api/charts/{id}"),
        Some(&text),
        token.as_deref(),
    )
    .await
    {
        Ok(body) => {
            dom::clear_error();
            let version = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["version"].as_u64())
                .unwrap_or(0);
            with(|app| {
                app.chart_id = Some(id.clone());
                app.published = Some(version);
            });
            if let Some(window) = dom::window() {
                let _ = window.location().set_hash(&format!("#/edit/{id}"));
            }
            refresh(Source::Other);
        }
        Err(error) if error.unauthorized() => {
            with(|app| app.retry_publish = true);
            dom::set_text("publish-status", "");
            dom::set_visible("token-prompt", true);
            dom::show_error(&format!("{error} — enter the API token to publish"));
        }
        Err(error) => {
            dom::set_text("publish-status", "");
            dom::show_error(&error.to_string());
        }
    }
}
