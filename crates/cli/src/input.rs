//! Reading inputs: a file path or `-` for standard input.

use std::io::Read;
use std::path::Path;

use antiphon_peer::RTCSessionDescriptionInit;

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

/// The description in `text` for `antiphon answer`: browser JSON as `setRemoteDescription`
/// takes it (its `type` kept, so an `answer` is refused as a browser refuses it), or raw SDP,
/// taken as an offer.
pub(crate) fn description_of(text: &str) -> Result<RTCSessionDescriptionInit, String> {
    if text.trim_start().starts_with('{') {
        RTCSessionDescriptionInit::from_json(text).map_err(|error| error.to_string())
    } else {
        Ok(RTCSessionDescriptionInit::offer(text))
    }
}
