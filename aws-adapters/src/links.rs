//! The stack-wide side of links in the users table ([`domain::links`]): `pk` =
//! `#link#<digest of the secret>` (no user name starts with `#`), `sk` = `target`, naming the
//! owner, the collection and the link. An expiring link's item carries the table's TTL
//! attribute a while past its expiry ([`domain::links::KEPT_AFTER_EXPIRY`]).

use async_trait::async_trait;
use contract::names::USERS_EXPIRES_AT;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aws_error;
use crate::dynamo::{self, Item, from_item, to_item};
use crate::users::DynamoUsers;
use domain::LinkDirectory;
use domain::error::Result;
use domain::links::LinkTarget;
use domain::model::{CollectionId, LinkId, UserName};

const TARGET_SK: &str = "target";

fn target_pk(secret_digest: &str) -> String {
    format!("#link#{secret_digest}")
}

fn target_key(secret_digest: &str) -> Item {
    dynamo::key(&target_pk(secret_digest), TARGET_SK)
}

#[derive(Debug, Serialize, Deserialize)]
struct TargetItem {
    pk: String,
    sk: String,
    owner: String,
    collection_id: String,
    link_id: String,
}

#[async_trait]
impl LinkDirectory for DynamoUsers {
    async fn put_link_target(&self, secret_digest: &str, target: &LinkTarget, kept_until: Option<OffsetDateTime>) -> Result<()> {
        let mut item = to_item(TargetItem {
            pk: target_pk(secret_digest),
            sk: TARGET_SK.to_owned(),
            owner: target.owner.to_string(),
            collection_id: target.collection.to_string(),
            link_id: target.link.to_string(),
        })?;
        if let Some(kept_until) = kept_until {
            item.insert(USERS_EXPIRES_AT.to_owned(), dynamo::n(kept_until.unix_timestamp()));
        }
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(aws_error("PutItem link target"))?;
        Ok(())
    }

    async fn link_target(&self, secret_digest: &str) -> Result<Option<LinkTarget>> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(target_key(secret_digest)))
            .send()
            .await
            .map_err(aws_error("GetItem link target"))?;
        let Some(item) = answer.item else { return Ok(None) };
        let item: TargetItem = from_item(item)?;
        Ok(Some(LinkTarget {
            owner: UserName::parse(&item.owner)?,
            collection: CollectionId::parse(&item.collection_id)?,
            link: LinkId::parse(&item.link_id)?,
        }))
    }

    async fn delete_link_target(&self, secret_digest: &str) -> Result<()> {
        let request = self.client.delete_item().table_name(&self.table).set_key(Some(target_key(secret_digest)));
        request.send().await.map_err(aws_error("DeleteItem link target"))?;
        Ok(())
    }
}
