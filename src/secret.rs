//! The bind password: read from the environment, a file or a prompt, never from argv, and
//! never printed (its Debug and Display are redacted).

use std::fmt;
use std::path::Path;

pub const PASSWORD_ENV: &str = "JOINREADY_BIND_PASSWORD";

#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path}: cannot read the bind password file: {reason}")]
    File { path: String, reason: String },
    #[error("cannot read the bind password from the terminal: {0}")]
    Prompt(String),
}

/// Where the password came from; reported, the value never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretSource {
    Environment,
    File,
    Prompt,
}

/// The password for `user`: environment first, then the profile's file, then a prompt when
/// stdin is a terminal. None when there is no way to get one (the bind check says how).
pub fn bind_password(
    user: &str,
    file: Option<&Path>,
    environment: Option<String>,
    interactive: bool,
) -> Result<Option<(Secret, SecretSource)>, SecretError> {
    if let Some(value) = environment.filter(|v| !v.is_empty()) {
        return Ok(Some((Secret(value), SecretSource::Environment)));
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| SecretError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let value = text.trim_end_matches(['\r', '\n']).to_string();
        if value.is_empty() {
            return Err(SecretError::File {
                path: path.display().to_string(),
                reason: "it is empty".to_string(),
            });
        }
        return Ok(Some((Secret(value), SecretSource::File)));
    }
    if interactive {
        let value = rpassword::prompt_password(format!("LDAP bind password for {user}: "))
            .map_err(|e| SecretError::Prompt(e.to_string()))?;
        return Ok(Some((Secret(value), SecretSource::Prompt)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value() {
        let secret = Secret::new("hunter2".into());
        assert!(!format!("{secret:?} {secret}").contains("hunter2"));
    }

    #[test]
    fn environment_then_file_then_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "from-file\n").unwrap();
        let (secret, source) = bind_password("u", Some(&path), Some("from-env".into()), false)
            .unwrap()
            .unwrap();
        assert_eq!(
            (secret.expose(), source),
            ("from-env", SecretSource::Environment)
        );
        let (secret, source) = bind_password("u", Some(&path), None, false)
            .unwrap()
            .unwrap();
        assert_eq!((secret.expose(), source), ("from-file", SecretSource::File));
        assert!(bind_password("u", None, None, false).unwrap().is_none());
        let missing = bind_password("u", Some(&dir.path().join("nope")), None, false).unwrap_err();
        assert!(missing
            .to_string()
            .contains("cannot read the bind password file"));
    }
}
