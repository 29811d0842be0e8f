//! A tenant recounted from what is stored: the user's partition of the images table and the
//! objects under the user's prefix in the bucket. Every counter, album, place, person count and index
//! entry is a function of the records, and every record of a counted photo needs its object:
//! [`Drift`]s are where the stored state says otherwise, and [`DynamoImages::repair`] makes
//! it agree (deleting what belongs to nothing, rewriting what is derived).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::DynamoImages;
use super::keys::{
    ALBUM_PREFIX, AlbumItem, ImageItem, PLACE_COUNT_PREFIX, PlaceCountItem, USAGE_SK, album_sk, entries_of, face_sk, place_count_sk,
    record_sk,
};
use crate::aws_error;
use crate::dynamo::{self, Item, from_item, n, number};
use domain::PhotoStore;
use domain::error::Result;
use domain::model::{ImageId, ImageRecord, ImageStatus, UserName};

const PERSON_PREFIX: &str = "person#";

/// One way the stored state disagrees with itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Drift {
    /// An object under the user's prefix whose image has no record.
    OrphanObject { key: String },
    /// A counted photo (not a pending upload) whose object is gone.
    RecordWithoutObject { image: String },
    /// An index entry its record implies, missing or not as the record says.
    MissingEntry { sk: String },
    /// An item of an image (entry, face, grouping) that its record does not imply.
    ExtraItem { sk: String },
    /// A face the record lists whose item (with its descriptor) is gone: analysing the photo
    /// again restores it.
    MissingFace { sk: String },
    /// The usage counters.
    Usage { stored_photos: i64, stored_bytes: i64, photos: i64, bytes: i64 },
    /// An album's photo count (stored 0: no album item).
    Album { label: String, stored: i64, photos: i64 },
    /// A person's face and photo counts.
    Person { person: String, stored_faces: i64, stored_photos: i64, faces: i64, photos: i64 },
    /// A place's photo count (stored 0: no counter item), by its counter's sort key.
    Place { sk: String, stored: i64, photos: i64 },
}

/// What a check found, and what it counted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub user: String,
    pub records: usize,
    pub objects: usize,
    pub drifts: Vec<Drift>,
}

/// The user's partition and objects, as read for one check.
struct Stored {
    records: BTreeMap<ImageId, ImageRecord>,
    /// Every item of an image other than its record, by sort key.
    image_items: BTreeMap<String, Item>,
    usage: (i64, i64),
    albums: BTreeMap<String, i64>,
    /// Place counters' photo counts, by sort key.
    places: BTreeMap<String, i64>,
    /// Live persons' stored (faces, photos), and where merged persons went.
    persons: BTreeMap<String, (i64, i64)>,
    merged_into: HashMap<String, String>,
    objects: Vec<String>,
}

fn sk_of(item: &Item) -> &str {
    item.get(contract::names::SORT_KEY).and_then(|value| value.as_s().ok()).map_or("", String::as_str)
}

/// The image an item of the images table belongs to (`image#<id>...`).
fn image_of_sk(sk: &str) -> Option<ImageId> {
    let rest = sk.strip_prefix("image#")?;
    ImageId::parse(rest.split('#').next()?).ok()
}

/// The image an object key belongs to (`<user>/<id>` and the renditions under it).
fn image_of_key(user: &UserName, key: &str) -> Option<ImageId> {
    let rest = key.strip_prefix(user.as_str())?.strip_prefix('/')?;
    ImageId::parse(rest.split('/').next()?).ok()
}

