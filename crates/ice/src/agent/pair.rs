//! Candidate pairs (RFC 8445 section 6.1.2): priority, state and nomination flags.

use std::net::SocketAddr;

/// The state of a candidate pair in the checklist (RFC 8445 section 6.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairState {
    /// Not checked until a pair of the same foundation succeeds (or nothing else is waiting).
    Frozen,
    /// To be checked when its turn comes.
    Waiting,
    /// A check is outstanding.
    InProgress,
    /// A check succeeded: the pair is valid.
    Succeeded,
    /// Checks timed out or were refused.
    Failed,
}

/// One local base / remote candidate pair.
#[derive(Debug, Clone)]
pub(crate) struct CandidatePair {
    /// The local base (the socket address we send from).
    pub(crate) local: SocketAddr,
    /// The remote candidate address.
    pub(crate) remote: SocketAddr,
    pub(crate) local_priority: u32,
    pub(crate) remote_priority: u32,
    /// Local and remote foundation, combined.
    pub(crate) foundation: String,
    pub(crate) state: PairState,
    /// The controlled side received USE-CANDIDATE for this pair.
    pub(crate) remote_nominated: bool,
    /// The controlling side will put USE-CANDIDATE on the next check of this pair.
    pub(crate) nominating: bool,
}

impl CandidatePair {
    /// RFC 8445 section 6.1.2.3: `2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0)`, where G is the
    /// controlling agent's candidate priority and D the controlled agent's.
    pub(crate) fn priority(&self, controlling: bool) -> u64 {
        let (g, d) = if controlling {
            (self.local_priority, self.remote_priority)
        } else {
            (self.remote_priority, self.local_priority)
        };
        pair_priority(g, d)
    }
}

/// The pair priority formula of RFC 8445 section 6.1.2.3.
pub fn pair_priority(controlling: u32, controlled: u32) -> u64 {
    let (g, d) = (u64::from(controlling), u64::from(controlled));
    (1u64 << 32) * g.min(d) + 2 * g.max(d) + u64::from(g > d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8445_pair_priority_formula() {
        let cases: &[(u32, u32, u64)] = &[
            (1, 1, (1 << 32) + 2),
            (2, 1, (1 << 32) + 4 + 1),
            (1, 2, (1 << 32) + 4),
            (
                2_130_706_431,
                1_694_498_815,
                (1_694_498_815u64 << 32) + 2 * 2_130_706_431 + 1,
            ),
        ];
        for &(g, d, p) in cases {
            assert_eq!(pair_priority(g, d), p, "{g} {d}");
        }
        // Both agents compute the same priority for the same pair.
        let ours = CandidatePair {
            local: "1.1.1.1:1".parse().expect("addr"),
            remote: "2.2.2.2:2".parse().expect("addr"),
            local_priority: 10,
            remote_priority: 20,
            foundation: String::new(),
            state: PairState::Frozen,
            remote_nominated: false,
            nominating: false,
        };
        let theirs = CandidatePair {
            local_priority: 20,
            remote_priority: 10,
            ..ours.clone()
        };
        assert_eq!(ours.priority(true), theirs.priority(false));
        assert_eq!(ours.priority(false), theirs.priority(true));
    }
}
