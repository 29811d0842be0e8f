//! The built-in face engine on real photos (tests/fixtures/people): faces counted in group
//! photos, none where there are none, variants of one face close together and different
//! people apart, and the small faces of a large group photo found in tiles.

use std::io::Cursor;
use std::sync::OnceLock;

use analyzer::decode::{FACES_SIDE, decode};
use analyzer::faces::builtin::BuiltinFaces;
use analyzer::faces::{FoundFace, distance};
use image::imageops::{self, FilterType};
use image::{ImageFormat, RgbImage};

/// The tiers' `faces.max_distance` (stacks/*.yaml): the same person below it.
const MAX_DISTANCE: f32 = 0.4;

fn engine() -> &'static BuiltinFaces {
    static ENGINE: OnceLock<BuiltinFaces> = OnceLock::new();
    ENGINE.get_or_init(|| BuiltinFaces::load().expect("the face models load"))
}

fn fixture(name: &str) -> Vec<u8> {
    let folder = if name.starts_with("sample") || name.starts_with("astronaut") { "people" } else { "photos" };
    std::fs::read(format!("{}/../tests/fixtures/{folder}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn photo(name: &str) -> RgbImage {
    decode(&fixture(name), FACES_SIDE).unwrap()
}

fn faces(photo: &RgbImage) -> Vec<FoundFace> {
    engine().find(photo).unwrap()
}

/// Where and how sure, for failure messages (the descriptors are 128 numbers each).
fn boxes(faces: &[FoundFace]) -> Vec<String> {
    faces.iter().map(|face| format!("{:?} at {:.2}", face.bounds, face.score)).collect()
}

fn jpeg(photo: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(photo).unwrap();
    image::load(Cursor::new(bytes), ImageFormat::Jpeg).unwrap().to_rgb8()
}

const GROUPS: [(&str, usize); 6] =
    [("sample1.jpg", 3), ("sample2.jpg", 3), ("sample3.jpg", 3), ("sample4.jpg", 4), ("sample5.jpg", 5), ("sample6.jpg", 4)];

#[test]
fn every_face_of_the_group_photos_and_none_in_a_cat_or_a_coffee() {
    for (name, expected) in GROUPS {
        let found = faces(&photo(name));
        assert_eq!(found.len(), expected, "{name}: {:?}", boxes(&found));
        for face in &found {
            assert_eq!(face.descriptor.len(), 128);
            let b = face.bounds;
            assert!(b.left >= 0.0 && b.top >= 0.0 && b.left + b.width <= 1.0001 && b.top + b.height <= 1.0001, "{name}: {b:?}");
            assert!(b.width > 0.05 && b.height > 0.05, "{name}: a face this size is not in these photos: {b:?}");
        }
    }
    for name in ["coffee.png", "chelsea.png"] {
        assert!(faces(&photo(name)).is_empty(), "a face in {name}");
    }
}

#[test]
fn variants_of_one_face_are_close_and_different_people_apart() {
    let original = photo("astronaut.png");
    let base = faces(&original);
    assert_eq!(base.len(), 1);
    let mut canvas = RgbImage::from_pixel(1600, 1200, image::Rgb([90, 120, 90]));
    imageops::overlay(&mut canvas, &imageops::resize(&original, 300, 300, FilterType::Triangle), 900, 500);
    let variants = [
        ("mirrored", imageops::flip_horizontal(&original)),
        ("half size", imageops::resize(&original, 256, 256, FilterType::Triangle)),
        ("cropped", imageops::crop_imm(&original, 100, 0, 300, 300).to_image()),
        ("JPEG quality 40", jpeg(&original, 40)),
        ("grey", image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(original.clone()).to_luma8()).to_rgb8()),
        ("small in a large photo", canvas),
    ];
    for (what, variant) in &variants {
        let found = faces(variant);
        assert_eq!(found.len(), 1, "{what}: {:?}", boxes(&found));
        let apart = distance(&base[0].descriptor, &found[0].descriptor);
        assert!(apart < MAX_DISTANCE, "{what}: {apart} from the original");
    }
    let mut people: Vec<Vec<f32>> = base.iter().map(|face| face.descriptor.clone()).collect();
    for (name, _) in GROUPS {
        people.extend(faces(&photo(name)).into_iter().map(|face| face.descriptor));
    }
    for (i, a) in people.iter().enumerate() {
        for b in &people[i + 1..] {
            let apart = distance(a, b);
            assert!(apart > MAX_DISTANCE, "two different people {apart} apart");
        }
    }
}

/// 29 faces of 45-50 pixels on a 1,666 px photo: the whole photo at the detector's 192 px
/// shows none of them; the tiles must find at least 24.
#[test]
fn the_small_faces_of_a_large_group_are_found_in_tiles() {
    let mut heads = Vec::new();
    for (name, _) in GROUPS {
        let group = photo(name);
        for face in faces(&group) {
            let (width, height) = (group.width() as f32, group.height() as f32);
            let side = face.bounds.width.max(face.bounds.height) * width * 1.8;
            let left = (face.bounds.left + face.bounds.width / 2.0) * width - side / 2.0;
            let top = (face.bounds.top + face.bounds.height / 2.0) * height - side / 2.0;
            let (left, top) = (left.max(0.0) as u32, top.max(0.0) as u32);
            let side = (side as u32).min(group.width() - left).min(group.height() - top);
            heads.push(imageops::crop_imm(&group, left, top, side, side).to_image());
        }
    }
    let mirrored: Vec<RgbImage> = heads.iter().take(7).map(imageops::flip_horizontal).collect();
    heads.extend(mirrored);
    assert_eq!(heads.len(), 29);
    let (width, height, cell) = (1666u32, 1100u32, 90u32);
    let mut group = RgbImage::from_pixel(width, height, image::Rgb([120, 110, 100]));
    for (index, head) in heads.iter().enumerate() {
        let (row, column) = (index as u32 / 7, index as u32 % 7);
        // Not on a grid: people never stand in one.
        let jitter = (index as i64 * 37 % 41) - 20;
        let x = ((column * 2 + 1) * width / 14) as i64 - i64::from(cell / 2) + jitter;
        let y = ((row * 2 + 1) * height / 10) as i64 - i64::from(cell / 2) - jitter;
        imageops::overlay(&mut group, &imageops::resize(head, cell, cell, FilterType::Triangle), x, y);
    }
    let found = faces(&jpeg(&group, 90));
    assert!(found.len() >= 24, "{} of 29 faces found", found.len());
    assert!(found.len() <= 29, "{} faces found among 29", found.len());
}
