//! Error codes a technician meets during Autopilot (`checks/error_codes.toml`), for
//! `joinready explain CODE`: what the code means, which checks predict it, what to run.
//!
//! Windows shows the same failure in several spellings: `0x80070774` on the OOBE screen, `774`
//! or `1908` in NetSetup.log, `-2147022988` in a PowerShell log (the HRESULT as a signed 32-bit
//! integer), `80070774` typed without its prefix. `parse_code` reads every one of them into the
//! numbers it could stand for, and a Win32 code matches its HRESULT (0x8007xxxx) too.

use crate::catalog::Catalog;
use crate::toml_errors::{explain_toml_message, locate};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

const BUILTIN_PATH: &str = "checks/error_codes.toml";
const BUILTIN: &str = include_str!("../checks/error_codes.toml");

/// How a code is numbered, which decides what it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    /// A 32-bit HRESULT; with facility 7 (0x8007xxxx) it also matches the Win32 code inside.
    Hresult,
    /// A Win32 or NERR status code; it also matches HRESULT_FROM_WIN32 of it (0x8007xxxx).
    Win32,
    /// An event id, always decimal.
    Event,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    code: Vec<Spanned<RawCode>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCode {
    code: String,
    kind: CodeKind,
    name: String,
    meaning: String,
    predicted_by: Vec<String>,
    run: String,
    source: String,
}

/// One documented code.
#[derive(Debug, Clone)]
pub struct ErrorCode {
    /// As Windows shows it, e.g. `0x80070774`.
    pub code: String,
    pub value: u32,
    pub kind: CodeKind,
    pub name: String,
    pub meaning: String,
    pub predicted_by: Vec<String>,
    pub run: String,
    pub source: String,
}

/// HRESULT_FROM_WIN32: severity 1, facility 7 (FACILITY_WIN32), the code in the low 16 bits.
const FACILITY_WIN32: u32 = 0x8007_0000;

