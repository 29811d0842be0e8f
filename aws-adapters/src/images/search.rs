//! Reading the `entries` index: a user's images newest first, and searches planned so that an
//! AND search costs about the rarest term's photos, whatever the size of the table: a person's
//! entries when the search names one (a person is on few photos), else a word's, else a place
//! name's, else the rarest label's; the entries of each carry what the other terms of such a
//! search are (a person's the labels, persons, words and places; a word's the labels, words and
//! places; a place's the labels and places; a label's the labels), so the other terms are
//! filters.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use contract::names::{IMAGES_ENTRIES_INDEX, IMAGES_ENTRIES_INDEX_KEY};

use async_trait::async_trait;
use domain::ImageIndex;

use super::DynamoImages;
use super::keys::{
    ImageItem, ListedImage, SearchEntry, favourite_sk, favourites_entry, images_entry, label_entry, label_sk, person_entry, person_sk,
    place_entry, place_sk, record_sk, word_entry, word_sk,
};
use crate::aws_error;
use crate::dynamo::{self, from_item, s};
use domain::error::Result;
use domain::model::{ImageId, ImageRecord, Page, Search, SearchMatch, UserName, parse_rfc3339};

impl DynamoImages {
    /// A Query of one partition of the `entries` index.
    pub(super) fn entries_partition(&self, entry_pk: String) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(IMAGES_ENTRIES_INDEX)
            .key_condition_expression("#entry_pk = :entry")
            .expression_attribute_names("#entry_pk", IMAGES_ENTRIES_INDEX_KEY.0)
            .expression_attribute_values(":entry", s(entry_pk))
    }

    /// A newest-first Query of one partition of the `entries` index, resuming after image
    /// `after`, whose item there has sort key `sk_of(after)`. The start key is rebuilt here,
    /// inside the caller's partition, so a cursor can never lead into another user's data.
    fn entries_query(
        &self,
        user: &UserName,
        entry_pk: String,
        limit: usize,
        after: Option<ImageId>,
        sk_of: impl Fn(ImageId) -> String,
    ) -> QueryFluentBuilder {
        let mut query = self.entries_partition(entry_pk.clone()).scan_index_forward(false).limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(after) = after {
            let index_values = (entry_pk, after.to_string());
            query = query.set_exclusive_start_key(Some(dynamo::index_start_key(
                user.as_str(),
                sk_of(after),
                IMAGES_ENTRIES_INDEX_KEY,
                index_values,
            )));
        }
        query
    }

    /// The records of the images listed in an index partition of ids only (favourites, a
    /// collection's photos), newest first: a page of its entries, then their records in one
    /// batch read. A photo deleted between the two reads is left out; the page resumes after
    /// its entry all the same.
    pub(super) async fn records_listed_in(
        &self,
        user: &UserName,
        entry_pk: String,
        sk_of: impl Fn(ImageId) -> String,
        limit: usize,
        after: Option<ImageId>,
    ) -> Result<Page<ImageRecord, ImageId>> {
        let answer = self.entries_query(user, entry_pk, limit, after, sk_of).send().await.map_err(aws_error("Query listed images"))?;
        let ids: Vec<ImageId> =
            answer.items.unwrap_or_default().into_iter().map(|item| from_item::<ListedImage>(item)?.image_id()).collect::<Result<_>>()?;
        let keys = ids.iter().map(|id| dynamo::key(user.as_str(), record_sk(*id))).collect();
        let mut records: HashMap<ImageId, ImageRecord> = HashMap::new();
        for item in dynamo::batch_get(&self.client, &self.table, keys).await? {
            let record = from_item::<ImageItem>(item)?.into_record()?;
            records.insert(record.id, record);
        }
        let next = answer.last_evaluated_key.and(ids.last().copied());
        let items = ids.iter().filter_map(|id| records.remove(id)).collect();
        Ok(Page { items, next })
    }
}

#[async_trait]
impl ImageIndex for DynamoImages {
    async fn list(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>> {
        let answer =
            self.entries_query(user, images_entry(user), limit, after, record_sk).send().await.map_err(aws_error("Query images"))?;
        let items = answer
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<ImageItem>(item)?.into_record())
            .collect::<Result<Vec<_>>>()?;
        let next = answer.last_evaluated_key.and(items.last().map(|record| record.id));
        Ok(Page { items, next })
    }

