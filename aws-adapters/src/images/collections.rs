//! Collections (albums a user makes) in the owner's partition: `collection#<id>` holds the
//! fields, and each photo in it an item under the photo's own key
//! (`image#<photo>#collection#<id>`, so deleting the photo takes it out of every collection),
//! listed newest first through index `entries` under `<user>#collection#<id>`. Counts and
//! covers are read from that index, never kept: nothing can drift when photos go.

use aws_sdk_dynamodb::types::{ConditionCheck, Put, Select, TransactWriteItem};

/// DynamoDB's most actions in one transaction.
const MAX_TRANSACTION_ACTIONS: usize = 100;

use async_trait::async_trait;
use domain::CollectionStore;
use domain::collections::{self, Collection, CollectionChange, CollectionSummary};
use domain::links::Link;

use super::DynamoImages;
use super::keys::{
    COLLECTION_PREFIX, CollectionItem, ImageItem, LinkItem, ListedImage, MemberItem, SHARED_PREFIX, SharedItem, collection_entry,
    collection_items_prefix, collection_link_sk, collection_links_prefix, collection_member_sk, collection_members_prefix,
    collection_photo_sk, collection_sk, is_collection_sk, record_sk, shared_sk,
};
use crate::aws_error;
use crate::dynamo::{self, condition_held, delete_request, from_item, s, to_item};
use domain::error::{Error, Result};
use domain::model::{AccountId, CollectionId, ImageId, ImageRecord, ImageStatus, LinkId, Page, UserName, rfc3339};

fn no_collection(id: CollectionId) -> Error {
    Error::NotFound(format!("no collection {id}"))
}

impl DynamoImages {
    async fn collection_item(&self, user: &UserName, id: CollectionId) -> Result<Collection> {
        let item = self.get_sk::<CollectionItem>(user, collection_sk(id), "GetItem collection").await?;
        item.ok_or_else(|| no_collection(id))?.into_collection()
    }

    /// How many photos the collection holds: a count of its index partition.
    async fn count_photos(&self, user: &UserName, id: CollectionId) -> Result<u64> {
        let mut pages = self.entries_partition(collection_entry(user, id)).select(Select::Count).into_paginator().send();
        let mut count = 0;
        while let Some(page) = pages.next().await {
            count += page.map_err(aws_error("Query collection count"))?.count.max(0) as u64;
        }
        Ok(count)
    }

    /// The collection with its count and cover: the chosen cover while it is in it, else the
    /// newest photo.
    async fn summary(&self, collection: Collection) -> Result<CollectionSummary> {
        let user = collection.owner.clone();
        let photo_count = self.count_photos(&user, collection.id).await?;
        let chosen = match collection.cover {
            Some(cover) => self.holds(&user, collection.id, cover).await?.then_some(cover),
            None => None,
        };
        let cover = match chosen {
            Some(cover) => Some(cover),
            None => self.listed(&user, collection.id, Some(1)).await?.first().map(ListedImage::image_id).transpose()?,
        };
        Ok(CollectionSummary { collection, photo_count, cover })
    }

    async fn photos_of(
        &self,
        user: &UserName,
        id: CollectionId,
        limit: usize,
        after: Option<ImageId>,
    ) -> Result<Page<ImageRecord, ImageId>> {
        self.records_listed_in(user, collection_entry(user, id), |photo| collection_photo_sk(photo, id), limit, after).await
    }

    /// The collection's photos' items as its index partition lists them, newest first: all, or
    /// the first `limit`. Ids only: no record is read.
    async fn listed(&self, user: &UserName, id: CollectionId, limit: Option<i32>) -> Result<Vec<ListedImage>> {
        let query = self.entries_partition(collection_entry(user, id)).scan_index_forward(false).set_limit(limit);
        let mut items = Vec::new();
        if limit.is_some() {
            let answer = query.send().await.map_err(aws_error("Query collection photos"))?;
            items.extend(answer.items.unwrap_or_default());
        } else {
            let mut pages = query.into_paginator().items().send();
            while let Some(item) = pages.next().await {
                items.push(item.map_err(aws_error("Query collection photos"))?);
            }
        }
        items.into_iter().map(from_item::<ListedImage>).collect()
    }

    async fn holds(&self, user: &UserName, id: CollectionId, photo: ImageId) -> Result<bool> {
        Ok(self.get_sk::<ListedImage>(user, collection_photo_sk(photo, id), "GetItem collection photo").await?.is_some())
    }

    async fn put_collection(&self, collection: &Collection, condition: &str) -> Result<bool> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(CollectionItem::of(collection))?))
            .condition_expression(condition);
        condition_held(request.send().await, "PutItem collection")
    }

    /// Marks the collection changed now; `NotFound` when it is gone.
    async fn touch(&self, user: &UserName, id: CollectionId) -> Result<()> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, collection_sk(id))))
            .update_expression("SET updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", s(rfc3339(time::OffsetDateTime::now_utc())));
        if condition_held(request.send().await, "UpdateItem collection")? { Ok(()) } else { Err(no_collection(id)) }
    }

    /// Which of `photos` are in the collection.
    async fn held(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<Vec<ImageId>> {
        let keys = photos.iter().map(|photo| self.key(user, collection_photo_sk(*photo, id))).collect();
        dynamo::batch_get(&self.client, &self.table, keys)
            .await?
            .into_iter()
            .map(|item| from_item::<ListedImage>(item)?.image_id())
            .collect()
    }
}

