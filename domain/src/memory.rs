//! The store traits in memory (feature `memory`): the same rules as the DynamoDB, S3 and SNS
//! implementations (conditions, quotas, isolation by user), without the emulator, so that
//! tests of the router and the analyzer run in milliseconds. The AWS implementations are
//! tested against the emulator.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use contract::{NewImageEvent, NewUserEvent, QuotaSettings, RequestLimits};
use time::OffsetDateTime;

use crate::accounts::{AccountChange, Precondition};
use crate::collections::{self, Collection, CollectionChange};
use crate::error::{Error, Result};
use crate::grouping::{self, Centre, Grouped, Member, MergedBy, PhotoFaces, assign};
use crate::links::{Link, LinkTarget};
use crate::model::{
    Album, Analysis, CollectionId, Face, FaceId, FaceMatch, FoundFace, ImageId, ImageRecord, ImageStatus, LinkId, ObjectVersion, Page,
    Person, PersonChange, PersonId, Search, SearchCursor, SearchMatch, SessionId, Usage, UserName, UserRecord,
};
use crate::requests::{self, Allowance};
use crate::sign_ins::{self, Failures, Guessed, SourceAction};
use crate::taken;
use crate::{
    AlbumStore, CollectionStore, Events, ImageIndex, ImageStore, LinkDirectory, PersonStore, PhotoStore, PlaceStore, SignInThrottle,
    UsageStore, UserStore,
};

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Default)]
pub struct MemoryUsers {
    users: Mutex<BTreeMap<UserName, UserRecord>>,
    allowances: Mutex<HashMap<UserName, Allowance>>,
    /// Open sessions and when each expires.
    sessions: Mutex<HashMap<(UserName, SessionId), OffsetDateTime>>,
    system: Mutex<HashMap<String, Vec<u8>>>,
    /// By [`Guessed::key`].
    failures: Mutex<HashMap<String, Failures>>,
    /// Counts by source address, action and hour.
    sources: Mutex<HashMap<(String, &'static str, i64), u64>>,
    /// Links' targets by their secret's digest.
    links: Mutex<HashMap<String, LinkTarget>>,
}

#[async_trait]
impl LinkDirectory for MemoryUsers {
    async fn put_link_target(&self, secret_digest: &str, target: &LinkTarget, _kept_until: Option<OffsetDateTime>) -> Result<()> {
        locked(&self.links).insert(secret_digest.to_owned(), target.clone());
        Ok(())
    }

    async fn link_target(&self, secret_digest: &str) -> Result<Option<LinkTarget>> {
        Ok(locked(&self.links).get(secret_digest).cloned())
    }

    async fn delete_link_target(&self, secret_digest: &str) -> Result<()> {
        locked(&self.links).remove(secret_digest);
        Ok(())
    }
}

#[async_trait]
impl SignInThrottle for MemoryUsers {
    async fn failures(&self, guessed: Guessed<'_>) -> Result<Option<Failures>> {
        Ok(locked(&self.failures).get(&guessed.key()).copied())
    }

    async fn add_failure(&self, guessed: Guessed<'_>, now_ms: i64) -> Result<Failures> {
        let mut all = locked(&self.failures);
        let previous = all.get(&guessed.key()).filter(|failures| failures.remembered(now_ms)).copied();
        let count = previous.map_or(0, |failures| failures.count).saturating_add(1);
        let earned = sign_ins::lock_after(count).map(|wait| now_ms + wait.as_millis() as i64);
        let locked_until_ms = earned.max(previous.and_then(|failures| failures.locked_until_ms));
        let failures = Failures { count, last_ms: now_ms, locked_until_ms };
        all.insert(guessed.key(), failures);
        Ok(failures)
    }

    async fn clear_failures(&self, guessed: Guessed<'_>) -> Result<()> {
        locked(&self.failures).remove(&guessed.key());
        Ok(())
    }

    async fn count_from_source(&self, source: &str, action: SourceAction, now_ms: i64, limit: u64) -> Result<bool> {
        let mut counts = locked(&self.sources);
        let count = counts.entry((source.to_owned(), action.as_str(), sign_ins::hour_of(now_ms))).or_insert(0);
        if *count >= limit {
            return Ok(false);
        }
        *count += 1;
        Ok(true)
    }
}

#[async_trait]
impl UserStore for MemoryUsers {
    async fn create(&self, user: &UserRecord) -> Result<()> {
        let mut users = locked(&self.users);
        if users.contains_key(&user.user_name) {
            return Err(Error::user_name_taken(&user.user_name));
        }
        users.insert(user.user_name.clone(), user.clone());
        Ok(())
    }

    async fn get(&self, user_name: &UserName) -> Result<Option<UserRecord>> {
        Ok(locked(&self.users).get(user_name).cloned())
    }

