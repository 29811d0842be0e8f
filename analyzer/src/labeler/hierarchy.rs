//! The label hierarchy of the built-in models' classes, generated from WordNet by
//! `tools/label_hierarchy.py` into `models/label_hierarchy.json`.

use serde::Deserialize;

use domain::{Error, Result};

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
