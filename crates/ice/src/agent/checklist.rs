//! The checklist (RFC 8445 section 6.1.2): pair formation, pruning, the triggered-check queue,
//! the order of ordinary checks and unfreezing by foundation.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::pair::{CandidatePair, PairState};

/// Index of a pair in the checklist; stable until the checklist is cleared.
pub(crate) type PairId = usize;

#[derive(Debug, Default)]
pub(crate) struct CheckList {
    pub(crate) pairs: Vec<CandidatePair>,
    triggered: VecDeque<PairId>,
    max_pairs: usize,
}

/// What adding a pair did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Added {
    New(PairId),
    Existing(PairId),
    /// The checklist is full of higher-priority pairs.
    Refused,
}

impl CheckList {
    pub(crate) fn new(max_pairs: usize) -> Self {
        CheckList {
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            max_pairs,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.pairs.clear();
        self.triggered.clear();
    }

    pub(crate) fn find(&self, local: SocketAddr, remote: SocketAddr) -> Option<PairId> {
        self.pairs
            .iter()
            .position(|p| p.local == local && p.remote == remote)
    }

    /// Every pair, in the order added.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &CandidatePair> {
        self.pairs.iter()
    }

    pub(crate) fn get(&self, id: PairId) -> Option<&CandidatePair> {
        self.pairs.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: PairId) -> Option<&mut CandidatePair> {
        self.pairs.get_mut(id)
    }