    async fn change(&self, user_name: &UserName, change: &AccountChange, only_if: Precondition) -> Result<()> {
        let mut users = locked(&self.users);
        match users.get_mut(user_name) {
            Some(stored) if only_if.holds(stored) => {
                change.apply(stored);
                Ok(())
            }
            _ => Err(Error::account_changed()),
        }
    }

    async fn delete(&self, user_name: &UserName) -> Result<()> {
        locked(&self.users).remove(user_name);
        locked(&self.allowances).remove(user_name);
        locked(&self.sessions).retain(|(user, _), _| user != user_name);
        Ok(())
    }

    async fn start_session(&self, user_name: &UserName, session: SessionId, expires_at: OffsetDateTime) -> Result<()> {
        locked(&self.sessions).insert((user_name.clone(), session), expires_at);
        Ok(())
    }

    async fn session_is_open(&self, user_name: &UserName, session: SessionId, now: OffsetDateTime) -> Result<bool> {
        Ok(locked(&self.sessions).get(&(user_name.clone(), session)).is_some_and(|expires_at| *expires_at > now))
    }

    async fn end_session(&self, user_name: &UserName, session: SessionId) -> Result<()> {
        locked(&self.sessions).remove(&(user_name.clone(), session));
        Ok(())
    }

    async fn admit_request(&self, user_name: &UserName, limits: &RequestLimits, now: OffsetDateTime) -> Result<()> {
        let now_ms = crate::model::epoch_ms(now);
        let mut allowances = locked(&self.allowances);
        let next = requests::admit(allowances.get(user_name).copied(), limits, now_ms)?;
        allowances.insert(user_name.clone(), next);
        Ok(())
    }

    async fn search_prefix(&self, prefix: &str, limit: usize, after: Option<&UserName>) -> Result<Page<UserRecord, UserName>> {
        if prefix.is_empty() {
            return Err(Error::invalid("invalid_prefix", "the prefix is empty"));
        }
        let users = locked(&self.users);
        let mut matching = users
            .values()
            .filter(|user| user.user_name.as_str().starts_with(prefix))
            .filter(|user| after.is_none_or(|after| &user.user_name > after));
        let items: Vec<UserRecord> = matching.by_ref().take(limit).cloned().collect();
        let next = matching.next().and(items.last().map(|user| user.user_name.clone()));
        Ok(Page { items, next })
    }

    async fn system_value(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(locked(&self.system).get(name).cloned())
    }

    async fn put_system_value_if_absent(&self, name: &str, value: &[u8]) -> Result<bool> {
        let mut system = locked(&self.system);
        if system.contains_key(name) {
            return Ok(false);
        }
        system.insert(name.to_owned(), value.to_vec());
        Ok(true)
    }

