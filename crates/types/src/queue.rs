//! Queues that give back the room a burst took: a handshake flight, the first events, the
//! checks of a connection's start. Once such a queue is drained it keeps at most
//! [`DRAINED_ROOM`] bytes of room, but always one entry (so that one item at a time, a
//! record's event or a consent check, is not an allocation each), and an idle connection does
//! not hold the burst's room for its lifetime.
//!
//! ```
//! use std::collections::VecDeque;
//! use antiphon_types::queue::ShrinkWhenDrained;
//!
//! let mut queue: VecDeque<[u8; 64]> = (0..100).map(|_| [0; 64]).collect();
//! queue.clear();
//! queue.shrink_when_drained();
//! assert!(queue.capacity() <= 2);
//! ```

use std::collections::VecDeque;

/// The bytes of room a drained queue keeps (four datagrams' handles: their next burst needs no
/// allocation).
pub const DRAINED_ROOM: usize = 128;

/// A queue that can give back its room once empty.
pub trait ShrinkWhenDrained {
    /// If the queue is empty, keeps at most [`DRAINED_ROOM`] bytes of room (at least one
    /// entry); does nothing while it holds anything.
    fn shrink_when_drained(&mut self);
}

/// Entries kept in room by a drained queue of `T`.
const fn kept<T>() -> usize {
    let size = std::mem::size_of::<T>();
    if size == 0 || size >= DRAINED_ROOM {
        1
    } else {
        DRAINED_ROOM / size
    }
}

impl<T> ShrinkWhenDrained for VecDeque<T> {
    fn shrink_when_drained(&mut self) {
        if self.is_empty() && self.capacity() > kept::<T>() {
            self.shrink_to(kept::<T>());
        }
    }
}

impl<T> ShrinkWhenDrained for Vec<T> {
    fn shrink_when_drained(&mut self) {
        if self.is_empty() && self.capacity() > kept::<T>() {
            self.shrink_to(kept::<T>());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drained_queue_keeps_its_budget_and_at_least_one_entry() {
        let mut small: Vec<u64> = Vec::with_capacity(1000);
        small.shrink_when_drained();
        assert!(small.capacity() <= DRAINED_ROOM / 8);

        let mut large: VecDeque<[u8; 1000]> = VecDeque::with_capacity(10);
        large.shrink_when_drained();
        assert_eq!(large.capacity(), 1);
    }

    #[test]
    fn a_queue_holding_anything_keeps_its_room() {
        let mut queue: Vec<u64> = Vec::with_capacity(1000);
        queue.push(1);
        queue.shrink_when_drained();
        assert_eq!(queue.capacity(), 1000);
    }
}