impl Stored {
    fn drifts(&self, user: &UserName) -> Result<Vec<Drift>> {
        let mut drifts = Vec::new();
        let objects: BTreeSet<&str> = self.objects.iter().map(String::as_str).collect();
        for key in &self.objects {
            if !image_of_key(user, key).is_some_and(|id| self.records.contains_key(&id)) {
                drifts.push(Drift::OrphanObject { key: key.clone() });
            }
        }
        let counted: Vec<&ImageRecord> = self.records.values().filter(|record| record.status != ImageStatus::Uploading).collect();
        for record in &counted {
            if !objects.contains(record.object_key().as_str()) {
                drifts.push(Drift::RecordWithoutObject { image: record.id.to_string() });
            }
        }

        // Entries are a function of their record; faces are listed by it.
        let mut expected = BTreeMap::new();
        for record in &counted {
            for entry in entries_of(record)? {
                expected.insert(sk_of(&entry).to_owned(), entry);
            }
        }
        for (sk, entry) in &expected {
            if self.image_items.get(sk) != Some(entry) {
                drifts.push(Drift::MissingEntry { sk: sk.clone() });
            }
        }
        let faces: BTreeSet<String> =
            counted.iter().flat_map(|record| record.faces.iter().map(|face| face_sk(record.id, face.index))).collect();
        for face in &faces {
            if !self.image_items.contains_key(face) {
                drifts.push(Drift::MissingFace { sk: face.clone() });
            }
        }
        for sk in self.image_items.keys() {
            let of_a_record = image_of_sk(sk).and_then(|id| self.records.get(&id)).is_some();
            let implied = expected.contains_key(sk) || faces.contains(sk) || (of_a_record && sk.ends_with("#grouped"));
            if !implied {
                drifts.push(Drift::ExtraItem { sk: sk.clone() });
            }
        }

        let (photos, bytes) = (counted.len() as i64, counted.iter().map(|record| record.size as i64).sum());
        if self.usage != (photos, bytes) {
            drifts.push(Drift::Usage { stored_photos: self.usage.0, stored_bytes: self.usage.1, photos, bytes });
        }
        let mut albums: BTreeMap<&str, i64> = BTreeMap::new();
        for record in &counted {
            for label in &record.labels {
                *albums.entry(&label.name).or_default() += 1;
            }
        }
        let labels: BTreeSet<&str> = albums.keys().copied().chain(self.albums.keys().map(String::as_str)).collect();
        for label in labels {
            let (stored, photos) = (self.albums.get(label).copied().unwrap_or(0), albums.get(label).copied().unwrap_or(0));
            if stored != photos {
                drifts.push(Drift::Album { label: label.to_owned(), stored, photos });
            }
        }
        let mut places: BTreeMap<String, i64> = BTreeMap::new();
        for place in counted.iter().filter_map(|record| record.place.as_ref()) {
            *places.entry(place_count_sk(place)).or_default() += 1;
        }
        let sks: BTreeSet<&String> = places.keys().chain(self.places.keys()).collect();
        for sk in sks {
            let (stored, photos) = (self.places.get(sk).copied().unwrap_or(0), places.get(sk).copied().unwrap_or(0));
            if stored != photos {
                drifts.push(Drift::Place { sk: sk.clone(), stored, photos });
            }
        }
        let mut persons: BTreeMap<String, (i64, BTreeSet<ImageId>)> = BTreeMap::new();
        for record in &counted {
            for person in record.faces.iter().filter_map(|face| face.person_id.as_deref()) {
                let counts = persons.entry(self.live_person(person)).or_default();
                counts.0 += 1;
                counts.1.insert(record.id);
            }
        }
        let ids: BTreeSet<String> = persons.keys().chain(self.persons.keys()).cloned().collect();
        for person in ids {
            let (stored_faces, stored_photos) = self.persons.get(&person).copied().unwrap_or((0, 0));
            let (faces, photos) = persons.get(&person).map_or((0, 0), |(faces, photos)| (*faces, photos.len() as i64));
            if (stored_faces, stored_photos) != (faces, photos) {
                drifts.push(Drift::Person { person, stored_faces, stored_photos, faces, photos });
            }
        }
        Ok(drifts)
    }

    /// The person a face's person id stands for now, through merges.
    fn live_person(&self, person: &str) -> String {
        let mut current = person;
        for _ in 0..=self.merged_into.len() {
            match self.merged_into.get(current) {
                Some(into) => current = into,
                None => break,
            }
        }
        current.to_owned()
    }
}

impl DynamoImages {
    async fn stored(&self, user: &UserName, photos: &dyn PhotoStore) -> Result<Stored> {
        let items = dynamo::partition(&self.client, &self.table, user.as_str(), None).await?;
        let mut stored = Stored {
            records: BTreeMap::new(),
            image_items: BTreeMap::new(),
            usage: (0, 0),
            albums: BTreeMap::new(),
            places: BTreeMap::new(),
            persons: BTreeMap::new(),
            merged_into: HashMap::new(),
            objects: photos.keys(&format!("{user}/")).await?,
        };
        for item in items {
            let sk = sk_of(&item).to_owned();
            if sk == USAGE_SK {
                stored.usage = (number(&item, "photos"), number(&item, "bytes"));
            } else if sk.starts_with(PLACE_COUNT_PREFIX) {
                stored.places.insert(sk, from_item::<PlaceCountItem>(item)?.photos);
            } else if let Some(label) = sk.strip_prefix(ALBUM_PREFIX) {
                stored.albums.insert(label.to_owned(), from_item::<AlbumItem>(item)?.photos);
            } else if let Some(person) = sk.strip_prefix(PERSON_PREFIX) {
                match item.get("merged_into").and_then(|into| into.as_s().ok()) {
                    Some(into) => {
                        stored.merged_into.insert(person.to_owned(), into.clone());
                    }
                    None => {
                        stored.persons.insert(person.to_owned(), (number(&item, "face_count"), number(&item, "photo_count")));
                    }
                }
            } else if let Some(id) = image_of_sk(&sk) {
                if sk == record_sk(id) {
                    stored.records.insert(id, from_item::<ImageItem>(item)?.into_record()?);
                } else {
                    stored.image_items.insert(sk, item);
                }
            }
        }
        Ok(stored)
    }

