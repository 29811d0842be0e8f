//! Reading the `entries` index: a user's images newest first, and searches planned so that an
//! AND search costs about the rarest term's photos, whatever the size of the table: a person's
//! entries when the search names one (a person is on few photos), else a word's, else a place
//! name's, else (with a time range) the time partition's, sorted by when the photos were taken,
//! else the rarest label's; the entries of each carry what the other terms of such a
//! search are (a person's the labels, persons, words and places; a word's the labels, words and
//! places; a place's the labels and places; a label's and the time partition's the labels), and
//! every entry when its photo was taken, so the other terms are filters.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use contract::names::{IMAGES_ENTRIES_INDEX, IMAGES_ENTRIES_INDEX_KEY};

use async_trait::async_trait;
use domain::ImageIndex;

use super::DynamoImages;
use super::keys::{
    ImageItem, ListedImage, SearchEntry, favourite_sk, favourites_entry, images_entry, label_entry, label_sk, parse_taken_entry_sk,
    person_entry, person_sk, place_entry, place_sk, record_sk, taken_entry_pk, taken_entry_sk, taken_sk, word_entry, word_sk,
};
use crate::aws_error;
use crate::dynamo::{self, from_item, s};
use domain::error::Result;
use domain::model::{ImageId, ImageRecord, Page, Search, SearchCursor, SearchMatch, UserName, parse_rfc3339};
use domain::taken::TakenRange;

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

    /// A newest-first Query of one partition of the `entries` index, resuming after the item
    /// `after` = (its sort key, its sort key in the index). The start key is rebuilt here,
    /// inside the caller's partition, so a cursor can never lead into another user's data.
    fn entries_query(&self, user: &UserName, entry_pk: String, limit: usize, after: Option<(String, String)>) -> QueryFluentBuilder {
        let mut query = self.entries_partition(entry_pk.clone()).scan_index_forward(false).limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some((sk, entry_sk)) = after {
            query = query.set_exclusive_start_key(Some(dynamo::index_start_key(
                user.as_str(),
                sk,
                IMAGES_ENTRIES_INDEX_KEY,
                (entry_pk, entry_sk),
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
        let after = after.map(|id| (sk_of(id), id.to_string()));
        let answer = self.entries_query(user, entry_pk, limit, after).send().await.map_err(aws_error("Query listed images"))?;
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
        let after = after.map(|id| (record_sk(id), id.to_string()));
        let answer = self.entries_query(user, images_entry(user), limit, after).send().await.map_err(aws_error("Query images"))?;
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

    async fn search(
        &self,
        user: &UserName,
        search: &Search,
        limit: usize,
        after: Option<&SearchCursor>,
    ) -> Result<Page<SearchMatch, SearchCursor>> {
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
        let time_keys = search.taken.as_ref().map(TakenRange::key_bounds);
        if !search.in_time_order() && persons.is_empty() && words.is_empty() && places.is_empty() && labels.len() > 1 {
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
        // name's; else, with a time range, the time partition's; else the rarest label's), and
        // the terms left to filter by.
        type Plan<'a> = (String, Sorted, &'a [String], &'a [String], &'a [String], &'a [String]);
        let (partition, sorted, other_labels, other_persons, other_words, other_places): Plan =
            if let Some((first, others)) = persons.split_first() {
                let first = first.clone();
                (person_entry(user, &first), Sorted::by_id(move |id| person_sk(id, &first)), &labels, others, words, places)
            } else if let Some((first, others)) = words.split_first() {
                let first = first.clone();
                (word_entry(user, &first), Sorted::by_id(move |id| word_sk(id, &first)), &labels, &[], others, places)
            } else if let Some((first, others)) = places.split_first() {
                let first = first.clone();
                (place_entry(user, &first), Sorted::by_id(move |id| place_sk(id, &first)), &labels, &[], &[], others)
            } else if search.in_time_order() {
                (taken_entry_pk(user), Sorted::ByTime, &labels, &[], &[], &[])
            } else if let Some((first, others)) = labels.split_first() {
                let first = first.clone();
                (label_entry(user, &first), Sorted::by_id(move |id| label_sk(id, &first)), others, &[], &[], &[])
            } else {
                return Ok(nothing);
            };
        let mut hits = Vec::new();
        let mut start = after.map(|after| sorted.start_of(after)).transpose()?;
        loop {
            let remaining = limit - hits.len();
            // Limit counts items read before the filter, so one page never holds more
            // matches than are still wanted and the cursor never skips one.
            let mut query = self.entries_query(user, partition.clone(), remaining, start.take());
            let mut filters: Vec<String> = Vec::new();
            let terms = other_labels
                .iter()
                .enumerate()
                .map(|(i, label)| (format!(":label{i}"), "labels", label))
                .chain(other_persons.iter().enumerate().map(|(i, person)| (format!(":person{i}"), "persons", person)))
                .chain(other_words.iter().enumerate().map(|(i, word)| (format!(":word{i}"), "words", word)))
                .chain(other_places.iter().enumerate().map(|(i, place)| (format!(":place{i}"), "places", place)));
            for (value, attribute, term) in terms {
                // Attribute names through aliases: no stored name may collide with a reserved word.
                filters.push(format!("contains(#{attribute}, {value})"));
                query = query.expression_attribute_names(format!("#{attribute}"), attribute);
                query = query.expression_attribute_values(value, s(term.as_str()));
            }
            if let Some((low, high)) = &time_keys {
                query = match sorted {
                    // A range of the partition's sort keys (`<taken key>#<id>`: `~` sorts after
                    // every id).
                    Sorted::ByTime => query
                        .key_condition_expression("#entry_pk = :entry AND #entry_sk BETWEEN :taken_low AND :taken_high")
                        .expression_attribute_names("#entry_sk", IMAGES_ENTRIES_INDEX_KEY.1)
                        .expression_attribute_values(":taken_low", s(low.as_str()))
                        .expression_attribute_values(":taken_high", s(format!("{high}#~"))),
                    Sorted::ById(_) => {
                        filters.push("#taken BETWEEN :taken_low AND :taken_high".to_owned());
                        query
                            .expression_attribute_names("#taken", "taken")
                            .expression_attribute_values(":taken_low", s(low.as_str()))
                            .expression_attribute_values(":taken_high", s(high.as_str()))
                    }
                };
            }
            if !filters.is_empty() {
                query = query.filter_expression(filters.join(" AND "));
            }
            let answer = query.send().await.map_err(aws_error("Query entries index"))?;
            for item in answer.items.unwrap_or_default() {
                let entry: SearchEntry = from_item(item)?;
                let created_at = parse_rfc3339(&entry.created_at)?;
                // The keys read are widened to any zone's clock: the range on the user's is exact.
                if !search.holds_time(entry.taken_at.as_deref(), created_at) {
                    continue;
                }
                hits.push(SearchMatch {
                    id: ImageId::parse(&entry.image_id)?,
                    labels: entry.labels,
                    content_type: entry.content_type,
                    created_at,
                    taken_at: entry.taken_at,
                    width: entry.width,
                    height: entry.height,
                    color: entry.color,
                });
            }
            let last_read = answer
                .last_evaluated_key
                .as_ref()
                .and_then(|key| key.get(IMAGES_ENTRIES_INDEX_KEY.1))
                .and_then(|value| value.as_s().ok())
                .map(|entry_sk| sorted.cursor_at(entry_sk))
                .transpose()?;
            match last_read {
                Some(last_read) if hits.len() < limit => start = Some(sorted.start_of(&last_read)?),
                Some(_) => {
                    let next = hits.last().map(SearchMatch::cursor);
                    return Ok(Page { items: hits, next });
                }
                None => return Ok(Page { items: hits, next: None }),
            }
        }
    }

    async fn oldest_taken(&self, user: &UserName) -> Result<Option<String>> {
        let answer = self
            .entries_partition(taken_entry_pk(user))
            .scan_index_forward(true)
            .limit(1)
            .send()
            .await
            .map_err(aws_error("Query oldest taken"))?;
        let Some(entry_sk) = answer.items.unwrap_or_default().into_iter().find_map(|mut item| item.remove(IMAGES_ENTRIES_INDEX_KEY.1))
        else {
            return Ok(None);
        };
        let entry_sk = entry_sk.as_s().map_err(|_| domain::Error::Internal("a time entry's sort key is no string".to_owned()))?;
        Ok(Some(parse_taken_entry_sk(entry_sk)?.0))
    }
}

/// How the partition a search reads is sorted: by image id (an entry's sort key from the id),
/// or by when the photos were taken.
enum Sorted {
    ById(Box<dyn Fn(ImageId) -> String + Send + Sync>),
    ByTime,
}

impl Sorted {
    fn by_id(sk_of: impl Fn(ImageId) -> String + Send + Sync + 'static) -> Self {
        Sorted::ById(Box::new(sk_of))
    }

    /// The (sort key, index sort key) of the entry a cursor stands at.
    fn start_of(&self, cursor: &SearchCursor) -> Result<(String, String)> {
        Ok(match self {
            Sorted::ById(sk_of) => (sk_of(cursor.id), cursor.id.to_string()),
            Sorted::ByTime => (taken_sk(cursor.id), taken_entry_sk(cursor.taken_key()?, cursor.id)),
        })
    }

    /// The cursor at the entry of index sort key `entry_sk`.
    fn cursor_at(&self, entry_sk: &str) -> Result<SearchCursor> {
        Ok(match self {
            Sorted::ById(_) => SearchCursor { id: ImageId::parse(entry_sk)?, taken_key: None },
            Sorted::ByTime => {
                let (taken_key, id) = parse_taken_entry_sk(entry_sk)?;
                SearchCursor { id, taken_key: Some(taken_key) }
            }
        })
    }
}
