//! The editor state: the spec JSON being edited, the last valid spec (what the preview
//! shows), the problems of the current text with their JSON paths, undo/redo and the
//! selected panel. Pure Rust: no DOM, runs natively and in wasm.

use render_core::{Spec, ValidSpec};

/// The spec a new chart starts from.
pub const NEW_CHART: &str = r#"{
  "version": 1,
  "width": 640,
  "height": 360,
  "title": "New chart",
  "window": "5m",
  "panels": [
    {
      "kind": "timeseries"
    }
  ]
}"#;

/// Most edits kept for undo.
pub const UNDO_LIMIT: usize = 200;

/// Keystrokes in the JSON view closer together than this are one undo step (a pause
/// ends the step, as do form edits, undo and redo).
pub const TYPING_PAUSE_MS: i64 = 1000;

/// One problem of the spec text, at a JSON path (`panels[0].series[1].color`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path; empty for the document itself.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Parses and validates spec JSON, naming the JSON path of every problem.
pub fn check(text: &str) -> Result<ValidSpec, Vec<Problem>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let spec: Spec = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        vec![Problem {
            path: if path == "." || path == "?" {
                String::new()
            } else {
                path
            },
            message: error.into_inner().to_string(),
        }]
    })?;
    deserializer.end().map_err(|error| {
        vec![Problem {
            path: String::new(),
            message: error.to_string(),
        }]
    })?;
    render_core::validate(spec).map_err(|errors| {
        errors
            .0
            .into_iter()
            .map(|e| Problem {
                path: e.path,
                message: e.message,
            })
            .collect()
    })
}

/// Pretty JSON of a spec, as the JSON view shows it.
pub fn to_text(spec: &Spec) -> String {
    serde_json::to_string_pretty(spec).unwrap_or_default()
}

/// What the editor holds.
#[derive(Debug, Clone)]
pub struct EditorState {
    text: String,
    valid: Option<ValidSpec>,
    problems: Vec<Problem>,
    undo: Vec<String>,
    redo: Vec<String>,
    selected: usize,
    /// When the last keystroke of a run of JSON typing came, while the run lasts.
    typing_since: Option<i64>,
}

impl Default for EditorState {
    fn default() -> Self {
        EditorState::new(NEW_CHART.to_string())
    }
}

impl EditorState {
    /// A state holding `text` (valid or not), with empty history.
    pub fn new(text: String) -> EditorState {
        let mut state = EditorState {
            text: String::new(),
            valid: None,
            problems: Vec::new(),
            undo: Vec::new(),
            redo: Vec::new(),
            selected: 0,
            typing_since: None,
        };
        state.load(text);
        state
    }

    /// The spec JSON as it stands (may be invalid).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The last valid spec: what the preview shows while the text is invalid.
    pub fn valid(&self) -> Option<&ValidSpec> {
        self.valid.as_ref()
    }

    /// The problems of the current text; empty when it is valid.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Whether the current text is a valid spec.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// The panel the form shows, clamped to the panels of the last valid spec.
    pub fn selected_panel(&self) -> usize {
        let count = self.valid.as_ref().map_or(1, |v| v.spec().panels.len());
        self.selected.min(count.saturating_sub(1))
    }

    /// Shows panel `index` in the form.
    pub fn select_panel(&mut self, index: usize) {
        self.selected = index;
        self.selected = self.selected_panel();
    }

    /// Replaces the text with `text` as one undo step. Returns whether anything changed.
    pub fn edit_text(&mut self, text: String) -> bool {
        self.typing_since = None;
        self.replace_text(text, true)
    }

    /// Replaces the text with `text` typed in the JSON view at `now_ms`: keystrokes
    /// less than [`TYPING_PAUSE_MS`] apart make one undo step. Returns whether anything
    /// changed.
    pub fn type_text(&mut self, text: String, now_ms: i64) -> bool {
        let same_run = self
            .typing_since
            .is_some_and(|last| now_ms - last < TYPING_PAUSE_MS);
        let changed = self.replace_text(text, !same_run);
        if changed {
            self.typing_since = Some(now_ms);
        }
        changed
    }

