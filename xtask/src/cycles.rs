//! `cargo xtask cycles`: fails on import cycles between the modules of one crate
//! (A uses B and B uses A, directly or through others); `cargo xtask test` runs it too.
//!
//! A module is a file. For every target of every workspace package the module tree is
//! read from its root file's `mod NAME;` lines (`foo.rs` or `foo/mod.rs` is module
//! `foo`). A module uses another when one of its paths names it: `use crate::…`,
//! `crate::a::b` in code, `super::…`, `self::…`, or a path starting with one of its
//! child modules (`timeseries::draw`). A path points at its longest prefix that is a
//! module file (`crate::a::b::Item` is `a::b` when `a/b.rs` exists, else `a`).
//! Not edges: uses of the crate root (`lib.rs`/`main.rs` declares the modules and
//! re-exports their items), a file's inline modules using the file itself, and every
//! path in an inline `#[cfg(test)] mod tests { use super::*; … }` (nothing uses a test
//! module, so it closes no cycle). Comments (doc links included) and
//! string literals are skipped. Cycles are the strongly connected components.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::cargo;

/// Checks every crate root of the workspace; fails naming every cycle.
pub fn run(sh: &Shell, root: &Path) -> Result<()> {
    let cargo = cargo();
    let metadata = cmd!(sh, "{cargo} metadata --no-deps --format-version 1")
        .quiet()
        .read()
        .context("running `cargo metadata`")?;
    let crate_roots: BTreeSet<PathBuf> = metadata
        .split("\"src_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(PathBuf::from)
        .collect();
    let read = |path: &Path| std::fs::read_to_string(path).ok();
    let mut reports = BTreeSet::new();
    for crate_root in &crate_roots {
        let graph = Graph::read(crate_root, &read)?;
        for cycle in graph.cycles() {
            reports.insert(graph.describe(&cycle, root));
        }
    }
    println!(
        "import cycles: checked {} crate roots, found {}",
        crate_roots.len(),
        reports.len()
    );
    if reports.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = reports.into_iter().collect();
    bail!(
        "{} import cycle(s) between modules:\n{}",
        list.len(),
        list.join("\n")
    )
}

/// A token of Rust source, with its line.
#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Open,
    Close,
    Semi,
    Other(char),
}

