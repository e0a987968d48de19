//! Reading inputs: a file path or `-` for standard input.

use std::io::Read;
use std::path::Path;

/// Reads all of `path` (`-` = standard input) as bytes.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|error| format!("-: {error}"))?;
        Ok(bytes)
    } else {
        std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))
    }
}

/// The SDP in `text`: the `sdp` member if it is browser JSON (`{"type":...,"sdp":...}`),
/// otherwise the text itself.
pub(crate) fn sdp_of(text: &str) -> Result<String, String> {
    if text.trim_start().starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
        value
            .get("sdp")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "JSON input has no \"sdp\" string".to_owned())
    } else {
        Ok(text.to_owned())
    }
}
