//! What the fuzz targets share: reading a pair of JSON documents from one
//! input, strictly, as statewright reads documents.

use serde_json::Value;
use statewright::spec::document::{self, Format, ParseLimits, SourceText};

/// A JSON document read strictly, or `None`.
pub fn read_json(bytes: &[u8]) -> Option<Value> {
    let source = SourceText {
        path: "fuzz.json".into(),
        text: String::from_utf8(bytes.to_vec()).ok()?,
        format: Format::Json,
    };
    document::parse(&source, ParseLimits::default()).ok()
}

/// Two JSON documents separated by the input's first NUL byte.
pub fn read_pair(data: &[u8]) -> Option<(Value, Value)> {
    let split = data.iter().position(|&b| b == 0)?;
    Some((read_json(&data[..split])?, read_json(&data[split + 1..])?))
}