    fn replace_text(&mut self, text: String, new_step: bool) -> bool {
        if text == self.text {
            return false;
        }
        let previous = std::mem::take(&mut self.text);
        if new_step {
            self.undo.push(previous);
            if self.undo.len() > UNDO_LIMIT {
                self.undo.remove(0);
            }
        }
        self.redo.clear();
        self.load(text);
        true
    }

    /// Applies a form edit to the spec: to the current text if it parses as a spec,
    /// else to the last valid spec. The text becomes the edited spec's pretty JSON.
    /// Returns whether anything changed.
    pub fn edit_spec<E>(
        &mut self,
        edit: impl FnOnce(&mut Spec) -> Result<(), E>,
    ) -> Result<bool, E> {
        let mut spec = match Spec::from_json(&self.text) {
            Ok(spec) => spec,
            Err(_) => match &self.valid {
                Some(valid) => valid.spec().clone(),
                None => match Spec::from_json(NEW_CHART) {
                    Ok(spec) => spec,
                    Err(_) => return Ok(false),
                },
            },
        };
        edit(&mut spec)?;
        Ok(self.edit_text(to_text(&spec)))
    }

    /// The spec the form edits: the current text if it parses, else the last valid one.
    pub fn spec(&self) -> Option<Spec> {
        Spec::from_json(&self.text)
            .ok()
            .or_else(|| self.valid.as_ref().map(|v| v.spec().clone()))
    }

    /// Whether there is an edit to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is an undone edit to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Goes back one edit. Returns whether there was one.
    pub fn undo(&mut self) -> bool {
        self.travel(History::Back)
    }

    /// Goes forward one undone edit. Returns whether there was one.
    pub fn redo(&mut self) -> bool {
        self.travel(History::Forward)
    }

    /// Loads the newest text of the history `to` goes through (undo's for back, redo's
    /// for forward) and keeps the current text on the other one, so the step can be
    /// walked again the other way.
    fn travel(&mut self, to: History) -> bool {
        self.typing_since = None;
        let (from, other) = match to {
            History::Back => (&mut self.undo, &mut self.redo),
            History::Forward => (&mut self.redo, &mut self.undo),
        };
        let Some(text) = from.pop() else {
            return false;
        };
        other.push(std::mem::take(&mut self.text));
        self.load(text);
        true
    }

    fn load(&mut self, text: String) {
        match check(&text) {
            Ok(valid) => {
                self.valid = Some(valid);
                self.problems.clear();
            }
            Err(problems) => self.problems = problems,
        }
        self.text = text;
        self.selected = self.selected_panel();
    }
}

