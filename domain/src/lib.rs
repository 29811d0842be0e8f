//! Smart Album's domain: its types, its one error, its rules (accounts, passwords, request
//! limits, grouping faces into persons) and the traits its data is kept behind (users, images,
//! photo bytes, events, face collections). No AWS SDK: the DynamoDB, S3, SNS and Rekognition
//! implementations are the `aws-adapters` crate's; `memory` (feature) keeps the same traits in
//! memory for fast tests. The runtime's handlers, the analyzer and the deployer's ops commands
//! see only these traits and types.

pub mod accounts;
pub mod collections;
pub mod error;
pub mod face_collections;
pub mod grouping;
pub mod labels;
pub mod links;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod ops;
pub mod password;
pub mod persons;
pub mod photos;
pub mod places;
pub mod requests;
pub mod sign_ins;
pub mod taken;
pub mod tenancy;
#[cfg(feature = "memory")]
pub mod testing;

use async_trait::async_trait;

pub use accounts::{AccountChange, Precondition};
pub use contract::{NewImageEvent, NewUserEvent, QuotaSettings, RequestLimits};
pub use error::{Error, Result};
pub use face_collections::{FaceCollections, NoCollections};
pub use model::*;
pub use tenancy::{SharedData, Tenancy, TenantData};
use time::OffsetDateTime;