    /// Recounts the user and reports every drift.
    pub async fn check(&self, user: &UserName, photos: &dyn PhotoStore) -> Result<Report> {
        let stored = self.stored(user, photos).await?;
        Ok(Report { user: user.to_string(), records: stored.records.len(), objects: stored.objects.len(), drifts: stored.drifts(user)? })
    }

    /// Makes the stored state agree with itself: orphan objects and the records of lost photos
    /// are deleted first (each as the API deletes it), then every derived item is written again
    /// from the records. The drifts repaired, and what is left (missing faces need an analysis).
    pub async fn repair(&self, user: &UserName, photos: &dyn PhotoStore) -> Result<(Report, Report)> {
        let found = self.check(user, photos).await?;
        for drift in &found.drifts {
            match drift {
                Drift::OrphanObject { key } => photos.delete(key).await?,
                Drift::RecordWithoutObject { image } => {
                    let id = ImageId::parse(image)?;
                    domain::ImageStore::delete(self, user, id).await?;
                    photos.delete_prefix(&format!("{}/", domain::model::object_key(user, id))).await?;
                }
                _ => {}
            }
        }
        let stored = self.stored(user, photos).await?;
        let mut expected = BTreeMap::new();
        for record in stored.records.values().filter(|record| record.status != ImageStatus::Uploading) {
            for entry in entries_of(record)? {
                expected.insert(sk_of(&entry).to_owned(), entry);
            }
        }
        let mut puts = Vec::new();
        let mut deletes = Vec::new();
        for drift in stored.drifts(user)? {
            match drift {
                Drift::MissingEntry { sk } => puts.extend(expected.remove(&sk)),
                Drift::ExtraItem { sk } => deletes.push(self.key(user, sk)),
                Drift::Usage { photos, bytes, .. } => self.set_numbers(user, USAGE_SK, &[("photos", photos), ("bytes", bytes)]).await?,
                Drift::Album { label, photos: 0, .. } => deletes.push(self.key(user, album_sk(&label))),
                Drift::Album { label, photos, .. } => {
                    let cover = stored
                        .records
                        .values()
                        .rev()
                        .find(|record| record.status != ImageStatus::Uploading && record.labels.iter().any(|l| l.name == label))
                        .map(|record| record.id.to_string());
                    let sk = album_sk(&label);
                    puts.push(dynamo::to_item(AlbumItem { pk: user.as_str().to_owned(), sk, label, photos, cover })?);
                }
                Drift::Place { sk, photos: 0, .. } => deletes.push(self.key(user, sk)),
                Drift::Place { sk, photos, .. } => {
                    let newest = stored.records.values().rev().find(|record| {
                        record.status != ImageStatus::Uploading && record.place.as_ref().is_some_and(|place| place_count_sk(place) == sk)
                    });
                    if let Some((record, place)) = newest.and_then(|record| Some((record, record.place.as_ref()?))) {
                        puts.push(dynamo::to_item(PlaceCountItem {
                            pk: user.as_str().to_owned(),
                            sk,
                            city: place.city.clone(),
                            region: place.region.clone(),
                            country: place.country.clone(),
                            country_code: place.country_code.clone(),
                            photos,
                            cover: Some(record.id.to_string()),
                        })?);
                    }
                }
                Drift::Person { person, faces: 0, .. } => deletes.push(self.key(user, format!("{PERSON_PREFIX}{person}"))),
                Drift::Person { person, faces, photos, .. } => {
                    self.set_numbers(user, &format!("{PERSON_PREFIX}{person}"), &[("face_count", faces), ("photo_count", photos)]).await?;
                }
                Drift::OrphanObject { .. } | Drift::RecordWithoutObject { .. } | Drift::MissingFace { .. } => {}
            }
        }
        let requests =
            puts.into_iter().map(dynamo::put_request).chain(deletes.into_iter().map(dynamo::delete_request)).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, requests).await?;
        let left = self.check(user, photos).await?;
        Ok((found, left))
    }

    async fn set_numbers(&self, user: &UserName, sk: &str, values: &[(&str, i64)]) -> Result<()> {
        let assignments: Vec<String> = (0..values.len()).map(|i| format!("#n{i} = :v{i}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, sk)))
            .update_expression(format!("SET {}", assignments.join(", ")));
        for (i, (name, value)) in values.iter().enumerate() {
            update = update.expression_attribute_names(format!("#n{i}"), *name).expression_attribute_values(format!(":v{i}"), n(value));
        }
        update.send().await.map_err(aws_error("UpdateItem recount"))?;
        Ok(())
    }
}
