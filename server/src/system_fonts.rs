//! The machine's installed fonts as fallbacks after the embedded one and `--font`'s, so a
//! title in Chinese, Hebrew or with arrows renders without configuration. `fontdb`
//! finds them (the fontconfig directories, else the usual ones); of the regular,
//! upright, proportional faces, [`choose`] keeps, greedily, the face that adds the most
//! characters the chain does not have yet, while one adds at least [`MIN_NEW_CHARS`],
//! up to [`MAX_FONTS`]. Candidates are visited in path order, so a machine always
//! gets the same chain. The editor fetches the chosen files like `--font`'s
//! (`/api/fonts`), so its preview draws the same glyphs.

use std::path::PathBuf;

/// A face must add at least this many characters to be kept (a font that adds a
/// handful of symbols is not worth a download in every editor).
const MIN_NEW_CHARS: usize = 200;
/// Most system fonts in the chain.
const MAX_FONTS: usize = 8;

/// A font file of the chain.
pub struct FontFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its bytes (the editor gets the same).
    pub bytes: Vec<u8>,
}

/// The fallback chain after the embedded font: `configured` (the `--font` files, in
/// order), then, if `system`, the system fonts that add characters to it.
pub fn fallback_chain(configured: Vec<FontFile>, system: bool) -> Vec<FontFile> {
    let mut chain = configured;
    if system {
        let mut covered = Coverage::default();
        covered.add(render_core::DEFAULT_FONT);
        for font in &chain {
            covered.add(&font.bytes);
        }
        let skip: Vec<PathBuf> = chain.iter().map(|font| font.path.clone()).collect();
        chain.extend(choose(&mut covered, &skip));
    }
    chain
}

/// Characters some font of a chain has: one bit per Unicode scalar value.
struct Coverage(Vec<u64>);

impl Default for Coverage {
    fn default() -> Self {
        Coverage(vec![0; (0x11_0000 / 64) + 1])
    }
}

impl Coverage {
    /// Adds every character of `font` (face 0 of a collection); `false` if it is not
    /// a font.
    fn add(&mut self, font: &[u8]) -> bool {
        let Some(chars) = chars_of(font) else {
            return false;
        };
        for c in chars {
            self.0[(c / 64) as usize] |= 1 << (c % 64);
        }
        true
    }

    fn has(&self, c: u32) -> bool {
        self.0[(c / 64) as usize] & (1 << (c % 64)) != 0
    }
}

/// The characters face 0 of `font` maps to a glyph, sorted and without repeats;
/// `None` if it is not a font.
fn chars_of(font: &[u8]) -> Option<Vec<u32>> {
    let face = ttf_parser::Face::parse(font, 0).ok()?;
    let mut chars = Vec::new();
    for table in face
        .tables()
        .cmap
        .into_iter()
        .flat_map(|cmap| cmap.subtables)
    {
        if table.is_unicode() {
            table.codepoints(|c| {
                if !private_use(c) && table.glyph_index(c).is_some_and(|g| g.0 != 0) {
                    chars.push(c);
                }
            });
        }
    }
    chars.sort_unstable();
    chars.dedup();
    Some(chars)
}

/// Whether `c` is outside Unicode or in a private use area (icon fonts put their
/// icons there: they are no language's characters).
fn private_use(c: u32) -> bool {
    (0xE000..=0xF8FF).contains(&c) || c >= 0xF_0000
}

/// The system fonts worth adding to a chain that already covers `covered` (updated with
/// what they add), skipping the files in `skip` (given with `--font`).
fn choose(covered: &mut Coverage, skip: &[PathBuf]) -> Vec<FontFile> {
    let mut database = fontdb::Database::new();
    database.load_system_fonts();
    let mut paths: Vec<PathBuf> = database
        .faces()
        .filter(|face| {
            face.index == 0
                && face.style == fontdb::Style::Normal
                && face.weight == fontdb::Weight::NORMAL
                && face.stretch == fontdb::Stretch::Normal
                && !face.monospaced
        })
        .filter_map(|face| match &face.source {
            fontdb::Source::File(path) | fontdb::Source::SharedFile(path, _) => Some(path.clone()),
            fontdb::Source::Binary(_) => None,
        })
        .filter(|path| !skip.contains(path))
        .collect();
    paths.sort();
    paths.dedup();
    // Only the character lists stay in memory while choosing, not the files.
    let mut candidates: Vec<(PathBuf, Vec<u32>)> = paths
        .into_iter()
        .filter_map(|path| {
            let chars = chars_of(&std::fs::read(&path).ok()?)?;
            Some((path, chars))
        })
        .collect();
    let mut chosen = Vec::new();
    while chosen.len() < MAX_FONTS {
        let best = candidates
            .iter()
            .enumerate()
            .map(|(i, (_, chars))| (chars.iter().filter(|c| !covered.has(**c)).count(), i))
            // Most new characters; of equals, the first path.
            .max_by_key(|&(new, i)| (new, std::cmp::Reverse(i)));
        let Some((new, index)) = best.filter(|&(new, _)| new >= MIN_NEW_CHARS) else {
            break;
        };
        let (path, _) = candidates.remove(index);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if covered.add(&bytes) {
            tracing::info!(path = %path.display(), new_chars = new, "system font added to the fallback chain");
            chosen.push(FontFile { path, bytes });
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_covers_latin_but_not_chinese_or_private_use() {
        let mut covered = Coverage::default();
        assert!(covered.add(render_core::DEFAULT_FONT));
        assert!(covered.has(u32::from('A')) && covered.has(u32::from('é')));
        assert!(!covered.has(u32::from('城')));
        assert!(!covered.add(b"not a font"));
        assert!(private_use(0xE000) && private_use(0x10_FFFF) && !private_use(0x57CE));
    }
}