/// Splits `src` into tokens, dropping whitespace, comments and literals.
fn lex(src: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = src.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a quoted literal whose opening quote is at `i`; returns the index after it.
    let skip_quoted = |mut i: usize, quote: char, line: &mut usize| {
        i += 1;
        while i < chars.len() && chars[i] != quote {
            if chars[i] == '\\' {
                i += 1;
            }
            if at(i) == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                loop {
                    if i >= chars.len() {
                        break;
                    }
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => i = skip_quoted(i, '"', &mut line),
            // A char literal ('a', '\n', '"'), else a lifetime ('a).
            '\'' if at(i + 1) == '\\' || at(i + 2) == '\'' => i = skip_quoted(i, '\'', &mut line),
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let raw_string = matches!(word.as_str(), "r" | "br" | "cr")
                    && (at(i) == '"' || (at(i) == '#' && matches!(at(i + 1), '"' | '#')));
                if raw_string {
                    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
                    i += hashes + 1;
                    while i < chars.len()
                        && !(chars[i] == '"'
                            && chars[i + 1..]
                                .iter()
                                .take(hashes)
                                .filter(|&&c| c == '#')
                                .count()
                                == hashes)
                    {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                    i += hashes + 1;
                } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                    i = skip_quoted(i, '"', &mut line);
                } else if word == "b" && at(i) == '\'' {
                    i = skip_quoted(i, '\'', &mut line);
                } else if word == "r" && at(i) == '#' {
                    // A raw identifier, `r#type`: the next word is the name.
                    i += 1;
                } else {
                    tokens.push((Tok::Ident(word), line));
                }
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            ':' if at(i + 1) == ':' => {
                tokens.push((Tok::Sep, line));
                i += 2;
            }
            c => {
                tokens.push((
                    match c {
                        '{' => Tok::Open,
                        '}' => Tok::Close,
                        ';' => Tok::Semi,
                        c => Tok::Other(c),
                    },
                    line,
                ));
                i += 1;
            }
        }
    }
    tokens
}

/// The paths of a `use` tree starting at `tokens[*i]` (after `use`), each prefixed by
/// `prefix`; leaves `*i` after the tree.
fn use_tree(tokens: &[(Tok, usize)], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    if tokens.get(*i).map(|t| &t.0) == Some(&Tok::Sep) {
        // `::name`: an external crate, never one of ours.
        path.push("::".to_owned());
        *i += 1;
    }
    loop {
        match tokens.get(*i).map(|t| &t.0) {
            Some(Tok::Ident(word)) if word == "as" => {
                *i += 2;
                break;
            }
            Some(Tok::Ident(word)) => {
                path.push(word.clone());
                *i += 1;
                if tokens.get(*i).map(|t| &t.0) == Some(&Tok::Sep) {
                    *i += 1;
                    continue;
                }
                break;
            }
            Some(Tok::Open) => {
                *i += 1;
                while !matches!(tokens.get(*i).map(|t| &t.0), None | Some(Tok::Close)) {
                    use_tree(tokens, i, &path, out);
                    if tokens.get(*i).map(|t| &t.0) == Some(&Tok::Other(',')) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            // `*`, or the end of the tree.
            _ => break,
        }
    }
    out.push(path);
}

/// A path found in a module file: its segments, the module it was written in (file
/// module plus inline modules), the line.
struct Reference {
    segments: Vec<String>,
    scope: Vec<String>,
    line: usize,
}

/// What one file declares and references.
#[derive(Default)]
struct FileScan {
    /// `mod NAME;` at file level: child module files.
    child_files: Vec<String>,
    /// Every module declared at file level (files and inline), for relative paths.
    children: BTreeSet<String>,
    references: Vec<Reference>,
}

/// Reads the module declarations and the paths of the file of module `module`.
fn scan(src: &str, module: &[String]) -> FileScan {
    let tokens = lex(src);
    let tok = |i: usize| tokens.get(i).map(|t| &t.0);
    let ident = |i: usize| match tok(i) {
        Some(Tok::Ident(word)) => Some(word.as_str()),
        _ => None,
    };
    let mut out = FileScan::default();
    // First pass: the file-level `mod` declarations (relative paths may precede them).
    let mut depth = 0usize;
    for i in 0..tokens.len() {
        match tok(i) {
            Some(Tok::Open) => depth += 1,
            Some(Tok::Close) => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && ident(i) == Some("mod") {
            if let Some(name) = ident(i + 1) {
                out.children.insert(name.to_owned());
                if tok(i + 2) == Some(&Tok::Semi) {
                    out.child_files.push(name.to_owned());
                }
            }
        }
    }
    // Second pass: the paths, with the inline module each is written in. Nothing uses
    // a `#[cfg(test)]` module, so it is in no cycle: its paths are skipped.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut test_body: Option<usize> = None;
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let line = tokens[i].1;
        let scope = |inline: &[(String, usize)]| {
            let mut scope = module.to_vec();
            scope.extend(inline.iter().map(|(name, _)| name.clone()));
            scope
        };
        match tok(i) {
            Some(Tok::Open) => depth += 1,
            Some(Tok::Close) => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|&(_, body)| body > depth) {
                    inline.pop();
                }
                test_body = test_body.filter(|&body| body <= depth);
            }
            Some(Tok::Ident(word)) if word == "mod" => {
                if let (Some(name), Some(Tok::Open)) = (ident(i + 1), tok(i + 2)) {
                    inline.push((name.to_owned(), depth + 1));
                    if test_body.is_none() && after_cfg_test(&tokens, i) {
                        test_body = Some(depth + 1);
                    }
                }
            }
            Some(Tok::Ident(word)) if word == "use" => {
                let mut paths = Vec::new();
                i += 1;
                use_tree(&tokens, &mut i, &[], &mut paths);
                if test_body.is_some() {
                    continue;
                }
                let scope = scope(&inline);
                out.references
                    .extend(paths.into_iter().map(|segments| Reference {
                        segments,
                        scope: scope.clone(),
                        line,
                    }));
                continue;
            }
            Some(Tok::Ident(word))
                if tok(i + 1) == Some(&Tok::Sep)
                    && (i == 0 || tok(i - 1) != Some(&Tok::Sep))
                    && (matches!(word.as_str(), "crate" | "self" | "super")
                        || (inline.is_empty() && out.children.contains(word))) =>
            {
                let mut segments = Vec::new();
                while let Some(word) = ident(i) {
                    segments.push(word.to_owned());
                    if tok(i + 1) != Some(&Tok::Sep) {
                        break;
                    }
                    i += 2;
                }
                if test_body.is_some() {
                    continue;
                }
                out.references.push(Reference {
                    segments,
                    scope: scope(&inline),
                    line,
                });
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether the `mod` at `tokens[i]` follows `#[cfg(test)]` (and maybe `pub`).
fn after_cfg_test(tokens: &[(Tok, usize)], i: usize) -> bool {
    let i = match i.checked_sub(1).map(|j| &tokens[j].0) {
        Some(Tok::Ident(word)) if word == "pub" => i - 1,
        _ => i,
    };
    let attribute = [
        Tok::Other('#'),
        Tok::Other('['),
        Tok::Ident("cfg".to_owned()),
        Tok::Other('('),
        Tok::Ident("test".to_owned()),
        Tok::Other(')'),
        Tok::Other(']'),
    ];
    i >= attribute.len()
        && tokens[i - attribute.len()..i]
            .iter()
            .map(|(tok, _)| tok)
            .eq(attribute.iter())
}

/// The module path a reference in the file of a module `file_depth` deep names
/// (before mapping it to a file), if it is one of ours.
fn resolve(
    reference: &Reference,
    file_depth: usize,
    children: &BTreeSet<String>,
) -> Option<Vec<String>> {
    let (first, rest) = reference.segments.split_first()?;
    let mut path = reference.scope.clone();
    match first.as_str() {
        "crate" => return Some(rest.to_vec()),
        "self" | "super" => {
            let mut segments = if first == "self" {
                rest
            } else {
                &reference.segments[..]
            };
            while let Some(tail) = segments.strip_prefix(&["super".to_owned()]) {
                path.pop()?;
                segments = tail;
            }
            path.extend_from_slice(segments);
        }
        // A relative path into a child module, written at file level.
        child if reference.scope.len() == file_depth && children.contains(child) => {
            path.extend_from_slice(&reference.segments);
        }
        _ => return None,
    }
    Some(path)
}

/// One crate's modules and which uses which.
struct Graph {
    /// Module paths and their files; index 0 is the crate root.
    modules: Vec<(Vec<String>, PathBuf)>,
    /// `edges[from][to]`: the line of `from`'s first reference and the path written.
    edges: Vec<BTreeMap<usize, (usize, String)>>,
}

impl Graph {
    /// Reads the crate whose root file is `root` (files through `read`).
    fn read(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Result<Graph> {
        let src = read(root).with_context(|| format!("reading {}", root.display()))?;
        let mut modules = vec![(Vec::new(), root.to_path_buf())];
        let mut scans = vec![scan(&src, &[])];
        let mut next = 0;
        while next < modules.len() {
            let (path, file) = modules[next].clone();
            // Children of a crate root or a `mod.rs` live beside it, else in `foo/`.
            let dir = if next == 0 || file.file_name().is_some_and(|n| n == "mod.rs") {
                file.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                file.with_extension("")
            };
            for child in scans[next].child_files.clone() {
                let candidates = [
                    dir.join(format!("{child}.rs")),
                    dir.join(&child).join("mod.rs"),
                ];
                let Some((file, src)) = candidates
                    .into_iter()
                    .find_map(|file| read(&file).map(|src| (file, src)))
                else {
                    // A `mod` without a file (cfg'd out, or a build error cargo reports).
                    continue;
                };
                let mut child_path = path.clone();
                child_path.push(child);
                scans.push(scan(&src, &child_path));
                modules.push((child_path, file));
            }
            next += 1;
        }
        let index: HashMap<&[String], usize> = modules
            .iter()
            .enumerate()
            .map(|(i, (path, _))| (path.as_slice(), i))
            .collect();
        let mut edges = vec![BTreeMap::new(); modules.len()];
        for (from, scan) in scans.iter().enumerate() {
            for reference in &scan.references {
                let depth = modules[from].0.len();
                let Some(path) = resolve(reference, depth, &scan.children) else {
                    continue;
                };
                let to = (0..=path.len())
                    .rev()
                    .find_map(|len| index.get(&path[..len]).copied())
                    .unwrap_or(0);
                if to != 0 && to != from {
                    edges[from].entry(to).or_insert_with(|| {
                        let written = reference.segments.join("::");
                        let written = written.strip_suffix("::self").unwrap_or(&written);
                        (reference.line, written.to_owned())
                    });
                }
            }
        }
        Ok(Graph { modules, edges })
    }

    /// The strongly connected components with more than one module (Tarjan), each
    /// and all sorted by module path.
    fn cycles(&self) -> Vec<Vec<usize>> {
        /// Tarjan's bookkeeping.
        struct Tarjan<'a> {
            edges: &'a [BTreeMap<usize, (usize, String)>],
            index: Vec<Option<usize>>,
            low: Vec<usize>,
            on_stack: Vec<bool>,
            stack: Vec<usize>,
            next: usize,
            components: Vec<Vec<usize>>,
        }
        impl Tarjan<'_> {
            fn visit(&mut self, v: usize) {
                self.index[v] = Some(self.next);
                self.low[v] = self.next;
                self.next += 1;
                self.stack.push(v);
                self.on_stack[v] = true;
                for &w in self.edges[v].keys() {
                    match self.index[w] {
                        None => {
                            self.visit(w);
                            self.low[v] = self.low[v].min(self.low[w]);
                        }
                        Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                        Some(_) => {}
                    }
                }
                if Some(self.low[v]) == self.index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        self.components.push(component);
                    }
                }
            }
        }
        let n = self.modules.len();
        let mut tarjan = Tarjan {
            edges: &self.edges,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
            components: Vec::new(),
        };
        for v in 0..n {
            if tarjan.index[v].is_none() {
                tarjan.visit(v);
            }
        }
        let mut components = tarjan.components;
        for component in &mut components {
            component.sort_by(|&a, &b| self.modules[a].0.cmp(&self.modules[b].0));
        }
        components.sort_by(|a, b| self.modules[a[0]].0.cmp(&self.modules[b[0]].0));
        components
    }

    /// A cycle's modules and the references between them, paths relative to `root`.
    fn describe(&self, cycle: &[usize], root: &Path) -> String {
        let file = |m: usize| {
            let file = &self.modules[m].1;
            file.strip_prefix(root)
                .unwrap_or(file)
                .display()
                .to_string()
        };
        let mut text = format!(
            "cycle: {}",
            cycle
                .iter()
                .map(|&m| file(m))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for &from in cycle {
            for (to, (line, written)) in &self.edges[from] {
                if cycle.contains(to) {
                    text.push_str(&format!(
                        "\n    {}:{line} → {} (`{written}`)",
                        file(from),
                        file(*to)
                    ));
                }
            }
        }
        text
    }

    /// The module paths of a cycle, `a::b` style (for tests).
    #[cfg(test)]
    fn names(&self, cycle: &[usize]) -> Vec<String> {
        cycle
            .iter()
            .map(|&m| self.modules[m].0.join("::"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cycles of an in-memory crate rooted at `src/lib.rs`, as module names.
    fn cycles(files: &[(&str, &str)]) -> Vec<Vec<String>> {
        let files: HashMap<PathBuf, String> = files
            .iter()
            .map(|(path, src)| (PathBuf::from(path), (*src).to_owned()))
            .collect();
        let graph =
            Graph::read(Path::new("src/lib.rs"), &|path| files.get(path).cloned()).expect("read");
        graph.cycles().iter().map(|c| graph.names(c)).collect()
    }

    #[test]
    fn a_direct_cycle_is_found() {
        let found = cycles(&[
            ("src/lib.rs", "mod a;\nmod b;\nmod c;"),
            ("src/a.rs", "use crate::b::Thing;"),
            ("src/b.rs", "fn f() { crate::a::g(); }"),
            ("src/c.rs", "use crate::{a, b};"),
        ]);
        assert_eq!(found, vec![vec!["a", "b"]]);
    }

    #[test]
    fn a_transitive_cycle_through_nested_modules_is_found() {
        let found = cycles(&[
            ("src/lib.rs", "mod legend; mod panels;"),
            ("src/legend.rs", "use crate::panels::Stats;"),
            (
                "src/panels/mod.rs",
                "mod timeseries;\npub struct Stats;\nfn d() { timeseries::draw() }",
            ),
            (
                "src/panels/timeseries.rs",
                "use crate::legend::{self, Item};",
            ),
        ]);
        assert_eq!(found, vec![vec!["legend", "panels", "panels::timeseries"]]);
    }

    #[test]
    fn a_dag_passes() {
        let found = cycles(&[
            ("src/lib.rs", "pub use a::A;\nmod a; mod b; mod c;"),
            ("src/a.rs", "use crate::b::B; use crate::c::{self, C};"),
            (
                "src/b.rs",
                "use crate::c::C; use crate::A; // crate::a::x\n",
            ),
            (
                "src/c.rs",
                "/* crate::a */ const S: &str = \"crate::b::B\"; \
                 const R: &str = r#\"super::a\"#; fn f<'a>(c: char) { let _ = '\"'; }",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn super_is_resolved_relative_to_the_module() {
        let found = cycles(&[
            ("src/lib.rs", "mod pages; mod stream;"),
            ("src/stream/mod.rs", "mod hub; mod mjpeg; mod render;"),
            ("src/stream/hub.rs", "use super::render::Part;"),
            ("src/stream/render.rs", "fn f() { super::hub::Hub::get(); }"),
            ("src/stream/mjpeg.rs", "use super::hub::Hub;"),
            // Two levels up from an inline module: `crate::pages`.
            (
                "src/pages.rs",
                "mod tests { use super::super::stream::mjpeg; }",
            ),
        ]);
        assert_eq!(found, vec![vec!["stream::hub", "stream::render"]]);
        let found = cycles(&[
            ("src/lib.rs", "mod pages; mod stream;"),
            ("src/stream/mod.rs", "mod mjpeg;"),
            ("src/stream/mjpeg.rs", "fn f() { super::super::pages::g() }"),
            (
                "src/pages.rs",
                "mod tests { use super::super::stream::mjpeg; }",
            ),
        ]);
        assert_eq!(found, vec![vec!["pages", "stream::mjpeg"]]);
    }

    #[test]
    fn an_inline_test_module_using_its_file_is_no_cycle() {
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b;"),
            (
                "src/a.rs",
                "use crate::b::B;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    \
                 fn t() { super::f(); }\n}\nfn f() {}",
            ),
            ("src/b.rs", "pub struct B;\nmod tests { use super::B; }"),
        ]);
        assert!(found.is_empty(), "{found:?}");
        // A test module may use a module that uses its file: nothing uses the tests.
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod b;"),
            ("src/a.rs", "use crate::b::B;"),
            (
                "src/b.rs",
                "#[cfg(test)]\nmod tests { use crate::a::A; fn t() { crate::a::f() } }",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_path_points_at_the_longest_module_prefix() {
        // `crate::a::inner::X` is module `a` (inline `inner`), `crate::a::b` is `a::b`.
        let found = cycles(&[
            ("src/lib.rs", "mod a; mod c;"),
            ("src/a.rs", "mod b; mod inner { pub struct X; }"),
            ("src/a/b.rs", "use crate::c::Y;"),
            ("src/c.rs", "fn f() -> crate::a::b::Z { todo() }"),
        ]);
        assert_eq!(found, vec![vec!["a::b", "c"]]);
    }
}
