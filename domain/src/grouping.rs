//! Grouping a photo's faces into a user's persons: the rule, apart from where persons are
//! kept. Each person is known by the sum of its faces' descriptors (so its centre moves as
//! faces join or leave, without reading them); a face joins the nearest person closer than
//! the tier's `faces.max_distance`, else starts one. An engine that keeps faces itself
//! (Rekognition) names the earlier faces a new one matches instead: the face joins the person
//! of the most similar. Two faces of one photo never join the same person: the closest pairs
//! are taken first and a person takes one face of a photo at most.
//! The user's corrections (a face moved, persons merged, two persons said to be different)
//! follow the same rule and the same arithmetic, here too, so that both stores apply them
//! alike. Grouping improves as photos arrive without undoing them: a person of one face that
//! nobody confirmed is taken into a person that grew close to it ([`strays`]), and persons
//! a little farther apart are offered to the user ([`suggestions`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::model::{FaceId, FaceMatch, FoundFace, ImageId, Person, PersonId};

/// A person with its centre, as a store keeps it.
pub type Member = (Person, Centre);

/// A grouped photo's faces, in order: the person each joined (none for faces left out of
/// grouping) and the descriptor it joined with.
pub type PhotoFaces = Vec<(Option<PersonId>, Vec<f32>)>;

/// Persons merged into others: each merged id with the person it went into.
pub type Merged = BTreeMap<PersonId, PersonId>;

/// The person `id` is now: itself, or the one it was merged into (through later merges too).
pub fn resolve(merged: &Merged, mut id: PersonId) -> PersonId {
    // A merge never points back at a merged person's chain, but a bound costs nothing.
    for _ in 0..=merged.len() {
        match merged.get(&id) {
            Some(into) => id = *into,
            None => break,
        }
    }
    id
}

fn same_photo(message: String) -> Error {
    Error::Conflict { code: "same_photo", message }
}

/// Euclidean distance between two descriptors.
pub fn distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
}

/// A person as grouping sees it: the sum of its faces' descriptors and how many.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Centre {
    pub sum: Vec<f32>,
    pub faces: u64,
}

impl Centre {
    pub fn of(descriptor: &[f32]) -> Self {
        Self { sum: descriptor.to_vec(), faces: 1 }
    }

    /// The mean descriptor.
    pub fn mean(&self) -> Vec<f32> {
        let faces = self.faces.max(1) as f32;
        self.sum.iter().map(|value| value / faces).collect()
    }

    /// A face joins; one without a descriptor (an engine's) is only counted.
    pub fn add(&mut self, descriptor: &[f32]) {
        if self.sum.is_empty() {
            self.sum = vec![0.0; descriptor.len()];
        }
        if self.sum.len() == descriptor.len() {
            self.sum.iter_mut().zip(descriptor).for_each(|(sum, value)| *sum += value);
        }
        self.faces += 1;
    }

    /// Takes in every face of `other` (a merge).
    pub fn absorb(&mut self, other: &Centre) {
        if self.faces == 0 {
            *self = other.clone();
        } else if self.sum.len() == other.sum.len() {
            self.sum.iter_mut().zip(&other.sum).for_each(|(sum, value)| *sum += value);
            self.faces += other.faces;
        }
    }

    pub fn remove(&mut self, descriptor: &[f32]) {
        if self.faces == 0 {
            return;
        }
        if self.sum.len() == descriptor.len() {
            self.sum.iter_mut().zip(descriptor).for_each(|(sum, value)| *sum -= value);
        }
        self.faces -= 1;
    }
}

/// The most faces of one photo that are grouped: the DynamoDB store changes a photo's persons
/// in one transaction of at most 100 items (the lock, the record check, the photo's grouping
/// and the persons). The others, the least confident, are listed but not grouped.
pub const MAX_GROUPED_FACES: usize = 97;

/// Which of a photo's faces are grouped, in order: those the quality gate lets through
/// (`grouped`) that grouping can place (by descriptor or by the engine's matches), within
/// [`MAX_GROUPED_FACES`].
pub fn to_group(faces: &[FoundFace], grouped: &[bool]) -> Vec<bool> {
    faces
        .iter()
        .zip(grouped)
        .enumerate()
        .map(|(index, (face, grouped))| *grouped && index < MAX_GROUPED_FACES && face.groupable())
        .collect()
}

