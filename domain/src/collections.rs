//! Collections: albums a user makes, of the photos they choose, beside the albums the analysis
//! makes of labels. The rules of their fields and of a request's photos, kept here for every
//! store and the API alike, and [`Contents`]: a collection with the parts its photos are in.
//!
//! A collection lives in its owner's data. Its photos are in parts, one per user who put photos
//! in it: the owner's, and each contributor's in the contributor's own data (their photos stay
//! theirs, on their quota, and leave with them). Counts and covers are read from the parts,
//! never kept, so nothing drifts when photos or contributors go.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::model::{AccountId, CollectionId, ImageId, ImageRecord, Page, UserName};
use crate::{LinkDirectory, Tenancy, TenantData};

/// A title is at most this many characters (after trimming).
pub const MAX_TITLE_CHARS: usize = 100;
/// A description is at most this many characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// A call adds or removes at most this many photos.
pub const MAX_PHOTOS_PER_CALL: usize = 100;

/// What a user may do in a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Changes it, shares it, deletes it.
    Owner,
    /// Sees its photos (a member the owner chose).
    Viewer,
    /// Sees it and adds photos of their own (which stay theirs).
    Contributor,
}

impl Role {
    /// The role a member is given: viewer or contributor, never owner.
    pub fn of_member(role: Role) -> Result<Role> {
        match role {
            Role::Viewer | Role::Contributor => Ok(role),
            Role::Owner => Err(Error::invalid("invalid_role", "a member is a viewer or a contributor; the owner is the one who made it")),
        }
    }

    /// Whether this role adds photos of its own.
    pub fn adds_photos(self) -> bool {
        matches!(self, Role::Owner | Role::Contributor)
    }
}

/// A user the owner shared a collection with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: UserName,
    pub role: Role,
    /// The member's account when shared: a tenant move keeps the membership only where the
    /// target stack's account of that name is this one (`None`: shared before ids were kept).
    pub account: Option<AccountId>,
}

/// An album a user made.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub id: CollectionId,
    pub owner: UserName,
    pub title: String,
    pub description: Option<String>,
    /// The photo the owner chose as its cover; without one (or once that photo leaves), the
    /// newest photo is.
    pub cover: Option<ImageId>,
    /// Whether a shared view shows faces, person names and text (off until the owner says).
    pub show_people: bool,
    /// Whether a shared view shows where each photo was taken (off until the owner says).
    pub show_places: bool,
    pub created_at: OffsetDateTime,
    /// The last change of its fields or photos.
    pub updated_at: OffsetDateTime,
}

impl Collection {
    /// A new, empty collection of `owner`'s, its title and description checked.
    pub fn new(owner: &UserName, title: &str, description: Option<&str>) -> Result<Self> {
        let now = OffsetDateTime::now_utc();
        Ok(Self {
            id: CollectionId::new(),
            owner: owner.clone(),
            title: title_of(title)?,
            description: description.map(description_of).transpose()?.flatten(),
            cover: None,
            show_people: false,
            show_places: false,
            created_at: now,
            updated_at: now,
        })
    }
}

/// A collection as listed: with how many photos it holds and the photo that is its cover.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSummary {
    pub collection: Collection,
    pub photo_count: u64,
    pub cover: Option<PhotoOf>,
}

/// A photo in a collection: which, and whose (the owner's or a contributor's), since each is
/// read with its own user's access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoOf {
    pub user: UserName,
    pub image: ImageId,
}

/// How many of one user's photos a collection holds, and the newest of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartSummary {
    pub photo_count: u64,
    pub newest: Option<ImageId>,
}

/// A change the owner asks for; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionChange {
    pub title: Option<String>,
    /// `Some(None)` (or an empty text) removes the description.
    pub description: Option<Option<String>>,
    /// `Some(None)` goes back to the newest photo as the cover. The store checks that a chosen
    /// cover is in the collection.
    pub cover: Option<Option<ImageId>>,
    pub show_people: Option<bool>,
    pub show_places: Option<bool>,
}