    async fn put_system_value(&self, name: &str, value: &[u8]) -> Result<()> {
        locked(&self.system).insert(name.to_owned(), value.to_vec());
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryImages {
    images: Mutex<BTreeMap<(UserName, ImageId), ImageRecord>>,
    people: Mutex<MemoryPeople>,
    /// Each collection's fields, by owner.
    collections: Mutex<BTreeMap<(UserName, CollectionId), Collection>>,
    /// Each user's part of a collection: the ids of their photos in it (the records are the
    /// library's).
    parts: Mutex<BTreeMap<(UserName, CollectionId), BTreeSet<ImageId>>>,
    /// The owner's side of sharing: each collection's members and their roles.
    members: Mutex<BTreeMap<(UserName, CollectionId), BTreeMap<UserName, collections::Member>>>,
    /// The member's side: (member, collection) -> owner.
    shared: Mutex<BTreeMap<(UserName, CollectionId), UserName>>,
    /// The owner's side of links.
    links: Mutex<BTreeMap<(UserName, CollectionId, LinkId), Link>>,
}

/// Persons, which person each grouped photo's faces joined (with their descriptors), and
/// every analysed face's descriptor (faces left out of grouping can be assigned later).
#[derive(Default)]
struct MemoryPeople {
    persons: BTreeMap<(UserName, PersonId), Member>,
    grouped: BTreeMap<(UserName, ImageId), PhotoFaces>,
    descriptors: BTreeMap<(UserName, ImageId), Vec<Vec<f32>>>,
    /// The engine's face ids (where it keeps faces), with the photo and face they are.
    engine_faces: BTreeMap<(UserName, String), (ImageId, usize)>,
}

impl MemoryPeople {
    /// The user's persons, by id.
    fn of(&self, user: &UserName) -> Vec<Person> {
        self.members(user).into_iter().map(|(person, _)| person).collect()
    }

    fn members(&self, user: &UserName) -> Vec<Member> {
        self.persons.range((user.clone(), PersonId::MIN)..=(user.clone(), PersonId::MAX)).map(|(_, member)| member.clone()).collect()
    }

    /// The user's persons become `members`, less those left with no face.
    fn replace(&mut self, user: &UserName, members: Vec<Member>) {
        self.persons.retain(|(owner, _), _| owner != user);
        for member in members.into_iter().filter(|(person, _)| person.face_count > 0) {
            self.persons.insert((user.clone(), member.0.id), member);
        }
    }

    /// A photo's faces now belong to `faces`' persons: its grouping and its record say so.
    fn regroup(&mut self, record: &mut ImageRecord, faces: PhotoFaces) {
        for (face, (person, _)) in record.faces.iter_mut().zip(&faces) {
            face.person_id = person.map(|person| person.to_string());
        }
        self.grouped.insert((record.user_name.clone(), record.id), faces);
    }

    fn ungroup(&mut self, user: &UserName, id: ImageId) {
        self.descriptors.remove(&(user.clone(), id));
        self.engine_faces.retain(|(owner, _), (image, _)| owner != user || *image != id);
        for (person, descriptor) in self.grouped.remove(&(user.clone(), id)).unwrap_or_default() {
            let Some(person) = person else { continue };
            let key = (user.clone(), person);
            if let Some((person, centre)) = self.persons.get_mut(&key) {
                grouping::leave(person, centre, &descriptor, id);
                if person.face_count == 0 {
                    self.persons.remove(&key);
                }
            }
            self.recover(user, person, id);
        }
    }

    /// A person who lost its cover with a face of photo `left` but keeps faces gets another:
    /// its face on its newest other photo.
    fn recover(&mut self, user: &UserName, person: PersonId, left: ImageId) {
        let Some((member, _)) = self.persons.get(&(user.clone(), person)) else { return };
        if member.cover.is_some() || member.face_count == 0 {
            return;
        }
        let cover = self
            .grouped
            .range((user.clone(), ImageId::MIN)..=(user.clone(), ImageId::MAX))
            .rev()
            .filter(|((_, photo), _)| *photo != left)
            .find_map(|((_, photo), faces)| grouping::face_of(faces, person).map(|index| FaceId { image: *photo, index }));
        if let Some((member, _)) = self.persons.get_mut(&(user.clone(), person)) {
            member.cover = cover;
        }
    }
}

impl MemoryImages {
    fn counted(images: &BTreeMap<(UserName, ImageId), ImageRecord>, user: &UserName) -> Usage {
        images
            .values()
            .filter(|record| &record.user_name == user && record.status != ImageStatus::Uploading)
            .fold(Usage::default(), |usage, record| Usage { photos: usage.photos + 1, bytes: usage.bytes + record.size })
    }

    fn check_quota(images: &BTreeMap<(UserName, ImageId), ImageRecord>, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let usage = Self::counted(images, &record.user_name);
        let photos_fit = quotas.photos_per_user.as_option().is_none_or(|max| usage.photos < max);
        let bytes_fit = quotas.bytes_per_user.as_option().is_none_or(|max| usage.bytes + record.size <= max);
        if photos_fit && bytes_fit { Ok(()) } else { Err(Error::quota_exceeded(quotas)) }
    }

    /// The user's listed images, newest first, after `after`.
    fn listed<'a>(
        images: &'a BTreeMap<(UserName, ImageId), ImageRecord>,
        user: &'a UserName,
        after: Option<ImageId>,
    ) -> impl Iterator<Item = &'a ImageRecord> {
        images
            .range((user.clone(), ImageId::MIN)..=(user.clone(), ImageId::MAX))
            .rev()
            .map(|(_, record)| record)
            .filter(|record| record.status != ImageStatus::Uploading)
            .filter(move |record| after.is_none_or(|after| record.id < after))
    }
}

fn page<T, C>(mut items: impl Iterator<Item = T>, limit: usize, cursor: impl Fn(&T) -> C) -> Page<T, C> {
    let page: Vec<T> = items.by_ref().take(limit).collect();
    let next = items.next().and(page.last().map(cursor));
    Page { items: page, next }
}

#[async_trait]
impl ImageStore for MemoryImages {
    async fn create(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let mut images = locked(&self.images);
        let key = (record.user_name.clone(), record.id);
        if images.contains_key(&key) {
            return Err(Error::image_exists(&record.id));
        }
        Self::check_quota(&images, record, quotas)?;
        images.insert(key, record.clone());
        Ok(())
    }

    async fn create_upload(&self, record: &ImageRecord) -> Result<()> {
        locked(&self.images).insert((record.user_name.clone(), record.id), record.clone());
        Ok(())
    }

    async fn complete_upload(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let mut images = locked(&self.images);
        let key = (record.user_name.clone(), record.id);
        if images.get(&key).map(|stored| stored.status) != Some(ImageStatus::Uploading) {
            return Err(Error::upload_not_pending(&record.id));
        }
        Self::check_quota(&images, record, quotas)?;
        images.insert(key, record.clone());
        Ok(())
    }

