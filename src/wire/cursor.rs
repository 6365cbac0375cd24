//! Bounds-checked reader shared by every codec in `wire`.
//!
//! Every read says what it was reading, so a short packet produces an error that names the
//! field instead of a panic or an index out of range.

use thiserror::Error;

/// Low-level failure while reading bytes from the network.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The input ended before a field was complete.
    #[error("{what} needs {needed} bytes but only {available} remain")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// A position taken from the input lies outside it.
    #[error("{what} offset {offset} is outside the {len}-byte input")]
    OffsetOutOfRange {
        what: &'static str,
        offset: usize,
        len: usize,
    },
}

/// Forward-only reader over a byte slice; every read is checked against the bytes left.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Starts reading at the first byte of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Offset of the next byte to read, from the start of the input.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The whole input, for formats whose offsets count from its start (compressed names).
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The bytes not read yet, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// Moves to an absolute offset; the end of the input is allowed, beyond it is not.
    pub fn seek(&mut self, offset: usize, what: &'static str) -> Result<(), WireError> {
        if offset > self.data.len() {
            return Err(WireError::OffsetOutOfRange {
                what,
                offset,
                len: self.data.len(),
            });
        }
        self.pos = offset;
        Ok(())
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let available = self.remaining();
        let end = self.pos.checked_add(n).filter(|_| n <= available);
        match end.and_then(|end| self.data.get(self.pos..end).map(|s| (s, end))) {
            Some((slice, end)) => {
                self.pos = end;
                Ok(slice)
            }
            None => Err(WireError::Truncated {
                what,
                needed: n,
                available,
            }),
        }
    }

    /// Takes exactly `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// Looks at the next byte without consuming it.
    pub fn peek_u8(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a little-endian u16.
    pub fn u16_le(&mut self, what: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// Reads a big-endian (network order) u16.
    pub fn u16_be(&mut self, what: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Reads a little-endian u32.
    pub fn u32_le(&mut self, what: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Reads a big-endian (network order) u32.
    pub fn u32_be(&mut self, what: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian (network order) u64.
    pub fn u64_be(&mut self, what: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_integers_in_both_orders() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
        let mut c = Cursor::new(&bytes);
        assert_eq!(c.u8("a").unwrap(), 1);
        assert_eq!(c.u16_le("b").unwrap(), 0x0302);
        assert_eq!(c.u16_be("c").unwrap(), 0x0405);
        assert_eq!(c.u32_le("d").unwrap(), 0x0908_0706);
        assert_eq!(c.position(), 9);
        assert_eq!(c.remaining(), 4);
        assert_eq!(c.u32_be("e").unwrap(), 0x0a0b_0c0d);
        assert!(c.is_empty());
    }

    #[test]
    fn short_reads_name_the_field() {
        let mut c = Cursor::new(&[1, 2, 3]);
        assert_eq!(
            c.u32_le("flags"),
            Err(WireError::Truncated {
                what: "flags",
                needed: 4,
                available: 3
            })
        );
        // A failed read consumes nothing.
        assert_eq!(c.position(), 0);
        assert_eq!(c.take(3, "x").unwrap(), &[1, 2, 3]);
        assert!(c.u8("y").is_err());
        assert_eq!(c.peek_u8(), None);
    }

    #[test]
    fn huge_take_does_not_overflow() {
        let mut c = Cursor::new(&[0; 4]);
        c.u8("a").unwrap();
        assert!(matches!(
            c.take(usize::MAX, "big"),
            Err(WireError::Truncated {
                needed: usize::MAX,
                available: 3,
                ..
            })
        ));
    }

    #[test]
    fn seek_is_bounded() {
        let mut c = Cursor::new(&[0; 4]);
        assert!(c.seek(4, "end").is_ok());
        assert!(c.is_empty());
        assert_eq!(
            c.seek(5, "past"),
            Err(WireError::OffsetOutOfRange {
                what: "past",
                offset: 5,
                len: 4
            })
        );
        assert_eq!(c.rest(), &[] as &[u8]);
    }
}
