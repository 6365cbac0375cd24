//! The JSON Schema of the report, generated from the report types so it cannot drift.

use super::Report;

pub fn render() -> String {
    let schema = schemars::schema_for!(Report);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
