//! The images table's key schema and item types. One partition per user (`pk` = user name),
//! items told apart by `sk`:
//! - `image#<id>`: the record; listed through index `entries` under `<user>#image`
//!   (uploading records have no `entry_pk`, so the sparse index leaves them out, and carry
//!   `expires_at` for the table's TTL);
//! - `image#<id>#label#<label>`, `#person#<id>`, `#word#<word>`: one entry per label, person
//!   and word, found through index `entries` under `<user>#label#<label>` (and `#person#`,
//!   `#word#`), carrying what an AND search that reads it filters by ([`EntryItem`]);
//! - `image#<id>#taken`: an analysed image's entry under `<user>#taken`, sorted by when it was
//!   taken ([`taken_entry`]);
//! - `image#<id>#face#<n>`: one item per face (most confident first), with its descriptor;
//! - `image#<id>#favourite`: the image is a favourite, listed through index `entries` under
//!   `<user>#favourite` ([`ListedImage`]);
//! - `image#<id>#collection#<collection id>`: the image is in a collection, listed through
//!   index `entries` under `<user>#collection#<collection id>` ([`ListedImage`]);
//! - `collection#<id>`: a collection's fields ([`CollectionItem`]); `collection#<id>#member#<user>`
//!   each member's role ([`MemberItem`]); `collection#<id>#link#<link id>` each link
//!   ([`LinkItem`]; the secret's digest opens it through the users table's stack-wide item);
//! - `shared#<collection id>`: another user's collection shared with this one ([`SharedItem`]);
//! - `usage`: the user's photo and byte counters ([`super::quotas`]);
//! - `album#<label>`: an album's photo count and cover ([`super::albums`]).

use serde::{Deserialize, Serialize};

use crate::dynamo::{Item, to_item};
use domain::collections::{Collection, Role};
use domain::error::Result;
use domain::links::Link;
use domain::model::{CollectionId, Face, ImageId, ImageRecord, ImageStatus, Label, LinkId, TextLine, UserName, parse_rfc3339, rfc3339};
use domain::places::Place;

pub const USAGE_SK: &str = "usage";
pub const ALBUM_PREFIX: &str = "album#";

/// Uploading records expire (DynamoDB TTL on [`contract::names::IMAGES_EXPIRES_AT`]) when
/// their upload was abandoned.
pub const UPLOAD_RECORD_LIFETIME: time::Duration = time::Duration::hours(24);

/// The condition that the record is still the version that was read.
pub const SAME_VERSION: &str = "attribute_exists(pk) AND (attribute_not_exists(analysis_version) OR analysis_version = :version)";

pub fn record_sk(id: ImageId) -> String {
    format!("image#{id}")
}

/// The prefix of every item that belongs to an image besides its record: entries, faces, the
/// grouping marker.
pub fn items_prefix(id: ImageId) -> String {
    format!("{}#", record_sk(id))
}

pub fn label_sk(id: ImageId, label: &str) -> String {
    format!("image#{id}#label#{label}")
}

pub fn person_sk(id: ImageId, person: &str) -> String {
    format!("image#{id}#person#{person}")
}

/// The prefix of every person entry of an image.
pub fn person_entries_prefix(id: ImageId) -> String {
    format!("{}#person#", record_sk(id))
}

pub fn face_sk(id: ImageId, index: u32) -> String {
    format!("image#{id}#face#{index:03}")
}

/// The prefix of every face item of an image.
pub fn face_items_prefix(id: ImageId) -> String {
    format!("{}#face#", record_sk(id))
}

pub fn word_sk(id: ImageId, word: &str) -> String {
    format!("image#{id}#word#{word}")
}

/// The prefix of every word entry of an image.
pub fn word_entries_prefix(id: ImageId) -> String {
    format!("{}#word#", record_sk(id))
}

pub fn place_entries_prefix(id: ImageId) -> String {
    format!("{}#place#", record_sk(id))
}

