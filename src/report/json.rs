//! The JSON report: exactly one document, field names fixed by the interface contract.

use super::{Report, SCHEMA_VERSION};

pub fn render(report: &Report) -> String {
    // Serializing plain data with string keys cannot fail; fall back to a valid document anyway.
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        format!("{{\"schema_version\":{SCHEMA_VERSION},\"error\":\"cannot serialize the report: {e}\"}}")
    });
    text.push('\n');
    text
}
