//! What is done with a user's persons beyond one store call, written once over the store
//! traits for the runtime and the analyzer: regrouping strays as persons grow, and the
//! persons that are probably the same someone as another.

use crate::ImageStore;
use crate::error::{Error, Result};
use crate::grouping::{self, MergedBy};
use crate::model::{Person, PersonId, Search, UserName};

/// Takes the `strays` grouping found near the persons that grew (see [`grouping::Grouped`])
/// into them, as `(into, stray)`; the merges made. A stray on a photo of the person, changed
/// by the user meanwhile, or merged away, stays as it is.
pub async fn absorb_strays(images: &dyn ImageStore, user: &UserName, strays: &[(PersonId, PersonId)]) -> Result<Vec<(PersonId, PersonId)>> {
    let mut merged = Vec::new();
    for &(into, stray) in strays {
        match images.merge_persons(user, into, &[stray], MergedBy::Grouping).await {
            Ok(_) => merged.push((into, stray)),
            // Refused (two faces of one photo, or the user named the stray since), or gone.
            Err(Error::Conflict { .. } | Error::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(merged)
}

/// A person that is probably the same someone as another, and how far apart their centres are.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub person: Person,
    pub distance: f32,
}

/// Up to `limit` persons that are probably the same someone as `id` (see
/// [`grouping::suggestions`]), nearest first, less those on a photo with it: two faces of one
/// photo are never one person (one indexed Query each, for the nearest only).
pub async fn suggestions(images: &dyn ImageStore, user: &UserName, id: PersonId, within: f32, limit: usize) -> Result<Vec<Suggestion>> {
    let members = images.members(user).await?;
    let mut found = Vec::new();
    for (person, distance) in grouping::suggestions(&members, id, within)? {
        if found.len() == limit {
            break;
        }
        let together = Search { persons: vec![id, person.id], ..Search::default() };
        if images.search(user, &together, 1, None).await?.items.is_empty() {
            found.push(Suggestion { person, distance });
        }
    }
    Ok(found)
}