/// The prefix of a user's place counters ([`PlaceCountItem`]).
pub const PLACE_COUNT_PREFIX: &str = "placecount#";

/// A place's counter: one per country, region and city (folded: two spellings count once).
pub fn place_count_sk(place: &Place) -> String {
    let fold = |name: &str| domain::places::fold_name(name).unwrap_or_default();
    format!("{PLACE_COUNT_PREFIX}{}#{}#{}", place.country_code, fold(&place.region), fold(&place.city))
}

/// A place's counter item: how many of the user's photos were taken there, and the newest.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlaceCountItem {
    pub pk: String,
    pub sk: String,
    pub city: String,
    pub region: String,
    pub country: String,
    pub country_code: String,
    #[serde(default)]
    pub photos: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
}

/// The index partition of a user's images with a word.
pub fn word_entry(user: &UserName, word: &str) -> String {
    format!("{user}#word#{word}")
}

/// An image's entry under one of its place's names (folded: city, region, country).
pub fn place_sk(id: ImageId, name: &str) -> String {
    format!("image#{id}#place#{name}")
}

/// The index partition of a user's images taken at a place of that name.
pub fn place_entry(user: &UserName, name: &str) -> String {
    format!("{user}#place#{name}")
}

/// An image's entry in the time partition.
pub fn taken_sk(id: ImageId) -> String {
    format!("{}#taken", record_sk(id))
}

/// The index partition of a user's analysed images by when they were taken.
pub fn taken_entry_pk(user: &UserName) -> String {
    format!("{user}#taken")
}

/// An image's sort key in the time partition: its taken key, then its id (two photos of the
/// same second newest upload first).
pub fn taken_entry_sk(taken_key: &str, id: ImageId) -> String {
    format!("{taken_key}#{id}")
}

/// The taken key and image of a sort key of the time partition.
pub fn parse_taken_entry_sk(entry_sk: &str) -> Result<(String, ImageId)> {
    let (key, id) =
        entry_sk.rsplit_once('#').ok_or_else(|| domain::Error::Internal(format!("time entry sort key {entry_sk:?} has no image id")))?;
    Ok((key.to_owned(), ImageId::parse(id)?))
}

/// The prefix of every label entry of an image.
pub fn label_entries_prefix(id: ImageId) -> String {
    format!("{}#label#", record_sk(id))
}

pub fn favourite_sk(id: ImageId) -> String {
    format!("{}#favourite", record_sk(id))
}

/// The index partition listing a user's favourite images.
pub fn favourites_entry(user: &UserName) -> String {
    format!("{user}#favourite")
}

/// An image listed in an index partition by its id only (a favourite, a collection's photo),
/// under the image's own key (deleting the image deletes it); the record is read for the rest
/// (it changes with every analysis: an entry carrying it would have to change too).
#[derive(Debug, Serialize, Deserialize)]
pub struct ListedImage {
    pub pk: String,
    pub sk: String,
    pub entry_pk: String,
    pub entry_sk: String,
    pub image_id: String,
}

impl ListedImage {
    /// The entry at `sk` listing image `id` under index partition `entry_pk`.
    pub fn of(user: &UserName, id: ImageId, sk: String, entry_pk: String) -> Self {
        Self { pk: user.to_string(), sk, entry_pk, entry_sk: id.to_string(), image_id: id.to_string() }
    }

    pub fn favourite(user: &UserName, id: ImageId) -> Self {
        Self::of(user, id, favourite_sk(id), favourites_entry(user))
    }

    pub fn in_collection(user: &UserName, id: ImageId, collection: CollectionId) -> Self {
        Self::of(user, id, collection_photo_sk(id, collection), collection_entry(user, collection))
    }

    pub fn image_id(&self) -> Result<ImageId> {
        ImageId::parse(&self.image_id)
    }
}

pub const COLLECTION_PREFIX: &str = "collection#";

