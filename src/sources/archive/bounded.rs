//! Reading decompressed bytes without trusting any size an archive declares.
//!
//! Every byte that comes out of an archive, at any depth, passes through a [`Bounded`] reader.
//! It counts what it produces against the top-level archive's [`Budget`] and against its own
//! compression-ratio cap, and fails the read the moment either is exceeded: a zip bomb costs at
//! most the limit's worth of work and memory, whatever its headers claim.

use std::{
    cell::Cell,
    io::{self, Read},
};

/// Below this many expanded bytes the ratio is not checked: a small file of spaces or zeros
/// compresses a thousandfold and is no threat.
pub const RATIO_FLOOR: u64 = 1024 * 1024;

/// The expanded bytes one top-level archive may produce, shared by every level of nesting.
#[derive(Debug)]
pub struct Budget {
    used: Cell<u64>,
    limit: u64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Budget {
            used: Cell::new(0),
            limit,
        }
    }

    fn room(&self) -> u64 {
        self.limit.saturating_sub(self.used.get())
    }
}

/// Which limit stopped a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// The top-level archive's total expanded bytes.
    Total,
    /// The member's compression ratio.
    Ratio,
}

/// A reader that counts its bytes against a [`Budget`] and, for compressed data, a ratio cap.
pub struct Bounded<'b, R> {
    inner: R,
    budget: &'b Budget,
    read: u64,
    /// Most bytes this stream may produce before its ratio is too high.
    ratio_cap: u64,
    exceeded: Option<Exceeded>,
}

impl<'b, R: Read> Bounded<'b, R> {
    /// Uncompressed data (a stored zip member, a plain tar): only the budget applies.
    pub fn plain(inner: R, budget: &'b Budget) -> Self {
        Self::with_cap(inner, budget, u64::MAX)
    }

    /// A decompressor over `compressed_len` bytes, allowed to expand `max_ratio` times.
    pub fn compressed(inner: R, budget: &'b Budget, compressed_len: u64, max_ratio: u64) -> Self {
        let cap = compressed_len.saturating_mul(max_ratio).max(RATIO_FLOOR);
        Self::with_cap(inner, budget, cap)
    }

    fn with_cap(inner: R, budget: &'b Budget, ratio_cap: u64) -> Self {
        Bounded {
            inner,
            budget,
            read: 0,
            ratio_cap,
            exceeded: None,
        }
    }

    /// The limit that failed a read, if one did. Check this before blaming a read error on
    /// damaged data.
    pub fn exceeded(&self) -> Option<Exceeded> {
        self.exceeded
    }
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded.is_some() {
            return Err(limit_error());
        }
        let own_room = self.ratio_cap - self.read;
        let room = own_room.min(self.budget.room());
        if room == 0 {
            // At a limit: the stream is within it only if it ends right here.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.exceeded = Some(if own_room == 0 {
                Exceeded::Ratio
            } else {
                Exceeded::Total
            });
            return Err(limit_error());
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        self.budget.used.set(self.budget.used.get() + n as u64);
        Ok(n)
    }
}

fn limit_error() -> io::Error {
    io::Error::other("archive limit exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(reader: &mut impl Read) -> io::Result<usize> {
        let mut out = Vec::new();
        reader.read_to_end(&mut out)
    }

    #[test]
    fn the_budget_is_shared_and_exact() {
        let budget = Budget::new(10);
        let mut first = Bounded::plain(&[1u8; 6][..], &budget);
        assert_eq!(drain(&mut first).unwrap(), 6);
        let mut second = Bounded::plain(&[1u8; 4][..], &budget);
        assert_eq!(
            drain(&mut second).unwrap(),
            4,
            "exactly at the limit is fine"
        );
        let mut third = Bounded::plain(&[1u8; 1][..], &budget);
        assert!(drain(&mut third).is_err());
        assert_eq!(third.exceeded(), Some(Exceeded::Total));
    }

    #[test]
    fn the_ratio_cap_has_a_floor() {
        let budget = Budget::new(u64::MAX);
        let zeros = vec![0u8; RATIO_FLOOR as usize];
        let mut small = Bounded::compressed(&zeros[..], &budget, 1, 100);
        assert_eq!(drain(&mut small).unwrap(), zeros.len());
        let more = vec![0u8; RATIO_FLOOR as usize + 1];
        let mut bomb = Bounded::compressed(&more[..], &budget, 1, 100);
        assert!(drain(&mut bomb).is_err());
        assert_eq!(bomb.exceeded(), Some(Exceeded::Ratio));
    }
}
