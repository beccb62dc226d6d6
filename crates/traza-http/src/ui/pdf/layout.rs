//! Typesetting of the batch record: A4 portrait pages of wrapped text, label–value rows,
//! fixed-column tables and rules, laid out first (so that every page can say "page N of M")
//! and then drawn with krilla.
//!
//! Text is drawn as text in DejaVu Sans, embedded as a subset with its ToUnicode map: accents,
//! "≥ ≤ →" and every Latin character a laboratory types print, and a reader (or `pdftotext`)
//! gets the characters back. Lines are wrapped by the fonts' advance widths (read with
//! skrifa, the reader krilla itself uses); kerning only ever narrows a line.

use std::collections::HashMap;
use std::sync::LazyLock;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in PostScript points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_WIDTH - 56.0;
/// Where the body starts and must end: the header and footer live outside.
const BODY_TOP: f32 = 84.0;
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 66.0;
const BODY_WIDTH: f32 = RIGHT - LEFT;

/// Body text size; tables are a little smaller.
const TEXT: f32 = 9.0;
const SMALL: f32 = 8.0;
const LINE: f32 = 1.38;
/// The label column of label–value rows.
const LABEL_WIDTH: f32 = 150.0;
/// Space between table columns.
const GUTTER: f32 = 6.0;

/// One face of DejaVu Sans: for krilla to draw, and its advance widths to measure.
struct Face {
    font: Font,
    /// Advance width of each character the font maps, in ems.
    advances: HashMap<char, f32>,
    /// The advance of a character the font lacks (its `.notdef` box).
    missing: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Face {
        let font = Font::new(bytes.into(), 0).expect("DejaVu Sans, compiled in, is a font");
        let reader = FontRef::new(bytes).expect("DejaVu Sans, compiled in, is a font");
        let metrics = reader.glyph_metrics(Size::new(1.0), LocationRef::default());
        let advances = reader
            .charmap()
            .mappings()
            .filter_map(|(code, glyph)| {
                Some((char::from_u32(code)?, metrics.advance_width(glyph)?))
            })
            .collect();
        let missing = metrics
            .advance_width(skrifa::GlyphId::NOTDEF)
            .unwrap_or(0.6);
        Face {
            font,
            advances,
            missing,
        }
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advances.get(&c).copied().unwrap_or(self.missing))
            .sum::<f32>()
            * size
    }
}

struct Faces {
    regular: Face,
    bold: Face,
}

static FACES: LazyLock<Faces> = LazyLock::new(|| Faces {
    regular: Face::load(REGULAR),
    bold: Face::load(BOLD),
});

fn face(bold: bool) -> &'static Face {
    if bold { &FACES.bold } else { &FACES.regular }
}

/// The width of `text` in points.
pub(super) fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    face(bold).width(text, size)
}

/// `text` broken into lines no wider than `width`: at spaces, at the line breaks it holds,
/// and inside a word only when the word alone is wider than the line (a hash, a long code).
pub(super) fn wrap(text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
    let face = face(bold);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if face.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone: cut it where the line is full.
            for c in word.chars() {
                line.push(c);
                if face.width(&line, size) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        lines.push(line);
    }
    // A text that ends with a line break does not add an empty line.
    while lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Something drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Mark {
    /// Text whose baseline starts at (`x`, `y`), `y` from the top of the page.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        grey: bool,
        text: String,
    },
    /// A horizontal rule.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
    },
}

/// A column of a table: its title and its share of the body's width.
pub(super) struct Column<'a> {
    pub title: &'a str,
    pub share: f32,
}

/// What every page carries besides the body, given the page's number and the page count.
pub(super) struct Frame {
    pub header_left: String,
    pub header_right: String,
    pub footer_left: String,
    /// "Página N de M", from (N, M).
    pub page_of: Box<dyn Fn(usize, usize) -> String + Send>,
}

/// A document being laid out: the pages so far and where the next line goes.
pub(super) struct Doc {
    pages: Vec<Vec<Mark>>,
    /// The top of the next line, from the top of the page.
    y: f32,
}

impl Default for Doc {
    fn default() -> Self {
        Doc::new()
    }
}

