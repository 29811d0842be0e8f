//! Persons in the images table, in the user's partition:
//! - `people`: the user's grouping version, the optimistic lock every change of persons takes
//!   (two analyses of photos of one new person cannot both start it: the second retries and
//!   finds the first's person);
//! - `person#<id>`: a person, with the sum of its faces' descriptors (its centre) and counts;
//! - `person#<id>` with `merged_into`: a person the user merged into another;
//! - `image#<id>#grouped`: which person each face of a photo joined, with the descriptors, so
//!   that a redelivery gets the same answer and a deletion takes the faces out exactly. Its
//!   person ids are read through the merges (a merge rewrites the photos it finds in the index,
//!   which may not list a photo grouped a moment before).
//!
//! Reading the candidates is one Query of the `person#` items: it costs the number of the
//! user's persons (and merges), never the number of their faces.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use async_trait::async_trait;
use domain::{ImageIndex, PersonStore};

use super::DynamoImages;
use super::keys::{FaceItem, face_items_prefix, face_sk, record_sk};
use crate::dynamo::{self, Item, from_item, n, to_item};
use domain::error::{Error, Result};
use domain::grouping::{self, Centre, Grouped, Member, Merged, MergedBy, PhotoFaces, assign};
use domain::model::{Face, FaceId, FaceMatch, FoundFace, ImageId, ImageRecord, Person, PersonChange, PersonId, Search, UserName};

const PEOPLE_SK: &str = "people";
const PERSON_PREFIX: &str = "person#";

fn person_sk(id: PersonId) -> String {
    format!("{PERSON_PREFIX}{id}")
}

fn grouped_sk(id: ImageId) -> String {
    format!("{}#grouped", record_sk(id))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PersonItem {
    pk: String,
    sk: String,
    person_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default)]
    hidden: bool,
    face_count: u64,
    photo_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cover: Option<String>,
    sum: Vec<f32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    confirmed: bool,
    /// Person ids as written: some may have been merged into others since ([`People`] reads
    /// them through the merges).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    apart_from: Vec<String>,
}

impl PersonItem {
    fn of(user: &UserName, person: &Person, centre: &Centre) -> Self {
        Self {
            pk: user.to_string(),
            sk: person_sk(person.id),
            person_id: person.id.to_string(),
            name: person.name.clone(),
            hidden: person.hidden,
            face_count: person.face_count,
            photo_count: person.photo_count,
            cover: person.cover.map(|cover| cover.to_string()),
            sum: centre.sum.clone(),
            confirmed: person.confirmed,
            apart_from: person.apart_from.iter().map(ToString::to_string).collect(),
        }
    }

    fn member(self) -> Result<(Person, Centre)> {
        let person = Person {
            id: PersonId::parse(&self.person_id)?,
            name: self.name,
            hidden: self.hidden,
            face_count: self.face_count,
            photo_count: self.photo_count,
            cover: self.cover.as_deref().map(FaceId::parse).transpose()?,
            confirmed: self.confirmed,
            apart_from: self.apart_from.iter().map(|id| PersonId::parse(id)).collect::<Result<_>>()?,
        };
        Ok((person, Centre { sum: self.sum, faces: self.face_count }))
    }
}

/// A person merged into another, kept so that its id, where a photo still has it, is read as
/// the other's.
#[derive(Debug, Serialize, Deserialize)]
struct MergedItem {
    pk: String,
    sk: String,
    person_id: String,
    merged_into: String,
}

/// The user's persons, with the ids merged away.
#[derive(Default)]
struct People {
    members: Vec<Member>,
    merged: Merged,
}

impl People {
    fn member(&self, id: PersonId) -> Option<&Member> {
        self.members.iter().find(|(person, _)| person.id == id)
    }
}

/// One face of a grouped photo: whose, its descriptor, and the engine's id of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupedFace {
    person_id: Option<String>,
    descriptor: Vec<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    engine_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupedItem {
    pk: String,
    sk: String,
    faces: Vec<GroupedFace>,
}

impl GroupedItem {
    /// The photo's faces, their persons read through `merged`.
    fn faces(&self, merged: &Merged) -> Result<PhotoFaces> {
        self.faces
            .iter()
            .map(|face| {
                let person = face.person_id.as_deref().map(PersonId::parse).transpose()?;
                Ok((person.map(|person| grouping::resolve(merged, person)), face.descriptor.clone()))
            })
            .collect()
    }

