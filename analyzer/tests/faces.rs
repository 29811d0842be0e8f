//! The built-in face engine on real photos (tests/fixtures/people): faces counted in group
//! photos, every boxed face of the PASCAL VOC group photos, none where there are none, variants
//! of one face close together and different people apart, the small faces of a large group
//! photo found in tiles, and the shared people set grouped as its truth.json says.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use analyzer::decode::{FACES_SIDE, decode};
use analyzer::faces::builtin::BuiltinFaces;
use analyzer::faces::{FoundFace, distance};
use analyzer::geometry::iou;
use analyzer::labeler::NoLabels;
use analyzer::text::NoText;
use analyzer::{Analyzer, Engines, Outcome};
use contract::{FaceSettings, LabelerSettings, VisionEngine};
use domain::memory::{MemoryImages, MemoryPhotos, MemoryUsers};
use domain::testing::people::PeopleSet;
use domain::{ImageId, ImageStore, SharedData, UserName};
use image::imageops::{self, FilterType};
use image::{ImageFormat, RgbImage};

mod common;

/// The tiers' `faces.max_distance` (stacks/*.yaml): the same person below it.
fn max_distance() -> f32 {
    FaceSettings::default().max_distance
}

fn engine() -> &'static BuiltinFaces {
    static ENGINE: OnceLock<BuiltinFaces> = OnceLock::new();
    ENGINE.get_or_init(|| BuiltinFaces::load().expect("the face models load"))
}

fn fixture(name: &str) -> Vec<u8> {
    let folder = if ["chelsea.png", "coffee.png"].contains(&name) { "photos" } else { "people" };
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
        assert!(apart < max_distance(), "{what}: {apart} from the original");
    }
    let mut people: Vec<(&str, Vec<f32>)> = base.iter().map(|face| ("astronaut.png", face.descriptor.clone())).collect();
    for (name, _) in GROUPS {
        people.extend(faces(&photo(name)).into_iter().map(|face| (name, face.descriptor)));
    }
    let mut close = Vec::new();
    for (i, (photo_a, a)) in people.iter().enumerate() {
        for (photo_b, b) in &people[i + 1..] {
            let apart = distance(a, b);
            if apart <= max_distance() {
                close.push(format!("{photo_a} and {photo_b}: {apart}"));
            }
        }
    }
    // One woman of sample1.jpg and one of sample3.jpg lie 0.41 apart, for face_recognition too:
    // perhaps one person. Everyone else is apart.
    assert!(close.len() <= 1 && close.iter().all(|pair| pair.starts_with("sample1.jpg and sample3.jpg")), "{close:?}");
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

fn people_set() -> PeopleSet {
    PeopleSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/people")).unwrap()
}

/// PASCAL VOC group photos with every face boxed (groups/faces.json; 43 faces, some 37 px
/// wide in a 500 px photo): at least 41 found (a found box overlapping the truth by IoU 0.4 or
/// more), at most one face that is none, and none among dogs.
#[test]
fn every_boxed_face_of_the_group_photos_is_found_and_none_among_dogs() {
    let detected = people_set().detected(
        |name| {
            let group = photo(name);
            let (width, height) = (group.width() as f32, group.height() as f32);
            (width, faces(&group).iter().map(|face| face.bounds.corners(width, height)).collect())
        },
        iou,
        0.4,
    );
    assert_eq!(detected.boxed, 43);
    assert!(detected.found >= 41, "{} of {} boxed faces found", detected.found, detected.boxed);
    assert!(detected.false_faces.len() <= 1, "faces that are none: {:?}", detected.false_faces);
    let dogs = faces(&photo("dogs.jpg"));
    assert!(dogs.is_empty(), "faces among dogs: {:?}", boxes(&dogs));
}

/// The shared people set, uploaded photo by photo by one user (in name order, then again in
/// the reverse order by another) and analysed as the analyzer analyses them, with the tiers'
/// `max_distance`: each name's photos end in one person, no person holds faces of two photos
/// that do not share someone, no two faces of one photo share a person, and the photos of one
/// person each and the group photos have their faces grouped.
#[tokio::test]
async fn the_people_set_is_grouped_as_its_truth_says() {
    let set = people_set();
    let names = set.photos();
    for (order, user) in [("name order", "alice"), ("reverse order", "bob")] {
        let ordered: Vec<&String> = if order == "name order" { names.iter().collect() } else { names.iter().rev().collect() };
        let persons = grouped(UserName::parse(user).unwrap(), &ordered).await;
        let mut persons_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (photo, faces) in &persons {
            let ids: Vec<&String> = faces.iter().flatten().collect();
            assert_eq!(ids.len(), ids.iter().collect::<BTreeSet<_>>().len(), "{order}: two faces of {photo} share a person");
            persons_of.insert(photo.clone(), ids.into_iter().cloned().collect());
        }
        assert_eq!(set.split_sets(&persons_of), Vec::<&str>::new(), "{order}: sets in no one person: {persons:?}");
        assert_eq!(set.mixing_persons(&persons_of), Vec::<(String, BTreeSet<String>)>::new(), "{order}: persons holding different people");
        let truth = &set.truth;
        for photo in truth.one_person_each.iter().chain(&truth.all_different_people) {
            assert!(persons[photo.as_str()].iter().any(Option::is_some), "{order}: nobody grouped in {photo}");
        }
        let in_bald_guys = persons["bald_guys.jpg"].iter().flatten().count();
        assert!(in_bald_guys >= 20, "{order}: {in_bald_guys} of bald_guys.jpg's 24 men grouped");
        for photo in &truth.no_human_face {
            assert!(persons[photo.as_str()].is_empty(), "{order}: faces in {photo}");
        }
    }
}

/// Each photo analysed in turn for `user` (labels and text off, the built-in faces, the
/// default tier): the person of each face of each photo, by photo name.
async fn grouped(user: UserName, names: &[&String]) -> BTreeMap<String, Vec<Option<String>>> {
    let (images, photos) = (Arc::new(MemoryImages::default()), Arc::new(MemoryPhotos::default()));
    let settings = LabelerSettings { engine: VisionEngine::Builtin, max_labels: 10, min_confidence: 70 };
    let engines = Engines { labeler: Arc::new(NoLabels), faces: Arc::new(engine().clone()), text: Arc::new(NoText) };
    let analyzer =
        Analyzer::new(SharedData::new(Arc::new(MemoryUsers::default()), images.clone(), photos.clone()), engines, common::tier(settings));
    let mut persons = BTreeMap::new();
    for name in names {
        let event = common::stored_photo(&images, &photos, &user, &fixture(name)).await;
        let outcome = analyzer.handle(&serde_json::to_string(&event).unwrap()).await.unwrap();
        assert!(matches!(outcome, Outcome::Analysed { .. }), "{name}: {outcome:?}");
        let record = images.get(&user, ImageId::parse(&event.image_id).unwrap()).await.unwrap().unwrap();
        persons.insert(name.to_string(), record.faces.into_iter().map(|face| face.person_id).collect());
    }
    persons
}
