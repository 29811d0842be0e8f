//! The Rekognition face collections' requests and answers, with the SDK's mock client: the
//! emulator answers 500 to these calls, so what only AWS can show (real faces, similarities,
//! the IAM policy's effect) is listed in docs/analysis.md instead.

use std::sync::{Arc, Mutex};

use aws_adapters::RekognitionCollections;
use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::operation::create_collection::CreateCollectionOutput;
use aws_sdk_rekognition::operation::delete_collection::{DeleteCollectionError, DeleteCollectionOutput};
use aws_sdk_rekognition::operation::delete_faces::DeleteFacesOutput;
use aws_sdk_rekognition::operation::index_faces::{IndexFacesError, IndexFacesOutput};
use aws_sdk_rekognition::operation::search_faces::SearchFacesOutput;
use aws_sdk_rekognition::types::error::{AccessDeniedException, ResourceNotFoundException};
use aws_sdk_rekognition::types::{BoundingBox, Face, FaceDetail, FaceMatch, FaceRecord, QualityFilter, UnindexedFace};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use domain::{FaceCollections, ImageId, PhotoRegion, UserName};

const STACK: &str = "smart-album-full-platform-user";

fn bounding(left: f32, top: f32, side: f32) -> BoundingBox {
    BoundingBox::builder().left(left).top(top).width(side).height(side).build()
}

fn face(id: &str, image: &str, confidence: f32) -> Face {
    Face::builder().face_id(id).external_image_id(image).bounding_box(bounding(0.1, 0.2, 0.3)).confidence(confidence).build()
}

#[tokio::test]
async fn a_photo_is_indexed_in_its_users_collection_made_on_first_use() {
    let photo = ImageId::new();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = sent.clone();
    let index = mock!(Client::index_faces)
        .match_requests(move |request| {
            seen.lock().unwrap().push((
                request.collection_id().unwrap_or("").to_owned(),
                request.external_image_id().unwrap_or("").to_owned(),
                request.max_faces(),
                request.quality_filter().cloned(),
                request.image().and_then(|image| image.bytes()).map(|bytes| bytes.as_ref().to_vec()),
            ));
            true
        })
        .sequence()
        .error(|| IndexFacesError::ResourceNotFoundException(ResourceNotFoundException::builder().message("no collection").build()))
        .output(move || {
            IndexFacesOutput::builder()
                .face_records(FaceRecord::builder().face(face("less-sure", &photo.to_string(), 91.0)).build())
                .face_records(FaceRecord::builder().face(face("surer", &photo.to_string(), 99.5)).build())
                .unindexed_faces(
                    UnindexedFace::builder()
                        .face_detail(FaceDetail::builder().bounding_box(bounding(0.7, 0.7, 0.05)).confidence(80.0).build())
                        .build(),
                )
                .build()
        })
        .build();
    let create = mock!(Client::create_collection)
        .match_requests(|request| request.collection_id() == Some("smart-album-full-platform-user-faces-alice"))
        .then_output(|| CreateCollectionOutput::builder().status_code(200).build());
    let client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, [&index, &create]);
    let collections = RekognitionCollections::new(client, STACK);
    let alice = UserName::parse("alice").unwrap();

    let faces = collections.index(&alice, photo, b"jpeg bytes".to_vec(), 97).await.unwrap();
    assert_eq!((index.num_calls(), create.num_calls()), (2, 1), "indexed again once the collection was made");
    let sent = sent.lock().unwrap();
    assert_eq!(
        sent[1],
        (
            "smart-album-full-platform-user-faces-alice".to_owned(),
            photo.to_string(),
            Some(97),
            Some(QualityFilter::Auto),
            Some(b"jpeg bytes".to_vec())
        )
    );
    // The indexed faces, most confident first, then the one Rekognition would not index.
    let ids: Vec<Option<&str>> = faces.iter().map(|face| face.engine_id.as_deref()).collect();
    assert_eq!(ids, [Some("surer"), Some("less-sure"), None]);
    assert_eq!(faces[0].bounds, PhotoRegion { left: 0.1, top: 0.2, width: 0.3, height: 0.3 });
    assert!((faces[0].score - 0.995).abs() < 1e-6);
}

