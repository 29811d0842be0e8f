//! Persons in the images table, in the user's partition:
//! - `people`: the user's grouping version, the optimistic lock every change of persons takes
//!   (two analyses of photos of one new person cannot both start it: the second retries and
//!   finds the first's person);
//! - `person#<id>`: a person, with the sum of its faces' descriptors (its centre) and counts;
//! - `image#<id>#grouped`: which person each face of a photo joined, with the descriptors, so
//!   that a redelivery gets the same answer and a deletion takes the faces out exactly.
//!
//! Reading the candidates is one Query of the `person#` items: it costs the number of the
//! user's persons, never the number of their faces.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::DynamoImages;
use super::keys::record_sk;
use crate::dynamo::{self, Item, from_item, n, to_item};
use crate::error::{Error, Result};
use crate::grouping::{self, Centre, assign};
use crate::model::{FaceId, FoundFace, ImageId, Person, PersonChange, PersonId, UserName};

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
        };
        Ok((person, Centre { sum: self.sum, faces: self.face_count }))
    }
}

/// One face of a grouped photo: whose, and its descriptor.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupedFace {
    person_id: Option<String>,
    descriptor: Vec<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupedItem {
    pk: String,
    sk: String,
    faces: Vec<GroupedFace>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PeopleItem {
    pk: String,
    sk: String,
    version: u64,
}

impl DynamoImages {
    /// The user's persons with their centres: one Query of the person items.
    async fn members(&self, user: &UserName) -> Result<Vec<(Person, Centre)>> {
        dynamo::partition(&self.client, &self.table, user.as_str(), Some(PERSON_PREFIX))
            .await?
            .into_iter()
            .map(|item| from_item::<PersonItem>(item)?.member())
            .collect()
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
            Some(version) => self.put(next, "#version = :version", &[("#version", "version")], Item::from([(":version".to_owned(), n(version))])),
        }
    }

    /// Groups a photo's faces into the user's persons, once (see [`crate::ImageStore::group_faces`]).
    pub(super) async fn group(&self, user: &UserName, id: ImageId, faces: &[FoundFace], grouped: &[bool], max_distance: f32) -> Result<Vec<Option<PersonId>>> {
        loop {
            if let Some(marker) = self.get_sk::<GroupedItem>(user, grouped_sk(id), "GetItem grouped faces").await? {
                return marker.faces.iter().map(|face| face.person_id.as_deref().map(PersonId::parse).transpose()).collect();
            }
            let version = self.get_sk::<PeopleItem>(user, PEOPLE_SK.into(), "GetItem people").await?.map(|people| people.version);
            let mut members = self.members(user).await?;
            let descriptors = grouping::descriptors(faces, grouped);
            let centres: Vec<Centre> = members.iter().map(|(_, centre)| centre.clone()).collect();
            let chosen = assign(&descriptors, &centres, max_distance);

            let mut touched: BTreeSet<usize> = BTreeSet::new();
            let mut result = Vec::with_capacity(faces.len());
            let mut marker = Vec::with_capacity(faces.len());
            for ((descriptor, joins), index) in descriptors.iter().zip(&chosen).zip(0u32..) {
                let Some(descriptor) = descriptor else {
                    result.push(None);
                    marker.push(GroupedFace { person_id: None, descriptor: Vec::new() });
                    continue;
                };
                let joined = joins.unwrap_or_else(|| {
                    members.push(grouping::start());
                    members.len() - 1
                });
                touched.insert(joined);
                let (person, centre) = &mut members[joined];
                grouping::join(person, centre, descriptor, FaceId { image: id, index });
                result.push(Some(person.id));
                marker.push(GroupedFace { person_id: Some(person.id.to_string()), descriptor: descriptor.to_vec() });
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
                self.put(to_item(GroupedItem { pk: user.to_string(), sk: grouped_sk(id), faces: marker })?, "attribute_not_exists(pk)", &[], Item::new())?,
            ];
            for index in &touched {
                transaction.push(self.put_member(user, &members[*index])?);
            }
            match self.transact(transaction, "TransactWriteItems group faces").await? {
                Ok(()) => return Ok(result),
                Err(refusal) if refusal.index == 1 => return Err(Error::NotFound(format!("image {id} was deleted"))),
                // Another change of this user's persons came first: read again.
                Err(_) => continue,
            }
        }
    }

    /// Takes a photo's grouped faces out of their persons (a person left with no face goes)
    /// and removes the photo's grouping; nothing when the photo was never grouped.
    pub(super) async fn ungroup(&self, user: &UserName, id: ImageId) -> Result<()> {
        loop {
            let Some(marker) = self.get_sk::<GroupedItem>(user, grouped_sk(id), "GetItem grouped faces").await? else { return Ok(()) };
            let version = self.get_sk::<PeopleItem>(user, PEOPLE_SK.into(), "GetItem people").await?.map(|people| people.version);
            let mut members: BTreeMap<String, (Person, Centre)> =
                self.members(user).await?.into_iter().map(|member| (member.0.id.to_string(), member)).collect();
            let mut changed: BTreeSet<String> = BTreeSet::new();
            for face in &marker.faces {
                let Some(person_id) = &face.person_id else { continue };
                let Some((person, centre)) = members.get_mut(person_id) else { continue };
                grouping::leave(person, centre, &face.descriptor, id);
                changed.insert(person_id.clone());
            }
            let mut transaction = vec![
                self.take_lock(user, version)?,
                self.delete_in_transaction(user, grouped_sk(id), Some("attribute_exists(pk)"))?,
            ];
            for person_id in &changed {
                let member = &members[person_id];
                if member.0.face_count == 0 {
                    transaction.push(self.delete_in_transaction(user, person_sk(member.0.id), None)?);
                } else {
                    transaction.push(self.put_member(user, member)?);
                }
            }
            match self.transact(transaction, "TransactWriteItems ungroup faces").await? {
                Ok(()) => return Ok(()),
                Err(_) => continue,
            }
        }
    }

    /// Names or hides a person, under the lock (grouping rewrites person items too).
    pub(super) async fn change_person(&self, user: &UserName, id: PersonId, change: &PersonChange) -> Result<Person> {
        loop {
            let version = self.get_sk::<PeopleItem>(user, PEOPLE_SK.into(), "GetItem people").await?.map(|people| people.version);
            let members = self.members(user).await?;
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
    pub(super) async fn read_persons(&self, user: &UserName) -> Result<Vec<Person>> {
        let mut persons: Vec<Person> = self.members(user).await?.into_iter().map(|(person, _)| person).collect();
        Person::sort_for_listing(&mut persons);
        Ok(persons)
    }
}