/// A new person, without a face yet.
pub fn start() -> (Person, Centre) {
    let person = Person {
        id: PersonId::new(),
        name: None,
        hidden: false,
        face_count: 0,
        photo_count: 0,
        cover: None,
        confirmed: false,
        apart_from: BTreeSet::new(),
    };
    (person, Centre::default())
}

/// A face joins a person: the centre moves to it, the counts grow (a person takes one face
/// of a photo), and the first face is the cover.
pub fn join(person: &mut Person, centre: &mut Centre, descriptor: &[f32], face: FaceId) {
    centre.add(descriptor);
    person.face_count = centre.faces;
    person.photo_count += 1;
    person.cover.get_or_insert(face);
}

/// A face of photo `image` leaves its person (the photo is deleted); the cover goes if it
/// was on that photo.
pub fn leave(person: &mut Person, centre: &mut Centre, descriptor: &[f32], image: ImageId) {
    centre.remove(descriptor);
    person.face_count = centre.faces;
    person.photo_count = person.photo_count.saturating_sub(1);
    if person.cover.is_some_and(|cover| cover.image == image) {
        person.cover = None;
    }
}

/// Which face of a photo (`faces`) is `person`'s, if any.
pub fn face_of(faces: &PhotoFaces, person: PersonId) -> Option<u32> {
    faces.iter().position(|(owner, _)| *owner == Some(person)).and_then(|index| u32::try_from(index).ok())
}

fn position(members: &[Member], id: PersonId) -> Result<usize> {
    members.iter().position(|(person, _)| person.id == id).ok_or_else(|| Error::NotFound(format!("no person {id}")))
}

/// The user moves face `index` of photo `image` (its faces `faces`) to person `to`, or to a new
/// person of its own (`None`), with its `descriptor`. The face leaves its person's centre, so later photos are no
/// longer drawn to that person by it, and joins the other's. The persons changed, by id: one
/// left with no face (`face_count` 0) is to be deleted. `NotFound` for an unknown `to`;
/// `Conflict` `same_photo` when `to` has another face of this photo.
pub fn move_face(
    members: &mut Vec<Member>,
    image: ImageId,
    faces: &mut PhotoFaces,
    index: usize,
    descriptor: &[f32],
    to: Option<PersonId>,
) -> Result<Vec<PersonId>> {
    let from = faces[index].0;
    if to.is_some() && to == from {
        return Ok(Vec::new());
    }
    if descriptor.is_empty() {
        return Err(Error::Conflict { code: "face_not_described", message: "this face has no descriptor to group it by".into() });
    }
    let joins = match to {
        Some(to) => {
            let joins = position(members, to)?;
            if faces.iter().any(|(person, _)| *person == Some(to)) {
                return Err(same_photo(format!("person {to} has another face of this photo; two faces of one photo are never one person")));
            }
            joins
        }
        None => {
            members.push(start());
            members.len() - 1
        }
    };
    let mut changed = Vec::new();
    let to = members[joins].0.id;
    if let Some(from) = from
        && let Ok(left) = position(members, from)
    {
        let (person, centre) = &mut members[left];
        let joined_with = if faces[index].1.is_empty() { descriptor } else { &faces[index].1 };
        leave(person, centre, joined_with, image);
        // The user said this face is not `from`'s: its new person is someone else, so later
        // grouping never puts it back (a person left with no face goes, and with it the note).
        if person.face_count > 0 {
            person.apart_from.insert(to);
            members[joins].0.apart_from.insert(from);
        }
        changed.push(from);
    }
    let (person, centre) = &mut members[joins];
    join(person, centre, descriptor, FaceId { image, index: index as u32 });
    person.confirmed = true;
    changed.push(person.id);
    faces[index] = (Some(person.id), descriptor.to_vec());
    Ok(changed)
}

/// Who merges persons: the user (the merged person is confirmed) or later grouping (only
/// strays, see [`strays`], which the user has never touched).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergedBy {
    User,
    Grouping,
}