pub fn collection_sk(id: CollectionId) -> String {
    format!("{COLLECTION_PREFIX}{id}")
}

/// A photo's membership of a collection, under the photo's key.
pub fn collection_photo_sk(image: ImageId, collection: CollectionId) -> String {
    format!("{}#collection#{collection}", record_sk(image))
}

/// The index partition listing a collection's photos.
pub fn collection_entry(user: &UserName, collection: CollectionId) -> String {
    format!("{user}#collection#{collection}")
}

/// The owner's side of sharing: a member of a collection and their role.
pub fn collection_member_sk(collection: CollectionId, member: &UserName) -> String {
    format!("{}#member#{member}", collection_sk(collection))
}

pub fn collection_members_prefix(collection: CollectionId) -> String {
    format!("{}#member#", collection_sk(collection))
}

/// The prefix of every item a collection has beside its own: members and links.
pub fn collection_items_prefix(collection: CollectionId) -> String {
    format!("{}#", collection_sk(collection))
}

/// Whether `sk` is a collection's own item (not one of its members' or links').
pub fn is_collection_sk(sk: &str) -> bool {
    sk.strip_prefix(COLLECTION_PREFIX).is_some_and(|rest| !rest.contains('#'))
}

pub fn collection_link_sk(collection: CollectionId, link: LinkId) -> String {
    format!("{}#link#{link}", collection_sk(collection))
}

pub fn collection_links_prefix(collection: CollectionId) -> String {
    format!("{}#link#", collection_sk(collection))
}

/// The owner's side of a link ([`domain::links::Link`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct LinkItem {
    pub pk: String,
    pub sk: String,
    pub link_id: String,
    pub collection_id: String,
    pub secret_digest: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub allow_download: bool,
}

impl LinkItem {
    pub fn of(link: &Link) -> Self {
        Self {
            pk: link.owner.to_string(),
            sk: collection_link_sk(link.collection, link.id),
            link_id: link.id.to_string(),
            collection_id: link.collection.to_string(),
            secret_digest: link.secret_digest.clone(),
            created_at: rfc3339(link.created_at),
            link_expires_at: link.expires_at.map(rfc3339),
            password_hash: link.password_hash.clone(),
            allow_download: link.allow_download,
        }
    }