    /// This photo's grouping with its faces in the persons `faces` says.
    fn regrouped(&self, faces: &PhotoFaces) -> Self {
        let mut item = self.clone();
        for (face, (person, descriptor)) in item.faces.iter_mut().zip(faces) {
            face.person_id = person.map(|person| person.to_string());
            face.descriptor.clone_from(descriptor);
        }
        item
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PeopleItem {
    pk: String,
    sk: String,
    version: u64,
}

/// A person's item, as grouping writes it (for bulk loading).
#[cfg(feature = "bulk")]
pub(super) fn person_item(user: &UserName, member: &Member) -> Result<Item> {
    to_item(PersonItem::of(user, &member.0, &member.1))
}

/// A grouped photo's grouping item, as grouping writes it (for bulk loading).
#[cfg(feature = "bulk")]
pub(super) fn grouped_item(user: &UserName, id: ImageId, faces: &PhotoFaces) -> Result<Item> {
    let faces = faces
        .iter()
        .map(|(person, descriptor)| GroupedFace {
            person_id: person.map(|person| person.to_string()),
            descriptor: descriptor.clone(),
            engine_id: None,
        })
        .collect();
    to_item(GroupedItem { pk: user.to_string(), sk: grouped_sk(id), faces })
}

impl DynamoImages {
    /// The user's persons with their centres, and the merges: one Query of the person items.
    async fn people(&self, user: &UserName) -> Result<People> {
        let mut people = People::default();
        for item in dynamo::partition(&self.client, &self.table, user.as_str(), Some(PERSON_PREFIX)).await? {
            if item.contains_key("merged_into") {
                let merged = from_item::<MergedItem>(item)?;
                people.merged.insert(PersonId::parse(&merged.person_id)?, PersonId::parse(&merged.merged_into)?);
            } else {
                people.members.push(from_item::<PersonItem>(item)?.member()?);
            }
        }
        // Someone else than a person merged away is someone else than the one it went into.
        for (person, _) in &mut people.members {
            let own = person.id;
            person.apart_from = person.apart_from.iter().map(|id| grouping::resolve(&people.merged, *id)).filter(|id| *id != own).collect();
        }
        Ok(people)
    }

    /// The persons (as grouped, before merges) of the earlier faces an engine matched with
    /// `faces`, by the engine's face id: read from the matched photos' groupings.
    async fn matched_persons(&self, user: &UserName, faces: &[FoundFace]) -> Result<HashMap<String, PersonId>> {
        let photos: BTreeSet<ImageId> = faces.iter().flat_map(|face| &face.matches).map(|found| found.image).collect();
        let mut persons = HashMap::new();
        for photo in photos {
            let Some(marker) = self.marker(user, photo).await? else { continue };
            for face in marker.faces {
                if let (Some(engine_id), Some(person)) = (face.engine_id, face.person_id) {
                    persons.insert(engine_id, PersonId::parse(&person)?);
                }
            }
        }
        Ok(persons)
    }

    /// A person who lost its cover with a face of photo `left` but keeps faces gets another:
    /// its face on its newest other photo (from the index: one short Query and one read).
    async fn recover(&self, user: &UserName, (person, _): &mut Member, left: ImageId, merged: &Merged) -> Result<()> {
        if person.cover.is_some() || person.face_count == 0 {
            return Ok(());
        }
        let search = Search { persons: vec![person.id], ..Search::default() };
        let page = self.search(user, &search, 2, None).await?;
        let Some(photo) = page.items.iter().map(|hit| hit.id).find(|photo| *photo != left) else { return Ok(()) };
        let Some(marker) = self.marker(user, photo).await? else { return Ok(()) };
        person.cover = grouping::face_of(&marker.faces(merged)?, person.id).map(|index| FaceId { image: photo, index });
        Ok(())
    }

    /// The grouping version the lock checks (none before the user's first person).
    async fn version(&self, user: &UserName) -> Result<Option<u64>> {
        Ok(self.get_sk::<PeopleItem>(user, PEOPLE_SK.into(), "GetItem people").await?.map(|people| people.version))
    }

    async fn marker(&self, user: &UserName, id: ImageId) -> Result<Option<GroupedItem>> {
        self.get_sk::<GroupedItem>(user, grouped_sk(id), "GetItem grouped faces").await
    }

    /// A person's item in a transaction: written, or deleted once it has no face.
    fn write_member(&self, user: &UserName, member: &Member) -> Result<TransactWriteItem> {
        if member.0.face_count == 0 {
            self.delete_in_transaction(user, person_sk(member.0.id), None)
        } else {
            self.put_member(user, member)
        }
    }

    fn put_member(&self, user: &UserName, (person, centre): &(Person, Centre)) -> Result<TransactWriteItem> {
        self.plain_put(to_item(PersonItem::of(user, person, centre))?)
    }

    /// A delete within a transaction, under `condition` when there is one.
    fn delete_in_transaction(&self, user: &UserName, sk: String, condition: Option<&str>) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(user, sk)))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    fn plain_put(&self, item: Item) -> Result<TransactWriteItem> {
        let put = Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The lock: the version read must still be there (or still absent), and becomes the next.
    fn take_lock(&self, user: &UserName, version: Option<u64>) -> Result<TransactWriteItem> {
        let next = to_item(PeopleItem { pk: user.to_string(), sk: PEOPLE_SK.into(), version: version.map_or(1, |v| v + 1) })?;
        match version {
            None => self.put(next, "attribute_not_exists(pk)", &[], Item::new()),
            Some(version) => {
                self.put(next, "#version = :version", &[("#version", "version")], Item::from([(":version".to_owned(), n(version))]))
            }
        }
    }

    /// Takes a photo's grouped faces out of their persons (a person left with no face goes)
    /// and removes the photo's grouping; nothing when the photo was never grouped.
    pub(super) async fn ungroup(&self, user: &UserName, id: ImageId) -> Result<()> {
        loop {
            let Some(marker) = self.marker(user, id).await? else { return Ok(()) };
            let version = self.version(user).await?;
            let people = self.people(user).await?;
            let faces = marker.faces(&people.merged)?;
            let mut members: BTreeMap<PersonId, Member> = people.members.into_iter().map(|member| (member.0.id, member)).collect();
            let mut changed: BTreeSet<PersonId> = BTreeSet::new();
            for (person_id, descriptor) in &faces {
                let Some(person_id) = person_id else { continue };
                let Some((person, centre)) = members.get_mut(person_id) else { continue };
                grouping::leave(person, centre, descriptor, id);
                changed.insert(*person_id);
            }
            for person_id in &changed {
                self.recover(user, members.get_mut(person_id).expect("changed persons are members"), id, &people.merged).await?;
            }
            let mut transaction =
                vec![self.take_lock(user, version)?, self.delete_in_transaction(user, grouped_sk(id), Some("attribute_exists(pk)"))?];
            for person_id in &changed {
                transaction.push(self.write_member(user, &members[person_id])?);
            }
            match self.transact(transaction, "TransactWriteItems ungroup faces").await? {
                Ok(()) => return Ok(()),
                Err(_) => continue,
            }
        }
    }

    /// A photo's record, face items and entries say the persons `faces` says; the record as
    /// written, or `None` when the photo is gone.
    async fn regroup_photo(&self, user: &UserName, id: ImageId, faces: &PhotoFaces) -> Result<Option<ImageRecord>> {
        let persons: Vec<Option<String>> = faces.iter().map(|(person, _)| person.map(|person| person.to_string())).collect();
        let regrouped = |record: &mut ImageRecord| {
            if record.faces.iter().map(|face| &face.person_id).eq(persons.iter()) {
                return false;
            }
            for (face, person) in record.faces.iter_mut().zip(&persons) {
                face.person_id.clone_from(person);
            }
            true
        };
        let Some(record) = self.revise(user, id, "TransactWriteItems regrouped image", regrouped).await? else { return Ok(None) };
        let mut descriptors = vec![Vec::new(); record.faces.len()];
        for item in dynamo::partition(&self.client, &self.table, user.as_str(), Some(&face_items_prefix(id))).await? {
            let item = from_item::<FaceItem>(item)?;
            if let Some(slot) = descriptors.get_mut(item.face.index as usize) {
                *slot = item.descriptor;
            }
        }
        self.write_entries(user, &record, &descriptors).await?;
        Ok(Some(record))
    }
}

#[async_trait]
impl PersonStore for DynamoImages {
    /// Groups a photo's faces into the user's persons, once (see [`domain::ImageStore::group_faces`]).
    async fn group_faces(&self, user: &UserName, id: ImageId, faces: &[FoundFace], grouped: &[bool], max_distance: f32) -> Result<Grouped> {
        let matched = self.matched_persons(user, faces).await?;
        loop {
            let marker = self.marker(user, id).await?;
            let version = self.version(user).await?;
            let people = self.people(user).await?;
            if let Some(marker) = marker {
                let persons = marker.faces(&people.merged)?.into_iter().map(|(person, _)| person).collect();
                return Ok(Grouped::of(persons, &people.members, max_distance));
            }
            let to_group = grouping::to_group(faces, grouped);
            let centres: Vec<Centre> = people.members.iter().map(|(_, centre)| centre.clone()).collect();
            let person_of = |found: &FaceMatch| {
                let person = grouping::resolve(&people.merged, *matched.get(&found.engine_id)?);
                people.members.iter().position(|(member, _)| member.id == person)
            };
            let chosen = assign(faces, &to_group, &centres, max_distance, person_of);
            let mut members = people.members;

            let mut touched: BTreeSet<usize> = BTreeSet::new();
            let mut result = Vec::with_capacity(faces.len());
            let mut marker = Vec::with_capacity(faces.len());
            for ((face, joins), index) in faces.iter().zip(&chosen).zip(0u32..) {
                let engine_id = face.engine_id.clone();
                if !to_group[index as usize] {
                    result.push(None);
                    marker.push(GroupedFace { person_id: None, descriptor: Vec::new(), engine_id });
                    continue;
                }
                let joined = joins.unwrap_or_else(|| {
                    members.push(grouping::start());
                    members.len() - 1
                });
                touched.insert(joined);
                let (person, centre) = &mut members[joined];
                grouping::join(person, centre, &face.descriptor, FaceId { image: id, index });
                result.push(Some(person.id));
                marker.push(GroupedFace { person_id: Some(person.id.to_string()), descriptor: face.descriptor.clone(), engine_id });
            }

            let record = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(self.key(user, record_sk(id))))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(|err| Error::Internal(err.to_string()))?;
            let mut transaction = vec![
                self.take_lock(user, version)?,
                TransactWriteItem::builder().condition_check(record).build(),
                self.put(
                    to_item(GroupedItem { pk: user.to_string(), sk: grouped_sk(id), faces: marker })?,
                    "attribute_not_exists(pk)",
                    &[],
                    Item::new(),
                )?,
            ];
            for index in &touched {
                transaction.push(self.put_member(user, &members[*index])?);
            }
            match self.transact(transaction, "TransactWriteItems group faces").await? {
                Ok(()) => return Ok(Grouped::of(result, &members, max_distance)),
                Err(refusal) if refusal.index == 1 => return Err(Error::NotFound(format!("image {id} was deleted"))),
                // Another change of this user's persons came first: read again.
                Err(_) => continue,
            }
        }
    }