/// Which way [`EditorState::travel`] walks the edit history.
enum History {
    /// Undo.
    Back,
    /// Redo.
    Forward,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn title(state: &EditorState) -> Option<String> {
        state.valid().and_then(|v| v.spec().title.clone())
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn new_chart_is_valid() {
        let state = EditorState::default();
        assert!(state.is_valid(), "{:?}", state.problems());
        assert_eq!(title(&state).as_deref(), Some("New chart"));
        assert!(!state.can_undo() && !state.can_redo());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn invalid_text_keeps_the_last_valid_spec_and_names_the_path() {
        let mut state = EditorState::default();
        let bad = NEW_CHART.replace(
            r#""kind": "timeseries""#,
            r##""kind": "timeseries", "series": [{"metric": "cpu", "color": "#12"}]"##,
        );
        assert!(state.edit_text(bad));
        assert!(!state.is_valid());
        assert_eq!(state.problems()[0].path, "panels[0].series[0].color");
        assert_eq!(title(&state).as_deref(), Some("New chart"));

        let unknown = NEW_CHART.replace(
            r#""kind": "timeseries""#,
            r#""kind": "timeseries", "colour": "red""#,
        );
        state.edit_text(unknown);
        assert_eq!(state.problems().len(), 1);
        assert_eq!(state.problems()[0].path, "panels[0].colour");
        assert!(
            state.problems()[0].message.contains("colour"),
            "{:?}",
            state.problems()
        );

        state.edit_text("{\"version\": 1,".into());
        assert_eq!(state.problems()[0].path, "");
        assert!(
            state.problems()[0].message.contains("line 1"),
            "{:?}",
            state.problems()
        );

        state.edit_text(format!("{NEW_CHART} trailing"));
        assert!(!state.is_valid());
        assert_eq!(title(&state).as_deref(), Some("New chart"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn undo_and_redo_walk_the_edits() {
        let mut state = EditorState::default();
        let original = state.text().to_string();
        let edited = state.edit_spec(|spec| {
            spec.title = Some("Temperatures".into());
            Ok::<(), ()>(())
        });
        assert_eq!(edited, Ok(true));
        assert_eq!(title(&state).as_deref(), Some("Temperatures"));
        assert!(state.edit_text("not json".into()));
        assert!(state.undo());
        assert_eq!(title(&state).as_deref(), Some("Temperatures"));
        assert!(state.is_valid());
        assert!(state.undo());
        assert_eq!(state.text(), original);
        assert!(!state.undo());
        assert!(state.redo());
        assert_eq!(title(&state).as_deref(), Some("Temperatures"));
        assert!(state.redo());
        assert_eq!(state.text(), "not json");
        assert!(!state.redo());
        // A new edit drops what could be redone.
        state.undo();
        state.edit_text(NEW_CHART.into());
        assert!(!state.can_redo());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_run_of_keystrokes_is_one_undo_step_and_a_pause_or_form_edit_ends_it() {
        let mut state = EditorState::default();
        // The chart with `n` spaces typed after it.
        let typed = |n: usize| format!("{NEW_CHART}{}", " ".repeat(n));
        // Five keystrokes 200 ms apart: one step back to where typing started.
        for (i, t) in (1..=5).zip((0..).step_by(200)) {
            assert!(state.type_text(typed(i), t));
        }
        assert!(state.undo());
        assert_eq!(state.text(), NEW_CHART);
        assert!(!state.can_undo());
        assert!(state.redo());
        // After a pause, typing is a new step.
        assert!(state.type_text(typed(6), 800 + TYPING_PAUSE_MS));
        assert!(state.undo());
        assert_eq!(state.text(), typed(5));
        // A form edit between keystrokes ends the run too.
        assert!(state.type_text(typed(7), 5_000));
        let form_edit = state.edit_spec(|spec| {
            spec.title = Some("Form".into());
            Ok::<(), ()>(())
        });
        assert_eq!(form_edit, Ok(true));
        assert!(state.type_text(state.text().replace("Form", "Form2"), 5_100));
        assert!(state.undo());
        assert!(state.text().contains("\"Form\""), "{}", state.text());
        assert!(state.undo());
        assert_eq!(state.text(), typed(7));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unchanged_text_records_no_undo_and_history_is_capped() {
        let mut state = EditorState::default();
        assert!(!state.edit_text(NEW_CHART.into()));
        assert!(!state.can_undo());
        for i in 0..UNDO_LIMIT + 10 {
            state.edit_text(format!("{i}"));
        }
        let mut undone = 0;
        while state.undo() {
            undone += 1;
        }
        assert_eq!(undone, UNDO_LIMIT);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn form_edits_apply_to_the_last_valid_spec_when_the_text_does_not_parse() {
        let mut state = EditorState::default();
        state.edit_text("{ broken".into());
        let result = state.edit_spec(|spec| {
            spec.width = 800;
            Ok::<(), ()>(())
        });
        assert_eq!(result, Ok(true));
        assert!(state.is_valid());
        assert_eq!(state.valid().map(|v| v.spec().width), Some(800));
        // A failed edit changes nothing.
        let failed = state.edit_spec(|spec| {
            spec.width = 1;
            Err("no")
        });
        assert_eq!(failed, Err("no"));
        assert_eq!(state.valid().map(|v| v.spec().width), Some(800));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_selected_panel_stays_within_the_panels() {
        let mut state = EditorState::default();
        state.select_panel(5);
        assert_eq!(state.selected_panel(), 0);
        let _ = state.edit_spec(|spec| {
            spec.panels.push(Default::default());
            spec.panels.push(Default::default());
            Ok::<(), ()>(())
        });
        state.select_panel(2);
        assert_eq!(state.selected_panel(), 2);
        let _ = state.edit_spec(|spec| {
            spec.panels.truncate(1);
            Ok::<(), ()>(())
        });
        assert_eq!(state.selected_panel(), 0);
    }
}
