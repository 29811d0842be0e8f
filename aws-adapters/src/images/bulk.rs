//! Bulk loading (feature `bulk`): the items an analysed photo is stored as, written as they
//! are. The benchmark seeds large tenants with them; a test compares them item for item with
//! what a real upload and analysis leave.

use super::DynamoImages;
use super::keys::{AlbumItem, FaceItem, ImageItem, album_sk, face_sk, label_entries, taken_entry};
use super::persons::{grouped_item, person_item};
use crate::dynamo::{self, Item, put_request, to_item};
use domain::error::{Error, Result};
use domain::grouping::Member;
use domain::model::{Album, Face, ImageId, ImageRecord, ImageStatus, PersonId, PhotoRegion, UserName};

/// The items of an analysed photo (its record, one index entry per label and its time entry),
/// exactly as an upload followed by its analysis leaves them. The user's usage and album
/// counters are not among them (see [`album_items`]).
pub fn analysed_items(record: &ImageRecord) -> Result<Vec<Item>> {
    let mut record = record.clone();
    record.status = ImageStatus::Ready;
    record.failure_reason = None;
    let mut items = vec![to_item(ImageItem::of(&ImageRecord { revision: 1, ..record.clone() }))?];
    items.extend(label_entries(&record)?);
    items.extend(taken_entry(&record)?);
    Ok(items)
}

/// The album items of a user whose photos were bulk-loaded with `analysed_items`, as the
/// analyses of those photos would have left them.
pub fn album_items(user: &UserName, albums: &[Album]) -> Result<Vec<Item>> {
    albums
        .iter()
        .map(|album| {
            to_item(AlbumItem {
                pk: user.to_string(),
                sk: album_sk(&album.label),
                label: album.label.clone(),
                photos: i64::try_from(album.photos).map_err(|_| Error::Internal("album count out of range".into()))?,
                cover: album.cover.map(|cover| cover.to_string()),
            })
        })
        .collect()
}

/// The items grouping leaves for a user's persons (`members`) and their faces (`faces`: one
/// per photo, with its person and descriptor): each person with its centre, and each photo's
/// grouping and face item. The photos' records and entries are not among them.
pub fn people_items(user: &UserName, members: &[Member], faces: &[(ImageId, PersonId, Vec<f32>)]) -> Result<Vec<Item>> {
    let mut items = members.iter().map(|member| person_item(user, member)).collect::<Result<Vec<_>>>()?;
    for (image, person, descriptor) in faces {
        items.push(grouped_item(user, *image, &vec![(Some(*person), descriptor.clone())])?);
        let face = Face {
            index: 0,
            bounds: PhotoRegion { left: 0.25, top: 0.25, width: 0.5, height: 0.5 },
            score: 0.99,
            person_id: Some(person.to_string()),
            engine_id: None,
        };
        items.push(to_item(FaceItem {
            pk: user.to_string(),
            sk: face_sk(*image, 0),
            image_id: image.to_string(),
            face,
            descriptor: descriptor.clone(),
        })?);
    }
    Ok(items)
}

impl DynamoImages {
    /// Writes items as they are (those of `analysed_items` and `album_items`), in batches,
    /// without the quota and album bookkeeping of uploads and analyses.
    pub async fn bulk_put(&self, items: Vec<Item>) -> Result<()> {
        let requests = items.into_iter().map(put_request).collect::<Result<_>>()?;
        dynamo::batch_write(&self.client, &self.table, requests).await
    }
}