    pub fn into_link(self) -> Result<Link> {
        Ok(Link {
            id: LinkId::parse(&self.link_id)?,
            owner: UserName::parse(&self.pk)?,
            collection: CollectionId::parse(&self.collection_id)?,
            secret_digest: self.secret_digest,
            created_at: parse_rfc3339(&self.created_at)?,
            expires_at: self.link_expires_at.as_deref().map(parse_rfc3339).transpose()?,
            password_hash: self.password_hash,
            allow_download: self.allow_download,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MemberItem {
    pub pk: String,
    pub sk: String,
    pub member: String,
    pub role: Role,
    /// Absent on items written before members' accounts were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_account_id: Option<String>,
}

/// The member's side: a collection of another user's shared with them (`shared#<id>`).
pub const SHARED_PREFIX: &str = "shared#";

pub fn shared_sk(collection: CollectionId) -> String {
    format!("{SHARED_PREFIX}{collection}")
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SharedItem {
    pub pk: String,
    pub sk: String,
    pub collection_id: String,
    pub owner: String,
}

/// A collection's own item (`collection#<id>`): its fields; its photos are [`ListedImage`]s.
#[derive(Debug, Serialize, Deserialize)]
pub struct CollectionItem {
    pub pk: String,
    pub sk: String,
    pub collection_id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    #[serde(default)]
    pub show_people: bool,
    #[serde(default)]
    pub show_places: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl CollectionItem {
    pub fn of(collection: &Collection) -> Self {
        Self {
            pk: collection.owner.to_string(),
            sk: collection_sk(collection.id),
            collection_id: collection.id.to_string(),
            title: collection.title.clone(),
            description: collection.description.clone(),
            cover: collection.cover.map(|cover| cover.to_string()),
            show_people: collection.show_people,
            show_places: collection.show_places,
            created_at: rfc3339(collection.created_at),
            updated_at: rfc3339(collection.updated_at),
        }
    }

    pub fn into_collection(self) -> Result<Collection> {
        Ok(Collection {
            id: CollectionId::parse(&self.collection_id)?,
            owner: UserName::parse(&self.pk)?,
            title: self.title,
            description: self.description,
            cover: self.cover.as_deref().map(ImageId::parse).transpose()?,
            show_people: self.show_people,
            show_places: self.show_places,
            created_at: parse_rfc3339(&self.created_at)?,
            updated_at: parse_rfc3339(&self.updated_at)?,
        })
    }
}

pub fn album_sk(label: &str) -> String {
    format!("{ALBUM_PREFIX}{label}")
}

/// The index partition listing a user's images.
pub fn images_entry(user: &UserName) -> String {
    format!("{user}#image")
}

/// The index partition of a user's images with a label.
pub fn label_entry(user: &UserName, label: &str) -> String {
    format!("{user}#label#{label}")
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ImageItem {
    pub pk: String,
    pub sk: String,
    pub image_id: String,
    pub status: ImageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub content_type: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub faces: Vec<Face>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text: Vec<TextLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_etag: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub favourite: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_sk: Option<String>,
    /// Epoch seconds; the table's TTL removes abandoned upload records. Named by the contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The record's revision ([`ImageRecord::revision`]): the condition that keeps album counts
    /// exact when an analysis and a deletion (or two deliveries) race. (Its name predates the
    /// revision's other uses; stored items keep it.)
    #[serde(default)]
    pub analysis_version: u64,
}

impl ImageItem {
    pub fn of(record: &ImageRecord) -> Self {
        let listed = record.status != ImageStatus::Uploading;
        Self {
            pk: record.user_name.to_string(),
            sk: record_sk(record.id),
            image_id: record.id.to_string(),
            status: record.status,
            failure_reason: record.failure_reason.clone(),
            content_type: record.content_type.clone(),
            size: record.size,
            width: record.width,
            height: record.height,
            taken_at: record.taken_at.clone(),
            created_at: rfc3339(record.created_at),
            labels: record.labels.clone(),
            faces: record.faces.clone(),
            text: record.text.clone(),
            words: record.words.clone(),
            color: record.color.clone(),
            object_etag: record.object_etag.clone(),
            favourite: record.favourite,
            place: record.place.clone(),
            entry_pk: listed.then(|| images_entry(&record.user_name)),
            entry_sk: listed.then(|| record.id.to_string()),
            expires_at: (!listed).then(|| (record.created_at + UPLOAD_RECORD_LIFETIME).unix_timestamp()),
            analysis_version: record.revision,
        }
    }

    pub fn into_record(self) -> Result<ImageRecord> {
        Ok(ImageRecord {
            user_name: UserName::parse(&self.pk)?,
            id: ImageId::parse(&self.image_id)?,
            status: self.status,
            failure_reason: self.failure_reason,
            content_type: self.content_type,
            size: self.size,
            width: self.width,
            height: self.height,
            taken_at: self.taken_at,
            created_at: parse_rfc3339(&self.created_at)?,
            labels: self.labels,
            faces: self.faces,
            text: self.text,
            words: self.words,
            color: self.color,
            object_etag: self.object_etag,
            favourite: self.favourite,
            place: self.place,
            revision: self.analysis_version,
        })
    }
}

/// A face of an image with its descriptor (the record lists its faces without them).
#[derive(Debug, Serialize, Deserialize)]
pub struct FaceItem {
    pub pk: String,
    pub sk: String,
    pub image_id: String,
    #[serde(flatten)]
    pub face: Face,
    pub descriptor: Vec<f32>,
}

/// The index partition of a user's images with a person.
pub fn person_entry(user: &UserName, person: &str) -> String {
    format!("{user}#person#{person}")
}

/// The face items of an analysed record, in the record's order, with each face's descriptor.
pub fn face_items(record: &ImageRecord, descriptors: &[Vec<f32>]) -> Result<Vec<Item>> {
    record
        .faces
        .iter()
        .zip(descriptors)
        .map(|(face, descriptor)| {
            to_item(FaceItem {
                pk: record.user_name.to_string(),
                sk: face_sk(record.id, face.index),
                image_id: record.id.to_string(),
                face: face.clone(),
                descriptor: descriptor.clone(),
            })
        })
        .collect()
}

/// What a search reads of any entry, label's, person's or word's.
#[derive(Debug, Deserialize)]
pub struct SearchEntry {
    pub image_id: String,
    pub labels: Vec<String>,
    pub content_type: String,
    pub created_at: String,
    #[serde(default)]
    pub taken_at: Option<String>,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    #[serde(default)]
    pub color: Option<String>,
}

/// The distinct persons on a record's faces.
pub fn persons_of(record: &ImageRecord) -> Vec<String> {
    let mut persons: Vec<String> = record.faces.iter().filter_map(|face| face.person_id.clone()).collect();
    persons.sort();
    persons.dedup();
    persons
}

/// An album's counter item: written by `count_in_album`'s update expression, read back as this.
#[derive(Debug, Serialize, Deserialize)]
pub struct AlbumItem {
    pub pk: String,
    pub sk: String,
    pub label: String,
    #[serde(default)]
    pub photos: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
}

/// An image's entry in index `entries` under one of its labels, persons, words or place names
/// (`term`), carrying what a search that reads it can filter by, so that an AND search reads
/// one partition's entries ([`super::search`]) and no entry carries more: every entry the
/// labels (a hit shows them); a person's also the persons after it in sort order, every word
/// and every place name (a search naming persons reads its first person's entries, whatever
/// else it names); a word's also the words after it and every place name (a search naming words
/// and no person reads its first word's); a place name's the names after it (a search naming
/// places and neither persons nor words reads its first place's); a label's nothing more (only
/// a search of labels alone reads a label's, the rarest one's).
#[derive(Debug, Serialize)]
struct EntryItem<'a, T: Serialize> {
    pk: &'a str,
    sk: String,
    entry_pk: String,
    entry_sk: String,
    image_id: String,
    #[serde(flatten)]
    term: T,
    labels: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    persons: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    words: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    places: Option<Vec<&'a str>>,
    content_type: &'a str,
    created_at: &'a str,
    /// The photo's [`domain::taken::taken_key`]: what a search with a time range filters by.
    taken: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    taken_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct LabelTerm<'a> {
    label: &'a str,
    confidence: f32,
}

#[derive(Debug, Serialize)]
struct PersonTerm<'a> {
    person_id: &'a str,
}

#[derive(Debug, Serialize)]
struct WordTerm<'a> {
    word: &'a str,
}

#[derive(Debug, Serialize)]
struct PlaceTerm<'a> {
    place: &'a str,
}

/// The time entry's term is its sort key.
#[derive(Debug, Serialize)]
struct TakenTerm {}

/// What an entry carries besides the labels: the terms a search that reads it can filter by.
#[derive(Debug, Default)]
struct Carried<'a> {
    persons: Option<Vec<&'a str>>,
    words: Option<Vec<&'a str>>,
    places: Option<Vec<&'a str>>,
}

/// The terms after `term` in sort order: a search reads the entries of its first person (or
/// word) in sort order and filters by the others, which all come after it.
fn after<'a>(terms: &'a [String], term: &str) -> Vec<&'a str> {
    terms.iter().map(String::as_str).filter(|other| *other > term).collect()
}