/// Whether grouping may still take `person` into another: a person of one face the user
/// never confirmed, named or hid.
pub fn is_stray(person: &Person) -> bool {
    person.face_count == 1 && !person.confirmed && person.name.is_none() && !person.hidden
}

/// Whether the user said `a` and `b` are different people.
fn kept_apart(a: &Person, b: &Person) -> bool {
    a.apart_from.contains(&b.id) || b.apart_from.contains(&a.id)
}

/// The distance between two persons' centres, where both have descriptors of one kind (an
/// engine that keeps faces itself, Rekognition, leaves centres empty: they are never near).
pub fn apart(a: &Centre, b: &Centre) -> Option<f32> {
    (!a.sum.is_empty() && a.sum.len() == b.sum.len() && a.faces > 0 && b.faces > 0).then(|| distance(&a.mean(), &b.mean()))
}

/// A photo's faces grouped: the person of each face (none for those left out), and the strays
/// the persons that took them in came near (see [`strays`]), for the caller to merge once the
/// photo is stored: found from the persons grouping read, with no second read of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grouped {
    pub persons: Vec<Option<PersonId>>,
    pub strays: Vec<(PersonId, PersonId)>,
}

impl Grouped {
    /// The faces' `persons`, and the strays near them among the user's `members` (the persons
    /// after the faces joined).
    pub fn of(persons: Vec<Option<PersonId>>, members: &[Member], max_distance: f32) -> Self {
        let grown: Vec<PersonId> = persons.iter().flatten().copied().collect();
        Self { strays: strays(members, &grown, max_distance), persons }
    }
}

/// The strays (see [`is_stray`]) that persons `grown` (which just took faces in) have come
/// closer to than `max_distance`, the rule a face joins a person by: each stray with the
/// nearest of them, as `(into, stray)`, nearest first. Whether they share a photo is the
/// merge's to check.
pub fn strays(members: &[Member], grown: &[PersonId], max_distance: f32) -> Vec<(PersonId, PersonId)> {
    let mut nearest: BTreeMap<PersonId, (f32, PersonId)> = BTreeMap::new();
    for (into, into_centre) in members.iter().filter(|(person, _)| grown.contains(&person.id)) {
        for (stray, stray_centre) in members.iter().filter(|(person, _)| person.id != into.id && is_stray(person)) {
            let Some(distance) = apart(into_centre, stray_centre) else { continue };
            if distance < max_distance && !kept_apart(into, stray) && nearest.get(&stray.id).is_none_or(|(best, _)| distance < *best) {
                nearest.insert(stray.id, (distance, into.id));
            }
        }
    }
    let mut pairs: Vec<(f32, PersonId, PersonId)> = nearest.into_iter().map(|(stray, (distance, into))| (distance, into, stray)).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    pairs.into_iter().map(|(_, into, stray)| (into, stray)).collect()
}

/// The persons that may be the same someone as `id`: those not hidden, not said to be someone
/// else, whose centres are closer than `within`, nearest first, with their distance.
/// `NotFound` for an unknown `id`.
pub fn suggestions(members: &[Member], id: PersonId, within: f32) -> Result<Vec<(Person, f32)>> {
    let (person, centre) = &members[position(members, id)?];
    let mut near: Vec<(Person, f32)> = members
        .iter()
        .filter(|(other, _)| other.id != id && !other.hidden && !kept_apart(person, other))
        .filter_map(|(other, other_centre)| apart(centre, other_centre).map(|distance| (other.clone(), distance)))
        .filter(|(_, distance)| *distance < within)
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.id.cmp(&b.0.id)));
    Ok(near)
}

/// The user says persons `a` and `b` are different people: neither suggestions nor grouping
/// put them together again (the user still may, by a merge). The two persons changed.
pub fn keep_apart(members: &mut [Member], a: PersonId, b: PersonId) -> Result<[PersonId; 2]> {
    if a == b {
        return Err(Error::invalid("same_person", "a person is not someone else than itself"));
    }
    let (first, second) = (position(members, a)?, position(members, b)?);
    members[first].0.apart_from.insert(b);
    members[second].0.apart_from.insert(a);
    Ok([a, b])
}

