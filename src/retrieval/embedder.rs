//! The sentence embedder: all-MiniLM-L6-v2 (int8 ONNX) through fastembed and ONNX Runtime.
//!
//! The model directory is provisioned by `scripts/setup-model` (`vendor/model/`): `model.onnx`,
//! the four tokenizer files and `libonnxruntime.so`, with a `.complete` marker written last.
//! [`default_model_dir`] finds it; [`Embedder::load`] loads ONNX Runtime from that directory
//! with `ort::init_from` (an error, never a panic, when the library is missing or unusable) and
//! the model with fastembed's user-defined model API (mean pooling, as the model was trained:
//! Reimers & Gurevych 2019, "Sentence-BERT"). [`Embedder::embed`] returns one L2-normalised
//! 384-dimensional vector per text, so cosine similarity equals the dot product.
//!
//! fastembed's `embed` takes `&mut self`; the embedder serialises calls behind a mutex and is
//! synchronous: async callers run it on a blocking thread.

use std::path::{Path, PathBuf};

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use ort::environment::Environment;
use parking_lot::Mutex;

use super::RetrievalError;

/// The environment variable naming the model directory (checked first by [`default_model_dir`]).
pub const MODEL_DIR_ENV: &str = "QUERENT_MODEL_DIR";

/// The marker file `scripts/setup-model` writes once every other file is in place.
const COMPLETE_MARKER: &str = ".complete";

/// The files the model directory must hold besides the ONNX Runtime library.
const MODEL_FILES: [&str; 5] = [
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// all-MiniLM-L6-v2 was trained on sequences of at most 256 word pieces; longer input is cut.
const MAX_TOKENS: usize = 256;

/// Texts per ONNX Runtime run. Batches are padded to their longest text, so small batches
/// waste less work on padding; 32 keeps the throughput of larger ones on short texts.
const BATCH_SIZE: usize = 32;

/// Finds the model directory: `$QUERENT_MODEL_DIR`, then `vendor/model` under the current
/// directory and each of its ancestors, then `vendor/model` next to the executable and each of
/// its ancestors (so `target/debug/querent` finds `../../vendor/model`).
///
/// Returns the first candidate holding the `.complete` marker, or `None` when none does.
pub fn default_model_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(dir));
    }
    if let Ok(cwd) = std::env::current_dir() {
        candidates.extend(cwd.ancestors().map(|d| d.join("vendor").join("model")));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.extend(exe_dir.ancestors().map(|d| d.join("vendor").join("model")));
    }
    candidates.into_iter().find(|d| is_complete(d))
}

/// True when `dir` holds the marker `scripts/setup-model` writes after every file.
fn is_complete(dir: &Path) -> bool {
    dir.join(COMPLETE_MARKER).is_file()
}

/// The file name of the ONNX Runtime shared library on this platform (`libonnxruntime.so`).
fn runtime_library_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The ONNX Runtime environment: one per process (ort refuses a second), built on first load.
static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);

/// Loads ONNX Runtime from `library` (once per process) and returns the process's environment.
fn runtime_environment(library: &Path) -> Result<Environment, RetrievalError> {
    let mut slot = ENVIRONMENT.lock();
    if let Some(env) = slot.as_ref() {
        return Ok(env.clone());
    }
    let runtime_error = |message: String| RetrievalError::Runtime {
        path: library.to_path_buf(),
        message,
    };
    // `init_from` reports a missing or incompatible library as an error; the lazy loader that
    // ort uses otherwise panics at first use.
    let builder = ort::init_from(library).map_err(|e| runtime_error(e.to_string()))?;
    let env = builder
        .with_name("querent")
        .with_telemetry(false)
        .build()
        .map_err(|e| runtime_error(e.to_string()))?;
    *slot = Some(env.clone());
    Ok(env)
}

/// Reads one file of the model directory.
fn read(dir: &Path, name: &str) -> Result<Vec<u8>, RetrievalError> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|source| RetrievalError::Io { path, source })
}

/// The sentence embedder. `Send + Sync`: calls are serialised behind a mutex.
pub struct Embedder {
    model: Mutex<TextEmbedding>,
    model_dir: PathBuf,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model_dir", &self.model_dir)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// The dimension of every vector [`Embedder::embed`] returns.
    pub const DIMENSION: usize = 384;

    /// Loads ONNX Runtime and the model from `model_dir` (see the module doc for its files).
    ///
    /// Errors: a missing file ([`RetrievalError::ModelFileMissing`]), an unreadable file, a
    /// library that ONNX Runtime cannot load ([`RetrievalError::Runtime`]), a model that fails to
    /// load or to embed a probe sentence, or one whose vectors are not 384-dimensional.
    pub fn load(model_dir: &Path) -> anyhow::Result<Self> {
        Ok(Self::load_typed(model_dir)?)
    }