/// Where an entry is: its sort key, its index partition and its sort key there (the image id,
/// but for the time partition's).
struct At {
    sk: String,
    entry_pk: String,
    entry_sk: String,
}

impl At {
    /// An entry sorted by its image's id (newest upload first).
    fn by_id(id: ImageId, sk: String, entry_pk: String) -> Self {
        Self { sk, entry_pk, entry_sk: id.to_string() }
    }
}

/// The entries of an analysed record under `terms`: each where it is, its term and what it
/// carries.
fn entries<'a, T: Serialize>(record: &ImageRecord, terms: impl Iterator<Item = (At, T, Carried<'a>)>) -> Result<Vec<Item>> {
    let (user, created_at) = (record.user_name.to_string(), rfc3339(record.created_at));
    let taken = domain::taken::taken_key(record.taken_at.as_deref(), record.created_at);
    let labels: Vec<String> = record.labels.iter().map(|label| label.name.clone()).collect();
    terms
        .map(|(at, term, carried)| {
            to_item(EntryItem {
                pk: &user,
                sk: at.sk,
                entry_pk: at.entry_pk,
                entry_sk: at.entry_sk,
                image_id: record.id.to_string(),
                term,
                labels: &labels,
                persons: carried.persons,
                words: carried.words,
                places: carried.places,
                content_type: &record.content_type,
                created_at: &created_at,
                taken: &taken,
                taken_at: record.taken_at.as_deref(),
                width: record.width,
                height: record.height,
                color: record.color.as_deref(),
            })
        })
        .collect()
}

