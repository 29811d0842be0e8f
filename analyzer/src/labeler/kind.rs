//! Pictures that are not photos of things: pages of print or handwriting, charts, diagrams,
//! screenshots. The classifier and the object detector were trained on photos of things and
//! call a page "website", a chart "surfboard" or a screenshot of a gallery by what its
//! thumbnails show, with confidence; here the text detector and the picture's pixels say what
//! kind of picture it is, as labels (`text`, `document`, `diagram`, `screenshot`) and as how
//! likely it is to be a photo of things at all, which the things' labels are weighed by.

use image::RgbImage;

use crate::pixels::resize;
use crate::text::detector::TextRegion;
use domain::Label;

/// The longest side the text detector sees a picture at for this: a page's lines cover the same
/// share of it at 512 px as at 960 (0.52 and 0.50 of printed_page.png) in a quarter of the
/// time (65 ms instead of 250 on two cores).
pub const TEXT_SIDE: f32 = 512.0;

/// The side the pixels are measured at: enough for a page's lines, cheap to count.
const MEASURE_SIDE: u32 = 256;

/// A region is a line of text when it is this many times longer than thick: a word of five
/// letters is; the round things the detector also marks (eyes, a cup) are 1-1.5.
const MIN_LINE_ELONGATION: f32 = 2.5;
/// ...or a word when no side of it is longer than this share of the picture's shorter side: a
/// chart's tick labels are 5-10 % (as the detector widens them); a cat's eyes 25-35 %.
const MAX_WORD_SIDE: f32 = 0.12;

/// How far (per channel) a pixel of the background may be from its most common colour.
const BACKGROUND_SPREAD: i32 = 12;

/// A line is drawn (by a computer, on a surface of one colour: a page, a toolbar, a button)
/// when at least this share of the pixels on its box's edge are flat. Measured on the lines
/// the detector finds: in the 36 photos of tests/fixtures at most 0.40 (most under 0.2: a
/// photo's noise leaves few pixels equal to their neighbours); the gallery's screenshots, as
/// PNG and as JPEG at quality 80, have 3 to 20 lines at or above it.
const DRAWN_EDGE: f32 = 0.6;
/// A pixel is flat when no channel differs from its four neighbours' by more than this: a
/// JPEG keeps a flat surface within a level.
const FLAT_STEP: i32 = 1;

/// What a picture is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Composition {
    /// The share of its area inside lines of text.
    pub text: f32,
    /// How many lines (or lone words) of text it has.
    pub lines: usize,
    /// The share of its pixels of its most common colour: a page's paper, a chart's background.
    pub background: f32,
    /// How many of its lines are drawn on a flat surface, as a computer draws them: a
    /// photographed page's or sign's are not.
    pub drawn_lines: usize,
}

impl Composition {
    /// Measured on `photo` with the text detector's `regions` (in `photo`'s pixels).
    pub fn measure(photo: &RgbImage, regions: &[TextRegion]) -> Self {
        let (width, height) = photo.dimensions();
        let scale = MEASURE_SIDE as f32 / width.max(height).max(1) as f32;
        let (small_width, small_height) = (((width as f32 * scale).round() as u32).max(1), ((height as f32 * scale).round() as u32).max(1));
        let Ok(small) = resize(photo, small_width, small_height) else {
            return Self { text: 0.0, lines: 0, background: 0.0, drawn_lines: 0 };
        };
        let mut in_text = vec![false; (small_width * small_height) as usize];
        // Lines are long, or words small: the detector also marks round things whole (a cat's
        // eyes, a coffee cup over most of the photo), which its reader then reads as nothing.
        let word_side = MAX_WORD_SIDE * width.min(height) as f32;
        let line = |r: &&TextRegion| {
            let (across, down) = (r.right - r.left, r.bottom - r.top);
            across.max(down) >= MIN_LINE_ELONGATION * across.min(down) || across.max(down) <= word_side
        };
        let lines: Vec<&TextRegion> = regions.iter().filter(line).collect();
        for region in &lines {
            let [x0, y0, x1, y1] = [region.left, region.top, region.right, region.bottom].map(|v| (v * scale) as u32);
            for y in y0..y1.min(small_height) {
                for x in x0..x1.min(small_width) {
                    in_text[(y * small_width + x) as usize] = true;
                }
            }
        }
        // The most common colour, quantised to 32 levels a channel: lighting and JPEG noise
        // move a page's paper within a few levels.
        let bucket = |p: &image::Rgb<u8>| (usize::from(p[0] >> 3) << 10) | (usize::from(p[1] >> 3) << 5) | usize::from(p[2] >> 3);
        let mut counts = vec![0u32; 1 << 15];
        for pixel in small.pixels() {
            counts[bucket(pixel)] += 1;
        }
        let (common, _) = counts.iter().enumerate().max_by_key(|(_, count)| **count).unwrap_or((0, &0));
        let centre = [(common >> 10) & 31, (common >> 5) & 31, common & 31].map(|level| (level * 8 + 4) as i32);
        let total = (small_width * small_height) as f32;
        let background =
            small.pixels().filter(|pixel| (0..3).all(|c| (i32::from(pixel[c]) - centre[c]).abs() <= BACKGROUND_SPREAD)).count();
        Self {
            text: in_text.iter().filter(|inside| **inside).count() as f32 / total,
            lines: lines.len(),
            background: background as f32 / total,
            drawn_lines: lines.iter().filter(|line| drawn(photo, line)).count(),
        }
    }
}