/// The user merges persons `from` into `into`: their faces (the photos `photos`, which
/// are rewritten) join it and they disappear. The name is `into`'s, else the first named
/// one's; the cover likewise. `NotFound` for an unknown id; `Conflict` `same_photo` when two
/// of them are on one photo (two faces of one photo are never one person).
///
/// Grouping (`by` [`MergedBy::Grouping`]) merges only strays the user kept nothing of:
/// `Conflict` `not_a_stray` otherwise (the user may have named one since it was chosen).
pub fn merge(members: &mut Vec<Member>, into: PersonId, from: &[PersonId], photos: &mut [PhotoFaces], by: MergedBy) -> Result<Person> {
    let distinct: BTreeSet<&PersonId> = from.iter().collect();
    if from.is_empty() || distinct.len() < from.len() || distinct.contains(&into) {
        return Err(Error::invalid("invalid_merge", "merge from one or more other persons, each once"));
    }
    let mut kept = members[position(members, into)?].clone();
    let mut gone = Vec::with_capacity(from.len());
    for id in from {
        gone.push(members[position(members, *id)?].clone());
    }
    if by == MergedBy::Grouping && gone.iter().any(|(person, _)| !is_stray(person) || kept_apart(&kept.0, person)) {
        return Err(Error::Conflict { code: "not_a_stray", message: "grouping merges only persons the user never touched".into() });
    }
    let merging = |person: &Option<PersonId>| person.is_some_and(|id| id == into || from.contains(&id));
    for photo in photos.iter() {
        if photo.iter().filter(|(person, _)| merging(person)).count() > 1 {
            return Err(same_photo("two of these persons are on one photo; two faces of one photo are never one person".into()));
        }
    }
    for (person, centre) in &gone {
        kept.1.absorb(centre);
        kept.0.photo_count += person.photo_count;
        if kept.0.name.is_none() {
            kept.0.name.clone_from(&person.name);
        }
        kept.0.cover = kept.0.cover.or(person.cover);
        kept.0.apart_from.extend(person.apart_from.iter().copied());
    }
    kept.0.face_count = kept.1.faces;
    kept.0.confirmed |= by == MergedBy::User;
    kept.0.apart_from.retain(|id| *id != into && !from.contains(id));
    for photo in photos.iter_mut() {
        for (person, _) in photo.iter_mut().filter(|(person, _)| merging(person)) {
            *person = Some(into);
        }
    }
    members.retain(|(person, _)| !from.contains(&person.id));
    // Who was said to be someone else than a merged person is someone else than the merge.
    for (person, _) in members.iter_mut() {
        if person.apart_from.iter().any(|id| from.contains(id)) {
            person.apart_from.retain(|id| !from.contains(id));
            person.apart_from.insert(into);
        }
    }
    let at = position(members, into)?;
    members[at] = kept;
    Ok(members[at].0.clone())
}

/// A face that may join a person, and how far apart they are.
type Pair = (f32, usize, usize);

