//! Labels as people browse them. The hierarchy of the built-in models' classes, generated
//! from WordNet by `tools/label_hierarchy.py` into `models/label_hierarchy.json`: the analyzer
//! labels a photo with its class and the class's parents; the albums page groups labels by
//! their top [`Category`] with it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The hierarchy as built into every binary.
const HIERARCHY: &str = include_str!("../../models/label_hierarchy.json");

#[derive(Debug, Clone, Deserialize)]
pub struct ClassLabel {
    /// The class's readable label, lower-case.
    pub label: String,
    /// Labels people search for that the class is a kind of ("cat", "pet", "animal").
    pub parents: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Hierarchy {
    /// By ImageNet-1k class index.
    pub imagenet: Vec<ClassLabel>,
    /// By COCO class index, in the detector's output order.
    pub coco: Vec<ClassLabel>,
}

impl Hierarchy {
    pub fn parse(json: &str) -> Result<Self> {
        let hierarchy: Hierarchy = serde_json::from_str(json).map_err(|err| Error::Config(format!("label hierarchy: {err}")))?;
        if hierarchy.imagenet.len() != 1000 || hierarchy.coco.len() != 80 {
            return Err(Error::Config(format!(
                "label hierarchy has {} ImageNet and {} COCO classes, expected 1000 and 80",
                hierarchy.imagenet.len(),
                hierarchy.coco.len()
            )));
        }
        Ok(hierarchy)
    }
}

/// The built-in hierarchy, parsed once.
pub fn hierarchy() -> Result<&'static Hierarchy> {
    static PARSED: OnceLock<std::result::Result<Hierarchy, String>> = OnceLock::new();
    PARSED.get_or_init(|| Hierarchy::parse(HIERARCHY).map_err(|err| err.to_string())).as_ref().map_err(|err| Error::Config(err.clone()))
}

/// The top categories labels are browsed by, in the order the albums page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    People,
    Animals,
    Food,
    Vehicles,
    Places,
    Text,
    Things,
}

impl Category {
    /// The labels that make a label this category's, by itself or as one of its ancestors; the
    /// earlier categories win (a "hot dog" is food before it is a thing).
    const ROOTS: [(Category, &'static [&'static str]); 6] = [
        (Category::People, &["person", "people", "group", "face"]),
        (Category::Animals, &["animal"]),
        (Category::Food, &["food", "dish", "fruit", "vegetable", "beverage", "drink"]),
        (Category::Vehicles, &["vehicle"]),
        (Category::Text, &["text", "document", "diagram", "screenshot"]),
        (Category::Places, &["landscape", "structure", "building", "plant", "fungus"]),
    ];
}

/// The category of `label` (as stored: lower-case): where it or an ancestor of it is a root,
/// else [`Category::Things`] (labels of another engine the hierarchy does not know included).
pub fn category_of(label: &str) -> Category {
    let lineage = lineage(label);
    let has = |root: &&str| *root == label || lineage.is_some_and(|above| above.contains(*root));
    Category::ROOTS.iter().find(|(_, roots)| roots.iter().any(has)).map_or(Category::Things, |(category, _)| *category)
}

/// The labels above `label` in the hierarchy, if it knows it.
pub fn lineage(label: &str) -> Option<&'static BTreeSet<String>> {
    static ANCESTORS: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();
    let ancestors = ANCESTORS.get_or_init(|| {
        let Ok(hierarchy) = hierarchy() else { return BTreeMap::new() };
        let classes: Vec<&ClassLabel> = hierarchy.imagenet.iter().chain(&hierarchy.coco).collect();
        // A class's ancestors are its parents; a parent's, what every class under it has above
        // it besides (the lists are not ordered, so the common part is what is surely above).
        let mut shared: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for class in &classes {
            for parent in &class.parents {
                let others: BTreeSet<String> = class.parents.iter().filter(|other| *other != parent).cloned().collect();
                shared.entry(parent.clone()).and_modify(|common| common.retain(|label| others.contains(label))).or_insert(others);
            }
        }
        for class in &classes {
            shared.entry(class.label.clone()).or_default().extend(class.parents.iter().cloned());
        }
        shared
    });
    ancestors.get(label)
}

/// Of labels that hold the same photos, the one to show: the most specific (the one with the
/// most of the others above it), else the first by name.
pub fn most_specific<'a>(labels: &[&'a str]) -> Option<&'a str> {
    let above = |label: &str| lineage(label).map_or(0, |lineage| labels.iter().filter(|other| lineage.contains(**other)).count());
    labels.iter().copied().max_by(|a, b| above(a).cmp(&above(b)).then_with(|| b.cmp(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fall_in_the_category_people_browse_them_by() {
        for (label, category) in [
            ("tabby cat", Category::Animals),
            ("cat", Category::Animals),
            ("pet", Category::Animals),
            ("mammal", Category::Animals),
            ("person", Category::People),
            ("group", Category::People),
            ("espresso", Category::Food),
            ("fruit", Category::Food),
            ("car", Category::Vehicles),
            ("motor vehicle", Category::Vehicles),
            ("screenshot", Category::Text),
            ("church", Category::Places),
            ("laptop", Category::Things),
            ("a label no engine here gives", Category::Things),
        ] {
            assert_eq!(category_of(label), category, "{label}");
        }
    }

    #[test]
    fn the_most_specific_of_labels_holding_the_same_photos_is_shown() {
        assert_eq!(most_specific(&["animal", "cat", "feline", "mammal", "pet", "tabby cat"]), Some("tabby cat"));
        assert_eq!(most_specific(&["animal", "feline", "cat"]), Some("cat"));
        assert_eq!(most_specific(&["zebra crossing", "asphalt"]), Some("asphalt"));
        assert_eq!(most_specific(&[]), None);
    }
}
