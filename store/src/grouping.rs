//! Grouping a photo's faces into a user's persons: the rule, apart from where persons are
//! kept. Each person is known by the sum of its faces' descriptors (so its centre moves as
//! faces join or leave, without reading them); a face joins the nearest person closer than
//! the tier's `faces.max_distance`, else starts one. Two faces of one photo never join the same
//! person: the closest pairs are taken first and a person takes one face of a photo at most.

use crate::model::{FaceId, FoundFace, ImageId, Person, PersonId};

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

    pub fn add(&mut self, descriptor: &[f32]) {
        if self.sum.len() != descriptor.len() {
            self.sum = vec![0.0; descriptor.len()];
            self.faces = 0;
        }
        self.sum.iter_mut().zip(descriptor).for_each(|(sum, value)| *sum += value);
        self.faces += 1;
    }

    pub fn remove(&mut self, descriptor: &[f32]) {
        if self.sum.len() == descriptor.len() && self.faces > 0 {
            self.sum.iter_mut().zip(descriptor).for_each(|(sum, value)| *sum -= value);
            self.faces -= 1;
        }
    }
}

/// The most faces of one photo that are grouped: the DynamoDB store changes a photo's persons
/// in one transaction of at most 100 items (the lock, the record check, the photo's grouping
/// and the persons). The others, the least confident, are listed but not grouped.
pub const MAX_GROUPED_FACES: usize = 97;

/// The descriptors to group of a photo's faces, in order: those the quality gate lets
/// through (`grouped`), with a descriptor, within [`MAX_GROUPED_FACES`]; `None` for the others.
pub fn descriptors<'a>(faces: &'a [FoundFace], grouped: &[bool]) -> Vec<Option<&'a [f32]>> {
    faces
        .iter()
        .zip(grouped)
        .enumerate()
        .map(|(index, (face, grouped))| (*grouped && index < MAX_GROUPED_FACES && !face.descriptor.is_empty()).then_some(face.descriptor.as_slice()))
        .collect()
}

/// A new person, without a face yet.
pub fn start() -> (Person, Centre) {
    let person = Person { id: PersonId::new(), name: None, hidden: false, face_count: 0, photo_count: 0, cover: None };
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

/// For each face (descriptors of one photo, in order; `None` for faces not to be grouped),
/// the index in `persons` of the person it joins, or `None`: a new person (or no person, for
/// faces not to be grouped).
pub fn assign(faces: &[Option<&[f32]>], persons: &[Centre], max_distance: f32) -> Vec<Option<usize>> {
    let means: Vec<Vec<f32>> = persons.iter().map(Centre::mean).collect();
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (face, descriptor) in faces.iter().enumerate() {
        let Some(descriptor) = descriptor else { continue };
        for (person, mean) in means.iter().enumerate() {
            let apart = distance(descriptor, mean);
            if apart < max_distance {
                pairs.push((apart, face, person));
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

    #[test]
    fn a_face_joins_the_nearest_close_person_or_starts_one() {
        let persons = [Centre::of(&at(0.0)), Centre::of(&at(1.0))];
        let (near_second, far) = (at(0.9), at(5.0));
        let chosen = assign(&[Some(&near_second), Some(&far)], &persons, 0.4);
        assert_eq!(chosen, [Some(1), None]);
    }

    #[test]
    fn two_faces_of_one_photo_never_join_the_same_person() {
        let persons = [Centre::of(&at(0.0))];
        let (closer, close) = (at(0.1), at(0.2));
        // Both are close to the one person: the closer joins it, the other starts a person.
        assert_eq!(assign(&[Some(&close), Some(&closer)], &persons, 0.4), [None, Some(0)]);
    }

    #[test]
    fn faces_left_out_of_grouping_join_nobody() {
        let persons = [Centre::of(&at(0.0))];
        assert_eq!(assign(&[None], &persons, 0.4), [None]);
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
