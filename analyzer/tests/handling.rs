//! The analyzer's handling of a batch over the in-memory stores: what is acknowledged, what is
//! left for a retry (and, in the end, the dead-letter queue), and what is stored. Fast, without
//! the emulator or the models (a labeler that sees a cat in everything stands in for them).

use std::sync::Arc;

use analyzer::faces::{FaceFinder, FoundFace, PhotoOf, PhotoRegion};
use analyzer::labeler::Labeler;
use analyzer::{Analyzer, Engines, Message, Outcome};
use async_trait::async_trait;
use contract::{LabelerSettings, NewImageEvent, VisionEngine};
use domain::memory::{MemoryImages, MemoryPhotos, MemoryUsers};
use domain::testing::face_at;
use domain::{ImageId, ImageIndex, ImageStatus, ImageStore, Label, PersonStore, PhotoStore, SharedData, UserName};
use image::RgbImage;

mod common;
use common::{stored_photo, tier};

const PHOTO: &[u8] = include_bytes!("../../tests/fixtures/photos/chelsea.png");

struct SeesACat;

#[async_trait]
impl Labeler for SeesACat {
    async fn labels(&self, _: &Arc<RgbImage>, _: usize, _: f32) -> domain::Result<Vec<Label>> {
        Ok(vec![Label { name: "cat".into(), confidence: 99.0 }])
    }
}