#[async_trait]
pub trait UserStore: SignInThrottle + LinkDirectory + Send + Sync {
    /// Creates the user; `Conflict` if the name is taken.
    async fn create(&self, user: &UserRecord) -> Result<()>;
    async fn get(&self, user_name: &UserName) -> Result<Option<UserRecord>>;
    /// Applies `change` to the stored account if `only_if` holds of it, else `Conflict`
    /// `concurrent_change` (an unknown account included), changing nothing.
    async fn change(&self, user_name: &UserName, change: &AccountChange, only_if: Precondition) -> Result<()>;
    /// Deletes the account with its sessions and request allowance. Its name's sign-in failures
    /// stay until forgotten: a lock outlives an account, so it tells nothing of whether one exists.
    async fn delete(&self, user_name: &UserName) -> Result<()>;
    /// Records a session that a new token names, until it expires.
    async fn start_session(&self, user_name: &UserName, session: SessionId, expires_at: OffsetDateTime) -> Result<()>;
    /// Whether the session was started and has neither ended nor expired.
    async fn session_is_open(&self, user_name: &UserName, session: SessionId, now: OffsetDateTime) -> Result<bool>;
    /// Ends a session: its token stops working at once.
    async fn end_session(&self, user_name: &UserName, session: SessionId) -> Result<()>;
    /// Counts one request of the user against `limits` at `now`; `Throttled` when over them.
    async fn admit_request(&self, user_name: &UserName, limits: &RequestLimits, now: OffsetDateTime) -> Result<()>;
    /// Users whose name starts with `prefix`, in name order, after `after`.
    async fn search_prefix(&self, prefix: &str, limit: usize, after: Option<&UserName>) -> Result<Page<UserRecord, UserName>>;
    /// A stack-wide value (token key, ops credential digest).
    async fn system_value(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Stores a stack-wide value unless one exists; whether it was stored.
    async fn put_system_value_if_absent(&self, name: &str, value: &[u8]) -> Result<bool>;
    /// Stores a stack-wide value, replacing any.
    async fn put_system_value(&self, name: &str, value: &[u8]) -> Result<()>;
}

/// What sign-in throttling counts ([`sign_ins`]): each count atomic, so that concurrent attempts
/// are each counted.
#[async_trait]
pub trait SignInThrottle: Send + Sync {
    /// The failed guesses of a name's (or link's) password, if any are stored (remembered or
    /// not).
    async fn failures(&self, guessed: sign_ins::Guessed<'_>) -> Result<Option<sign_ins::Failures>>;
    /// Counts one more failure at `now_ms` (starting again from one where the earlier ones
    /// are forgotten), with the wait it earns; the failures after it.
    async fn add_failure(&self, guessed: sign_ins::Guessed<'_>, now_ms: i64) -> Result<sign_ins::Failures>;
    /// Forgets the failures (a right password).
    async fn clear_failures(&self, guessed: sign_ins::Guessed<'_>) -> Result<()>;
    /// Counts one `action` of `source` in the hour of `now_ms` if fewer than `limit` were;
    /// whether it was counted.
    async fn count_from_source(&self, source: &str, action: sign_ins::SourceAction, now_ms: i64, limit: u64) -> Result<bool>;
}

/// The stack-wide side of links ([`links`]): which collection a secret opens, keyed by the
/// secret's digest, reached with the process's own access (no tenant's).
#[async_trait]
pub trait LinkDirectory: Send + Sync {
    async fn put_link_target(&self, secret_digest: &str, target: &links::LinkTarget, kept_until: Option<OffsetDateTime>) -> Result<()>;
    async fn link_target(&self, secret_digest: &str) -> Result<Option<links::LinkTarget>>;
    async fn delete_link_target(&self, secret_digest: &str) -> Result<()>;
}

/// The records of a user's photos and what their analysis stores: the whole of what the
/// runtime and the analyzer ask of a photo's data, each concern its own trait.
#[async_trait]
pub trait ImageStore: ImageIndex + PersonStore + AlbumStore + PlaceStore + CollectionStore + UsageStore + Send + Sync {
    /// Records a stored photo (status pending) and counts it, refusing with `QuotaExceeded`
    /// when the user's counters would pass the quotas. Exact under concurrency.
    async fn create(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()>;
    /// Records a presigned upload not yet confirmed (status uploading, not counted, not listed).
    async fn create_upload(&self, record: &ImageRecord) -> Result<()>;
    /// Turns an uploading record into a pending, counted one (quota checked as in `create`).
    async fn complete_upload(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()>;
    async fn get(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>>;
    /// Stores the analysis of `record`, as the analyzer read it: labels, faces, text and their
    /// index entries (replacing earlier ones: a redelivery adds nothing twice), then the record,
    /// ready, written once (again only if another write came between). False when the photo
    /// is gone, leaving nothing of it behind.
    async fn put_analysis(&self, record: &ImageRecord, analysis: &Analysis) -> Result<bool>;
    /// Records that an analysed photo's thumbnail and preview exist, with its colour (photos
    /// analysed before they existed: `smart-album backfill`); its index entries carry it too.
    /// False when the image is gone.
    async fn set_color(&self, user: &UserName, id: ImageId, color: &str) -> Result<bool>;
    /// Gives an analysed photo without a place (analysed before places existed: `smart-album
    /// backfill`) its place, counted and indexed. False when the image is gone, not analysed,
    /// or has a place already.
    async fn set_place(&self, user: &UserName, id: ImageId, place: &places::Place) -> Result<bool>;
    /// Marks the image a favourite of its owner's, or no longer one; the record as it now is.
    /// `None` for an image the user does not have (or one still uploading). Idempotent.
    async fn set_favourite(&self, user: &UserName, id: ImageId, favourite: bool) -> Result<Option<ImageRecord>>;
    /// Marks a pending image failed with a reason; false when it is not pending (or gone).
    async fn mark_failed(&self, user: &UserName, id: ImageId, reason: &str) -> Result<bool>;
    /// Deletes the record, its index entries and its share of the counters; the deleted record.
    async fn delete(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>>;
    /// Deletes every item of the user; how many (the in-memory store counts records).
    async fn delete_all(&self, user: &UserName) -> Result<usize>;
}

/// Finding a user's photos: listed newest first, and searched.
#[async_trait]
pub trait ImageIndex: Send + Sync {
    /// The user's images, newest first, after `after`.
    async fn list(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>>;
    /// The user's favourite images ([`ImageStore::set_favourite`]), newest first, after `after`.
    async fn favourites(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>>;
    /// Analysed images carrying every label (normalised), showing every person and word and
    /// taken at every place and in the time range of `search`, newest first (taken, or
    /// uploaded: [`Search::in_time_order`]); reads the index only.
    async fn search(
        &self,
        user: &UserName,
        search: &Search,
        limit: usize,
        after: Option<&SearchCursor>,
    ) -> Result<Page<SearchMatch, SearchCursor>>;
    /// The [`taken::taken_key`] of the user's earliest analysed photo (none without one).
    async fn oldest_taken(&self, user: &UserName) -> Result<Option<String>>;
}

/// A user's persons: the faces of their photos grouped, named, merged and corrected.
#[async_trait]
pub trait PersonStore: Send + Sync {
    /// Groups the faces of an analysed photo (those `grouped` says: the quality gate) into the
    /// user's persons: each joins the nearest person closer than `max_distance`, else starts
    /// one; two faces of one photo never share a person. Once per photo: asked again, it gives
    /// the same persons. The person of each face and the strays now near them (to merge with
    /// [`persons::absorb_strays`] once the photo is stored); `NotFound` when the image is gone.
    async fn group_faces(
        &self,
        user: &UserName,
        id: ImageId,
        faces: &[FoundFace],
        grouped: &[bool],
        max_distance: f32,
    ) -> Result<grouping::Grouped>;
    /// The user's persons, most photos first.
    async fn persons(&self, user: &UserName) -> Result<Vec<Person>>;
    /// Names (trimmed, unique among the user's persons: `NameTaken` otherwise) and/or hides a
    /// person; `NotFound` when the user has no such person.
    async fn update_person(&self, user: &UserName, id: PersonId, change: &PersonChange) -> Result<Person>;
    /// The user's persons with their centres, in no order: what suggestions and regrouping
    /// weigh ([`persons`]).
    async fn members(&self, user: &UserName) -> Result<Vec<grouping::Member>>;
    /// Merges persons `from` into person `into` (see [`grouping::merge`]), as the user or
    /// grouping asks: their faces join it, on every photo, and their ids are gone. The merged
    /// person.
    async fn merge_persons(&self, user: &UserName, into: PersonId, from: &[PersonId], by: grouping::MergedBy) -> Result<Person>;
    /// The user says persons `a` and `b` are different people (see [`grouping::keep_apart`]);
    /// `NotFound` when the user has no such person.
    async fn keep_apart(&self, user: &UserName, a: PersonId, b: PersonId) -> Result<()>;
    /// Moves a face to person `to`, or to a new person of its own (`None`), for good: later
    /// grouping never undoes it (see [`grouping::move_face`]). The face as its photo now lists it;
    /// `NotFound` for a face or person the user does not have.
    async fn move_face(&self, user: &UserName, face: FaceId, to: Option<PersonId>) -> Result<Face>;
}

/// The collections a user makes: kept in the owner's data, their photos the owner's.
#[async_trait]
pub trait CollectionStore: Send + Sync {
    /// Stores a new collection (empty).
    async fn create_collection(&self, collection: &collections::Collection) -> Result<()>;
    /// The user's collections (their fields), most recently changed first.
    async fn collections(&self, user: &UserName) -> Result<Vec<collections::Collection>>;
    /// One of them; `NotFound` when the user has no such collection.
    async fn collection(&self, user: &UserName, id: CollectionId) -> Result<collections::Collection>;
    /// Changes its fields (a chosen cover is the caller's to check: it may be a contributor's).
    async fn update_collection(
        &self,
        user: &UserName,
        id: CollectionId,
        change: &collections::CollectionChange,
    ) -> Result<collections::Collection>;
    /// Marks it changed now; `NotFound` when it is gone.
    async fn touch_collection(&self, owner: &UserName, id: CollectionId) -> Result<()>;
    /// Deletes it with its members, links and the owner's photos' memberships (the photos stay
    /// in the library); the links it had, whose stack-wide items the caller removes.
    /// Contributors' parts are in their own data: [`collections::Contents::delete`] clears them.
    async fn delete_collection(&self, user: &UserName, id: CollectionId) -> Result<Vec<links::Link>>;

    // A collection's photos are kept in parts, one per user who put photos in it (its owner and
    // its contributors), each in that user's own data: the calls below are of `user`'s part,
    // whoever's collection it is, and the caller has checked that they may.

    /// Adds photos of the user's (not uploading); `NotFound` naming the first that is none,
    /// adding nothing. How many were not in it already.
    async fn add_to_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize>;
    /// Takes photos of the user's out of it (ids not in it are left alone); how many were in it.
    async fn remove_from_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize>;
    /// Takes every photo of the user's out of it; how many.
    async fn clear_part(&self, user: &UserName, id: CollectionId) -> Result<usize>;
    /// How many of the user's photos it holds, and the newest of them.
    async fn collection_part(&self, user: &UserName, id: CollectionId) -> Result<collections::PartSummary>;
    /// Which of `photos` the user's part holds.
    async fn held(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<Vec<ImageId>>;
    /// The user's photos in it, newest first, after `after`. A photo deleted from the library
    /// is in no collection.
    async fn collection_photos(
        &self,
        user: &UserName,
        id: CollectionId,
        limit: usize,
        after: Option<ImageId>,
    ) -> Result<Page<ImageRecord, ImageId>>;

    /// Shares it with `member` in `role` (again: the role changes), on the owner's side;
    /// `NotFound` when the owner has no such collection.
    async fn put_member(&self, owner: &UserName, id: CollectionId, member: &collections::Member) -> Result<()>;
    /// Stops sharing it with `member`; whether they were one.
    async fn remove_member(&self, owner: &UserName, id: CollectionId, member: &UserName) -> Result<bool>;
    /// Who it is shared with, by name; `NotFound` when the owner has no such collection.
    async fn collection_members(&self, owner: &UserName, id: CollectionId) -> Result<Vec<collections::Member>>;
    /// The member's side: collection `id` of `owner`'s is shared with `member` (a pointer
    /// kept in the member's data, so their listing reads their own; the owner's side decides).
    async fn put_shared(&self, member: &UserName, owner: &UserName, id: CollectionId) -> Result<()>;
    async fn remove_shared(&self, member: &UserName, id: CollectionId) -> Result<()>;
    /// The collections shared with `member`, with their owners, as the member's side says.
    async fn shared_with(&self, member: &UserName) -> Result<Vec<(CollectionId, UserName)>>;
    /// The owner of collection `id` if the member's side has it shared with them.
    async fn shared_by(&self, member: &UserName, id: CollectionId) -> Result<Option<UserName>>;
    /// Keeps a link to the collection on the owner's side; `NotFound` when the owner has no
    /// such collection.
    async fn put_link(&self, link: &links::Link) -> Result<()>;
    /// Its links, oldest first; `NotFound` when the owner has no such collection.
    async fn collection_links(&self, owner: &UserName, id: CollectionId) -> Result<Vec<links::Link>>;
    /// One of its links, if the owner's side has it.
    async fn link(&self, owner: &UserName, id: CollectionId, link: LinkId) -> Result<Option<links::Link>>;
    /// Deletes one of its links; the link it was, if there was one.
    async fn delete_link(&self, owner: &UserName, id: CollectionId, link: LinkId) -> Result<Option<links::Link>>;
}

/// The albums a user's labels make.
#[async_trait]
pub trait AlbumStore: Send + Sync {
    /// The user's albums (labels with a photo count and a cover), most photos first.
    async fn albums(&self, user: &UserName) -> Result<Vec<Album>>;
}

/// Where a user's photos were taken, counted.
#[async_trait]
pub trait PlaceStore: Send + Sync {
    /// Every place with photos of the user's, each with its count and newest photo (in no
    /// order: the caller groups them).
    async fn places(&self, user: &UserName) -> Result<Vec<places::PlaceCount>>;
}

/// What a user's photos take of the tier's quotas.
#[async_trait]
pub trait UsageStore: Send + Sync {
    async fn usage(&self, user: &UserName) -> Result<Usage>;
}

#[async_trait]
pub trait PhotoStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()>;
    /// The object's size and ETag, or `None` when there is no object.
    async fn head(&self, key: &str) -> Result<Option<ObjectVersion>>;
    /// The whole object, or `None` when there is none; with `etag`, only that version of it
    /// (`PhotoChanged` when the object is another).
    async fn read(&self, key: &str, etag: Option<&str>) -> Result<Option<Vec<u8>>>;
    /// Up to `max_bytes` from the start of the object's version `etag` (`PhotoChanged` when the
    /// object is another).
    async fn read_start(&self, key: &str, max_bytes: u64, etag: &str) -> Result<Vec<u8>>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Deletes every object under `prefix`; how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize>;
    /// The key of every object under `prefix`, in key order.
    async fn keys(&self, prefix: &str) -> Result<Vec<String>>;
    /// A URL to PUT the object of exactly `size` bytes (the length is signed) with
    /// `content_type` and the pending-upload tag (`contract::names::upload_tagging`, sent as
    /// `x-amz-tagging`): an object never completed expires.
    async fn presign_put(&self, key: &str, content_type: &str, size: u64, expires_in: std::time::Duration) -> Result<String>;
    /// Removes the pending-upload tag of a completed upload's object, so that it stays.
    async fn clear_upload_tag(&self, key: &str) -> Result<()>;
    async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String>;
}

#[async_trait]
pub trait Events: Send + Sync {
    async fn new_user(&self, event: &NewUserEvent<'_>) -> Result<()>;
    async fn new_image(&self, event: &NewImageEvent) -> Result<()>;
}
