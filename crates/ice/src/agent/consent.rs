//! Consent freshness (RFC 7675) on the selected pair: a check every ~5 s (randomized 0.8..1.2),
//! `disconnected` after a silence, consent lost (stop sending) after 30 s without a response.
//! The consent checks are also our keepalives (RFC 8445 section 11 asks for one every 15 s).

use std::time::{Duration, Instant};

/// What the silence since the last consent response means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConsentStatus {
    Fresh,
    Stale,
    Lost,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Consent {
    next_check: Option<Instant>,
    last_response: Option<Instant>,
}

impl Consent {
    /// A pair was selected: consent is fresh as of now (its check just succeeded).
    pub(crate) fn start(&mut self, now: Instant, first_interval: Duration) {
        self.last_response = Some(now);
        self.next_check = Some(now + first_interval);
    }

    /// Stop checking (restart in progress or no pair selected).
    pub(crate) fn stop(&mut self) {
        self.next_check = None;
        self.last_response = None;
    }

    pub(crate) fn refreshed(&mut self, now: Instant) {
        if self.last_response.is_some() {
            self.last_response = Some(now);
        }
    }

    /// True when a consent check is due; schedules the next one after `interval`.
    pub(crate) fn take_due(&mut self, now: Instant, interval: Duration) -> bool {
        match self.next_check {
            Some(t) if now >= t => {
                self.next_check = Some(now + interval);
                true
            }
            _ => false,
        }
    }

    pub(crate) fn status(
        &self,
        now: Instant,
        stale_after: Duration,
        lost_after: Duration,
    ) -> ConsentStatus {
        match self.last_response {
            Some(t) if now >= t + lost_after => ConsentStatus::Lost,
            Some(t) if now >= t + stale_after => ConsentStatus::Stale,
            _ => ConsentStatus::Fresh,
        }
    }

    /// The next instant at which something happens: a check, going stale, or losing consent.
    pub(crate) fn next_deadline(
        &self,
        now: Instant,
        stale_after: Duration,
        lost_after: Duration,
    ) -> Option<Instant> {
        let last = self.last_response?;
        [
            self.next_check,
            Some(last + stale_after),
            Some(last + lost_after),
        ]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min()
        .or(self.next_check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_goes_stale_then_lost() {
        let t0 = Instant::now();
        let (stale, lost) = (Duration::from_secs(8), Duration::from_secs(30));
        let mut c = Consent::default();
        assert_eq!(c.status(t0, stale, lost), ConsentStatus::Fresh);
        c.start(t0, Duration::from_secs(5));
        assert!(!c.take_due(t0 + Duration::from_secs(4), Duration::from_secs(5)));
        assert!(c.take_due(t0 + Duration::from_secs(5), Duration::from_secs(5)));
        assert_eq!(
            c.status(t0 + Duration::from_secs(9), stale, lost),
            ConsentStatus::Stale
        );
        assert_eq!(
            c.status(t0 + Duration::from_secs(30), stale, lost),
            ConsentStatus::Lost
        );
        c.refreshed(t0 + Duration::from_secs(29));
        assert_eq!(
            c.status(t0 + Duration::from_secs(30), stale, lost),
            ConsentStatus::Fresh
        );
        assert_eq!(
            c.next_deadline(t0 + Duration::from_secs(30), stale, lost),
            Some(t0 + Duration::from_secs(37))
        );
    }
}