/// One entry per label of an analysed record; a search of labels alone reads the rarest
/// label's (not the first in sort order), so each carries every label and nothing more.
pub fn label_entries(record: &ImageRecord) -> Result<Vec<Item>> {
    let (id, user) = (record.id, &record.user_name);
    entries(
        record,
        record.labels.iter().map(|label| {
            let term = LabelTerm { label: &label.name, confidence: label.confidence };
            (At::by_id(id, label_sk(id, &label.name), label_entry(user, &label.name)), term, Carried::default())
        }),
    )
}

/// The folded names of a record's place, in sort order: what its place entries are under.
fn place_names(record: &ImageRecord) -> Vec<String> {
    let mut names = record.place.as_ref().map(Place::search_names).unwrap_or_default();
    names.sort();
    names
}

/// One entry per person on an analysed record, carrying the persons after it, every word and
/// every place name.
pub fn person_entries(record: &ImageRecord) -> Result<Vec<Item>> {
    let (id, user) = (record.id, &record.user_name);
    let persons = persons_of(record);
    let words: Vec<&str> = record.words.iter().map(String::as_str).collect();
    let places = place_names(record);
    let places: Vec<&str> = places.iter().map(String::as_str).collect();
    entries(
        record,
        persons.iter().map(|person| {
            let carried = Carried { persons: Some(after(&persons, person)), words: Some(words.clone()), places: Some(places.clone()) };
            (At::by_id(id, person_sk(id, person), person_entry(user, person)), PersonTerm { person_id: person }, carried)
        }),
    )
}

/// Every index entry of an analysed record: one per label, person, word and place name, and
/// its time entry.
pub fn entries_of(record: &ImageRecord) -> Result<Vec<Item>> {
    let mut entries = label_entries(record)?;
    entries.extend(person_entries(record)?);
    entries.extend(word_entries(record)?);
    entries.extend(place_entries(record)?);
    entries.extend(taken_entry(record)?);
    Ok(entries)
}

/// An analysed photo's entry in the time partition, sorted by when it was taken: a search with
/// a time range and neither person, word nor place reads it (a range of sort keys), filtering
/// by labels only.
pub fn taken_entry(record: &ImageRecord) -> Result<Vec<Item>> {
    if record.status != ImageStatus::Ready {
        return Ok(Vec::new());
    }
    let (id, user) = (record.id, &record.user_name);
    let key = domain::taken::taken_key(record.taken_at.as_deref(), record.created_at);
    let at = At { sk: taken_sk(id), entry_pk: taken_entry_pk(user), entry_sk: taken_entry_sk(&key, id) };
    entries(record, std::iter::once((at, TakenTerm {}, Carried::default())))
}