    /// Names or hides a person, under the lock (grouping rewrites person items too).
    async fn update_person(&self, user: &UserName, id: PersonId, change: &PersonChange) -> Result<Person> {
        loop {
            let version = self.version(user).await?;
            let members = self.people(user).await?.members;
            let persons: Vec<Person> = members.iter().map(|(person, _)| person.clone()).collect();
            let Some(index) = persons.iter().position(|person| person.id == id) else {
                return Err(Error::NotFound(format!("no person {id}")));
            };
            let mut person = persons[index].clone();
            change.apply(&mut person, &persons)?;
            let transaction = vec![self.take_lock(user, version)?, self.put_member(user, &(person.clone(), members[index].1.clone()))?];
            match self.transact(transaction, "TransactWriteItems change person").await? {
                Ok(()) => return Ok(person),
                Err(_) => continue,
            }
        }
    }

    /// The user's persons, most photos first (then by id).
    async fn persons(&self, user: &UserName) -> Result<Vec<Person>> {
        let mut persons: Vec<Person> = self.people(user).await?.members.into_iter().map(|(person, _)| person).collect();
        Person::sort_for_listing(&mut persons);
        Ok(persons)
    }

    /// Moves a face to another person or a new one (see [`domain::ImageStore::move_face`]).
    async fn move_face(&self, user: &UserName, face: FaceId, to: Option<PersonId>) -> Result<Face> {
        let not_found = || Error::NotFound(format!("no face {face}"));
        let index = face.index as usize;
        let faces = loop {
            let marker = self.marker(user, face.image).await?.filter(|marker| index < marker.faces.len()).ok_or_else(not_found)?;
            let version = self.version(user).await?;
            let mut people = self.people(user).await?;
            let mut faces = marker.faces(&people.merged)?;
            // A face left out of grouping has its descriptor on its face item only.
            let descriptor = match &faces[index].1 {
                grouped if !grouped.is_empty() => grouped.clone(),
                _ => self
                    .get_sk::<FaceItem>(user, face_sk(face.image, face.index), "GetItem face")
                    .await?
                    .map(|item| item.descriptor)
                    .unwrap_or_default(),
            };
            let changed = grouping::move_face(&mut people.members, face.image, &mut faces, index, &descriptor, to)?;
            if changed.is_empty() {
                break faces;
            }
            for member in people.members.iter_mut().filter(|(person, _)| changed.contains(&person.id)) {
                self.recover(user, member, face.image, &people.merged).await?;
            }
            let mut transaction = vec![
                self.take_lock(user, version)?,
                self.put(to_item(marker.regrouped(&faces))?, "attribute_exists(pk)", &[], Item::new())?,
            ];
            for id in changed {
                let member = people.member(id).ok_or_else(|| Error::Internal(format!("person {id} vanished while moving a face")))?;
                transaction.push(self.write_member(user, member)?);
            }
            match self.transact(transaction, "TransactWriteItems move face").await? {
                Ok(()) => break faces,
                Err(refusal) if refusal.index == 1 => return Err(not_found()),
                Err(_) => continue,
            }
        };
        let record = self.regroup_photo(user, face.image, &faces).await?.ok_or_else(not_found)?;
        record.faces.get(index).cloned().ok_or_else(not_found)
    }