    /// Adds a pair, or returns the existing pair with the same local base and remote address
    /// (RFC 8445 section 6.1.2.4 pruning: redundant pairs are not added). When the checklist is
    /// full, the new pair replaces the lowest-priority pair that is not in use, if it outranks it.
    pub(crate) fn add(&mut self, pair: CandidatePair, controlling: bool) -> Added {
        if let Some(id) = self.find(pair.local, pair.remote) {
            let existing = &mut self.pairs[id];
            existing.remote_priority = existing.remote_priority.max(pair.remote_priority);
            return Added::Existing(id);
        }
        let state = if self.pairs.iter().any(|p| p.foundation == pair.foundation) {
            PairState::Frozen
        } else {
            PairState::Waiting
        };
        let pair = CandidatePair { state, ..pair };
        if self.pairs.len() < self.max_pairs {
            self.pairs.push(pair);
            return Added::New(self.pairs.len() - 1);
        }
        let victim = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(id, p)| {
                matches!(
                    p.state,
                    PairState::Frozen | PairState::Waiting | PairState::Failed
                ) && !self.triggered.contains(id)
                    && !p.remote_nominated
            })
            .min_by_key(|(_, p)| p.priority(controlling))
            .map(|(id, p)| (id, p.priority(controlling)));
        match victim {
            Some((id, prio)) if prio < pair.priority(controlling) => {
                self.pairs[id] = pair;
                Added::New(id)
            }
            _ => Added::Refused,
        }
    }

    /// Queues a triggered check (RFC 8445 section 7.3.1.4); the pair becomes Waiting unless it is
    /// already valid (a valid pair stays valid while it is checked again, e.g. to nominate it).
    pub(crate) fn trigger(&mut self, id: PairId) {
        if let Some(p) = self.pairs.get_mut(id) {
            if !matches!(p.state, PairState::InProgress | PairState::Succeeded) {
                p.state = PairState::Waiting;
            }
            if !self.triggered.contains(&id) {
                self.triggered.push_back(id);
            }
        }
    }

    /// Queues a triggered check ahead of all others (used for nomination).
    pub(crate) fn trigger_first(&mut self, id: PairId) {
        self.triggered.retain(|t| *t != id);
        if let Some(p) = self.pairs.get_mut(id) {
            if !matches!(p.state, PairState::InProgress | PairState::Succeeded) {
                p.state = PairState::Waiting;
            }
            self.triggered.push_front(id);
        }
    }

    /// The next pair to check: the triggered queue first, then the highest-priority Waiting pair,
    /// then (if none waits) the highest-priority Frozen pair (RFC 8445 section 6.1.4.2).
    pub(crate) fn next_check(&mut self, controlling: bool, ordinary: bool) -> Option<PairId> {
        while let Some(id) = self.triggered.pop_front() {
            if self
                .pairs
                .get(id)
                .is_some_and(|p| p.state != PairState::InProgress)
            {
                return Some(id);
            }
        }
        if !ordinary {
            return None;
        }
        let best = |state: PairState| {
            self.pairs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.state == state)
                .max_by_key(|(_, p)| p.priority(controlling))
                .map(|(id, _)| id)
        };
        best(PairState::Waiting).or_else(|| best(PairState::Frozen))
    }

    /// True when a check could be sent now.
    pub(crate) fn has_work(&self, ordinary: bool) -> bool {
        !self.triggered.is_empty()
            || (ordinary
                && self
                    .pairs
                    .iter()
                    .any(|p| matches!(p.state, PairState::Waiting | PairState::Frozen)))
    }

    /// A pair succeeded: pairs of the same foundation leave Frozen (RFC 8445 section 7.2.5.3.3).
    pub(crate) fn unfreeze_foundation(&mut self, foundation: &str) {
        for p in &mut self.pairs {
            if p.state == PairState::Frozen && p.foundation == foundation {
                p.state = PairState::Waiting;
            }
        }
    }

    /// The highest-priority valid pair.
    pub(crate) fn best_valid(&self, controlling: bool) -> Option<PairId> {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.state == PairState::Succeeded)
            .max_by_key(|(_, p)| p.priority(controlling))
            .map(|(id, _)| id)
    }

    /// True when a pair that outranks `priority` may still succeed.
    pub(crate) fn better_pending(&self, priority: u64, controlling: bool) -> bool {
        self.pairs.iter().any(|p| {
            matches!(
                p.state,
                PairState::Frozen | PairState::Waiting | PairState::InProgress
            ) && p.priority(controlling) > priority
        })
    }

    pub(crate) fn all_failed(&self) -> bool {
        self.pairs.iter().all(|p| p.state == PairState::Failed)
    }

    pub(crate) fn len(&self) -> usize {
        self.pairs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(local: &str, remote: &str, lp: u32, rp: u32, foundation: &str) -> CandidatePair {
        CandidatePair {
            local: local.parse().expect("addr"),
            remote: remote.parse().expect("addr"),
            local_priority: lp,
            remote_priority: rp,
            foundation: foundation.to_owned(),
            state: PairState::Frozen,
            remote_nominated: false,
            nominating: false,
        }
    }

    #[test]
    fn formation_order_freezing_and_caps() {
        let mut list = CheckList::new(3);
        assert_eq!(
            list.add(pair("10.0.0.1:1", "10.0.0.2:1", 100, 100, "a"), true),
            Added::New(0)
        );
        assert_eq!(
            list.add(pair("10.0.0.1:1", "10.0.0.3:1", 100, 300, "a"), true),
            Added::New(1)
        );
        assert_eq!(
            list.add(pair("10.0.0.1:1", "10.0.0.4:1", 100, 50, "b"), true),
            Added::New(2)
        );
        // Duplicate local/remote: pruned.
        assert_eq!(
            list.add(pair("10.0.0.1:1", "10.0.0.2:1", 100, 90, "a"), true),
            Added::Existing(0)
        );
        // Full: a lower-priority pair is refused, a higher one replaces the lowest.
        assert_eq!(
            list.add(pair("10.0.0.1:1", "10.0.0.5:1", 100, 10, "c"), true),
            Added::Refused
        );
        assert_eq!(
            list.add(pair("10.0.0.1:1", "10.0.0.6:1", 100, 900, "d"), true),
            Added::New(2)
        );
        assert_eq!(list.get(0).map(|p| p.state), Some(PairState::Waiting));
        assert_eq!(list.get(1).map(|p| p.state), Some(PairState::Frozen));
        // Waiting pairs go first by priority, then Frozen ones.
        let first = list.next_check(true, true).expect("a check");
        assert_eq!(first, 2);
        list.get_mut(2).expect("pair").state = PairState::InProgress;
        assert_eq!(list.next_check(true, true), Some(0));
        list.get_mut(0).expect("pair").state = PairState::Succeeded;
        list.unfreeze_foundation("a");
        assert_eq!(list.get(1).map(|p| p.state), Some(PairState::Waiting));
        // Triggered checks jump the queue.
        list.trigger(0);
        assert_eq!(list.next_check(true, false), Some(0));
        assert_eq!(list.next_check(true, false), None);
        assert_eq!(list.best_valid(true), Some(0));
    }
}
