//! A user's partition as a tenant move copies it from one stack's table to another's: every item
//! as stored (records, faces, persons with their names and corrections, albums, counters), so
//! that nothing is recomputed that need not be, less what the target tier does not keep.
//!
//! Records are adapted to the target tier and their index entries written again from them (an
//! entry is a pure function of its record). Where the target computes more than the source did
//! (faces, text), the photos go back to pending and are analysed again on the target, as are
//! photos still pending in the source.

use std::collections::BTreeSet;

use contract::{Features, NewImageEvent};

use super::DynamoImages;
use super::keys::{COLLECTION_PREFIX, ImageItem, LinkItem, MemberItem, SHARED_PREFIX, SharedItem, entries_of};
use crate::dynamo::{self, Item, from_item, put_request, to_item};
use domain::collections::Role;
use domain::error::{Error, Result};
use domain::links::Link;
use domain::model::{AccountId, CollectionId, ImageId, ImageStatus, UserName, object_key};

/// Every item of one user's partition, as read.
pub struct Partition {
    user: UserName,
    items: Vec<Item>,
}

/// What becomes of a partition in a tier with other features.
pub struct Adapted {
    /// The items to write to the target table (sharing's aside: [`Adapted::sharing`]).
    pub items: Vec<Item>,
    /// The user's side of sharing: who their collections are shared with, and the collections
    /// of others shared with them (with the user's photos in them). Members are users of one
    /// stack: the mover keeps each only where the other side is in the target too.
    pub sharing: Vec<Sharing>,
    /// Photos the target analyses (again): those still pending, and every analysed one where
    /// the target computes what the source did not.
    pub reanalyse: Vec<NewImageEvent>,
    pub dropped: Dropped,
}

/// One membership the user's partition holds a side of.
#[derive(Debug, Clone)]
pub enum Sharing {
    /// A member of one of the user's collections (the owner's member item).
    Member { collection: CollectionId, member: UserName, role: Role, account: Option<AccountId>, item: Item },
    /// Another user's collection shared with the user (the user's pointer), and the items of
    /// the user's photos in it as a contributor (kept or dropped with the pointer).
    SharedWithUser { collection: CollectionId, owner: UserName, item: Item, contributed: Vec<Item> },
}

impl Sharing {
    fn of(item: &Item) -> Result<Self> {
        let sk = sk_of(item);
        if sk.starts_with(SHARED_PREFIX) {
            let shared: SharedItem = from_item(item.clone())?;
            return Ok(Sharing::SharedWithUser {
                collection: CollectionId::parse(&shared.collection_id)?,
                owner: UserName::parse(&shared.owner)?,
                item: item.clone(),
                contributed: Vec::new(),
            });
        }
        let member: MemberItem = from_item(item.clone())?;
        let collection = sk.strip_prefix(COLLECTION_PREFIX).and_then(|rest| rest.split('#').next()).unwrap_or_default();
        Ok(Sharing::Member {
            collection: CollectionId::parse(collection)?,
            member: UserName::parse(&member.member)?,
            role: member.role,
            account: member.member_account_id.as_deref().map(AccountId::parse).transpose()?,
            item: item.clone(),
        })
    }

    /// The items the target gets where it keeps this membership.
    pub fn items(&self) -> Vec<Item> {
        match self {
            Sharing::Member { item, .. } => vec![item.clone()],
            Sharing::SharedWithUser { item, contributed, .. } => std::iter::once(item).chain(contributed).cloned().collect(),
        }
    }
}

impl Adapted {
    /// The links of the user's collections (whose stack-wide items the target needs).
    pub fn links(&self) -> Result<Vec<Link>> {
        self.items
            .iter()
            .filter(|item| sk_of(item).starts_with(COLLECTION_PREFIX) && sk_of(item).contains("#link#"))
            .map(|item| from_item::<LinkItem>(item.clone())?.into_link())
            .collect()
    }
}

/// What the target tier does not keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    pub faces: usize,
    pub persons: usize,
    pub named_persons: usize,
    pub text_lines: usize,
}

impl Dropped {
    pub fn is_empty(&self) -> bool {
        *self == Dropped::default()
    }
}

/// What a sort key names.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Record,
    /// Label, person and word entries: written again from their record.
    Entry,
    /// Face items, a photo's grouping, persons and the people lock.
    People,
    /// A collection's member, or another's collection shared with the user.
    Sharing,
    /// A photo's membership of a collection: the user's own collection's, or (as a
    /// contributor) another's, which goes with that sharing.
    InCollection,
    /// Usage counters, albums and anything else of the user: copied as they are.
    Other,
}

