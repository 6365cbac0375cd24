//! The files Windows keeps what joinready reads: the downloaded Autopilot profile and the
//! all-users phonebook. Paths come from `%WINDIR%` and `%ProgramData%`; off Windows there are
//! none, so nothing is read.

use super::detect::FoundProfile;
use crate::wire::autopilot::{parse_profile_json, AutopilotError, MAX_PROFILE_BYTES};
use crate::wire::phonebook::{parse_phonebook, Phonebook, MAX_PHONEBOOK_BYTES};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `%WINDIR%\ServiceState\wmansvc\AutopilotDDSZTDFile.json`.
pub fn autopilot_path() -> Option<PathBuf> {
    if !cfg!(windows) {
        return None;
    }
    let windir = std::env::var_os("WINDIR").or_else(|| std::env::var_os("SystemRoot"))?;
    Some(Path::new(&windir).join(r"ServiceState\wmansvc\AutopilotDDSZTDFile.json"))
}

/// `%ProgramData%\Microsoft\Network\Connections\Pbk\rasphone.pbk`.
pub fn phonebook_path() -> Option<PathBuf> {
    if !cfg!(windows) {
        return None;
    }
    let data = std::env::var_os("ProgramData")?;
    Some(Path::new(&data).join(r"Microsoft\Network\Connections\Pbk\rasphone.pbk"))
}

/// At most `max + 1` bytes of `path`, so a parser can tell "too large"; None when it does not
/// exist.
fn read_bounded(path: &Path, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

pub fn autopilot_file() -> Result<Option<FoundProfile>, (String, AutopilotError)> {
    let Some(path) = autopilot_path() else {
        return Ok(None);
    };
    let location = path.display().to_string();
    let bytes = match read_bounded(&path, MAX_PROFILE_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Err((
                location,
                AutopilotError::NotJson {
                    line: 0,
                    column: 0,
                    message: format!("cannot read it: {e}"),
                },
            ))
        }
    };
    parse_profile_json(&bytes)
        .map(|profile| {
            Some(FoundProfile {
                profile,
                location: location.clone(),
            })
        })
        .map_err(|e| (location, e))
}

/// The all-users phonebook: Ok(None) when there is none (no per-machine connection at all).
pub fn phonebook() -> std::io::Result<Option<(String, Phonebook)>> {
    let Some(path) = phonebook_path() else {
        return Ok(None);
    };
    Ok(read_bounded(&path, MAX_PHONEBOOK_BYTES)?
        .map(|bytes| (path.display().to_string(), parse_phonebook(&bytes))))
}
