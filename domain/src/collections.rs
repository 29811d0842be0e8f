//! Collections: albums a user makes, of the photos they choose, beside the albums the analysis
//! makes of labels. The rules of their fields and of a request's photos, kept here for every
//! store and the API alike.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::model::{AccountId, CollectionId, ImageId, UserName};

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
            Role::Viewer => Ok(role),
            // Contributors' photos live in their own data, which a collection's listing does
            // not read yet: refused, not half-granted.
            Role::Contributor => Err(Error::invalid("role_unavailable", "contributors are not available yet: share as a viewer")),
            Role::Owner => Err(Error::invalid("invalid_role", "a member is a viewer (or a contributor); the owner is the one who made it")),
        }
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
    pub cover: Option<ImageId>,
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

/// Takes `user` out of every sharing before their data goes: the members of their collections
/// lose their pointers, and the collections of others shared with them lose them as a member
/// (each side written with its own tenant's access, from `tenants`).
pub async fn unshare(user: &UserName, own: &dyn crate::ImageStore, tenants: &dyn crate::Tenancy) -> Result<()> {
    for summary in own.collections(user).await? {
        let id = summary.collection.id;
        for member in own.collection_members(user, id).await? {
            tenants.data_of(&member.user).await?.images.remove_shared(&member.user, id).await?;
        }
    }
    for (id, owner) in own.shared_with(user).await? {
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