#[tokio::test]
async fn a_batch_retries_only_what_it_should() {
    let (images, photos) = (Arc::new(MemoryImages::default()), Arc::new(MemoryPhotos::default()));
    let user = UserName::parse("alice").unwrap();
    let good = stored_photo(&images, &photos, &user, PHOTO).await;
    let not_a_photo = stored_photo(&images, &photos, &user, b"these bytes are no photo").await;
    // Stored as if its object changed after the upload's check: the analyzer checks again.
    let too_many_pixels =
        stored_photo(&images, &photos, &user, &domain::testing::declaring_size(PHOTO, 60_000, 60_000, false).unwrap()).await;
    let settings = LabelerSettings { engine: VisionEngine::Builtin, max_labels: 10, min_confidence: 50 };
    let analyzer = Analyzer::new(
        SharedData::new(Arc::new(MemoryUsers::default()), images.clone(), photos.clone()),
        Engines::labels_only(Arc::new(SeesACat)),
        tier(settings),
    );
    let deleted = NewImageEvent { image_id: ImageId::new().to_string(), ..good.clone() };
    let message = |id: &str, event: &NewImageEvent| {
        let body = serde_json::json!({"Type": "Notification", "Message": serde_json::to_string(event).unwrap()});
        Message { id: id.into(), body: body.to_string() }
    };
    let messages = vec![
        message("good", &good),
        Message { id: "poison".into(), body: "{\"not\": \"an event\"}".into() },
        message("deleted-image", &deleted),
        message("not-a-photo", &not_a_photo),
        message("too-many-pixels", &too_many_pixels),
    ];
    assert_eq!(analyzer.handle_batch(messages, 2).await, ["poison"], "only the malformed message stays on the queue");

    let id = |event: &NewImageEvent| ImageId::parse(&event.image_id).unwrap();
    let analysed = images.get(&user, id(&good)).await.unwrap().unwrap();
    assert_eq!((analysed.status, analysed.labels), (ImageStatus::Ready, vec![Label { name: "cat".into(), confidence: 99.0 }]));
    let failed = images.get(&user, id(&not_a_photo)).await.unwrap().unwrap();
    assert_eq!(failed.status, ImageStatus::Failed);
    assert!(failed.failure_reason.is_some());
    let refused = images.get(&user, id(&too_many_pixels)).await.unwrap().unwrap();
    assert_eq!(refused.status, ImageStatus::Failed);
    assert!(refused.failure_reason.as_deref().unwrap_or("").contains("60000 x 60000"), "{:?}", refused.failure_reason);

    // A redelivery of an analysed photo changes nothing.
    assert!(analyzer.handle_batch(vec![message("again", &good)], 1).await.is_empty());
    assert_eq!(images.search(&user, &domain::Search::labels(&["cat".to_owned()]), 10, None).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn a_tier_without_labels_loads_no_model_and_finds_none() {
    let aws = aws_config::SdkConfig::builder().build();
    let features = contract::Features { labels: false, faces: false, text: false };
    let labeler = analyzer::services::labeler_for(features, VisionEngine::Builtin, &aws).unwrap();
    let photo = Arc::new(analyzer::decode::decode(PHOTO, analyzer::decode::LABELS_SIDE).unwrap());
    assert!(labeler.labels(&photo, 10, 0.0).await.unwrap().is_empty());
    let features = contract::Features { labels: true, ..features };
    let labeler = analyzer::services::labeler_for(features, VisionEngine::Builtin, &aws).unwrap();
    let labels = labeler.labels(&photo, 10, 50.0).await.unwrap();
    assert!(labels.iter().any(|label| label.name == "cat"), "{labels:?}");
}

/// Sees one face in every photo, the same person each time, except in photos of other
/// sizes; one tiny face besides, under the quality gate.
struct SeesOnePerson;

#[async_trait]
impl FaceFinder for SeesOnePerson {
    async fn faces(&self, _: &Arc<RgbImage>, _: PhotoOf<'_>) -> domain::Result<Vec<FoundFace>> {
        let face = |side: f32, score: f32| {
            FoundFace::described(PhotoRegion { left: 0.0, top: 0.0, width: side, height: side }, score, vec![0.25; 128])
        };
        Ok(vec![face(0.5, 0.9), face(0.01, 0.9)])
    }

    fn photo_side(&self) -> Option<u32> {
        None
    }
}

#[tokio::test]
async fn faces_are_grouped_past_the_quality_gate_and_leave_their_person_with_their_photo() {
    let (images, photos) = (Arc::new(MemoryImages::default()), Arc::new(MemoryPhotos::default()));
    let user = UserName::parse("alice").unwrap();
    let first = stored_photo(&images, &photos, &user, PHOTO).await;
    let second = stored_photo(&images, &photos, &user, PHOTO).await;
    let settings = LabelerSettings { engine: VisionEngine::Builtin, max_labels: 10, min_confidence: 50 };
    let analyzer = Analyzer::new(
        SharedData::new(Arc::new(MemoryUsers::default()), images.clone(), photos.clone()),
        Engines { faces: Arc::new(SeesOnePerson), ..Engines::labels_only(Arc::new(SeesACat)) },
        tier(settings),
    );
    for event in [&first, &second] {
        let body = serde_json::to_string(event).unwrap();
        assert!(matches!(analyzer.handle(&body).await.unwrap(), Outcome::Analysed { labels: 1, faces: 2 }));
    }
    let persons = images.persons(&user).await.unwrap();
    assert_eq!(persons.len(), 1, "{persons:?}");
    assert_eq!((persons[0].face_count, persons[0].photo_count), (2, 2));
    let record = images.get(&user, ImageId::parse(&first.image_id).unwrap()).await.unwrap().unwrap();
    // chelsea.png is 451 px wide: the second face is 4.5 px, under `faces.min_face_px`.
    assert_eq!(record.faces.iter().map(|face| face.person_id.clone()).collect::<Vec<_>>(), [Some(persons[0].id.to_string()), None]);

    images.delete(&user, ImageId::parse(&first.image_id).unwrap()).await.unwrap();
    assert_eq!(images.persons(&user).await.unwrap()[0].face_count, 1);
    images.delete(&user, ImageId::parse(&second.image_id).unwrap()).await.unwrap();
    assert!(images.persons(&user).await.unwrap().is_empty());
}

/// Sees one face per photo, at the positions it is given, in order ([`face_at`]): where each
/// photo's face lies is the test's to say.
struct SeesFacesAt(std::sync::Mutex<std::collections::VecDeque<f32>>);

#[async_trait]
impl FaceFinder for SeesFacesAt {
    async fn faces(&self, _: &Arc<RgbImage>, _: PhotoOf<'_>) -> domain::Result<Vec<FoundFace>> {
        let at = self.0.lock().unwrap().pop_front().expect("a position for every photo");
        Ok(vec![face_at(at)])
    }

    fn photo_side(&self) -> Option<u32> {
        None
    }
}

/// A face too far from a person to join it starts one; when a later photo moves that person's
/// centre close, the stray joins it. A face the user split off stays split, however close.
#[tokio::test]
async fn a_stray_joins_the_person_that_grew_near_it_but_a_split_stays() {
    let (images, photos) = (Arc::new(MemoryImages::default()), Arc::new(MemoryPhotos::default()));
    let user = UserName::parse("alice").unwrap();
    let settings = tier(LabelerSettings { engine: VisionEngine::Builtin, max_labels: 10, min_confidence: 50 });
    let max = settings.faces.max_distance;
    // A at 0; B beyond the threshold; C between, nearer A, whose centre then comes within it of
    // B; after the user split C off, D nearer A's centre (0.3) than C, which A's growth brings
    // close to C again.
    let positions = [0.0, max + 0.07, 0.25, 0.5];
    assert!(max + 0.07 - 0.25 / 2.0 < max && 0.25 < max + 0.07 - 0.25, "the positions no longer test what they should");
    let faces = SeesFacesAt(std::sync::Mutex::new(positions.into_iter().collect()));
    let analyzer = Analyzer::new(
        SharedData::new(Arc::new(MemoryUsers::default()), images.clone(), photos.clone()),
        Engines { faces: Arc::new(faces), ..Engines::labels_only(Arc::new(SeesACat)) },
        settings,
    );
    let analyse = async || {
        let event = stored_photo(&images, &photos, &user, PHOTO).await;
        analyzer.handle(&serde_json::to_string(&event).unwrap()).await.unwrap();
        ImageId::parse(&event.image_id).unwrap()
    };
    let mut ids = vec![analyse().await, analyse().await];
    assert_eq!(images.persons(&user).await.unwrap().len(), 2, "B starts a person of its own");
    ids.push(analyse().await);
    let persons = images.persons(&user).await.unwrap();
    assert_eq!(persons.len(), 1, "{persons:?}");
    assert_eq!((persons[0].face_count, persons[0].photo_count), (3, 3));
    let person_of = async |id: ImageId| images.get(&user, id).await.unwrap().unwrap().faces[0].person_id.clone();
    assert_eq!(person_of(ids[1]).await, Some(persons[0].id.to_string()), "B's photo names the person it joined");

    let split = images.move_face(&user, domain::FaceId { image: ids[2], index: 0 }, None).await.unwrap();
    ids.push(analyse().await);
    let persons = images.persons(&user).await.unwrap();
    assert_eq!(persons.len(), 2, "{persons:?}");
    assert_eq!(person_of(ids[2]).await, split.person_id);
    assert_eq!(person_of(ids[3]).await, person_of(ids[0]).await);
}

/// The Rekognition engine over the SDK's mock client: each photo's faces are indexed under its
/// id, searched among the user's earlier faces, and grouped with the person of the most
/// similar; two faces of one photo still never share a person.
#[tokio::test]
async fn rekognition_faces_join_the_person_of_their_best_match() {
    use analyzer::faces::rekognition::RekognitionFaces;
    use aws_sdk_rekognition::operation::index_faces::IndexFacesOutput;
    use aws_sdk_rekognition::operation::search_faces::SearchFacesOutput;
    use aws_sdk_rekognition::types::{BoundingBox, Face, FaceMatch, FaceRecord};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    let (images, photos) = (Arc::new(MemoryImages::default()), Arc::new(MemoryPhotos::default()));
    let user = UserName::parse("alice").unwrap();
    let first = stored_photo(&images, &photos, &user, PHOTO).await;
    let second = stored_photo(&images, &photos, &user, PHOTO).await;
    let face = |id: &str, image: &str, left: f32| {
        let bounds = BoundingBox::builder().left(left).top(0.1).width(0.3).height(0.3).build();
        Face::builder().face_id(id).external_image_id(image).bounding_box(bounds).confidence(99.0).build()
    };
    let first_id = first.image_id.clone();
    let index = mock!(aws_sdk_rekognition::Client::index_faces).then_compute_output(move |request| {
        let image = request.external_image_id().unwrap_or_default();
        let ids: &[&str] = if image == first_id { &["a1"] } else { &["b1", "b2"] };
        let mut output = IndexFacesOutput::builder();
        for (at, id) in ids.iter().enumerate() {
            output = output.face_records(FaceRecord::builder().face(face(id, image, 0.1 + 0.4 * at as f32)).build());
        }
        output.build()
    });
    let earlier = first.image_id.clone();
    let search = mock!(aws_sdk_rekognition::Client::search_faces).then_compute_output(move |request| {
        let similarity = match request.face_id() {
            Some("b1") => 95.0,
            Some("b2") => 99.0,
            _ => return SearchFacesOutput::builder().build(),
        };
        SearchFacesOutput::builder()
            .face_matches(FaceMatch::builder().similarity(similarity).face(face("a1", &earlier, 0.1)).build())
            .build()
    });
    let client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, [&index, &search]);
    let faces = RekognitionFaces::new(aws_adapters::RekognitionCollections::new(client, "smart-album-full-platform-user"), 90.0);
    let settings = LabelerSettings { engine: VisionEngine::Rekognition, max_labels: 10, min_confidence: 50 };
    let analyzer = Analyzer::new(
        SharedData::new(Arc::new(MemoryUsers::default()), images.clone(), photos.clone()),
        Engines { faces: Arc::new(faces), ..Engines::labels_only(Arc::new(SeesACat)) },
        tier(settings),
    );
    for (event, count) in [(&first, 1), (&second, 2)] {
        let body = serde_json::to_string(event).unwrap();
        let outcome = analyzer.handle(&body).await.unwrap();
        assert!(matches!(outcome, Outcome::Analysed { faces, .. } if faces == count), "{outcome:?}");
    }
    assert_eq!((index.num_calls(), search.num_calls()), (2, 3));
    let persons_of = |event: &NewImageEvent| {
        let images = images.clone();
        let (user, id) = (user.clone(), ImageId::parse(&event.image_id).unwrap());
        async move { images.get(&user, id).await.unwrap().unwrap().faces }
    };
    let (on_first, on_second) = (persons_of(&first).await, persons_of(&second).await);
    // b2 is the more similar to a1: it joins a1's person; b1 starts a person of its own.
    assert_eq!(on_second[1].person_id, on_first[0].person_id);
    assert!(on_second[0].person_id.is_some() && on_second[0].person_id != on_first[0].person_id);
    // The engine's ids are kept on the photo, so that deleting it removes them from Rekognition.
    assert_eq!(on_second.iter().map(|face| face.engine_id.as_deref()).collect::<Vec<_>>(), [Some("b1"), Some("b2")]);
    let persons = images.persons(&user).await.unwrap();
    assert_eq!(persons.iter().map(|person| person.face_count).collect::<Vec<_>>(), [2, 1]);
}

/// A drawing in black on a transparent background (as diagrams and logos are exported) is
/// analysed and previewed as it looks on a page: black on white, not black on black.
#[tokio::test]
async fn a_transparent_drawing_is_previewed_on_white() {
    let (images, photos) = (Arc::new(MemoryImages::default()), Arc::new(MemoryPhotos::default()));
    let user = UserName::parse("alice").unwrap();
    let mut drawing = image::RgbaImage::from_pixel(300, 200, image::Rgba([0, 0, 0, 0]));
    for x in 50..250 {
        for y in 90..110 {
            drawing.put_pixel(x, y, image::Rgba([0, 0, 0, 255]));
        }
    }
    let mut png = Vec::new();
    drawing.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let event = stored_photo(&images, &photos, &user, &png).await;
    let settings = LabelerSettings { engine: VisionEngine::Builtin, max_labels: 10, min_confidence: 50 };
    let analyzer = Analyzer::new(
        SharedData::new(Arc::new(MemoryUsers::default()), images.clone(), photos.clone()),
        Engines::labels_only(Arc::new(SeesACat)),
        tier(settings),
    );
    assert!(matches!(analyzer.handle(&serde_json::to_string(&event).unwrap()).await.unwrap(), Outcome::Analysed { .. }));
    let id = ImageId::parse(&event.image_id).unwrap();
    let preview = photos.read(&domain::preview_key(&user, id), None).await.unwrap().expect("a preview");
    let preview = image::load_from_memory(&preview).unwrap().to_rgb8();
    let (width, height) = preview.dimensions();
    let corner = preview.get_pixel(2, 2).0;
    let stroke = preview.get_pixel(width / 2, height / 2).0;
    assert!(corner.iter().all(|&c| c > 245), "the transparent background is {corner:?}");
    assert!(stroke.iter().all(|&c| c < 40), "the stroke is {stroke:?}");
    let record = images.get(&user, id).await.unwrap().unwrap();
    assert_ne!(record.color.as_deref(), Some("#000000"), "the placeholder colour is black");
}