/// One entry per word an analysed record is found by, carrying the words after it and every
/// place name.
pub fn word_entries(record: &ImageRecord) -> Result<Vec<Item>> {
    let (id, user) = (record.id, &record.user_name);
    let places = place_names(record);
    let places: Vec<&str> = places.iter().map(String::as_str).collect();
    entries(
        record,
        record.words.iter().map(|word| {
            let carried = Carried { persons: None, words: Some(after(&record.words, word)), places: Some(places.clone()) };
            (At::by_id(id, word_sk(id, word), word_entry(user, word)), WordTerm { word }, carried)
        }),
    )
}

/// One entry per name of an analysed record's place (city, region, country), carrying the
/// names after it.
pub fn place_entries(record: &ImageRecord) -> Result<Vec<Item>> {
    let (id, user) = (record.id, &record.user_name);
    let names = place_names(record);
    entries(
        record,
        names.iter().map(|name| {
            let carried = Carried { places: Some(after(&names, name)), ..Carried::default() };
            (At::by_id(id, place_sk(id, name), place_entry(user, name)), PlaceTerm { place: name }, carried)
        }),
    )
}

#[cfg(test)]
mod tests {
    use contract::names::{IMAGES_ENTRIES_INDEX_KEY, IMAGES_EXPIRES_AT, PARTITION_KEY, SORT_KEY};

    use super::*;

    fn record(status: ImageStatus) -> ImageRecord {
        ImageRecord { size: 1, ..ImageRecord::new(&UserName::parse("alice").unwrap(), status, "image/jpeg") }
    }

    #[test]
    fn entries_carry_only_what_the_searches_that_read_them_filter_by() {
        let mut record = record(ImageStatus::Ready);
        record.labels = vec![Label { name: "cat".into(), confidence: 90.0 }, Label { name: "pet".into(), confidence: 80.0 }];
        record.words = vec!["zebra".into(), "apple".into(), "mango".into()];
        let words_of = |item: &Item| -> Option<Vec<String>> {
            item.get("words").map(|words| words.as_l().unwrap().iter().map(|word| word.as_s().unwrap().clone()).collect())
        };
        let words = word_entries(&record).unwrap();
        let carried: Vec<(String, Option<Vec<String>>)> =
            words.iter().map(|item| (item["word"].as_s().unwrap().clone(), words_of(item))).collect();
        assert_eq!(
            carried,
            [
                ("zebra".to_owned(), Some(vec![])),
                ("apple".to_owned(), Some(vec!["zebra".to_owned(), "mango".to_owned()])),
                ("mango".to_owned(), Some(vec!["zebra".to_owned()])),
            ]
        );
        for item in label_entries(&record).unwrap() {
            assert_eq!(item["labels"].as_l().unwrap().len(), 2, "every entry carries the labels a hit shows");
            assert!(!item.contains_key("words") && !item.contains_key("persons"), "{item:?}");
        }
    }

    #[test]
    fn items_use_the_contracts_attribute_names() {
        let uploading = to_item(ImageItem::of(&record(ImageStatus::Uploading))).unwrap();
        assert!(uploading.contains_key(PARTITION_KEY) && uploading.contains_key(SORT_KEY));
        assert!(uploading.contains_key(IMAGES_EXPIRES_AT), "an upload record expires by TTL");
        assert!(!uploading.contains_key(IMAGES_ENTRIES_INDEX_KEY.0), "not listed");
        let pending = to_item(ImageItem::of(&record(ImageStatus::Pending))).unwrap();
        assert!(!pending.contains_key(IMAGES_EXPIRES_AT), "a confirmed photo never expires");
        assert!(pending.contains_key(IMAGES_ENTRIES_INDEX_KEY.0) && pending.contains_key(IMAGES_ENTRIES_INDEX_KEY.1));
    }
}