    fn load_typed(model_dir: &Path) -> Result<Self, RetrievalError> {
        let library = model_dir.join(runtime_library_name());
        let required = MODEL_FILES
            .iter()
            .map(|f| f.to_string())
            .chain([runtime_library_name()]);
        for file in required {
            if !model_dir.join(&file).is_file() {
                return Err(RetrievalError::ModelFileMissing {
                    dir: model_dir.to_path_buf(),
                    file,
                });
            }
        }
        let env = runtime_environment(&library)?;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read(model_dir, "tokenizer.json")?,
            config_file: read(model_dir, "config.json")?,
            special_tokens_map_file: read(model_dir, "special_tokens_map.json")?,
            tokenizer_config_file: read(model_dir, "tokenizer_config.json")?,
        };
        // The int8 model quantises its activations dynamically, per run: a text's vector moves
        // slightly (cosine within about 1e-3) with its batch mates. We batch anyway for
        // throughput; fastembed's `Dynamic` mode would forbid batching altogether.
        let model = UserDefinedEmbeddingModel::new(read(model_dir, "model.onnx")?, tokenizer_files)
            .with_pooling(Pooling::Mean);
        let options = InitOptionsUserDefined::new()
            .with_environment(env)
            .with_max_length(MAX_TOKENS);
        let model = TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| {
            RetrievalError::Model(format!("cannot load {}: {e}", model_dir.display()))
        })?;
        let embedder = Self {
            model: Mutex::new(model),
            model_dir: model_dir.to_path_buf(),
        };
        // A probe catches a model of the wrong shape now rather than at the first sync.
        let probe = embedder.embed_typed(&["probe".to_string()])?;
        let actual = probe.first().map_or(0, Vec::len);
        if actual != Self::DIMENSION {
            return Err(RetrievalError::Dimension {
                expected: Self::DIMENSION,
                actual,
            });
        }
        Ok(embedder)
    }

    /// The directory the model was loaded from.
    pub fn model_dir(&self) -> &Path {
        &self.model_dir
    }

    /// One L2-normalised 384-dimensional vector per text, in the order of `texts`; runs in
    /// batches of 32 texts of similar length.
    /// An empty slice gives an empty result without touching the model.
    pub fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        Ok(self.embed_typed(texts)?)
    }

    pub(crate) fn embed_typed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, RetrievalError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // Each batch is padded to its longest text: embedding in order of length keeps similar
        // lengths together and the padding small (sentence-transformers' `encode` does the same).
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(texts[i].len()));
        let sorted: Vec<&str> = order.iter().map(|&i| texts[i].as_str()).collect();
        let vectors = self
            .model
            .lock()
            .embed(&sorted, Some(BATCH_SIZE))
            .map_err(|e| RetrievalError::Model(e.to_string()))?;
        if vectors.len() != texts.len() {
            return Err(RetrievalError::Model(format!(
                "{} vectors for {} texts",
                vectors.len(),
                texts.len()
            )));
        }
        let mut in_order = vec![Vec::new(); texts.len()];
        for (vector, &i) in vectors.into_iter().zip(&order) {
            in_order[i] = vector;
        }
        Ok(in_order)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The provisioned model; tests fail (not skip) without it, naming the fix.
    pub(crate) fn model_dir() -> PathBuf {
        default_model_dir().expect("no complete vendor/model found: run scripts/setup-model")
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn embed_returns_one_unit_vector_of_384_dimensions_per_text() {
        let embedder = Embedder::load(&model_dir()).unwrap();
        let texts = vec![
            "weekly sales by store".to_string(),
            "price elasticity of demand".to_string(),
        ];
        let vectors = embedder.embed(&texts).unwrap();
        assert_eq!(vectors.len(), 2);
        for v in &vectors {
            assert_eq!(v.len(), Embedder::DIMENSION);
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        }
        assert!(embedder.embed(&[]).unwrap().is_empty());
    }

    #[test]
    fn similar_sentences_score_higher_than_unrelated_ones() {
        let embedder = Embedder::load(&model_dir()).unwrap();
        let texts: Vec<String> = [
            "how sensitive is demand to price",
            "price elasticity of each product",
            "store opening hours",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let v = embedder.embed(&texts).unwrap();
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.1);
    }

    #[test]
    fn a_texts_vector_barely_depends_on_its_batch_mates() {
        let embedder = Embedder::load(&model_dir()).unwrap();
        let alone = embedder
            .embed(&["gross margin percent by category".to_string()])
            .unwrap();
        let batch: Vec<String> = [
            "gross margin percent by category",
            "a much longer sentence about the weekly units sold in every store of the northern region",
            "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let together = embedder.embed(&batch).unwrap();
        let similarity = cosine(&alone[0], &together[0]);
        assert!(similarity > 0.99, "cosine {similarity}");
    }

    #[test]
    fn load_reports_a_missing_file_as_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Embedder::load_typed(dir.path()).unwrap_err();
        assert!(
            matches!(err, RetrievalError::ModelFileMissing { ref file, .. } if file == "model.onnx"),
            "{err}"
        );
        // A directory with the model but no runtime library names the library.
        for f in MODEL_FILES {
            std::fs::copy(model_dir().join(f), dir.path().join(f)).unwrap();
        }
        let err = Embedder::load_typed(dir.path()).unwrap_err();
        assert!(err.to_string().contains(&runtime_library_name()), "{err}");
    }

    #[test]
    fn default_model_dir_honours_the_complete_marker() {
        assert!(!is_complete(tempfile::tempdir().unwrap().path()));
        assert!(is_complete(&model_dir()));
    }
}