fn kind(sk: &str) -> Kind {
    if sk == "people" || sk.starts_with("person#") {
        return Kind::People;
    }
    if sk.starts_with(SHARED_PREFIX) || (sk.starts_with(COLLECTION_PREFIX) && sk.contains("#member#")) {
        return Kind::Sharing;
    }
    let Some(rest) = sk.strip_prefix("image#") else { return Kind::Other };
    match rest.split_once('#') {
        None => Kind::Record,
        Some((_, tail)) if tail.starts_with("face#") || tail == "grouped" => Kind::People,
        Some((_, tail)) if tail == "taken" || ["label#", "person#", "word#", "place#"].iter().any(|p| tail.starts_with(p)) => Kind::Entry,
        Some((_, tail)) if tail.starts_with(COLLECTION_PREFIX) => Kind::InCollection,
        Some(_) => Kind::Other,
    }
}

fn sk_of(item: &Item) -> &str {
    item.get(contract::names::SORT_KEY).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

impl Partition {
    pub fn user(&self) -> &UserName {
        &self.user
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The partition as a tier with `to`'s features keeps it, coming from one with `from`'s.
    pub fn adapt(&self, from: Features, to: Features) -> Result<Adapted> {
        let keep_faces = to.faces;
        let keep_text = to.text;
        let analyse_again = (to.faces && !from.faces) || (to.text && !from.text);
        let mut dropped = Dropped::default();
        let mut items = Vec::new();
        let mut reanalyse = Vec::new();
        let mut sharing = Vec::new();
        let mut in_collections = Vec::new();
        for item in &self.items {
            match kind(sk_of(item)) {
                Kind::Entry => {}
                Kind::Sharing => sharing.push(Sharing::of(item)?),
                Kind::InCollection => in_collections.push(item),
                Kind::Other => items.push(item.clone()),
                Kind::People => {
                    if keep_faces {
                        items.push(item.clone());
                    } else if sk_of(item).starts_with("person#") && !item.contains_key("merged_into") {
                        dropped.persons += 1;
                        dropped.named_persons += usize::from(item.get("name").is_some_and(|name| name.as_s().is_ok()));
                    }
                }
                Kind::Record => {
                    let mut record: ImageItem = from_item(item.clone())?;
                    if !keep_faces {
                        dropped.faces += record.faces.len();
                        record.faces.clear();
                    }
                    if !keep_text {
                        dropped.text_lines += record.text.len();
                        record.text.clear();
                        record.words.clear();
                    }
                    if analyse_again && record.status == ImageStatus::Ready {
                        record.status = ImageStatus::Pending;
                    }
                    // The target's object is the move's own copy of the checked bytes, whose
                    // ETag another bucket's encryption may write differently.
                    record.object_etag = None;
                    // A photo still waiting in the source's queue is analysed by the target's:
                    // the source's analysis may finish after the export, unseen.
                    if record.status == ImageStatus::Pending {
                        reanalyse.push(NewImageEvent {
                            user_name: self.user.to_string(),
                            image_id: record.image_id.clone(),
                            object_key: object_key(&self.user, ImageId::parse(&record.image_id)?),
                            content_type: record.content_type.clone(),
                            size: record.size,
                        });
                    }
                    let listed = record.status != ImageStatus::Uploading;
                    items.push(to_item(&record)?);
                    if listed {
                        let record = record.into_record()?;
                        items.extend(entries_of(&record)?);
                    }
                }
            }
        }
        for item in in_collections {
            let collection = sk_of(item).rsplit_once('#').map_or("", |(_, id)| id);
            let shared = sharing.iter_mut().find_map(|sharing| match sharing {
                Sharing::SharedWithUser { collection: of, contributed, .. } if of.to_string() == collection => Some(contributed),
                _ => None,
            });
            match shared {
                Some(contributed) => contributed.push(item.clone()),
                None => items.push(item.clone()),
            }
        }
        Ok(Adapted { items, sharing, reanalyse, dropped })
    }
}

impl DynamoImages {
    /// Every item of the user, read consistently.
    pub async fn export(&self, user: &UserName) -> Result<Partition> {
        let items = dynamo::partition(&self.client, &self.table, user.as_str(), None).await?;
        Ok(Partition { user: user.clone(), items })
    }

    /// Writes `items` as they are (a second write of the same items changes nothing).
    pub async fn import(&self, user: &UserName, items: &[Item]) -> Result<()> {
        let foreign =
            items.iter().any(|item| item.get(contract::names::PARTITION_KEY).and_then(|v| v.as_s().ok()) != Some(&user.to_string()));
        if foreign {
            return Err(Error::Internal(format!("an item to import is not in {user}'s partition")));
        }
        let requests = items.iter().cloned().map(put_request).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, requests).await
    }

    /// The sort keys of the user's items (to verify an import).
    pub async fn sort_keys(&self, user: &UserName) -> Result<BTreeSet<String>> {
        let items = dynamo::partition(&self.client, &self.table, user.as_str(), None).await?;
        Ok(items.iter().map(|item| sk_of(item).to_owned()).collect())
    }
}

/// The sort keys of `items`.
pub fn sort_keys(items: &[Item]) -> BTreeSet<String> {
    items.iter().map(|item| sk_of(item).to_owned()).collect()
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::dynamo::s;
    use crate::images::keys::{ListedImage, face_sk};
    use domain::model::{Face, ImageRecord, Label, PhotoRegion, TextLine};

    fn features(faces: bool, text: bool) -> Features {
        Features { labels: true, faces, text }
    }

    /// A user with one analysed photo of a named person and a word, as a FULL tier keeps it.
    fn partition(status: ImageStatus) -> Partition {
        let user = UserName::parse("ann").unwrap();
        let bounds = PhotoRegion { left: 0.1, top: 0.1, width: 0.2, height: 0.2 };
        let record = ImageRecord {
            size: 10,
            width: Some(4),
            height: Some(3),
            labels: vec![Label { name: "cat".into(), confidence: 90.0 }],
            faces: vec![Face { index: 0, bounds, score: 0.9, person_id: Some("01P".into()), engine_id: None }],
            text: vec![TextLine { text: "Menu".into(), bounds, confidence: 0.9 }],
            words: vec!["menu".into()],
            color: Some("#808080".into()),
            favourite: true,
            ..ImageRecord::new(&user, status, "image/jpeg")
        };
        let mut items = vec![to_item(ImageItem::of(&ImageRecord { revision: 2, ..record.clone() })).unwrap()];
        items.extend(entries_of(&record).unwrap());
        items.push(to_item(ListedImage::favourite(&user, record.id)).unwrap());
        let mut face = dynamo::key("ann", face_sk(record.id, 0));
        face.insert("descriptor".into(), s("..."));
        let mut person = dynamo::key("ann", "person#01P");
        person.insert("name".into(), s("Bob"));
        items.extend([face, person, dynamo::key("ann", "people"), dynamo::key("ann", "usage"), dynamo::key("ann", "album#cat")]);
        Partition { user, items }
    }

    fn keys(adapted: &Adapted) -> Vec<String> {
        sort_keys(&adapted.items)
            .into_iter()
            .map(|sk| sk.split('#').filter(|part| !part.starts_with("01")).collect::<Vec<_>>().join("#"))
            .collect()
    }

    #[test]
    fn the_same_tier_keeps_everything_as_it_is() {
        let partition = partition(ImageStatus::Ready);
        let adapted = partition.adapt(features(true, true), features(true, true)).unwrap();
        assert_eq!(sort_keys(&adapted.items), sort_keys(&partition.items));
        assert!(adapted.reanalyse.is_empty() && adapted.dropped.is_empty());
    }

    #[test]
    fn a_tier_without_faces_and_text_drops_them_and_says_how_much() {
        let adapted = partition(ImageStatus::Ready).adapt(features(true, true), features(false, false)).unwrap();
        assert_eq!(adapted.dropped, Dropped { faces: 1, persons: 1, named_persons: 1, text_lines: 1 });
        assert_eq!(keys(&adapted), ["album#cat", "image", "image#favourite", "image#label#cat", "image#taken", "usage"]);
        let record: ImageItem = from_item(adapted.items.iter().find(|item| kind(sk_of(item)) == Kind::Record).unwrap().clone()).unwrap();
        assert!(record.faces.is_empty() && record.text.is_empty() && record.words.is_empty());
        assert!(record.favourite, "a favourite stays one in any tier");
        assert_eq!(record.status, ImageStatus::Ready);
        assert!(adapted.reanalyse.is_empty());
    }

    #[test]
    fn a_tier_that_computes_more_analyses_again_and_pending_photos_are_queued() {
        let adapted = partition(ImageStatus::Ready).adapt(features(false, false), features(true, false)).unwrap();
        assert_eq!(adapted.reanalyse.len(), 1);
        let record: ImageItem = from_item(adapted.items.iter().find(|item| kind(sk_of(item)) == Kind::Record).unwrap().clone()).unwrap();
        assert_eq!(record.status, ImageStatus::Pending, "labels stay, the photo waits for its faces");
        assert_eq!(record.labels.len(), 1);
        let pending = partition(ImageStatus::Pending).adapt(features(true, true), features(true, true)).unwrap();
        assert_eq!(pending.reanalyse.len(), 1, "a photo pending in the source is queued on the target");
    }

    #[test]
    fn sort_keys_are_told_apart() {
        assert!(matches!(kind("image#01J"), Kind::Record));
        assert!(matches!(kind("image#01J#label#cat"), Kind::Entry));
        assert!(matches!(kind("image#01J#person#01K"), Kind::Entry));
        assert!(matches!(kind("image#01J#word#menu"), Kind::Entry));
        assert!(matches!(kind("image#01J#taken"), Kind::Entry));
        assert!(matches!(kind("image#01J#face#000"), Kind::People));
        assert!(matches!(kind("image#01J#grouped"), Kind::People));
        assert!(matches!(kind("person#01K"), Kind::People));
        assert!(matches!(kind("people"), Kind::People));
        assert!(matches!(kind("usage"), Kind::Other));
        assert!(matches!(kind("album#cat"), Kind::Other));
        // Favourites and collections move as they are: the owner's, and no tier drops them.
        assert!(matches!(kind("image#01J#favourite"), Kind::Other));
        assert!(matches!(kind("image#01J#collection#01C"), Kind::InCollection));
        assert!(matches!(kind("collection#01C"), Kind::Other));
        assert!(matches!(kind("collection#01C#link#01L"), Kind::Other));
        // Sharing is the mover's to keep or drop, by where the other side is.
        assert!(matches!(kind("collection#01C#member#bob"), Kind::Sharing));
        assert!(matches!(kind("shared#01C"), Kind::Sharing));
    }

    #[test]
    fn sharing_is_set_aside_and_links_are_found() {
        use crate::images::keys::{CollectionItem, LinkItem, ListedImage, MemberItem, SharedItem, collection_member_sk, shared_sk};
        use domain::collections::{Collection, Role};
        use domain::links::Link;
        let user = UserName::parse("ann").unwrap();
        let collection = Collection::new(&user, "Trip", None).unwrap();
        let account = AccountId::new();
        let link = Link {
            id: domain::LinkId::new(),
            owner: user.clone(),
            collection: collection.id,
            secret_digest: "ab".repeat(32),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            expires_at: None,
            password_hash: None,
            allow_download: true,
        };
        let theirs = CollectionId::new();
        let items = vec![
            to_item(CollectionItem::of(&collection)).unwrap(),
            to_item(LinkItem::of(&link)).unwrap(),
            to_item(MemberItem {
                pk: "ann".into(),
                sk: collection_member_sk(collection.id, &UserName::parse("bob").unwrap()),
                member: "bob".into(),
                role: Role::Viewer,
                member_account_id: Some(account.to_string()),
            })
            .unwrap(),
            to_item(SharedItem { pk: "ann".into(), sk: shared_sk(theirs), collection_id: theirs.to_string(), owner: "cyd".into() })
                .unwrap(),
            to_item(ListedImage::in_collection(&user, ImageId::new(), collection.id)).unwrap(),
            to_item(ListedImage::in_collection(&user, ImageId::new(), theirs)).unwrap(),
        ];
        let adapted = Partition { user, items }.adapt(features(true, true), features(true, true)).unwrap();
        assert_eq!(adapted.items.len(), 3, "the collection, its link and its photo move as they are");
        assert_eq!(adapted.links().unwrap(), [link]);
        let [
            Sharing::Member { collection: of, member, account: Some(kept), .. },
            shared_with @ Sharing::SharedWithUser { collection: shared, owner, contributed, .. },
        ] = adapted.sharing.as_slice()
        else {
            panic!("{:?}", adapted.sharing)
        };
        assert_eq!((*of, member.as_str(), *kept), (collection.id, "bob", account));
        assert_eq!((*shared, owner.as_str()), (theirs, "cyd"));
        assert_eq!(contributed.len(), 1, "the photo the user contributed to cyd's collection goes with that sharing");
        assert_eq!(shared_with.items().len(), 2);
    }
}