    async fn members(&self, user: &UserName) -> Result<Vec<Member>> {
        Ok(self.people(user).await?.members)
    }

    /// Records on both persons that they are different people, under the lock.
    async fn keep_apart(&self, user: &UserName, a: PersonId, b: PersonId) -> Result<()> {
        loop {
            let version = self.version(user).await?;
            let mut people = self.people(user).await?;
            let changed = grouping::keep_apart(&mut people.members, a, b)?;
            let mut transaction = vec![self.take_lock(user, version)?];
            for id in changed {
                let member = people.member(id).ok_or_else(|| Error::Internal(format!("person {id} vanished while kept apart")))?;
                transaction.push(self.put_member(user, member)?);
            }
            match self.transact(transaction, "TransactWriteItems keep persons apart").await? {
                Ok(()) => return Ok(()),
                Err(_) => continue,
            }
        }
    }

    /// Merges persons into one (see [`domain::ImageStore::merge_persons`]): the persons change
    /// in one transaction under the lock, then each photo of the merged persons is rewritten.
    async fn merge_persons(&self, user: &UserName, into: PersonId, from: &[PersonId], by: MergedBy) -> Result<Person> {
        let mut photos: BTreeSet<ImageId> = BTreeSet::new();
        for id in from {
            let search = Search { persons: vec![*id], ..Search::default() };
            let mut after = None;
            loop {
                let page = self.search(user, &search, 1000, after.as_ref()).await?;
                photos.extend(page.items.iter().map(|hit| hit.id));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        let (merged, people) = loop {
            let version = self.version(user).await?;
            let mut people = self.people(user).await?;
            let mut faces = Vec::with_capacity(photos.len());
            for id in &photos {
                if let Some(marker) = self.marker(user, *id).await? {
                    faces.push(marker.faces(&people.merged)?);
                }
            }
            let merged = grouping::merge(&mut people.members, into, from, &mut faces, by)?;
            let kept = people.member(into).ok_or_else(|| Error::NotFound(format!("no person {into}")))?;
            let mut transaction = vec![self.take_lock(user, version)?, self.put_member(user, kept)?];
            for id in from {
                let item =
                    MergedItem { pk: user.to_string(), sk: person_sk(*id), person_id: id.to_string(), merged_into: into.to_string() };
                transaction.push(self.plain_put(to_item(item)?)?);
                people.merged.insert(*id, into);
            }
            match self.transact(transaction, "TransactWriteItems merge persons").await? {
                Ok(()) => break (merged, people),
                Err(_) => continue,
            }
        };
        for id in photos {
            if let Some(marker) = self.marker(user, id).await? {
                self.regroup_photo(user, id, &marker.faces(&people.merged)?).await?;
            }
        }
        Ok(merged)
    }
}