impl CollectionChange {
    /// Applies the change, every field checked before any is set.
    pub fn apply(&self, collection: &mut Collection) -> Result<()> {
        let title = self.title.as_deref().map(title_of).transpose()?;
        let description = match &self.description {
            Some(Some(text)) => Some(description_of(text)?),
            Some(None) => Some(None),
            None => None,
        };
        if let Some(title) = title {
            collection.title = title;
        }
        if let Some(description) = description {
            collection.description = description;
        }
        if let Some(cover) = self.cover {
            collection.cover = cover;
        }
        if let Some(show_people) = self.show_people {
            collection.show_people = show_people;
        }
        if let Some(show_places) = self.show_places {
            collection.show_places = show_places;
        }
        collection.updated_at = OffsetDateTime::now_utc();
        Ok(())
    }
}

/// A title: trimmed, 1 to [`MAX_TITLE_CHARS`] characters, no control characters.
pub fn title_of(raw: &str) -> Result<String> {
    let title = raw.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(Error::invalid("invalid_title", format!("a title is 1 to {MAX_TITLE_CHARS} characters, without control characters")));
    }
    Ok(title.to_owned())
}

/// A description: trimmed, at most [`MAX_DESCRIPTION_CHARS`] characters (line breaks allowed);
/// empty is none.
pub fn description_of(raw: &str) -> Result<Option<String>> {
    let description = raw.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS || description.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(
            "invalid_description",
            format!("a description is at most {MAX_DESCRIPTION_CHARS} characters, without control characters but line breaks"),
        ));
    }
    Ok((!description.is_empty()).then(|| description.to_owned()))
}

/// The refusal of a cover that is not one of the collection's photos.
pub fn not_a_cover(cover: ImageId) -> Error {
    Error::invalid("invalid_cover", format!("image {cover} is not in the collection: add it first"))
}