#[async_trait]
impl CollectionStore for DynamoImages {
    async fn create_collection(&self, collection: &Collection) -> Result<()> {
        if self.put_collection(collection, "attribute_not_exists(pk)").await? {
            Ok(())
        } else {
            Err(Error::Conflict { code: "collection_exists", message: format!("collection {} exists already", collection.id) })
        }
    }

    async fn collections(&self, user: &UserName) -> Result<Vec<CollectionSummary>> {
        let mut listed = Vec::new();
        for item in dynamo::partition(&self.client, &self.table, user.as_str(), Some(COLLECTION_PREFIX)).await? {
            // Members and links sort among the collections: only the collections' own items.
            if !item.get("sk").and_then(|sk| sk.as_s().ok()).is_some_and(|sk| is_collection_sk(sk)) {
                continue;
            }
            listed.push(self.summary(from_item::<CollectionItem>(item)?.into_collection()?).await?);
        }
        listed.sort_by(|a, b| b.collection.updated_at.cmp(&a.collection.updated_at).then(b.collection.id.cmp(&a.collection.id)));
        Ok(listed)
    }

    async fn collection(&self, user: &UserName, id: CollectionId) -> Result<CollectionSummary> {
        self.summary(self.collection_item(user, id).await?).await
    }

    async fn update_collection(&self, user: &UserName, id: CollectionId, change: &CollectionChange) -> Result<CollectionSummary> {
        let mut collection = self.collection_item(user, id).await?;
        if let Some(Some(cover)) = change.cover
            && !self.holds(user, id, cover).await?
        {
            return Err(collections::not_a_cover(cover));
        }
        change.apply(&mut collection)?;
        if !self.put_collection(&collection, "attribute_exists(pk)").await? {
            return Err(no_collection(id));
        }
        self.summary(collection).await
    }

