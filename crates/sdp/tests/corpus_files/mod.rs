//! The shared corpus's SDP files, read in place (`../shared/corpus/sdp` beside the workspace).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/sdp");

/// Every `.sdp` file in `dir` (`valid`, `invalid`, ...) by file name; fails if there is none.
pub(crate) fn sdp_files(dir: &str) -> BTreeMap<String, Vec<u8>> {
    let path = Path::new(CORPUS).join(dir);
    let entries = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("corpus dir {} missing: {e}", path.display()));
    let files: BTreeMap<String, Vec<u8>> = entries
        .map(|entry| entry.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sdp"))
        .map(|p: PathBuf| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            (name, bytes)
        })
        .collect();
    assert!(
        !files.is_empty(),
        "corpus dir {} has no .sdp files",
        path.display()
    );
    files
}
