//! joinready: is this device ready for Windows Autopilot user-driven mode with Microsoft Entra
//! hybrid join, and if not, what exactly is wrong and what to do?
// No unsafe code, but for the one Windows FFI call that asks DHCP for option 252
// (src/probe/dhcp_windows.rs), which opts out by name.
#![deny(unsafe_code)]

pub mod access;
pub mod app;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod device;
pub mod diff;
pub mod duration;
pub mod endpoints;
pub mod error_codes;
pub mod facts;
pub mod model;
pub mod pac;
pub mod preflight;
pub mod probe;
pub mod profile;
pub mod report;
pub mod result;
pub mod runner;
pub mod secret;
pub mod serve;
pub mod srv_order;
pub mod suggest;
pub mod toml_errors;
pub mod verdict;
pub mod wire;