#[tokio::test]
async fn a_face_is_searched_among_the_users_other_photos_at_the_tiers_similarity() {
    let (photo, earlier) = (ImageId::new(), ImageId::new());
    let search = mock!(Client::search_faces)
        .match_requests(|request| {
            request.collection_id() == Some("smart-album-full-platform-user-faces-bob")
                && request.face_id() == Some("new-face")
                && request.face_match_threshold() == Some(92.0)
                && request.max_faces().is_some_and(|max| max > 1)
        })
        .then_output(move || {
            SearchFacesOutput::builder()
                // An earlier attempt at this very photo, a face of another photo, and a face
                // indexed by something else (not a photo id): only the second is a match.
                .face_matches(FaceMatch::builder().similarity(99.9).face(face("same-photo", &photo.to_string(), 99.0)).build())
                .face_matches(FaceMatch::builder().similarity(94.0).face(face("earlier-face", &earlier.to_string(), 99.0)).build())
                .face_matches(FaceMatch::builder().similarity(97.0).face(face("stranger", "not-a-photo", 99.0)).build())
                .build()
        });
    let client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, [&search]);
    let collections = RekognitionCollections::new(client, STACK);
    let found = collections.search(&UserName::parse("bob").unwrap(), photo, "new-face", 92.0).await.unwrap();
    assert_eq!(search.num_calls(), 1);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].image, found[0].engine_id.as_str(), found[0].similarity), (earlier, "earlier-face", 94.0));
}

#[tokio::test]
async fn faces_go_with_their_photo_and_the_collection_with_the_account() {
    let delete_faces = mock!(Client::delete_faces)
        .match_requests(|request| {
            request.collection_id() == Some("smart-album-full-platform-user-faces-carol") && request.face_ids() == ["a", "b"]
        })
        .then_output(|| DeleteFacesOutput::builder().build());
    let delete_collection = mock!(Client::delete_collection)
        .match_requests(|request| request.collection_id() == Some("smart-album-full-platform-user-faces-carol"))
        .sequence()
        .output(|| DeleteCollectionOutput::builder().status_code(200).build())
        // Deleted already (or never made: a user without faces): done.
        .error(|| DeleteCollectionError::ResourceNotFoundException(ResourceNotFoundException::builder().build()))
        .error(|| DeleteCollectionError::AccessDeniedException(AccessDeniedException::builder().message("denied").build()))
        .build();
    let client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, [&delete_faces, &delete_collection]);
    let collections = RekognitionCollections::new(client, STACK);
    let carol = UserName::parse("carol").unwrap();
    collections.delete_faces(&carol, &["a".to_owned(), "b".to_owned()]).await.unwrap();
    assert_eq!(delete_faces.num_calls(), 1);
    collections.delete_user(&carol).await.unwrap();
    collections.delete_user(&carol).await.unwrap();
    let refused = collections.delete_user(&carol).await.unwrap_err();
    assert!(refused.to_string().contains("AccessDeniedException"), "{refused}");
}

#[tokio::test]
async fn a_purge_deletes_every_collection_of_the_stack_and_no_other() {
    use aws_sdk_rekognition::operation::list_collections::ListCollectionsOutput;
    let list = mock!(Client::list_collections).match_requests(|request| request.next_token().is_none()).then_output(|| {
        ListCollectionsOutput::builder()
            .collection_ids("smart-album-full-platform-user-faces-ann")
            .collection_ids("smart-album-core-user-faces-bob")
            .next_token("page-2")
            .build()
    });
    let next = mock!(Client::list_collections).match_requests(|request| request.next_token() == Some("page-2")).then_output(|| {
        ListCollectionsOutput::builder()
            .collection_ids("smart-album-full-platform-user-faces-cem")
            .collection_ids("someone-elses-collection")
            .build()
    });
    let deleted = Arc::new(Mutex::new(Vec::new()));
    let seen = deleted.clone();
    let delete = mock!(Client::delete_collection)
        .match_requests(move |request| {
            seen.lock().unwrap().push(request.collection_id().unwrap_or("").to_owned());
            true
        })
        .then_output(|| DeleteCollectionOutput::builder().status_code(200).build());
    let client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, [&list, &next, &delete]);
    let count = RekognitionCollections::new(client, STACK).delete_all().await.unwrap();
    assert_eq!(count, 2);
    assert_eq!(*deleted.lock().unwrap(), ["smart-album-full-platform-user-faces-ann", "smart-album-full-platform-user-faces-cem"]);
}