/// Whether a line of text sits on a flat surface: most pixels of its box's edge (in `photo`'s
/// own pixels: shrinking would flatten a photo's noise) equal their neighbours.
fn drawn(photo: &RgbImage, line: &TextRegion) -> bool {
    let (width, height) = photo.dimensions();
    if width < 3 || height < 3 {
        return false;
    }
    let [left, top] = [line.left, line.top].map(|v| v.max(1.0) as u32);
    let (right, bottom) = ((line.right as u32).min(width - 2), (line.bottom as u32).min(height - 2));
    if left > right || top > bottom {
        return false;
    }
    let flat = |x: u32, y: u32| {
        let pixel = photo.get_pixel(x, y);
        [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
            .into_iter()
            .all(|(nx, ny)| (0..3).all(|c| (i32::from(pixel[c]) - i32::from(photo.get_pixel(nx, ny)[c])).abs() <= FLAT_STEP))
    };
    let edge = (left..=right).flat_map(|x| [(x, top), (x, bottom)]).chain((top..=bottom).flat_map(|y| [(left, y), (right, y)]));
    let (mut pixels, mut flats) = (0usize, 0usize);
    for (x, y) in edge {
        pixels += 1;
        flats += usize::from(flat(x, y));
    }
    flats as f32 >= DRAWN_EDGE * pixels as f32
}

/// How sure the analyzer is that a picture is each kind of not-a-photo, 0-1. The ramps' ends
/// come from `Composition` measured on the 36 photos of tests/fixtures (people/, its groups/,
/// photos/ and the shared photos) and the pictures of tests/fixtures/text_like (2026-12-04):
/// - text: photos' text covers at most 0.11 of them, in one line (a banner over a VOC crowd),
///   or 0.02 in 4 lines (a captioned photo); pages of print or handwriting 0.37-0.71 in 7-37
///   lines; charts and diagrams 0.07-0.10 in 14-21 lines and words.
/// - background: photos have at most 0.44 of their pixels of one colour (a dark stage), a night
///   sky 0.57 (and no text); handwriting on paper 0.70; charts, diagrams and printed pages
///   0.75-0.82; a scanned page whose text fills it (page.png, text 0.71) 0.29.
/// - drawn lines: photos have none (a captioned news photo's caption is photographed or
///   compressed off the flat); the gallery's screenshots 3-20, pages and charts 14-37.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kind {
    /// A page of print or handwriting: mostly lines of text.
    pub document: f32,
    /// A chart, a diagram: text among flat shapes on a flat background.
    pub diagram: f32,
    /// A screenshot of an app or a page: lines drawn on flat surfaces (a toolbar, buttons)
    /// beside whatever else it shows (photos in a gallery), neither a page nor a diagram.
    pub screenshot: f32,
}

/// The surest a kind is said to be: a few dozen pictures measured, never certain.
const MAX_KIND_CONFIDENCE: f32 = 0.95;

/// 0 up to `from`, 1 from `to`, a straight line between.
fn ramp(value: f32, from: f32, to: f32) -> f32 {
    ((value - from) / (to - from)).clamp(0.0, 1.0)
}

