//! Simulcast in the answer (RFC 8853 §5.3, RFC 8851; webrtc-pc "final steps to create an
//! answer"): the offered `a=simulcast` reversed, first alternatives only, no duplicate rids,
//! no restrictions, and only rids with a matching `a=rid` line.

use antiphon_codec as codec;
use antiphon_sdp::{Attribute, MediaDescription, Rid, RidDirection, Simulcast, SimulcastStream};

use super::{AnswerOptions, LocalSection};

/// The simulcast part of one answered section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimulcastAnswer {
    /// Our direction for the rids: `Send` answers an offer to receive simulcast.
    direction: RidDirection,
    /// The rids, in offered order.
    rids: Vec<String>,
}

impl SimulcastAnswer {
    /// `a=rid:<id> <direction>` for each rid, then `a=simulcast:<direction> a;b;c`.
    pub(crate) fn write(&self, attributes: &mut Vec<Attribute>) {
        for rid in &self.rids {
            attributes.push(Attribute::Rid(Rid {
                id: rid.clone(),
                direction: self.direction,
                formats: Vec::new(),
                restrictions: Vec::new(),
            }));
        }
        let streams: Vec<Vec<SimulcastStream>> = self
            .rids
            .iter()
            .map(|rid| {
                vec![SimulcastStream {
                    rid: rid.clone(),
                    paused: false,
                }]
            })
            .collect();
        let simulcast = match self.direction {
            RidDirection::Send => Simulcast {
                send: streams,
                recv: Vec::new(),
            },
            RidDirection::Recv => Simulcast {
                send: Vec::new(),
                recv: streams,
            },
        };
        attributes.push(Attribute::Simulcast(simulcast));
    }
}

/// The simulcast answer for an offered section, if any.
///
/// `direction` is the answer's direction from our side.
pub(crate) fn answer(
    offered: &MediaDescription,
    direction: codec::Direction,
    local: &LocalSection,
    options: &AnswerOptions,
) -> Option<SimulcastAnswer> {
    let simulcast = offered.simulcast()?;
    if !simulcast.recv.is_empty() && direction.sends() {
        // The offerer receives simulcast: we send the rids our encodings have (all offered
        // ones when the sender has no rids of its own yet, as webrtc-pc derives them).
        let wanted = local.sender.as_ref().and_then(|s| s.rids.as_ref());
        let rids = first_alternatives(&simulcast.recv, offered, RidDirection::Recv)
            .filter(|rid| wanted.is_none_or(|wanted| wanted.contains(rid)))
            .collect::<Vec<_>>();
        return (!rids.is_empty()).then_some(SimulcastAnswer {
            direction: RidDirection::Send,
            rids,
        });
    }
    if !simulcast.send.is_empty() && direction.receives() && options.accept_simulcast_receive {
        let rids: Vec<String> =
            first_alternatives(&simulcast.send, offered, RidDirection::Send).collect();
        return (!rids.is_empty()).then_some(SimulcastAnswer {
            direction: RidDirection::Recv,
            rids,
        });
    }
    None
}

/// The first alternative of each stream, without duplicates, that has an `a=rid` line in the
/// offered direction.
fn first_alternatives<'a>(
    streams: &'a [Vec<SimulcastStream>],
    offered: &'a MediaDescription,
    rid_direction: RidDirection,
) -> impl Iterator<Item = String> + 'a {
    let mut seen: Vec<&'a str> = Vec::new();
    streams.iter().filter_map(move |alternatives| {
        let first = alternatives.first()?;
        let declared = offered
            .rids()
            .any(|rid| rid.id == first.rid && rid.direction == rid_direction);
        if !declared || seen.contains(&first.rid.as_str()) {
            return None;
        }
        seen.push(first.rid.as_str());
        Some(first.rid.clone())
    })
}