/// For each face of a photo (`faces`, those `to_group` only), the index in `persons` of the
/// person it joins, or `None`: a new person (or no person, for faces not grouped). A face with
/// a descriptor may join a person whose centre is closer than `max_distance`; a face with the
/// engine's matches, the person of a match (`person_of`: its index in `persons`), as far as
/// the match is dissimilar.
pub fn assign(
    faces: &[FoundFace],
    to_group: &[bool],
    persons: &[Centre],
    max_distance: f32,
    person_of: impl Fn(&FaceMatch) -> Option<usize>,
) -> Vec<Option<usize>> {
    let means: Vec<Vec<f32>> = persons.iter().map(Centre::mean).collect();
    let mut pairs: Vec<Pair> = Vec::new();
    for (index, face) in faces.iter().enumerate().filter(|(index, _)| to_group[*index]) {
        if !face.descriptor.is_empty() {
            for (person, mean) in means.iter().enumerate().filter(|(_, mean)| mean.len() == face.descriptor.len()) {
                let apart = distance(&face.descriptor, mean);
                if apart < max_distance {
                    pairs.push((apart, index, person));
                }
            }
        }
        for found in &face.matches {
            if let Some(person) = person_of(found) {
                pairs.push((1.0 - found.similarity / 100.0, index, person));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut chosen = vec![None; faces.len()];
    let mut taken = vec![false; persons.len()];
    for (_, face, person) in pairs {
        if chosen[face].is_none() && !taken[person] {
            chosen[face] = Some(person);
            taken[person] = true;
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32) -> Vec<f32> {
        vec![x, 0.0]
    }

    fn face(descriptor: Vec<f32>) -> FoundFace {
        FoundFace::described(crate::model::PhotoRegion { left: 0.0, top: 0.0, width: 0.5, height: 0.5 }, 0.9, descriptor)
    }

    fn by_descriptor(faces: &[FoundFace], to_group: &[bool], persons: &[Centre]) -> Vec<Option<usize>> {
        assign(faces, to_group, persons, 0.4, |_| None)
    }

    #[test]
    fn a_face_joins_the_nearest_close_person_or_starts_one() {
        let persons = [Centre::of(&at(0.0)), Centre::of(&at(1.0))];
        let chosen = by_descriptor(&[face(at(0.9)), face(at(5.0))], &[true, true], &persons);
        assert_eq!(chosen, [Some(1), None]);
    }

    #[test]
    fn two_faces_of_one_photo_never_join_the_same_person() {
        let persons = [Centre::of(&at(0.0))];
        // Both are close to the one person: the closer joins it, the other starts a person.
        assert_eq!(by_descriptor(&[face(at(0.2)), face(at(0.1))], &[true, true], &persons), [None, Some(0)]);
    }

    #[test]
    fn faces_left_out_of_grouping_join_nobody() {
        let persons = [Centre::of(&at(0.0))];
        assert_eq!(by_descriptor(&[face(at(0.0))], &[false], &persons), [None]);
        assert_eq!(to_group(&[face(at(0.0)), face(Vec::new())], &[true, true]), [true, false]);
    }

    #[test]
    fn an_engine_face_joins_the_person_of_its_most_similar_match() {
        let engine_face = |matches: Vec<(usize, f32)>| FoundFace {
            engine_id: Some("new".into()),
            matches: matches
                .into_iter()
                .map(|(person, similarity)| FaceMatch { image: ImageId::new(), engine_id: format!("of-{person}"), similarity })
                .collect(),
            ..face(Vec::new())
        };
        let persons = [Centre::default(), Centre::default()];
        let person_of = |found: &FaceMatch| found.engine_id.strip_prefix("of-").and_then(|person| person.parse().ok());
        let faces = [engine_face(vec![(0, 91.0), (1, 97.0)]), engine_face(vec![(1, 99.0)]), engine_face(Vec::new())];
        assert!(to_group(&faces, &[true, true, true]).iter().all(|grouped| *grouped));
        // The second face is the most similar to person 1; the first takes person 0; the last
        // matches nobody and starts a person.
        assert_eq!(assign(&faces, &[true, true, true], &persons, 0.4, person_of), [Some(0), Some(1), None]);
    }

    fn member(x: f32) -> Member {
        let (mut person, mut centre) = start();
        join(&mut person, &mut centre, &at(x), FaceId { image: ImageId::new(), index: 0 });
        (person, centre)
    }

    #[test]
    fn a_moved_face_leaves_one_centre_for_the_other() {
        let mut members = vec![member(0.0), member(4.0)];
        let (first, second) = (members[0].0.id, members[1].0.id);
        let image = ImageId::new();
        let (person, centre) = &mut members[0];
        join(person, centre, &at(2.0), FaceId { image, index: 0 });
        let mut faces: PhotoFaces = vec![(Some(first), at(2.0))];
        let changed = move_face(&mut members, image, &mut faces, 0, &at(2.0), Some(second)).unwrap();
        assert_eq!(changed, [first, second]);
        assert_eq!((members[0].1.mean(), members[0].0.face_count, members[0].0.photo_count), (at(0.0), 1, 1));
        assert_eq!((members[1].1.mean(), members[1].0.face_count, members[1].0.photo_count), (at(3.0), 2, 2));
        assert_eq!(faces[0].0, Some(second));
    }

    #[test]
    fn a_face_moved_to_nobody_starts_a_person_and_an_emptied_person_has_no_face() {
        let mut members = vec![member(0.0)];
        let only = members[0].0.id;
        let image = members[0].0.cover.unwrap().image;
        let mut faces: PhotoFaces = vec![(Some(only), at(0.0))];
        let changed = move_face(&mut members, image, &mut faces, 0, &at(0.0), None).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].0.face_count, 0);
        assert_eq!(changed, [only, members[1].0.id]);
        assert_eq!((members[1].0.face_count, members[1].0.cover), (1, Some(FaceId { image, index: 0 })));
    }

    #[test]
    fn a_face_never_joins_a_person_already_on_its_photo() {
        let mut members = vec![member(0.0), member(4.0)];
        let (first, second) = (members[0].0.id, members[1].0.id);
        let mut faces: PhotoFaces = vec![(Some(first), at(0.0)), (Some(second), at(4.0))];
        let refused = move_face(&mut members, ImageId::new(), &mut faces, 0, &at(0.0), Some(second));
        assert!(matches!(refused, Err(Error::Conflict { code: "same_photo", .. })));
    }

    #[test]
    fn a_merge_adds_centres_and_counts_and_keeps_the_first_name() {
        let mut members = vec![member(0.0), member(2.0), member(4.0)];
        members[2].0.name = Some("Ann".into());
        let ids: Vec<PersonId> = members.iter().map(|(person, _)| person.id).collect();
        let mut photos = vec![vec![(Some(ids[1]), at(2.0))]];
        let merged = merge(&mut members, ids[0], &ids[1..], &mut photos, MergedBy::User).unwrap();
        assert_eq!((merged.face_count, merged.photo_count, merged.name.as_deref()), (3, 3, Some("Ann")));
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].1.mean(), at(2.0));
        assert_eq!(photos[0][0].0, Some(ids[0]));
    }

    #[test]
    fn a_merge_of_persons_on_one_photo_or_of_a_person_into_itself_is_refused() {
        let mut members = vec![member(0.0), member(2.0)];
        let (first, second) = (members[0].0.id, members[1].0.id);
        let mut photos = vec![vec![(Some(first), at(0.0)), (Some(second), at(2.0))]];
        assert!(matches!(
            merge(&mut members, first, &[second], &mut photos, MergedBy::User),
            Err(Error::Conflict { code: "same_photo", .. })
        ));
        assert!(matches!(merge(&mut members, first, &[first], &mut [], MergedBy::User), Err(Error::Invalid { code: "invalid_merge", .. })));
        assert_eq!(members.len(), 2);
    }

    #[test]
    fn a_stray_goes_to_the_nearest_grown_person_it_is_now_close_to() {
        // Persons at 0.0 (two faces) and 1.0 (two faces); strays at 0.3, 0.8 and 3.0.
        let mut members = vec![member(0.0), member(1.0), member(0.3), member(0.8), member(3.0)];
        for (person, centre) in &mut members[..2] {
            let x = centre.mean()[0];
            join(person, centre, &at(x), FaceId { image: ImageId::new(), index: 0 });
        }
        let ids: Vec<PersonId> = members.iter().map(|(person, _)| person.id).collect();
        assert_eq!(strays(&members, &ids[..2], 0.4), [(ids[1], ids[3]), (ids[0], ids[2])]);
        // Only persons that grew draw strays.
        assert_eq!(strays(&members, &ids[1..2], 0.4), [(ids[1], ids[3])]);
        // A photo's grouping names the strays its faces' persons drew; a photo without
        // grouped faces none.
        let grouped = Grouped::of(vec![None, Some(ids[1])], &members, 0.4);
        assert_eq!(grouped.strays, [(ids[1], ids[3])]);
        assert_eq!(Grouped::of(vec![None], &members, 0.4).strays, []);
    }

    #[test]
    fn what_the_user_touched_is_no_stray() {
        let mut members = vec![member(0.0), member(0.1), member(0.2), member(0.3), member(0.35)];
        let ids: Vec<PersonId> = members.iter().map(|(person, _)| person.id).collect();
        members[1].0.name = Some("Ann".into());
        members[2].0.confirmed = true;
        members[3].0.hidden = true;
        keep_apart(&mut members, ids[0], ids[4]).unwrap();
        assert_eq!(strays(&members, &ids[..1], 0.4), []);
        let mut photos = vec![];
        for stray in &ids[1..] {
            let refused = merge(&mut members, ids[0], &[*stray], &mut photos, MergedBy::Grouping);
            assert!(matches!(refused, Err(Error::Conflict { code: "not_a_stray", .. })), "{refused:?}");
        }
        // The user may merge what grouping may not; the merged person is then confirmed.
        let merged = merge(&mut members, ids[0], &ids[1..], &mut photos, MergedBy::User).unwrap();
        assert!(merged.confirmed && merged.apart_from.is_empty());
    }

    #[test]
    fn a_split_is_never_undone() {
        let mut members = vec![member(0.0)];
        let first = members[0].0.id;
        let image = ImageId::new();
        let (person, centre) = &mut members[0];
        join(person, centre, &at(0.1), FaceId { image, index: 0 });
        let mut faces: PhotoFaces = vec![(Some(first), at(0.1))];
        move_face(&mut members, image, &mut faces, 0, &at(0.1), None).unwrap();
        let split = members[1].0.id;
        // The split face is close, and alone, but the user put it there.
        assert_eq!(strays(&members, &[first], 0.4), []);
        assert!(suggestions(&members, first, 1.0).unwrap().is_empty());
        assert_eq!((members[0].0.apart_from.len(), members[1].0.apart_from.len()), (1, 1));
        assert!(members[1].0.apart_from.contains(&first));
        let refused = merge(&mut members, first, &[split], &mut [faces], MergedBy::Grouping);
        assert!(matches!(refused, Err(Error::Conflict { code: "not_a_stray", .. })));
    }

    #[test]
    fn suggestions_are_the_near_persons_nearest_first_but_not_those_kept_apart_or_hidden() {
        let mut members = vec![member(0.0), member(0.5), member(0.3), member(0.6), member(0.2), member(2.0)];
        let ids: Vec<PersonId> = members.iter().map(|(person, _)| person.id).collect();
        members[3].0.hidden = true;
        keep_apart(&mut members, ids[4], ids[0]).unwrap();
        let near = suggestions(&members, ids[0], 0.7).unwrap();
        assert_eq!(near.iter().map(|(person, _)| person.id).collect::<Vec<_>>(), [ids[2], ids[1]]);
        assert!((near[0].1 - 0.3).abs() < 1e-6 && (near[1].1 - 0.5).abs() < 1e-6, "{near:?}");
        assert!(matches!(suggestions(&members, PersonId::new(), 0.7), Err(Error::NotFound(_))));
        assert!(matches!(keep_apart(&mut members, ids[0], ids[0]), Err(Error::Invalid { code: "same_person", .. })));
    }

    #[test]
    fn persons_without_descriptors_are_never_near() {
        let (engine_person, mut centre) = start();
        centre.add(&[]);
        let members = vec![member(0.0), (engine_person, centre)];
        assert_eq!(apart(&members[0].1, &members[1].1), None);
        assert!(suggestions(&members, members[0].0.id, 1.0).unwrap().is_empty());
    }

    #[test]
    fn a_merge_carries_who_was_kept_apart() {
        let mut members = vec![member(0.0), member(1.0), member(5.0)];
        let ids: Vec<PersonId> = members.iter().map(|(person, _)| person.id).collect();
        keep_apart(&mut members, ids[1], ids[2]).unwrap();
        merge(&mut members, ids[0], &ids[1..2], &mut [], MergedBy::User).unwrap();
        assert!(members[0].0.apart_from.contains(&ids[2]));
        assert!(members[1].0.apart_from.contains(&ids[0]) && !members[1].0.apart_from.contains(&ids[1]));
    }

    #[test]
    fn a_merged_id_resolves_through_later_merges() {
        let (a, b, c) = (PersonId::new(), PersonId::new(), PersonId::new());
        let merged = Merged::from([(a, b), (b, c)]);
        assert_eq!((resolve(&merged, a), resolve(&merged, c)), (c, c));
    }

    #[test]
    fn a_centre_moves_with_its_faces() {
        let mut centre = Centre::of(&at(0.0));
        centre.add(&at(1.0));
        assert_eq!(centre.mean(), at(0.5));
        centre.remove(&at(1.0));
        assert_eq!((centre.mean(), centre.faces), (at(0.0), 1));
    }
}