    /// The favourites' entries, newest first, then their records.
    async fn favourites(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>> {
        self.records_listed_in(user, favourites_entry(user), favourite_sk, limit, after).await
    }

    async fn search(&self, user: &UserName, search: &Search, limit: usize, after: Option<ImageId>) -> Result<Page<SearchMatch, ImageId>> {
        let nothing = Page { items: Vec::new(), next: None };
        let mut labels = search.labels.clone();
        // In sort order: the entries read are the first person's (or word's), which carry the
        // persons (words) after them ([`super::keys::person_entries`]).
        let mut persons: Vec<String> = search.persons.iter().map(ToString::to_string).collect();
        persons.sort();
        persons.dedup();
        let mut words = search.words.clone();
        words.sort();
        words.dedup();
        let words = &words;
        let mut places = search.places.clone();
        places.sort();
        places.dedup();
        let places = &places;
        if persons.is_empty() && words.is_empty() && places.is_empty() && labels.len() > 1 {
            // Read the entries of the label with the fewest photos and filter by the others, so
            // the cost follows the rarest label, not the broadest. A label without photos
            // matches nothing.
            let counts = self.album_counts(user, &labels).await?;
            let count = |label: &String| counts.get(label).copied().unwrap_or(0);
            if labels.iter().any(|label| count(label) <= 0) {
                return Ok(nothing);
            }
            labels.sort_by_key(|label| (count(label), label.clone()));
        }
        // The partition read (a person's, else a word's: both are on few photos; else a place
        // name's; else the rarest label's), and the terms left to filter by.
        type SkOf = Box<dyn Fn(ImageId) -> String + Send + Sync>;
        type Plan<'a> = (String, SkOf, &'a [String], &'a [String], &'a [String], &'a [String]);
        let (partition, sk_of, other_labels, other_persons, other_words, other_places): Plan =
            if let Some((first, others)) = persons.split_first() {
                let first = first.clone();
                (person_entry(user, &first), Box::new(move |id| person_sk(id, &first)), &labels, others, words, places)
            } else if let Some((first, others)) = words.split_first() {
                let first = first.clone();
                (word_entry(user, &first), Box::new(move |id| word_sk(id, &first)), &labels, &[], others, places)
            } else if let Some((first, others)) = places.split_first() {
                let first = first.clone();
                (place_entry(user, &first), Box::new(move |id| place_sk(id, &first)), &labels, &[], &[], others)
            } else if let Some((first, others)) = labels.split_first() {
                let first = first.clone();
                (label_entry(user, &first), Box::new(move |id| label_sk(id, &first)), others, &[], &[], &[])
            } else {
                return Ok(nothing);
            };
        let mut hits = Vec::new();
        let mut start = after;
        loop {
            let remaining = limit - hits.len();
            // Limit counts items read before the filter, so one page never holds more
            // matches than are still wanted and the cursor never skips one.
            let mut query = self.entries_query(user, partition.clone(), remaining, start, &sk_of);
            let filters: Vec<(String, &str, &String)> = other_labels
                .iter()
                .enumerate()
                .map(|(i, label)| (format!(":label{i}"), "labels", label))
                .chain(other_persons.iter().enumerate().map(|(i, person)| (format!(":person{i}"), "persons", person)))
                .chain(other_words.iter().enumerate().map(|(i, word)| (format!(":word{i}"), "words", word)))
                .chain(other_places.iter().enumerate().map(|(i, place)| (format!(":place{i}"), "places", place)))
                .collect();
            if !filters.is_empty() {
                // Attribute names through aliases: no stored name may collide with a reserved word.
                let filter = filters
                    .iter()
                    .map(|(value, attribute, _)| format!("contains(#{attribute}, {value})"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                query = query.filter_expression(filter);
                for (value, attribute, term) in &filters {
                    query = query.expression_attribute_names(format!("#{attribute}"), *attribute);
                    query = query.expression_attribute_values(value.clone(), s(term.as_str()));
                }
            }
            let answer = query.send().await.map_err(aws_error("Query entries index"))?;
            for item in answer.items.unwrap_or_default() {
                let entry: SearchEntry = from_item(item)?;
                hits.push(SearchMatch {
                    id: ImageId::parse(&entry.image_id)?,
                    labels: entry.labels,
                    content_type: entry.content_type,
                    created_at: parse_rfc3339(&entry.created_at)?,
                    width: entry.width,
                    height: entry.height,
                    color: entry.color,
                });
            }
            let more = answer
                .last_evaluated_key
                .as_ref()
                .and_then(|key| key.get(IMAGES_ENTRIES_INDEX_KEY.1))
                .and_then(|value| value.as_s().ok())
                .map(|id| ImageId::parse(id))
                .transpose()?;
            match more {
                Some(last_read) if hits.len() < limit => start = Some(last_read),
                Some(_) => {
                    let next = hits.last().map(|hit| hit.id);
                    return Ok(Page { items: hits, next });
                }
                None => return Ok(Page { items: hits, next: None }),
            }
        }
    }
}