impl Doc {
    pub(super) fn new() -> Doc {
        Doc {
            pages: vec![Vec::new()],
            y: BODY_TOP,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = BODY_TOP;
    }

    /// Starts a new page unless `height` more points fit on this one (a block taller than a
    /// whole page starts on a fresh page and runs over).
    fn room(&mut self, height: f32) {
        if self.y + height > BODY_BOTTOM && self.y > BODY_TOP {
            self.new_page();
        }
    }

    fn mark(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }

    /// One line of text at `x` whose top is the current position; moves down a line.
    fn line(&mut self, x: f32, size: f32, bold: bool, text: String) {
        self.room(size * LINE);
        let baseline = self.y + size;
        if !text.is_empty() {
            self.mark(Mark::Text {
                x,
                y: baseline,
                size,
                bold,
                grey: false,
                text,
            });
        }
        self.y += size * LINE;
    }

    pub(super) fn gap(&mut self, points: f32) {
        self.y += points;
    }

    fn rule(&mut self, width: f32) {
        let y = self.y;
        self.mark(Mark::Rule {
            x1: LEFT,
            x2: RIGHT,
            y,
            width,
        });
    }

    /// The document's title, on the first page.
    pub(super) fn title(&mut self, text: &str) {
        for line in wrap(text, 16.0, true, BODY_WIDTH) {
            self.line(LEFT, 16.0, true, line);
        }
        self.gap(4.0);
    }

    /// A section's heading, kept with the first lines that follow it.
    pub(super) fn heading(&mut self, text: &str) {
        self.room(12.0 * LINE + 4.0 * TEXT * LINE);
        self.gap(8.0);
        for line in wrap(text, 12.0, true, BODY_WIDTH) {
            self.line(LEFT, 12.0, true, line);
        }
        self.rule(0.6);
        self.gap(5.0);
    }

    /// A paragraph across the body, `indent` points in.
    pub(super) fn paragraph(&mut self, text: &str, bold: bool, indent: f32) {
        for line in wrap(text, TEXT, bold, BODY_WIDTH - indent) {
            self.line(LEFT + indent, TEXT, bold, line);
        }
    }

    /// A paragraph in smaller type (a hash, a footnote).
    pub(super) fn small(&mut self, text: &str, indent: f32) {
        for line in wrap(text, SMALL, false, BODY_WIDTH - indent) {
            self.line(LEFT + indent, SMALL, false, line);
        }
    }

    /// Rows of a label (bold) and its value, each row kept on one page.
    pub(super) fn fields(&mut self, rows: &[(&str, String)]) {
        for (label, value) in rows {
            let labels = wrap(label, TEXT, true, LABEL_WIDTH - GUTTER);
            let values = wrap(value, TEXT, false, BODY_WIDTH - LABEL_WIDTH);
            let lines = labels.len().max(values.len());
            self.room(lines as f32 * TEXT * LINE);
            let top = self.y;
            for (i, l) in labels.into_iter().enumerate() {
                self.y = top + i as f32 * TEXT * LINE;
                self.line(LEFT, TEXT, true, l);
            }
            for (i, v) in values.into_iter().enumerate() {
                self.y = top + i as f32 * TEXT * LINE;
                self.line(LEFT + LABEL_WIDTH, TEXT, false, v);
            }
            self.y = top + lines as f32 * TEXT * LINE;
        }
    }

    /// Lines kept together on one page when they fit on one: a step, a signature. The
    /// heading is bold; the lines are indented, and `tail` (a hash) follows them in small type.
    pub(super) fn block(&mut self, heading: &str, lines: &[String], tail: Option<&str>) {
        const INDENT: f32 = 14.0;
        let head = wrap(heading, TEXT, true, BODY_WIDTH);
        let body: Vec<String> = lines
            .iter()
            .flat_map(|l| wrap(l, TEXT, false, BODY_WIDTH - INDENT))
            .collect();
        let tail = tail.map_or_else(Vec::new, |t| wrap(t, SMALL, false, BODY_WIDTH - INDENT));
        let height =
            (head.len() + body.len()) as f32 * TEXT * LINE + tail.len() as f32 * SMALL * LINE + 4.0;
        self.room(height);
        for l in head {
            self.line(LEFT, TEXT, true, l);
        }
        for l in body {
            self.line(LEFT + INDENT, TEXT, false, l);
        }
        for l in tail {
            self.line(LEFT + INDENT, SMALL, false, l);
        }
        self.gap(4.0);
    }

    /// A table of fixed columns; cells wrap, a row stays on one page, and the header row is
    /// repeated at the top of each page the table runs onto.
    pub(super) fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<String>]) {
        let total: f32 = columns
            .iter()
            .map(|c| c.share)
            .sum::<f32>()
            .max(f32::EPSILON);
        let mut x = LEFT;
        let geometry: Vec<(f32, f32)> = columns
            .iter()
            .map(|c| {
                let width = BODY_WIDTH * c.share / total;
                let at = x;
                x += width;
                (at, width - GUTTER)
            })
            .collect();
        let header: Vec<String> = columns.iter().map(|c| c.title.to_owned()).collect();
        let header_height = self.row_height(&geometry, &header, true);
        // The header and at least one row together.
        let first = rows
            .first()
            .map_or(0.0, |r| self.row_height(&geometry, r, false));
        self.room(header_height + first + 4.0);
        self.table_row(&geometry, &header, true);
        for row in rows {
            let height = self.row_height(&geometry, row, false);
            if self.y + height > BODY_BOTTOM && self.y > BODY_TOP {
                self.new_page();
                self.table_row(&geometry, &header, true);
            }
            self.table_row(&geometry, row, false);
        }
        self.gap(4.0);
    }

    fn row_height(&self, geometry: &[(f32, f32)], cells: &[String], bold: bool) -> f32 {
        let lines = geometry
            .iter()
            .zip(cells)
            .map(|((_, width), cell)| wrap(cell, SMALL, bold, *width).len())
            .max()
            .unwrap_or(1);
        lines as f32 * SMALL * LINE + 3.0
    }

    fn table_row(&mut self, geometry: &[(f32, f32)], cells: &[String], bold: bool) {
        let top = self.y;
        let mut bottom = top;
        for ((x, width), cell) in geometry.iter().zip(cells) {
            self.y = top;
            for l in wrap(cell, SMALL, bold, *width) {
                self.line(*x, SMALL, bold, l);
            }
            bottom = bottom.max(self.y);
        }
        self.y = bottom + 1.5;
        self.rule(if bold { 0.6 } else { 0.25 });
        self.y += 1.5;
    }

    /// The pages with their header and footer: what [`Doc::finish`] draws.
    pub(super) fn framed(self, frame: &Frame) -> Vec<Vec<Mark>> {
        let pages = self.pages.len();
        self.pages
            .into_iter()
            .enumerate()
            .map(|(i, mut marks)| {
                let page_of = (frame.page_of)(i + 1, pages);
                let grey = |x: f32, y: f32, bold: bool, text: String| Mark::Text {
                    x,
                    y,
                    size: SMALL,
                    bold,
                    grey: true,
                    text,
                };
                let header_y = 46.0;
                let footer_y = PAGE_HEIGHT - 40.0;
                let right = |text: &str, bold: bool| RIGHT - text_width(text, SMALL, bold);
                marks.push(grey(LEFT, header_y, false, frame.header_left.clone()));
                marks.push(grey(
                    right(&frame.header_right, true),
                    header_y,
                    true,
                    frame.header_right.clone(),
                ));
                marks.push(Mark::Rule {
                    x1: LEFT,
                    x2: RIGHT,
                    y: header_y + 6.0,
                    width: 0.4,
                });
                marks.push(Mark::Rule {
                    x1: LEFT,
                    x2: RIGHT,
                    y: footer_y - 11.0,
                    width: 0.4,
                });
                marks.push(grey(LEFT, footer_y, false, frame.footer_left.clone()));
                marks.push(grey(right(&page_of, false), footer_y, false, page_of));
                marks
            })
            .collect()
    }

    /// The PDF: every page with its frame, and the document's metadata.
    pub(super) fn finish(self, frame: &Frame, metadata: Metadata) -> Result<Vec<u8>, String> {
        let pages = self.framed(frame);
        let mut document = Document::new();
        document.set_metadata(metadata);
        let ink = rgb::Color::new(20, 20, 20);
        let grey = rgb::Color::new(96, 96, 96);
        let fill = |colour: rgb::Color| Fill {
            paint: colour.into(),
            ..Fill::default()
        };
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("an A4 page")?;
        for marks in pages {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            for mark in marks {
                match mark {
                    Mark::Text {
                        x,
                        y,
                        size,
                        bold,
                        grey: is_grey,
                        text,
                    } => {
                        surface.set_fill(Some(fill(if is_grey { grey } else { ink })));
                        surface.draw_text(
                            Point::from_xy(x, y),
                            face(bold).font.clone(),
                            size,
                            &text,
                            false,
                            TextDirection::Auto,
                        );
                    }
                    Mark::Rule { x1, x2, y, width } => {
                        let mut path = PathBuilder::new();
                        path.move_to(x1, y);
                        path.line_to(x2, y);
                        if let Some(path) = path.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke {
                                paint: grey.into(),
                                width,
                                ..Stroke::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(page: &[Mark]) -> Vec<&str> {
        page.iter()
            .filter_map(|m| match m {
                Mark::Text { text, .. } => Some(text.as_str()),
                Mark::Rule { .. } => None,
            })
            .collect()
    }

    fn frame() -> Frame {
        Frame {
            header_left: "Traza".into(),
            header_right: "GRA-UPCIT-2026-00001".into(),
            footer_left: String::new(),
            page_of: Box::new(|n, m| format!("Página {n} de {m}")),
        }
    }

    #[test]
    fn lines_wrap_at_spaces_and_long_words_are_cut() {
        let text = "Siembra en frasco T75 con medio de expansión y lisado plaquetario al 5 %";
        let lines = wrap(text, TEXT, false, 120.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(
            lines.iter().all(|l| text_width(l, TEXT, false) <= 120.0),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), text);
        let hash = "9f".repeat(32);
        let cut = wrap(&hash, TEXT, false, 100.0);
        assert!(cut.len() > 1);
        assert_eq!(cut.concat(), hash);
        assert_eq!(wrap("", TEXT, false, 100.0), vec![String::new()]);
        assert_eq!(wrap("a\nb", TEXT, false, 100.0), vec!["a", "b"]);
    }

    #[test]
    fn accents_and_signs_have_their_own_widths() {
        // Mapped by DejaVu Sans, so measured (and drawn) as themselves, not as missing boxes.
        for c in [
            'á', 'é', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ü', '≥', '≤', '→', '–', '·', 'º',
        ] {
            assert!(FACES.regular.advances.contains_key(&c), "{c}");
            assert!(FACES.bold.advances.contains_key(&c), "{c}");
        }
        assert!(text_width("MMMM", TEXT, true) > text_width("iiii", TEXT, true));
    }

    #[test]
    fn every_page_is_numbered_out_of_the_total_and_carries_the_frame() {
        let mut doc = Doc::new();
        doc.title("Registro de lote");
        for i in 0..150 {
            doc.block(&format!("{i}. paso"), &["Realizado".to_owned()], None);
        }
        let pages = doc.pages.len();
        assert!(pages >= 3, "{pages}");
        let framed = doc.framed(&frame());
        assert_eq!(framed.len(), pages);
        for (i, page) in framed.iter().enumerate() {
            let t = texts(page);
            assert!(t.contains(&"GRA-UPCIT-2026-00001"), "{t:?}");
            assert!(
                t.contains(&format!("Página {} de {pages}", i + 1).as_str()),
                "{t:?}"
            );
        }
    }

    #[test]
    fn nothing_is_drawn_below_the_body_and_rows_stay_whole() {
        let mut doc = Doc::new();
        let rows: Vec<Vec<String>> = (0..200)
            .map(|i| vec![i.to_string(), "una observación larga ".repeat(i % 4 + 1)])
            .collect();
        doc.table(
            &[
                Column {
                    title: "N.º",
                    share: 1.0,
                },
                Column {
                    title: "Observaciones",
                    share: 4.0,
                },
            ],
            &rows,
        );
        let pages = doc.pages.clone();
        assert!(pages.len() > 1);
        for page in &pages {
            for m in page {
                if let Mark::Text { y, .. } = m {
                    assert!(*y <= BODY_BOTTOM, "{m:?}");
                }
            }
            // Each later page starts with the header row again.
            assert_eq!(texts(page).first(), Some(&"N.º"));
        }
    }

    #[test]
    fn a_pdf_comes_out_whatever_the_text() {
        let mut doc = Doc::new();
        doc.title("Registro de lote · ≥ 95 % → conforme");
        doc.fields(&[("Producto", "Células madre mesenquimales".to_owned())]);
        // Characters DejaVu Sans lacks (drawn as its empty box), and ones no one should type.
        doc.paragraph("漢字 🙂 \u{7}\u{200b} fin", false, 0.0);
        let bytes = doc
            .finish(&frame(), Metadata::new().title("x".into()))
            .expect("a PDF");
        assert!(bytes.starts_with(b"%PDF"));
    }
}
