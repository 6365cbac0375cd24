//! Where in a TOML file a problem is, and what to write instead: shared by the profile and
//! the catalog, so both point at `file:line:column` the same way.

use crate::suggest::closest;
use std::ops::Range;
use std::path::Path;

/// `path:line:column` for a byte span in `text` (1-based, as editors count).
pub fn locate(path: &Path, text: &str, span: Option<Range<usize>>) -> String {
    match span {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{}:{line}:{column}", path.display())
        }
        None => path.display().to_string(),
    }
}

/// Serde's messages list what is allowed; add the likeliest intended key.
pub fn explain_toml_message(message: &str) -> String {
    let message = message.trim().replace('\n', " ");
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((typed, allowed)) = rest.split_once('`') {
            let candidates: Vec<&str> = allowed
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|s| !s.is_empty())
                .collect();
            if let Some(best) = closest(typed, candidates.iter().copied()) {
                return format!("{message}; did you mean `{best}`?");
            }
        }
    }
    message
}