    async fn delete_collection(&self, user: &UserName, id: CollectionId) -> Result<Vec<Link>> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, collection_sk(id))))
            .condition_expression("attribute_exists(pk)");
        if !condition_held(request.send().await, "DeleteItem collection")? {
            return Err(no_collection(id));
        }
        // Its members and links, keeping the links to say what the stack-wide side loses.
        let items = dynamo::partition(&self.client, &self.table, user.as_str(), Some(&collection_items_prefix(id))).await?;
        let deletes = items.iter().map(|item| delete_request(dynamo::key_of(item))).collect::<Result<Vec<_>>>()?;
        let links_prefix = collection_links_prefix(id);
        let mut links = Vec::new();
        for item in items {
            if item.get("sk").and_then(|sk| sk.as_s().ok()).is_some_and(|sk| sk.starts_with(&links_prefix)) {
                links.push(from_item::<LinkItem>(item)?.into_link()?);
            }
        }
        dynamo::batch_write(&self.client, &self.table, deletes).await?;
        // Then its photos' items, as its index partition lists them.
        let listed = self.listed(user, id, None).await?;
        let deletes = listed.iter().map(|item| delete_request(self.key(user, item.sk.clone()))).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, deletes).await?;
        Ok(links)
    }

    async fn add_to_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize> {
        self.collection_item(user, id).await?;
        let keys = photos.iter().map(|photo| self.key(user, record_sk(*photo))).collect();
        let mut found = Vec::new();
        for item in dynamo::batch_get(&self.client, &self.table, keys).await? {
            let record: ImageRecord = from_item::<ImageItem>(item)?.into_record()?;
            if record.status != ImageStatus::Uploading {
                found.push(record.id);
            }
        }
        if let Some(missing) = photos.iter().find(|photo| !found.contains(photo)) {
            return Err(Error::NotFound(format!("no image {missing}")));
        }
        let already = self.held(user, id, photos).await?;
        let new: Vec<ImageId> = photos.iter().filter(|photo| !already.contains(photo)).copied().collect();
        // Each membership is written on condition that its photo is still there: a photo
        // deleted since the check above (whose deletion may have listed its items already)
        // gets no membership left behind. Two actions a photo, 100 a transaction.
        for chunk in new.chunks(MAX_TRANSACTION_ACTIONS / 2) {
            let mut transaction = Vec::with_capacity(chunk.len() * 2);
            for photo in chunk {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(self.key(user, record_sk(*photo))))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(|err| Error::Internal(err.to_string()))?;
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_item(ListedImage::in_collection(user, *photo, id))?))
                    .build()
                    .map_err(|err| Error::Internal(err.to_string()))?;
                transaction.push(TransactWriteItem::builder().condition_check(check).build());
                transaction.push(TransactWriteItem::builder().put(put).build());
            }
            if let Err(refusal) = self.transact(transaction, "TransactWriteItems collection photos").await? {
                return Err(Error::NotFound(format!("no image {}", chunk[refusal.index / 2])));
            }
        }
        self.touch(user, id).await?;
        Ok(new.len())
    }

    async fn remove_from_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize> {
        self.collection_item(user, id).await?;
        let held = self.held(user, id, photos).await?;
        let deletes =
            held.iter().map(|photo| delete_request(self.key(user, collection_photo_sk(*photo, id)))).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, deletes).await?;
        self.touch(user, id).await?;
        Ok(held.len())
    }

    async fn put_member(&self, owner: &UserName, id: CollectionId, member: &collections::Member) -> Result<()> {
        self.collection_item(owner, id).await?;
        let item = MemberItem {
            pk: owner.to_string(),
            sk: collection_member_sk(id, &member.user),
            member: member.user.to_string(),
            role: member.role,
            member_account_id: member.account.map(|account| account.to_string()),
        };
        self.client.put_item().table_name(&self.table).set_item(Some(to_item(item)?)).send().await.map_err(aws_error("PutItem member"))?;
        Ok(())
    }

    async fn remove_member(&self, owner: &UserName, id: CollectionId, member: &UserName) -> Result<bool> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key(owner, collection_member_sk(id, member))))
            .condition_expression("attribute_exists(pk)");
        condition_held(request.send().await, "DeleteItem member")
    }

    async fn collection_members(&self, owner: &UserName, id: CollectionId) -> Result<Vec<collections::Member>> {
        self.collection_item(owner, id).await?;
        dynamo::partition(&self.client, &self.table, owner.as_str(), Some(&collection_members_prefix(id)))
            .await?
            .into_iter()
            .map(|item| {
                let item: MemberItem = from_item(item)?;
                Ok(collections::Member {
                    user: UserName::parse(&item.member)?,
                    role: item.role,
                    account: item.member_account_id.as_deref().map(AccountId::parse).transpose()?,
                })
            })
            .collect()
    }

    async fn put_shared(&self, member: &UserName, owner: &UserName, id: CollectionId) -> Result<()> {
        let item = SharedItem { pk: member.to_string(), sk: shared_sk(id), collection_id: id.to_string(), owner: owner.to_string() };
        self.client.put_item().table_name(&self.table).set_item(Some(to_item(item)?)).send().await.map_err(aws_error("PutItem shared"))?;
        Ok(())
    }

    async fn remove_shared(&self, member: &UserName, id: CollectionId) -> Result<()> {
        let key = self.key(member, shared_sk(id));
        self.client.delete_item().table_name(&self.table).set_key(Some(key)).send().await.map_err(aws_error("DeleteItem shared"))?;
        Ok(())
    }

    async fn shared_with(&self, member: &UserName) -> Result<Vec<(CollectionId, UserName)>> {
        dynamo::partition(&self.client, &self.table, member.as_str(), Some(SHARED_PREFIX))
            .await?
            .into_iter()
            .map(|item| {
                let item: SharedItem = from_item(item)?;
                Ok((CollectionId::parse(&item.collection_id)?, UserName::parse(&item.owner)?))
            })
            .collect()
    }

    async fn put_link(&self, link: &Link) -> Result<()> {
        self.collection_item(&link.owner, link.collection).await?;
        let request = self.client.put_item().table_name(&self.table).set_item(Some(to_item(LinkItem::of(link))?));
        request.send().await.map_err(aws_error("PutItem link"))?;
        Ok(())
    }

    async fn collection_links(&self, owner: &UserName, id: CollectionId) -> Result<Vec<Link>> {
        self.collection_item(owner, id).await?;
        dynamo::partition(&self.client, &self.table, owner.as_str(), Some(&collection_links_prefix(id)))
            .await?
            .into_iter()
            .map(|item| from_item::<LinkItem>(item)?.into_link())
            .collect()
    }

    async fn link(&self, owner: &UserName, id: CollectionId, link: LinkId) -> Result<Option<Link>> {
        let item = self.get_sk::<LinkItem>(owner, collection_link_sk(id, link), "GetItem link").await?;
        item.map(LinkItem::into_link).transpose()
    }

    async fn delete_link(&self, owner: &UserName, id: CollectionId, link: LinkId) -> Result<Option<Link>> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key(owner, collection_link_sk(id, link))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        let answer = request.send().await.map_err(aws_error("DeleteItem link"))?;
        answer.attributes.map(|item| from_item::<LinkItem>(item)?.into_link()).transpose()
    }

    async fn collection_photos(
        &self,
        user: &UserName,
        id: CollectionId,
        limit: usize,
        after: Option<ImageId>,
    ) -> Result<Page<ImageRecord, ImageId>> {
        self.collection_item(user, id).await?;
        self.photos_of(user, id, limit, after).await
    }
}
