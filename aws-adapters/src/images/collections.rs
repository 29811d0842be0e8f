//! Collections (albums a user makes) in the owner's partition: `collection#<id>` holds the
//! fields. A user's part of a collection (the owner's, or a contributor's in the contributor's
//! own partition) is an item per photo under the photo's own key
//! (`image#<photo>#collection#<id>`, so deleting the photo takes it out of every collection),
//! listed newest first through index `entries` under `<user>#collection#<id>`. Counts and
//! covers are read from that index, never kept: nothing can drift when photos go.

use aws_sdk_dynamodb::types::{ConditionCheck, Put, Select, TransactWriteItem};

/// DynamoDB's most actions in one transaction.
const MAX_TRANSACTION_ACTIONS: usize = 100;

use async_trait::async_trait;
use domain::CollectionStore;
use domain::collections::{self, Collection, CollectionChange, PartSummary};
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

    async fn put_collection(&self, collection: &Collection, condition: &str) -> Result<bool> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(CollectionItem::of(collection))?))
            .condition_expression(condition);
        condition_held(request.send().await, "PutItem collection")
    }

    /// Which of `photos` the user's part of the collection holds.
    async fn held_of(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<Vec<ImageId>> {
        let keys = photos.iter().map(|photo| self.key(user, collection_photo_sk(*photo, id))).collect();
        dynamo::batch_get(&self.client, &self.table, keys)
            .await?
            .into_iter()
            .map(|item| from_item::<ListedImage>(item)?.image_id())
            .collect()
    }

    /// Deletes the items of `photos` in the user's part.
    async fn delete_from_part(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<()> {
        let deletes =
            photos.iter().map(|photo| delete_request(self.key(user, collection_photo_sk(*photo, id)))).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, deletes).await
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

    async fn collections(&self, user: &UserName) -> Result<Vec<Collection>> {
        let mut listed = Vec::new();
        for item in dynamo::partition(&self.client, &self.table, user.as_str(), Some(COLLECTION_PREFIX)).await? {
            // Members and links sort among the collections: only the collections' own items.
            if !item.get("sk").and_then(|sk| sk.as_s().ok()).is_some_and(|sk| is_collection_sk(sk)) {
                continue;
            }
            listed.push(from_item::<CollectionItem>(item)?.into_collection()?);
        }
        listed.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        Ok(listed)
    }

    async fn collection(&self, user: &UserName, id: CollectionId) -> Result<Collection> {
        self.collection_item(user, id).await
    }

    async fn update_collection(&self, user: &UserName, id: CollectionId, change: &CollectionChange) -> Result<Collection> {
        let mut collection = self.collection_item(user, id).await?;
        change.apply(&mut collection)?;
        if !self.put_collection(&collection, "attribute_exists(pk)").await? {
            return Err(no_collection(id));
        }
        Ok(collection)
    }

    async fn touch_collection(&self, owner: &UserName, id: CollectionId) -> Result<()> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(owner, collection_sk(id))))
            .update_expression("SET updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", s(rfc3339(time::OffsetDateTime::now_utc())));
        if condition_held(request.send().await, "UpdateItem collection")? { Ok(()) } else { Err(no_collection(id)) }
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
        // Then the owner's part.
        self.clear_part(user, id).await?;
        Ok(links)
    }

    async fn add_to_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize> {
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
        let already = self.held_of(user, id, photos).await?;
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
        Ok(new.len())
    }

    async fn remove_from_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize> {
        let held = self.held_of(user, id, photos).await?;
        self.delete_from_part(user, id, &held).await?;
        Ok(held.len())
    }

    async fn clear_part(&self, user: &UserName, id: CollectionId) -> Result<usize> {
        let listed = self.listed(user, id, None).await?;
        let photos = listed.iter().map(ListedImage::image_id).collect::<Result<Vec<_>>>()?;
        self.delete_from_part(user, id, &photos).await?;
        Ok(photos.len())
    }

    async fn collection_part(&self, user: &UserName, id: CollectionId) -> Result<PartSummary> {
        let (photo_count, newest) = tokio::try_join!(self.count_photos(user, id), self.listed(user, id, Some(1)))?;
        Ok(PartSummary { photo_count, newest: newest.first().map(ListedImage::image_id).transpose()? })
    }

    async fn held(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<Vec<ImageId>> {
        self.held_of(user, id, photos).await
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

    async fn shared_by(&self, member: &UserName, id: CollectionId) -> Result<Option<UserName>> {
        let item = self.get_sk::<SharedItem>(member, shared_sk(id), "GetItem shared").await?;
        item.map(|item| UserName::parse(&item.owner)).transpose()
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
        self.photos_of(user, id, limit, after).await
    }
}
