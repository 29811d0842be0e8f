//! The inference engine every built-in model runs on: ONNX Runtime, through the `ort` crate.
//!
//! The shared library is the `libonnxruntime.so` of PyPI's `onnxruntime` wheel (MIT), which
//! the Makefile installs from the pinned requirements and puts beside the executables (and the
//! Lambda `bootstrap`); it is loaded at run time (`ort`'s `load-dynamic`), so nothing is
//! downloaded at build or run time. Measured against tract on the same models, it is 2.9x
//! faster on one thread (docs/analysis.md, "Inference engine").

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ndarray::{Array4, ArrayD, ArrayView3, Ix3};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use domain::{Error, Result};

/// The library's file name, beside the executable.
pub const LIBRARY: &str = contract::names::ONNX_RUNTIME_LIBRARY;
/// Where the library is when it is not beside the executable (`ort`'s own variable).
pub const LIBRARY_VARIABLE: &str = "ORT_DYLIB_PATH";

/// The loaded library, once per process (loading it twice is an error in ONNX Runtime).
fn environment() -> Result<&'static Environment> {
    static ENVIRONMENT: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            let library = library()?;
            ort::init_from(&library)
                .map_err(|err| format!("loading ONNX Runtime from {}: {err}", library.display()))?
                .with_name("smart-album")
                .with_telemetry(false)
                .build()
                .map_err(|err| format!("starting ONNX Runtime: {err}"))
        })
        .as_ref()
        .map_err(|err| Error::Config(err.clone()))
}

/// `ORT_DYLIB_PATH` when set, else the library beside the executable, or one folder up:
/// cargo puts test executables in `deps/`, below the binaries the library sits beside.
fn library() -> std::result::Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(LIBRARY_VARIABLE).filter(|path| !path.is_empty()) {
        return Ok(path.into());
    }
    let executable = std::env::current_exe().map_err(|err| format!("finding this executable: {err}"))?;
    let folder = executable.parent().unwrap_or(Path::new("."));
    [Some(folder), folder.parent()]
        .into_iter()
        .flatten()
        .map(|folder| folder.join(LIBRARY))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "ONNX Runtime is missing: no {LIBRARY} beside {} and {LIBRARY_VARIABLE} is not set \
                 (`make onnxruntime` puts the pinned one there)",
                executable.display()
            )
        })
}

/// Runs CPU-bound work (decoding, inference) off the async threads; `what` names it in errors.
pub async fn off_async<T: Send + 'static>(what: &'static str, work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|err| Error::Internal(format!("{what} task: {err}")))?
}

/// One ONNX model, loaded once and shared; runs on the calling thread.
pub struct Model {
    name: &'static str,
    // Running needs `&mut Session` in `ort`: concurrent photos take turns per model, and
    // two photos still run at once on two different models.
    session: Mutex<Session>,
}

impl Model {
    /// Loads a model from its ONNX bytes, fully optimised for one thread.
    pub fn load(name: &'static str, onnx: &[u8]) -> Result<Self> {
        let failed = |err: ort::Error| Error::Config(format!("loading the {name} model: {err}"));
        let session = Session::builder(environment()?)
            .map_err(failed)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|err| failed(err.into()))?
            .with_intra_threads(1)
            .map_err(|err| failed(err.into()))?
            .with_inter_threads(1)
            .map_err(|err| failed(err.into()))?
            .commit_from_memory(onnx)
            .map_err(failed)?;
        Ok(Self { name, session: Mutex::new(session) })
    }

    /// A custom property of the model's metadata (the OCR recogniser keeps its characters there).
    pub fn metadata(&self, key: &str) -> Result<Option<String>> {
        let session = self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let metadata = session.metadata().map_err(|err| Error::Config(format!("reading the {} model's metadata: {err}", self.name)))?;
        Ok(metadata.custom(key))
    }

    /// The output of shape `[1, rows, width]` among a run's outputs (models that give several
    /// tell them apart by shape).
    pub fn output<'a>(&self, outputs: &'a [ArrayD<f32>], rows: usize, width: usize) -> Result<ArrayView3<'a, f32>> {
        outputs
            .iter()
            .find(|output| output.shape() == [1, rows, width])
            .and_then(|output| output.view().into_dimensionality::<Ix3>().ok())
            .ok_or_else(|| Error::Internal(format!("the {} model has no [1, {rows}, {width}] output", self.name)))
    }

    /// Runs the model on one NCHW input; its outputs in the model's order.
    pub fn run(&self, input: Array4<f32>) -> Result<Vec<ArrayD<f32>>> {
        let failed = |err: ort::Error| Error::Internal(format!("running the {} model: {err}", self.name));
        let input = Tensor::from_array(input).map_err(failed)?;
        let mut session = self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(ort::inputs![input]).map_err(failed)?;
        outputs.values().map(|output| Ok(output.try_extract_array::<f32>().map_err(failed)?.to_owned())).collect()
    }
}
