//! Shared helpers for the criterion benches: locating the shared corpus.

use std::path::PathBuf;

/// The directory holding the shared test corpus (`../shared/corpus` next to the workspace).
///
/// `ANTIPHON_CORPUS` overrides it.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ANTIPHON_CORPUS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}
