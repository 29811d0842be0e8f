//! The shared people set (tests/fixtures/people): who is in which photo (truth.json), every face
//! of the group photos boxed (groups/faces.json), and how a grouping or a detection is judged
//! against them. One judge for the analyzer's tests and the bench's people section.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

/// truth.json: who is in which photo.
#[derive(Debug, Deserialize)]
pub struct PeopleTruth {
    /// Each name's photos must end in one person.
    pub same_person: BTreeMap<String, Vec<String>>,
    pub one_person_each: Vec<String>,
    /// No two faces of these photos may share a person.
    pub all_different_people: Vec<String>,
    pub no_human_face: Vec<String>,
}

/// A group photo of groups/faces.json: its width and every face, in its pixels.
#[derive(Debug, Deserialize)]
pub struct BoxedPhoto {
    pub width: f32,
    pub faces: Vec<Boxed>,
}

#[derive(Debug, Deserialize)]
pub struct Boxed {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

/// A box as x0, y0, x1, y1.
pub type Corners = [f32; 4];

/// The set as its two files describe it.
#[derive(Debug)]
pub struct PeopleSet {
    pub truth: PeopleTruth,
    /// By file name inside groups/.
    pub boxed: BTreeMap<String, BoxedPhoto>,
}

/// How the boxed faces of the group photos were found.
#[derive(Debug, Default)]
pub struct Detected {
    pub boxed: usize,
    /// Boxed faces a found box overlaps enough.
    pub found: usize,
    /// Found boxes that are no boxed face, as `photo: box`.
    pub false_faces: Vec<String>,
}

impl PeopleSet {
    pub fn load(folder: &Path) -> std::io::Result<Self> {
        let read = |name: &str| -> std::io::Result<Vec<u8>> { std::fs::read(folder.join(name)) };
        Ok(Self { truth: serde_json::from_slice(&read("truth.json")?)?, boxed: serde_json::from_slice(&read("groups/faces.json")?)? })
    }

    /// Who is in each photo of people with a name, in name order: the names of `same_person`,
    /// and the photo's own name for one of `one_person_each`.
    pub fn who(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut who: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (person, photos) in &self.truth.same_person {
            for photo in photos {
                who.entry(photo).or_default().push(person);
            }
        }
        for photo in &self.truth.one_person_each {
            who.entry(photo).or_default().push(photo);
        }
        who
    }

    /// Every photo of the set (paths inside the folder): the named ones, then those of different
    /// people and of none, then the group photos.
    pub fn photos(&self) -> Vec<String> {
        let truth = &self.truth;
        let mut photos: Vec<String> = self.who().into_keys().map(str::to_string).collect();
        photos.extend(truth.all_different_people.iter().chain(&truth.no_human_face).cloned());
        photos.extend(self.boxed.keys().map(|name| format!("groups/{name}")));
        photos
    }

    /// The names whose photos share no person, given the persons of each photo's faces.
    pub fn split_sets<P: Ord + Clone>(&self, persons_of: &BTreeMap<String, BTreeSet<P>>) -> Vec<&str> {
        self.truth
            .same_person
            .iter()
            .filter(|(_, photos)| {
                let mut sets = photos.iter().map(|photo| persons_of.get(photo).cloned().unwrap_or_default());
                let first = sets.next().unwrap_or_default();
                sets.fold(first, |common, set| &common & &set).is_empty()
            })
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The persons holding faces of photos that share nobody (as far as the truth tells), each
    /// with those photos.
    pub fn mixing_persons<P: Ord + Clone>(&self, persons_of: &BTreeMap<String, BTreeSet<P>>) -> Vec<(P, BTreeSet<String>)> {
        let mut photos_of: BTreeMap<P, BTreeSet<String>> = BTreeMap::new();
        for (photo, persons) in persons_of {
            for person in persons {
                photos_of.entry(person.clone()).or_default().insert(photo.clone());
            }
        }
        let together =
            |a: &str, b: &str| self.truth.same_person.values().any(|photos| photos.iter().any(|p| p == a) && photos.iter().any(|p| p == b));
        photos_of.into_iter().filter(|(_, photos)| photos.iter().any(|a| photos.iter().any(|b| a != b && !together(a, b)))).collect()
    }

    /// The boxed faces found: `found(photo)` gives the width the engine saw the group photo at
    /// and the boxes it found there; a boxed face is found when a box overlaps it by
    /// `min_overlap` or more (`overlap`: intersection over union).
    pub fn detected(
        &self,
        found: impl Fn(&str) -> (f32, Vec<Corners>),
        overlap: impl Fn(&Corners, &Corners) -> f32,
        min_overlap: f32,
    ) -> Detected {
        let mut detected = Detected::default();
        for (name, photo) in &self.boxed {
            let (width, boxes) = found(&format!("groups/{name}"));
            let scale = width / photo.width;
            let mut matched = vec![false; boxes.len()];
            for face in &photo.faces {
                detected.boxed += 1;
                let truth = [face.left, face.top, face.left + face.width, face.top + face.height].map(|v| v * scale);
                let best = (0..boxes.len()).max_by(|&a, &b| overlap(&boxes[a], &truth).total_cmp(&overlap(&boxes[b], &truth)));
                if let Some(index) = best.filter(|&index| overlap(&boxes[index], &truth) >= min_overlap) {
                    detected.found += 1;
                    matched[index] = true;
                }
            }
            detected
                .false_faces
                .extend(boxes.iter().zip(&matched).filter(|(_, matched)| !**matched).map(|(b, _)| format!("{name}: {b:?}")));
        }
        detected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> PeopleSet {
        let truth = PeopleTruth {
            same_person: BTreeMap::from([
                ("kit".to_string(), vec!["kit1".to_string(), "kit2".to_string(), "both".to_string()]),
                ("rose".to_string(), vec!["rose1".to_string(), "both".to_string()]),
            ]),
            one_person_each: vec!["tom".into()],
            all_different_people: Vec::new(),
            no_human_face: Vec::new(),
        };
        PeopleSet { truth, boxed: BTreeMap::new() }
    }

    fn persons(of: &[(&str, &[u32])]) -> BTreeMap<String, BTreeSet<u32>> {
        of.iter().map(|(photo, persons)| (photo.to_string(), persons.iter().copied().collect())).collect()
    }

    #[test]
    fn a_set_over_two_persons_is_split_and_a_person_over_two_people_mixes() {
        let right = persons(&[("kit1", &[1]), ("kit2", &[1]), ("both", &[1, 2]), ("rose1", &[2]), ("tom", &[3])]);
        assert!(set().split_sets(&right).is_empty());
        assert!(set().mixing_persons(&right).is_empty());
        let wrong = persons(&[("kit1", &[1]), ("kit2", &[4]), ("both", &[1, 2]), ("rose1", &[2]), ("tom", &[2])]);
        assert_eq!(set().split_sets(&wrong), ["kit"]);
        let mixing = set().mixing_persons(&wrong);
        assert_eq!(mixing.len(), 1);
        assert_eq!(mixing[0].0, 2);
    }
}