impl Kind {
    pub fn of(made: &Composition) -> Self {
        let lines = made.lines as f32;
        // A page is mostly text, on plain paper unless the text fills it: a photo beside a
        // page (text 0.23 of it, one colour 0.16) stays a photo.
        let plain = ramp(made.background, 0.45, 0.6).max(ramp(made.text, 0.5, 0.6));
        let document = ramp(made.text, 0.15, 0.3) * ramp(lines, 1.0, 4.0) * plain;
        let flat = ramp(made.background, 0.5, 0.7);
        let some_text = ramp(made.text, 0.02, 0.05) * ramp(lines, 1.0, 4.0);
        let diagram = flat * some_text * (1.0 - document);
        // One drawn line may be a caption laid on a photo; three are an app's.
        let screenshot = ramp(made.drawn_lines as f32, 1.0, 3.0) * (1.0 - document.max(diagram));
        Self { document, diagram, screenshot }
    }

    /// How sure it is of the likeliest kind that is not a photo.
    fn not_photo(&self) -> f32 {
        self.document.max(self.diagram).max(self.screenshot)
    }

    /// How likely the picture is a photo of things, what the classifier and the object
    /// detector were trained on: their labels are weighed by it.
    pub fn photo(&self) -> f32 {
        1.0 - self.not_photo()
    }

    /// `text` for any kind, and the kind, as sure as the picture is of it.
    pub fn labels(&self) -> Vec<Label> {
        let label = |name: &str, sure: f32| Label { name: name.into(), confidence: 100.0 * MAX_KIND_CONFIDENCE * sure };
        [
            label("text", self.not_photo()),
            label("document", self.document),
            label("diagram", self.diagram),
            label("screenshot", self.screenshot),
        ]
        .into_iter()
        .filter(|label| label.confidence > 0.0)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(text: f32, lines: usize, background: f32) -> Composition {
        Composition { text, lines, background, drawn_lines: 0 }
    }

    #[test]
    fn pages_and_diagrams_are_told_from_photos_with_some_text() {
        // A captioned group photo, a banner over a crowd, a night sky: photos.
        for photo in [made(0.02, 4, 0.19), made(0.11, 1, 0.16), made(0.0, 0, 0.57)] {
            assert_eq!(Kind::of(&photo).photo(), 1.0, "{photo:?}");
            assert!(Kind::of(&photo).labels().is_empty());
        }
        let page = Kind::of(&made(0.5, 37, 0.75));
        assert_eq!((page.document, page.diagram), (1.0, 0.0));
        assert_eq!(Kind::of(&made(0.71, 7, 0.29)).document, 1.0, "a scan filled with text");
        assert_eq!(Kind::of(&made(0.23, 7, 0.16)).photo(), 1.0, "a photo beside a page");
        let chart = Kind::of(&made(0.074, 21, 0.82));
        assert_eq!((chart.document, chart.diagram, chart.photo()), (0.0, 1.0, 0.0));
        let names: Vec<String> = chart.labels().into_iter().map(|label| label.name).collect();
        assert_eq!(names, ["text", "diagram"]);
    }

    #[test]
    fn lines_drawn_on_flat_surfaces_beside_photos_make_a_screenshot() {
        let drawn = |made: Composition, drawn_lines| Kind::of(&Composition { drawn_lines, ..made });
        // The gallery full of photos: its toolbar's lines drawn, little text, no one colour.
        let gallery = drawn(made(0.027, 7, 0.13), 6);
        assert_eq!((gallery.screenshot, gallery.photo()), (1.0, 0.0));
        let names: Vec<String> = gallery.labels().into_iter().map(|label| label.name).collect();
        assert_eq!(names, ["text", "screenshot"]);
        // One drawn line on a photo (a caption laid on it) leaves it a photo.
        assert_eq!(drawn(made(0.02, 4, 0.19), 1).photo(), 1.0);
        // A chart's and a page's lines are drawn too: they stay what they are.
        let chart = drawn(made(0.074, 21, 0.82), 21);
        assert_eq!((chart.diagram, chart.screenshot), (1.0, 0.0));
        assert_eq!(drawn(made(0.5, 37, 0.75), 37).screenshot, 0.0);
    }
}
