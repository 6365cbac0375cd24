//! Byte formats with no I/O: each codec is unit-tested on bytes; probes do the I/O.

pub mod ike;
