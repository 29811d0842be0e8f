//! Builds the analyzer's engines and stores once per process.

use std::sync::Arc;

use aws_adapters::TenantAccess;
use aws_adapters::sdk::rekognition_collections;
use aws_config::SdkConfig;
use contract::{Features, StackConfig, VisionEngine};
use domain::Result;

use crate::faces::builtin::BuiltinFaces;
use crate::faces::rekognition::RekognitionFaces;
use crate::faces::{FaceFinder, NoFaces};
use crate::labeler::builtin::BuiltinLabeler;
use crate::labeler::rekognition::RekognitionLabeler;
use crate::labeler::{Labeler, NoLabels};
use crate::text::builtin::BuiltinText;
use crate::text::rekognition::RekognitionText;
use crate::text::{NoText, TextFinder};
use crate::{Analyzer, Engines};

/// The labeler of an engine (the tier's, unless the operator chose another for local runs).
pub fn labeler(engine: VisionEngine, aws: &SdkConfig) -> Result<Arc<dyn Labeler>> {
    Ok(match engine {
        VisionEngine::Builtin => Arc::new(BuiltinLabeler::load()?),
        VisionEngine::Rekognition => Arc::new(RekognitionLabeler::new(aws_sdk_rekognition::Client::new(aws))),
    })
}

/// The labeler a tier's features ask for: its engine's when `features.labels` is on, else one
/// that finds nothing (and loads no model).
pub fn labeler_for(features: Features, engine: VisionEngine, aws: &SdkConfig) -> Result<Arc<dyn Labeler>> {
    if features.labels { labeler(engine, aws) } else { Ok(Arc::new(NoLabels)) }
}

/// The face finder a stack's tier asks for: when `features.faces` is on, the engine's (the
/// tier's, unless the operator chose another for local runs), else one that finds none and
/// loads no model.
pub fn faces_for(config: &StackConfig, engine: VisionEngine, aws: &SdkConfig) -> Result<Arc<dyn FaceFinder>> {
    if !config.settings.features.faces {
        return Ok(Arc::new(NoFaces));
    }
    Ok(match engine {
        VisionEngine::Builtin => Arc::new(BuiltinFaces::load()?),
        VisionEngine::Rekognition => {
            Arc::new(RekognitionFaces::new(rekognition_collections(config, aws), config.settings.faces.min_similarity as f32))
        }
    })
}

/// The text finder a stack's tier asks for: when `features.text` is on, the engine's (the
/// tier's, unless the operator chose another for local runs), else one that finds none and
/// loads no model.
pub fn text_for(config: &StackConfig, engine: VisionEngine, aws: &SdkConfig) -> Result<Arc<dyn TextFinder>> {
    if !config.settings.features.text {
        return Ok(Arc::new(NoText));
    }
    Ok(match engine {
        VisionEngine::Builtin => Arc::new(BuiltinText::load()?),
        VisionEngine::Rekognition => Arc::new(RekognitionText::new(aws_sdk_rekognition::Client::new(aws))),
    })
}

/// Every engine the stack's tier uses, of `engine` (the tier's, unless the operator chose
/// another for local runs).
pub fn engines(config: &StackConfig, engine: VisionEngine, aws: &SdkConfig) -> Result<Engines> {
    Ok(Engines {
        labeler: labeler_for(config.settings.features, engine, aws)?,
        faces: faces_for(config, engine, aws)?,
        text: text_for(config, engine, aws)?,
    })
}

/// The analyzer, connected to the stack's resources, with its tier's engines.
pub fn analyzer(config: &StackConfig, aws: &SdkConfig, engines: Engines) -> Result<Analyzer> {
    Ok(analyzer_with(config, TenantAccess::of_stack(config, aws)?, engines))
}

/// [`analyzer`], reaching each photo's tenant's data through `tenants` (tests observe its calls).
pub fn analyzer_with(config: &StackConfig, tenants: TenantAccess, engines: Engines) -> Analyzer {
    Analyzer::new(Arc::new(tenants), engines, config.settings.clone())
}