    async fn get(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>> {
        Ok(locked(&self.images).get(&(user.clone(), id)).cloned())
    }

    async fn put_analysis(&self, record: &ImageRecord, analysis: &Analysis) -> Result<bool> {
        let (user, id) = (&record.user_name, record.id);
        let mut images = locked(&self.images);
        // No write comes between in memory: the stored record is the one read.
        let Some(stored) = images.get_mut(&(user.clone(), id)) else { return Ok(false) };
        *stored = stored.analysed(analysis);
        let descriptors = analysis.faces.iter().map(|face| face.descriptor.clone()).collect();
        locked(&self.people).descriptors.insert((user.clone(), id), descriptors);
        Ok(true)
    }

    async fn set_color(&self, user: &UserName, id: ImageId, color: &str) -> Result<bool> {
        match locked(&self.images).get_mut(&(user.clone(), id)) {
            Some(record) => {
                record.color = Some(color.to_owned());
                record.revision += 1;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn set_place(&self, user: &UserName, id: ImageId, place: &crate::places::Place) -> Result<bool> {
        match locked(&self.images).get_mut(&(user.clone(), id)) {
            Some(record) if record.status == ImageStatus::Ready && record.place.is_none() => {
                record.place = Some(place.clone());
                record.revision += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn set_favourite(&self, user: &UserName, id: ImageId, favourite: bool) -> Result<Option<ImageRecord>> {
        match locked(&self.images).get_mut(&(user.clone(), id)) {
            Some(record) if record.status != ImageStatus::Uploading => {
                if record.favourite != favourite {
                    record.favourite = favourite;
                    record.revision += 1;
                }
                Ok(Some(record.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn mark_failed(&self, user: &UserName, id: ImageId, reason: &str) -> Result<bool> {
        let mut images = locked(&self.images);
        match images.get_mut(&(user.clone(), id)) {
            Some(record) if record.status == ImageStatus::Pending => {
                record.status = ImageStatus::Failed;
                record.failure_reason = Some(reason.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>> {
        locked(&self.people).ungroup(user, id);
        for ((owner, _), photos) in locked(&self.parts).iter_mut() {
            if owner == user {
                photos.remove(&id);
            }
        }
        Ok(locked(&self.images).remove(&(user.clone(), id)))
    }

    async fn delete_all(&self, user: &UserName) -> Result<usize> {
        let mut images = locked(&self.images);
        let before = images.len();
        images.retain(|(owner, _), _| owner != user);
        let removed = before - images.len();
        drop(images);
        locked(&self.collections).retain(|(owner, _), _| owner != user);
        locked(&self.parts).retain(|(owner, _), _| owner != user);
        locked(&self.members).retain(|(owner, _), _| owner != user);
        locked(&self.shared).retain(|(member, _), _| member != user);
        locked(&self.links).retain(|(owner, _, _), _| owner != user);
        let mut people = locked(&self.people);
        people.persons.retain(|(owner, _), _| owner != user);
        people.grouped.retain(|(owner, _), _| owner != user);
        people.descriptors.retain(|(owner, _), _| owner != user);
        people.engine_faces.retain(|(owner, _), _| owner != user);
        Ok(removed)
    }
}

#[async_trait]
impl ImageIndex for MemoryImages {
    async fn list(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>> {
        let images = locked(&self.images);
        Ok(page(Self::listed(&images, user, after).cloned(), limit, |record| record.id))
    }

    async fn favourites(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>> {
        let images = locked(&self.images);
        Ok(page(Self::listed(&images, user, after).filter(|record| record.favourite).cloned(), limit, |record| record.id))
    }

    async fn search(
        &self,
        user: &UserName,
        search: &Search,
        limit: usize,
        after: Option<&SearchCursor>,
    ) -> Result<Page<SearchMatch, SearchCursor>> {
        let images = locked(&self.images);
        let key = |record: &ImageRecord| taken::taken_key(record.taken_at.as_deref(), record.created_at);
        let mut found: Vec<&ImageRecord> = Self::listed(&images, user, None)
            .filter(|record| search.labels.iter().all(|wanted| record.labels.iter().any(|label| &label.name == wanted)))
            .filter(|record| {
                let on = |person: &PersonId| record.faces.iter().any(|face| face.person_id.as_deref() == Some(&person.to_string()));
                search.persons.iter().all(on)
            })
            .filter(|record| {
                let names = record.place.as_ref().map(crate::places::Place::search_names).unwrap_or_default();
                search.places.iter().all(|wanted| names.contains(wanted))
            })
            .filter(|record| search.words.iter().all(|word| record.words.contains(word)))
            .filter(|record| search.holds_time(record.taken_at.as_deref(), record.created_at))
            // The index has entries of analysed photos only.
            .filter(|record| record.status == ImageStatus::Ready)
            .filter(|_| {
                search.taken.is_some()
                    || !(search.labels.is_empty() && search.persons.is_empty() && search.words.is_empty() && search.places.is_empty())
            })
            .collect();
        // Newest first by this order: when taken, then the id; or the id alone.
        let in_time_order = search.in_time_order();
        let order = |record: &ImageRecord| (if in_time_order { key(record) } else { String::new() }, record.id);
        found.sort_by_key(|record| std::cmp::Reverse(order(record)));
        let after = after
            .map(|after| Ok::<_, Error>((if in_time_order { after.taken_key()?.to_owned() } else { String::new() }, after.id)))
            .transpose()?;
        let hits = found.into_iter().filter(|record| after.as_ref().is_none_or(|after| order(record) < *after)).map(|record| SearchMatch {
            id: record.id,
            labels: record.labels.iter().map(|label| label.name.clone()).collect(),
            content_type: record.content_type.clone(),
            created_at: record.created_at,
            taken_at: record.taken_at.clone(),
            width: record.width,
            height: record.height,
            color: record.color.clone(),
        });
        Ok(page(hits, limit, SearchMatch::cursor))
    }

    async fn oldest_taken(&self, user: &UserName) -> Result<Option<String>> {
        let images = locked(&self.images);
        let ready = Self::listed(&images, user, None).filter(|record| record.status == ImageStatus::Ready);
        Ok(ready.map(|record| taken::taken_key(record.taken_at.as_deref(), record.created_at)).min())
    }
}

#[async_trait]
impl PersonStore for MemoryImages {
    async fn group_faces(&self, user: &UserName, id: ImageId, faces: &[FoundFace], grouped: &[bool], max_distance: f32) -> Result<Grouped> {
        if !locked(&self.images).contains_key(&(user.clone(), id)) {
            return Err(Error::NotFound(format!("image {id} was deleted")));
        }
        let mut people = locked(&self.people);
        if let Some(faces) = people.grouped.get(&(user.clone(), id)) {
            let persons = faces.iter().map(|(person, _)| *person).collect();
            return Ok(Grouped::of(persons, &people.members(user), max_distance));
        }
        let members = people.members(user);
        let centres: Vec<Centre> = members.iter().map(|(_, centre)| centre.clone()).collect();
        let to_group = grouping::to_group(faces, grouped);
        let person_of = |found: &FaceMatch| {
            let (image, index) = people.engine_faces.get(&(user.clone(), found.engine_id.clone()))?;
            let person = people.grouped.get(&(user.clone(), *image))?.get(*index)?.0?;
            members.iter().position(|(member, _)| member.id == person)
        };
        let chosen = assign(faces, &to_group, &centres, max_distance, person_of);
        let mut result = Vec::new();
        for ((face, joins), index) in faces.iter().zip(chosen).zip(0u32..) {
            if let Some(engine_id) = &face.engine_id {
                people.engine_faces.insert((user.clone(), engine_id.clone()), (id, index as usize));
            }
            let descriptor = &face.descriptor;
            if !to_group[index as usize] {
                result.push((None, Vec::new()));
                continue;
            }
            let key = match joins {
                Some(existing) => (user.clone(), members[existing].0.id),
                None => {
                    let started = grouping::start();
                    let key = (user.clone(), started.0.id);
                    people.persons.insert(key.clone(), started);
                    key
                }
            };
            let (person, centre) = people.persons.get_mut(&key).expect("present");
            grouping::join(person, centre, descriptor, FaceId { image: id, index });
            result.push((Some(key.1), descriptor.to_vec()));
        }
        let persons = result.iter().map(|(person, _)| *person).collect();
        people.grouped.insert((user.clone(), id), result);
        Ok(Grouped::of(persons, &people.members(user), max_distance))
    }

    async fn persons(&self, user: &UserName) -> Result<Vec<Person>> {
        let mut persons = locked(&self.people).of(user);
        Person::sort_for_listing(&mut persons);
        Ok(persons)
    }

    async fn update_person(&self, user: &UserName, id: PersonId, change: &PersonChange) -> Result<Person> {
        let mut people = locked(&self.people);
        let persons = people.of(user);
        let (person, _) = people.persons.get_mut(&(user.clone(), id)).ok_or_else(|| Error::NotFound(format!("no person {id}")))?;
        change.apply(person, &persons)?;
        Ok(person.clone())
    }

    async fn members(&self, user: &UserName) -> Result<Vec<Member>> {
        Ok(locked(&self.people).members(user))
    }

    async fn keep_apart(&self, user: &UserName, a: PersonId, b: PersonId) -> Result<()> {
        let mut people = locked(&self.people);
        let mut members = people.members(user);
        grouping::keep_apart(&mut members, a, b)?;
        people.replace(user, members);
        Ok(())
    }

    async fn merge_persons(&self, user: &UserName, into: PersonId, from: &[PersonId], by: MergedBy) -> Result<Person> {
        let mut images = locked(&self.images);
        let mut people = locked(&self.people);
        let mut members = people.members(user);
        let (ids, mut photos): (Vec<ImageId>, Vec<PhotoFaces>) = people
            .grouped
            .range((user.clone(), ImageId::MIN)..=(user.clone(), ImageId::MAX))
            .filter(|(_, faces)| faces.iter().any(|(person, _)| person.is_some_and(|person| from.contains(&person))))
            .map(|((_, id), faces)| (*id, faces.clone()))
            .unzip();
        let merged = grouping::merge(&mut members, into, from, &mut photos, by)?;
        people.replace(user, members);
        for (id, faces) in ids.into_iter().zip(photos) {
            if let Some(record) = images.get_mut(&(user.clone(), id)) {
                people.regroup(record, faces);
            }
        }
        Ok(merged)
    }

    async fn move_face(&self, user: &UserName, face: FaceId, to: Option<PersonId>) -> Result<Face> {
        let mut images = locked(&self.images);
        let mut people = locked(&self.people);
        let key = (user.clone(), face.image);
        let index = face.index as usize;
        let not_found = || Error::NotFound(format!("no face {face}"));
        let record = images.get_mut(&key).ok_or_else(not_found)?;
        let mut faces = people.grouped.get(&key).filter(|faces| index < faces.len()).cloned().ok_or_else(not_found)?;
        let descriptor = people.descriptors.get(&key).and_then(|all| all.get(index)).cloned().unwrap_or_else(|| faces[index].1.clone());
        let mut members = people.members(user);
        let changed = grouping::move_face(&mut members, face.image, &mut faces, index, &descriptor, to)?;
        people.replace(user, members);
        people.regroup(record, faces);
        for person in changed {
            people.recover(user, person, face.image);
        }
        record.faces.get(index).cloned().ok_or_else(not_found)
    }
}

impl MemoryImages {
    /// A collection's links, oldest first (ids are ULIDs).
    fn links_of(links: &BTreeMap<(UserName, CollectionId, LinkId), Link>, owner: &UserName, id: CollectionId) -> Vec<Link> {
        links.range((owner.clone(), id, LinkId::MIN)..=(owner.clone(), id, LinkId::MAX)).map(|(_, link)| link.clone()).collect()
    }
}

fn no_collection(id: CollectionId) -> Error {
    Error::NotFound(format!("no collection {id}"))
}

#[async_trait]
impl CollectionStore for MemoryImages {
    async fn create_collection(&self, collection: &Collection) -> Result<()> {
        locked(&self.collections).insert((collection.owner.clone(), collection.id), collection.clone());
        Ok(())
    }

    async fn collections(&self, user: &UserName) -> Result<Vec<Collection>> {
        let collections = locked(&self.collections);
        let mut listed: Vec<Collection> =
            collections.range((user.clone(), CollectionId::MIN)..=(user.clone(), CollectionId::MAX)).map(|(_, c)| c.clone()).collect();
        listed.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        Ok(listed)
    }

    async fn collection(&self, user: &UserName, id: CollectionId) -> Result<Collection> {
        locked(&self.collections).get(&(user.clone(), id)).cloned().ok_or_else(|| no_collection(id))
    }

    async fn update_collection(&self, user: &UserName, id: CollectionId, change: &CollectionChange) -> Result<Collection> {
        let mut collections = locked(&self.collections);
        let collection = collections.get_mut(&(user.clone(), id)).ok_or_else(|| no_collection(id))?;
        change.apply(collection)?;
        Ok(collection.clone())
    }

    async fn touch_collection(&self, owner: &UserName, id: CollectionId) -> Result<()> {
        let mut collections = locked(&self.collections);
        collections.get_mut(&(owner.clone(), id)).ok_or_else(|| no_collection(id))?.updated_at = OffsetDateTime::now_utc();
        Ok(())
    }

    async fn delete_collection(&self, user: &UserName, id: CollectionId) -> Result<Vec<Link>> {
        locked(&self.collections).remove(&(user.clone(), id)).ok_or_else(|| no_collection(id))?;
        locked(&self.parts).remove(&(user.clone(), id));
        locked(&self.members).remove(&(user.clone(), id));
        let mut links = locked(&self.links);
        let deleted = Self::links_of(&links, user, id);
        links.retain(|(owner, collection, _), _| (owner, *collection) != (user, id));
        Ok(deleted)
    }

    async fn add_to_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize> {
        let images = locked(&self.images);
        if let Some(missing) =
            photos.iter().find(|photo| images.get(&(user.clone(), **photo)).is_none_or(|record| record.status == ImageStatus::Uploading))
        {
            return Err(Error::NotFound(format!("no image {missing}")));
        }
        let mut parts = locked(&self.parts);
        let held = parts.entry((user.clone(), id)).or_default();
        Ok(photos.iter().filter(|photo| held.insert(**photo)).count())
    }

    async fn remove_from_collection(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<usize> {
        let mut parts = locked(&self.parts);
        Ok(parts.get_mut(&(user.clone(), id)).map_or(0, |held| photos.iter().filter(|photo| held.remove(photo)).count()))
    }

    async fn clear_part(&self, user: &UserName, id: CollectionId) -> Result<usize> {
        Ok(locked(&self.parts).remove(&(user.clone(), id)).map_or(0, |held| held.len()))
    }

    async fn collection_part(&self, user: &UserName, id: CollectionId) -> Result<collections::PartSummary> {
        let parts = locked(&self.parts);
        let held = parts.get(&(user.clone(), id));
        Ok(collections::PartSummary {
            photo_count: held.map_or(0, |held| held.len() as u64),
            newest: held.and_then(|held| held.last().copied()),
        })
    }

    async fn held(&self, user: &UserName, id: CollectionId, photos: &[ImageId]) -> Result<Vec<ImageId>> {
        let parts = locked(&self.parts);
        let held = parts.get(&(user.clone(), id));
        Ok(photos.iter().filter(|photo| held.is_some_and(|held| held.contains(photo))).copied().collect())
    }

    async fn put_member(&self, owner: &UserName, id: CollectionId, member: &collections::Member) -> Result<()> {
        if !locked(&self.collections).contains_key(&(owner.clone(), id)) {
            return Err(no_collection(id));
        }
        locked(&self.members).entry((owner.clone(), id)).or_default().insert(member.user.clone(), member.clone());
        Ok(())
    }

    async fn remove_member(&self, owner: &UserName, id: CollectionId, member: &UserName) -> Result<bool> {
        Ok(locked(&self.members).get_mut(&(owner.clone(), id)).is_some_and(|members| members.remove(member).is_some()))
    }

    async fn collection_members(&self, owner: &UserName, id: CollectionId) -> Result<Vec<collections::Member>> {
        if !locked(&self.collections).contains_key(&(owner.clone(), id)) {
            return Err(no_collection(id));
        }
        let members = locked(&self.members).get(&(owner.clone(), id)).cloned().unwrap_or_default();
        Ok(members.into_values().collect())
    }

    async fn put_shared(&self, member: &UserName, owner: &UserName, id: CollectionId) -> Result<()> {
        locked(&self.shared).insert((member.clone(), id), owner.clone());
        Ok(())
    }

    async fn remove_shared(&self, member: &UserName, id: CollectionId) -> Result<()> {
        locked(&self.shared).remove(&(member.clone(), id));
        Ok(())
    }

    async fn shared_by(&self, member: &UserName, id: CollectionId) -> Result<Option<UserName>> {
        Ok(locked(&self.shared).get(&(member.clone(), id)).cloned())
    }

    async fn shared_with(&self, member: &UserName) -> Result<Vec<(CollectionId, UserName)>> {
        let shared = locked(&self.shared);
        Ok(shared
            .range((member.clone(), CollectionId::MIN)..=(member.clone(), CollectionId::MAX))
            .map(|((_, id), owner)| (*id, owner.clone()))
            .collect())
    }

    async fn put_link(&self, link: &Link) -> Result<()> {
        if !locked(&self.collections).contains_key(&(link.owner.clone(), link.collection)) {
            return Err(no_collection(link.collection));
        }
        locked(&self.links).insert((link.owner.clone(), link.collection, link.id), link.clone());
        Ok(())
    }

    async fn collection_links(&self, owner: &UserName, id: CollectionId) -> Result<Vec<Link>> {
        if !locked(&self.collections).contains_key(&(owner.clone(), id)) {
            return Err(no_collection(id));
        }
        Ok(Self::links_of(&locked(&self.links), owner, id))
    }

    async fn link(&self, owner: &UserName, id: CollectionId, link: LinkId) -> Result<Option<Link>> {
        Ok(locked(&self.links).get(&(owner.clone(), id, link)).cloned())
    }

    async fn delete_link(&self, owner: &UserName, id: CollectionId, link: LinkId) -> Result<Option<Link>> {
        Ok(locked(&self.links).remove(&(owner.clone(), id, link)))
    }

    async fn collection_photos(
        &self,
        user: &UserName,
        id: CollectionId,
        limit: usize,
        after: Option<ImageId>,
    ) -> Result<Page<ImageRecord, ImageId>> {
        let held = locked(&self.parts).get(&(user.clone(), id)).cloned().unwrap_or_default();
        let images = locked(&self.images);
        Ok(page(Self::listed(&images, user, after).filter(|record| held.contains(&record.id)).cloned(), limit, |record| record.id))
    }
}

#[async_trait]
impl AlbumStore for MemoryImages {
    async fn albums(&self, user: &UserName) -> Result<Vec<Album>> {
        let images = locked(&self.images);
        let mut albums: BTreeMap<String, Album> = BTreeMap::new();
        for record in Self::listed(&images, user, None) {
            for label in &record.labels {
                let album = albums.entry(label.name.clone()).or_insert_with(|| Album {
                    label: label.name.clone(),
                    photos: 0,
                    cover: Some(record.id),
                });
                album.photos += 1;
            }
        }
        let mut albums: Vec<Album> = albums.into_values().collect();
        albums.sort_by(|a, b| b.photos.cmp(&a.photos).then_with(|| a.label.cmp(&b.label)));
        Ok(albums)
    }
}

#[async_trait]
impl PlaceStore for MemoryImages {
    /// Counted from the records, newest first, so the first photo of a place is its cover.
    async fn places(&self, user: &UserName) -> Result<Vec<crate::places::PlaceCount>> {
        let images = locked(&self.images);
        let mut places: Vec<crate::places::PlaceCount> = Vec::new();
        for record in Self::listed(&images, user, None) {
            let Some(place) = &record.place else { continue };
            let same = |counted: &crate::places::PlaceCount| {
                (counted.country_code.as_str(), counted.region.as_str(), counted.city.as_str())
                    == (place.country_code.as_str(), place.region.as_str(), place.city.as_str())
            };
            match places.iter_mut().find(|counted| same(counted)) {
                Some(counted) => counted.photos += 1,
                None => places.push(crate::places::PlaceCount {
                    city: place.city.clone(),
                    region: place.region.clone(),
                    country: place.country.clone(),
                    country_code: place.country_code.clone(),
                    photos: 1,
                    cover: Some(record.id),
                }),
            }
        }
        Ok(places)
    }
}

#[async_trait]
impl UsageStore for MemoryImages {
    async fn usage(&self, user: &UserName) -> Result<Usage> {
        Ok(Self::counted(&locked(&self.images), user))
    }
}

/// Objects by key. Presigned URLs point nowhere (`memory://`): the tests that follow them
/// run against the emulator.
#[derive(Default)]
pub struct MemoryPhotos {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryPhotos {
    pub fn keys(&self) -> Vec<String> {
        locked(&self.objects).keys().cloned().collect()
    }
}

/// An object's ETag in memory: a digest of its bytes, as S3's is for a single-part upload.
fn memory_etag(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("\"{:x}\"", sha2::Sha256::digest(bytes))
}

fn check_version(key: &str, bytes: &[u8], etag: &str) -> Result<()> {
    if memory_etag(bytes) == etag { Ok(()) } else { Err(Error::photo_changed(key)) }
}

#[async_trait]
impl PhotoStore for MemoryPhotos {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<()> {
        locked(&self.objects).insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectVersion>> {
        Ok(locked(&self.objects).get(key).map(|bytes| ObjectVersion { size: bytes.len() as u64, etag: memory_etag(bytes) }))
    }

    async fn read(&self, key: &str, etag: Option<&str>) -> Result<Option<Vec<u8>>> {
        let objects = locked(&self.objects);
        let Some(bytes) = objects.get(key) else { return Ok(None) };
        if let Some(etag) = etag {
            check_version(key, bytes, etag)?;
        }
        Ok(Some(bytes.clone()))
    }

    async fn read_start(&self, key: &str, max_bytes: u64, etag: &str) -> Result<Vec<u8>> {
        let objects = locked(&self.objects);
        let bytes = objects.get(key).ok_or_else(|| Error::NotFound(format!("no object {key}")))?;
        check_version(key, bytes, etag)?;
        Ok(bytes[..bytes.len().min(max_bytes as usize)].to_vec())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        locked(&self.objects).remove(key);
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize> {
        let mut objects = locked(&self.objects);
        let before = objects.len();
        objects.retain(|key, _| !key.starts_with(prefix));
        Ok(before - objects.len())
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys: Vec<String> = locked(&self.objects).keys().filter(|key| key.starts_with(prefix)).cloned().collect();
        keys.sort();
        Ok(keys)
    }

    async fn clear_upload_tag(&self, _key: &str) -> Result<()> {
        Ok(())
    }

    async fn presign_put(&self, key: &str, _content_type: &str, size: u64, _expires_in: Duration) -> Result<String> {
        Ok(format!("memory://photos/{key}?method=PUT&content-length={size}"))
    }

    async fn presign_get(&self, key: &str, _expires_in: Duration) -> Result<String> {
        Ok(format!("memory://photos/{key}"))
    }
}

/// What was published, for tests to read back.
#[derive(Default)]
pub struct MemoryEvents {
    pub new_users: Mutex<Vec<String>>,
    pub new_images: Mutex<Vec<NewImageEvent>>,
    /// While set, announcing a photo fails as an unreachable topic does.
    pub new_image_fails: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Events for MemoryEvents {
    async fn new_user(&self, event: &NewUserEvent<'_>) -> Result<()> {
        locked(&self.new_users).push(event.user_name.to_owned());
        Ok(())
    }

    async fn new_image(&self, event: &NewImageEvent) -> Result<()> {
        if self.new_image_fails.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Aws { action: "Publish NewImage".into(), message: "unreachable (as set by the test)".into() });
        }
        locked(&self.new_images).push(event.clone());
        Ok(())
    }
}