/// The photos of an add or a remove: 1 to [`MAX_PHOTOS_PER_CALL`] image ids, each once.
pub fn photo_ids(raw: &[String]) -> Result<Vec<ImageId>> {
    if raw.is_empty() || raw.len() > MAX_PHOTOS_PER_CALL {
        return Err(Error::invalid("invalid_ids", format!("ids holds 1 to {MAX_PHOTOS_PER_CALL} image ids")));
    }
    let mut ids = raw.iter().map(|id| ImageId::parse(id)).collect::<Result<Vec<_>>>()?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// One user's part of a collection (the owner's or a contributor's), with their tenant's access.
#[derive(Debug, Clone)]
pub struct Part {
    pub user: UserName,
    pub data: TenantData,
}

/// A collection as it is now: its fields, its members (as the owner's side has them) and its
/// parts, the owner's first. Read again for every request, so that a change of sharing holds
/// from the next one.
#[derive(Debug)]
pub struct Contents {
    pub collection: Collection,
    pub members: Vec<Member>,
    pub parts: Vec<Part>,
}

impl Contents {
    /// `owner`'s collection `id`, read with the owner's access (`data`), each contributor's part
    /// with theirs (from `tenants`). `NotFound` when the owner has no such collection.
    pub async fn open(data: TenantData, owner: &UserName, id: CollectionId, tenants: &dyn Tenancy) -> Result<Self> {
        let (collection, members) = tokio::try_join!(data.images.collection(owner, id), data.images.collection_members(owner, id))?;
        Self::with_members(data, collection, members, tenants).await
    }

    /// `collection` as read already (a listing's), its members and parts read now.
    pub async fn of(data: TenantData, collection: Collection, tenants: &dyn Tenancy) -> Result<Self> {
        let members = data.images.collection_members(&collection.owner, collection.id).await?;
        Self::with_members(data, collection, members, tenants).await
    }

    async fn with_members(data: TenantData, collection: Collection, members: Vec<Member>, tenants: &dyn Tenancy) -> Result<Self> {
        let mut parts = vec![Part { user: collection.owner.clone(), data }];
        for member in members.iter().filter(|member| member.role == Role::Contributor) {
            parts.push(Part { user: member.user.clone(), data: tenants.data_of(&member.user).await? });
        }
        Ok(Self { collection, members, parts })
    }

    pub fn id(&self) -> CollectionId {
        self.collection.id
    }

    pub fn owner(&self) -> &UserName {
        &self.collection.owner
    }

    /// The owner's access: the collection's own items are there.
    pub fn owner_data(&self) -> &TenantData {
        &self.parts[0].data
    }

    /// What `user` may do in it: owner, a member's role, or nothing.
    pub fn role_of(&self, user: &UserName) -> Option<Role> {
        if user == self.owner() {
            return Some(Role::Owner);
        }
        self.members.iter().find(|member| member.user == *user).map(|member| member.role)
    }

    /// The access to read `user`'s photos in it with, if they have a part.
    pub fn data_of(&self, user: &UserName) -> Option<&TenantData> {
        self.parts.iter().find(|part| part.user == *user).map(|part| &part.data)
    }

    /// Its count and cover over every part: the chosen cover while some part holds it, else the
    /// newest photo of any (ids are ULIDs: the greatest is the newest).
    pub async fn summary(&self) -> Result<CollectionSummary> {
        let mut photo_count = 0;
        let mut newest: Option<PhotoOf> = None;
        for part in &self.parts {
            let counted = part.data.images.collection_part(&part.user, self.id()).await?;
            photo_count += counted.photo_count;
            if let Some(image) = counted.newest
                && newest.as_ref().is_none_or(|newest| image > newest.image)
            {
                newest = Some(PhotoOf { user: part.user.clone(), image });
            }
        }
        let chosen = match self.collection.cover {
            Some(image) => self.holder(image).await?.map(|user| PhotoOf { user, image }),
            None => None,
        };
        Ok(CollectionSummary { collection: self.collection.clone(), photo_count, cover: chosen.or(newest) })
    }

    /// Whose part holds `photo`, if any does.
    pub async fn holder(&self, photo: ImageId) -> Result<Option<UserName>> {
        for part in &self.parts {
            if !part.data.images.held(&part.user, self.id(), &[photo]).await?.is_empty() {
                return Ok(Some(part.user.clone()));
            }
        }
        Ok(None)
    }

    /// Changes its fields (owner's access); a cover must be a photo of some part.
    pub async fn update(&mut self, change: &CollectionChange) -> Result<()> {
        if let Some(Some(cover)) = change.cover
            && self.holder(cover).await?.is_none()
        {
            return Err(not_a_cover(cover));
        }
        self.collection = self.owner_data().images.update_collection(self.owner(), self.id(), change).await?;
        Ok(())
    }

    /// A page of its photos, newest first, after `after`: each part's page, merged. A part that
    /// has more than its page holds is complete only down to its last entry, so the merged page
    /// stops there too (its cursor), and the rest comes with the next page.
    pub async fn photos(&self, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>> {
        let mut merged = Vec::new();
        let mut edge: Option<ImageId> = None;
        for part in &self.parts {
            let page = part.data.images.collection_photos(&part.user, self.id(), limit, after).await?;
            if let Some(next) = page.next {
                edge = Some(edge.map_or(next, |edge| edge.max(next)));
            }
            merged.extend(page.items);
        }
        merged.retain(|record| edge.is_none_or(|edge| record.id >= edge));
        merged.sort_by_key(|record| std::cmp::Reverse(record.id));
        let next = if merged.len() > limit {
            merged.truncate(limit);
            merged.last().map(|record| record.id)
        } else {
            edge
        };
        Ok(Page { items: merged, next })
    }

    /// Shares it with `member` (again: the role changes) on both sides; a contributor made a
    /// viewer takes their photos out.
    pub async fn put_member(&self, member: &Member, tenants: &dyn Tenancy) -> Result<()> {
        let theirs = tenants.data_of(&member.user).await?;
        self.owner_data().images.put_member(self.owner(), self.id(), member).await?;
        theirs.images.put_shared(&member.user, self.owner(), self.id()).await?;
        if self.role_of(&member.user) == Some(Role::Contributor) && member.role != Role::Contributor {
            theirs.images.clear_part(&member.user, self.id()).await?;
        }
        Ok(())
    }

    /// Stops sharing it with `member` on both sides, their photos out of it; whether they were
    /// a member. The owner's side goes first: from then on they reach nothing.
    pub async fn remove_member(&self, member: &UserName, tenants: &dyn Tenancy) -> Result<bool> {
        if !self.owner_data().images.remove_member(self.owner(), self.id(), member).await? {
            return Ok(false);
        }
        let theirs = tenants.data_of(member).await?;
        theirs.images.remove_shared(member, self.id()).await?;
        if self.role_of(member) == Some(Role::Contributor) {
            theirs.images.clear_part(member, self.id()).await?;
        }
        Ok(true)
    }

    /// Deletes it: the owner's side first (from then on no member or link reaches it), then the
    /// links' stack-wide items, the members' pointers and the contributors' parts.
    pub async fn delete(self, links: &dyn LinkDirectory, tenants: &dyn Tenancy) -> Result<()> {
        for link in self.owner_data().images.delete_collection(self.owner(), self.id()).await? {
            links.delete_link_target(&link.secret_digest).await?;
        }
        for part in &self.parts[1..] {
            part.data.images.clear_part(&part.user, self.id()).await?;
        }
        for member in &self.members {
            tenants.data_of(&member.user).await?.images.remove_shared(&member.user, self.id()).await?;
        }
        Ok(())
    }
}

/// Takes `user` out of every sharing before their data goes: the members of their collections
/// lose their pointers (and contributors their parts), and the collections of others shared
/// with them lose them as a member (each side written with its own tenant's access).
pub async fn unshare(user: &UserName, tenants: &dyn Tenancy) -> Result<()> {
    let own = tenants.data_of(user).await?;
    for collection in own.images.collections(user).await? {
        let contents = Contents::of(own.clone(), collection, tenants).await?;
        for member in &contents.members {
            contents.remove_member(&member.user, tenants).await?;
        }
    }
    for (id, owner) in own.images.shared_with(user).await? {
        tenants.data_of(&owner).await?.images.remove_member(&owner, id, user).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> UserName {
        UserName::parse("ann").unwrap()
    }

    #[test]
    fn titles_and_descriptions_are_trimmed_and_bounded() {
        let made = Collection::new(&owner(), "  Summer 2024 ", Some("  ")).unwrap();
        assert_eq!((made.title.as_str(), made.description.as_deref()), ("Summer 2024", None));
        for bad in ["", "   ", "a\u{0007}b", &"x".repeat(MAX_TITLE_CHARS + 1)] {
            assert!(matches!(title_of(bad), Err(Error::Invalid { code: "invalid_title", .. })), "{bad:?}");
        }
        assert_eq!(title_of(&"é".repeat(MAX_TITLE_CHARS)).unwrap().chars().count(), MAX_TITLE_CHARS);
        assert_eq!(description_of("two\nlines").unwrap().as_deref(), Some("two\nlines"));
        assert!(description_of(&"x".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn a_change_sets_every_field_it_names_or_none() {
        let mut collection = Collection::new(&owner(), "Trip", Some("first")).unwrap();
        let before = collection.clone();
        let bad = CollectionChange { title: Some(" ".into()), show_people: Some(true), ..CollectionChange::default() };
        assert!(bad.apply(&mut collection).is_err());
        assert_eq!(collection, before, "a refused change sets nothing");
        let cover = ImageId::new();
        let change =
            CollectionChange { description: Some(None), cover: Some(Some(cover)), show_people: Some(true), ..CollectionChange::default() };
        change.apply(&mut collection).unwrap();
        assert_eq!((collection.title.as_str(), collection.description.as_deref()), ("Trip", None));
        assert_eq!((collection.cover, collection.show_people), (Some(cover), true));
        assert!(collection.updated_at >= before.updated_at);
    }

    /// A collection's photos in three parts (the owner's and two contributors'), paged at every
    /// size: each photo once, newest first, whichever part it is in; a viewer has no part.
    #[cfg(feature = "memory")]
    #[tokio::test]
    async fn pages_merged_from_every_part_hold_each_photo_once_newest_first() {
        use std::sync::Arc;

        use crate::memory::{MemoryImages, MemoryPhotos, MemoryUsers};
        use crate::{CollectionStore, ImageStatus, ImageStore, SharedData};
        use contract::{Limit, QuotaSettings};

        let images = Arc::new(MemoryImages::default());
        let tenants = SharedData::new(Arc::new(MemoryUsers::default()), images.clone(), Arc::new(MemoryPhotos::default()));
        let quotas = QuotaSettings { photos_per_user: Limit::Unlimited, bytes_per_user: Limit::Unlimited, max_photo_bytes: 1 << 20 };
        let [ann, bob, cyd, dan] = ["ann", "bob", "cyd", "dan"].map(|name| UserName::parse(name).unwrap());
        let collection = Collection::new(&ann, "Party", None).unwrap();
        images.create_collection(&collection).await.unwrap();
        for (member, role) in [(&bob, Role::Contributor), (&cyd, Role::Contributor), (&dan, Role::Viewer)] {
            images.put_member(&ann, collection.id, &Member { user: member.clone(), role, account: None }).await.unwrap();
        }
        // Uneven parts, interleaved in time: ann 2, bob 6, cyd 1 (and dan's photo not in it).
        let mut all = Vec::new();
        for user in [&bob, &ann, &bob, &bob, &cyd, &bob, &dan, &ann, &bob, &bob] {
            let record = ImageRecord::new(user, ImageStatus::Ready, "image/png");
            images.create(&record, &quotas).await.unwrap();
            if *user != dan {
                images.add_to_collection(user, collection.id, &[record.id]).await.unwrap();
                all.push(record.id);
            }
        }
        all.sort_by_key(|id| std::cmp::Reverse(*id));
        let contents = Contents::open(tenants.0.clone(), &ann, collection.id, tenants.as_ref()).await.unwrap();
        assert_eq!(contents.parts.len(), 3, "the owner's part and each contributor's");
        for limit in 1..=all.len() + 1 {
            let (mut seen, mut after) = (Vec::new(), None);
            loop {
                let page = contents.photos(limit, after).await.unwrap();
                assert!(page.items.len() <= limit);
                seen.extend(page.items.iter().map(|record| record.id));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, all, "pages of {limit}");
        }
        let summary = contents.summary().await.unwrap();
        assert_eq!((summary.photo_count, summary.cover.map(|cover| cover.image)), (all.len() as u64, Some(all[0])));
    }

    #[test]
    fn a_request_names_one_to_a_hundred_photos_each_once() {
        let id = ImageId::new().to_string();
        assert_eq!(photo_ids(&[id.clone(), id.clone()]).unwrap().len(), 1);
        assert!(matches!(photo_ids(&[]), Err(Error::Invalid { code: "invalid_ids", .. })));
        let many: Vec<String> = (0..=MAX_PHOTOS_PER_CALL).map(|_| ImageId::new().to_string()).collect();
        assert!(photo_ids(&many).is_err());
        assert!(matches!(photo_ids(&["../x".into()]), Err(Error::Invalid { code: "invalid_image_id", .. })));
    }
}