impl ErrorCode {
    /// Whether a number the user typed, read as hex or decimal (`decimal`), is this code.
    fn matches(&self, number: u32, decimal: bool) -> bool {
        match self.kind {
            CodeKind::Event => decimal && number == self.value,
            CodeKind::Hresult => {
                number == self.value
                    || (self.value & 0xFFFF_0000 == FACILITY_WIN32 && number == self.value & 0xFFFF)
            }
            CodeKind::Win32 => number == self.value || number == FACILITY_WIN32 | self.value,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorCodesError {
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

/// The numbers a typed code can stand for, each with whether it was read as decimal.
///
/// `0x…` is hex; a leading `-` is a signed 32-bit decimal (an HRESULT as PowerShell prints it);
/// digits only are both hex (`80070774`) and decimal (`30132`, `1908`); letters a-f make it hex.
pub fn parse_code(typed: &str) -> Vec<(u32, bool)> {
    let text = typed.trim();
    let text = text
        .strip_prefix("event")
        .or_else(|| text.strip_prefix("Event"))
        .map(str::trim)
        .unwrap_or(text);
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16)
            .map(|n| vec![(n, false)])
            .unwrap_or_default();
    }
    if text.starts_with('-') {
        return text
            .parse::<i32>()
            .map(|n| vec![(n as u32, true)])
            .unwrap_or_default();
    }
    let mut numbers = Vec::new();
    if let Ok(n) = u32::from_str_radix(text, 16) {
        numbers.push((n, false));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.parse::<u32>() {
            numbers.push((n, true));
        }
    }
    numbers
}

/// Whether `typed` looks like a code at all rather than a check id.
pub fn looks_like_code(typed: &str) -> bool {
    !parse_code(typed).is_empty()
}

pub struct ErrorCodes {
    pub codes: Vec<ErrorCode>,
}

impl ErrorCodes {
    /// The built-in codes, each `predicted_by` checked against `catalog`.
    pub fn load(catalog: &Catalog) -> Result<ErrorCodes, ErrorCodesError> {
        ErrorCodes::parse(Path::new(BUILTIN_PATH), BUILTIN, catalog)
    }

    pub fn parse(
        path: &Path,
        text: &str,
        catalog: &Catalog,
    ) -> Result<ErrorCodes, ErrorCodesError> {
        let invalid =
            |span: Option<std::ops::Range<usize>>, message: String| ErrorCodesError::Invalid {
                location: locate(path, text, span),
                message,
            };
        let file: RawFile = toml::from_str(text)
            .map_err(|e| invalid(e.span(), explain_toml_message(e.message())))?;
        let mut codes: Vec<ErrorCode> = Vec::new();
        for spanned in file.code {
            let span = spanned.span();
            let raw = spanned.into_inner();
            let value = match (raw.kind, parse_code(&raw.code).as_slice()) {
                (CodeKind::Event, [.., (n, true)]) => *n,
                (CodeKind::Hresult | CodeKind::Win32, [(n, false)])
                    if raw.code.starts_with("0x") =>
                {
                    *n
                }
                _ => {
                    return Err(invalid(
                        Some(span),
                        format!(
                            "code `{}`: write an HRESULT or Win32 code as `0x` and hex digits, an event id in decimal",
                            raw.code
                        ),
                    ))
                }
            };
            if codes.iter().any(|c| c.value == value && c.kind == raw.kind) {
                return Err(invalid(
                    Some(span),
                    format!("code `{}` is listed twice", raw.code),
                ));
            }
            for id in &raw.predicted_by {
                if catalog.get(id).is_none() {
                    return Err(invalid(
                        Some(span),
                        format!(
                            "code `{}`: predicted_by names `{id}`, which is no check: {}",
                            raw.code,
                            catalog.unknown_selector_message(id)
                        ),
                    ));
                }
            }
            codes.push(ErrorCode {
                code: raw.code,
                value,
                kind: raw.kind,
                name: raw.name,
                meaning: raw.meaning.trim().to_string(),
                predicted_by: raw.predicted_by,
                run: raw.run,
                source: raw.source,
            });
        }
        Ok(ErrorCodes { codes })
    }

    /// The codes `typed` can stand for (more than one when it is ambiguous, like `30132`).
    pub fn find(&self, typed: &str) -> Vec<&ErrorCode> {
        let numbers = parse_code(typed);
        self.codes
            .iter()
            .filter(|code| {
                numbers
                    .iter()
                    .any(|(number, decimal)| code.matches(*number, *decimal))
            })
            .collect()
    }

    /// The message for a code that is not in the table, with what to try instead.
    pub fn unknown_message(&self, typed: &str) -> String {
        let readings: Vec<String> = parse_code(typed)
            .iter()
            .map(|(n, decimal)| {
                if *decimal {
                    format!("{n} (decimal, 0x{n:X})")
                } else {
                    format!("0x{n:X}")
                }
            })
            .collect();
        let known: Vec<&str> = self.codes.iter().map(|c| c.code.as_str()).collect();
        format!(
            "joinready knows no error code `{typed}` (read as {}): the codes it explains are {}; for other codes see https://learn.microsoft.com/windows/win32/debug/system-error-codes and https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/troubleshoot-windows-enrollment-errors",
            readings.join(" or "),
            known.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> ErrorCodes {
        let catalog = Catalog::load(&[]).expect("the built-in catalog loads");
        ErrorCodes::load(&catalog).expect("the built-in error codes load")
    }

    fn found(typed: &str) -> Vec<String> {
        codes().find(typed).iter().map(|c| c.code.clone()).collect()
    }

    #[test]
    fn every_spelling_windows_uses_finds_the_code() {
        for typed in [
            "0x80070774",
            "0X80070774",
            "80070774",
            "0x774",
            "774",
            "1908",
            "-2147022988",
            " 0x80070774 ",
        ] {
            assert_eq!(found(typed), ["0x80070774"], "{typed}");
        }
        assert_eq!(found("80180005"), ["0x80180005"]);
        assert_eq!(found("0x801c03f3"), ["0x801C03F3"]);
        assert_eq!(found("30132"), ["30132"]);
        assert_eq!(found("event 30132"), ["30132"]);
        assert_eq!(found("0x6d9"), ["0x6D9"]);
        assert_eq!(found("0x800706D9"), ["0x6D9"]);
        assert_eq!(found("1753"), ["0x6D9"]);
        assert_eq!(found("0xa8b"), ["0xA8B"]);
        assert_eq!(found("2699"), ["0xA8B"]);
        assert_eq!(found("0x40"), ["0x40"]);
        // "40" is hex 0x40 (64) or decimal 40: only the first is a known code.
        assert_eq!(found("40"), ["0x40"]);
    }

    #[test]
    fn the_issue_s_codes_are_all_there() {
        let codes = codes();
        for typed in [
            "0x80070774",
            "0x8007054B",
            "0x80070005",
            "0x80180005",
            "0x80180014",
            "0x80180018",
            "0x80180022",
            "0x801C03F3",
            "0x40",
            "0x6D9",
            "0xA8B",
            "30132",
        ] {
            let found = codes.find(typed);
            assert_eq!(found.len(), 1, "{typed}");
            let code = found[0];
            assert!(
                code.source.contains("https://learn.microsoft.com/"),
                "{typed}"
            );
            assert!(!code.meaning.is_empty() && !code.run.is_empty(), "{typed}");
        }
    }

    #[test]
    fn an_event_id_is_never_read_as_hex_and_a_bad_code_finds_nothing() {
        assert!(found("0x30132").is_empty());
        assert!(found("0x12345678").is_empty());
        assert!(found("dc.srv").is_empty());
        assert!(!looks_like_code("dc.srv"));
        assert!(looks_like_code("0x80070774"));
        assert!(looks_like_code("-2147022988"));
        assert!(parse_code("0x1FFFFFFFF").is_empty());
        let message = codes().unknown_message("0x12345678");
        assert!(
            message.contains("0x12345678") && message.contains("0x80070774"),
            "{message}"
        );
    }

    #[test]
    fn a_renamed_check_breaks_the_table() {
        let catalog = Catalog::load(&[]).expect("catalog");
        let text = BUILTIN.replacen("\"dc.srv\"", "\"dc.srv_renamed\"", 1);
        let error = ErrorCodes::parse(Path::new(BUILTIN_PATH), &text, &catalog)
            .err()
            .expect("an unknown check id is an error");
        let message = error.to_string();
        assert!(
            message.starts_with("checks/error_codes.toml:")
                && message.contains("`dc.srv_renamed`, which is no check"),
            "{message}"
        );
    }

    #[test]
    fn a_badly_written_code_is_named_with_its_line() {
        let catalog = Catalog::load(&[]).expect("catalog");
        let text = "[[code]]\ncode = \"80070774\"\nkind = \"hresult\"\nname = \"n\"\nmeaning = \"m\"\npredicted_by = []\nrun = \"r\"\nsource = \"s\"\n";
        let message = ErrorCodes::parse(Path::new("codes.toml"), text, &catalog)
            .err()
            .expect("error")
            .to_string();
        assert!(
            message.starts_with("codes.toml:1:") && message.contains("write an HRESULT"),
            "{message}"
        );
    }
}
