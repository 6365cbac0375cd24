//! What the Windows device itself knows: the Autopilot profile it downloaded, its edition and
//! build, its all-users VPN phonebook. `detect` turns that into settings with their origin
//! (pure, tested everywhere); one small reader per source does the I/O: `files` (any OS, reads
//! nothing off Windows), `registry` (Windows, the only `unsafe` here, in its FFI calls).

#[cfg(windows)]
pub mod adapters;
#[cfg(windows)]
pub mod certstore;
pub mod detect;
pub mod files;
#[cfg(windows)]
pub mod registry;

use crate::wire::autopilot::AutopilotError;
use detect::FoundProfile;

/// Reads the Autopilot profile: the JSON file first (the whole profile as downloaded), then the
/// diagnostics registry key. Ok(None) when the device has neither (not an Autopilot device, or
/// not Windows).
pub fn autopilot_profile() -> Result<Option<FoundProfile>, (String, AutopilotError)> {
    if let Some(found) = files::autopilot_file()? {
        return Ok(Some(found));
    }
    #[cfg(windows)]
    {
        registry::autopilot_values()
    }
    #[cfg(not(windows))]
    {
        Ok(None)
    }
}
