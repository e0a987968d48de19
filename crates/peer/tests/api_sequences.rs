//! Random sequences of W3C API calls on two negotiators that signal to each other: nothing
//! panics, every applied description moves the signaling state exactly as webrtc-pc's table
//! says (the oracle is `RTCSignalingState::apply`), and every refused call leaves the state and
//! the four descriptions as they were.

mod common;

use antiphon_codec::{Direction, MediaKind};
use antiphon_peer::answer::AnswerOptions;
use antiphon_peer::{
    AppliedDescription, Negotiator, RTCRtpTransceiverInit, RTCSdpType, RTCSessionDescriptionInit,
    RTCSignalingState, Side,
};
use common::{negotiator, transport};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Call {
    AddTransceiver(MediaKind, Direction),
    RequestDataChannel,
    CreateOffer,
    /// setLocalDescription of the last offer this side created.
    SetLocalOffer,
    /// createAnswer, then setLocalDescription of it.
    AnswerAndSetLocal,
    /// setLocalDescription of an answer nobody created.
    SetLocalMungedAnswer,
    /// The other side's local description, applied here as remote.
    ReceiveFromPeer,
    RollbackLocal,
    RollbackRemote,
    StopTransceiver(usize),
    SetDirection(usize, Direction),
    Close,
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive),
    ]
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        3 => (prop_oneof![Just(MediaKind::Audio), Just(MediaKind::Video)], direction())
            .prop_map(|(k, d)| Call::AddTransceiver(k, d)),
        1 => Just(Call::RequestDataChannel),
        3 => Just(Call::CreateOffer),
        3 => Just(Call::SetLocalOffer),
        3 => Just(Call::AnswerAndSetLocal),
        1 => Just(Call::SetLocalMungedAnswer),
        5 => Just(Call::ReceiveFromPeer),
        1 => Just(Call::RollbackLocal),
        1 => Just(Call::RollbackRemote),
        1 => (0usize..4).prop_map(Call::StopTransceiver),
        1 => ((0usize..4), direction()).prop_map(|(i, d)| Call::SetDirection(i, d)),
        1 => Just(Call::Close),
    ]
}

/// What a refused call must leave untouched.
type Snapshot = (RTCSignalingState, [Option<AppliedDescription>; 4], usize);

fn snapshot(n: &Negotiator) -> Snapshot {
    (
        n.signaling_state(),
        [
            n.pending_local_description().cloned(),
            n.current_local_description().cloned(),
            n.pending_remote_description().cloned(),
            n.current_remote_description().cloned(),
        ],
        n.transceivers().len(),
    )
}

struct Peer {
    negotiator: Negotiator,
    last_offer: Option<RTCSessionDescriptionInit>,
}

/// Runs `call` on `peers[me]`; checks the signaling table and that refusals change nothing.
fn run(peers: &mut [Peer; 2], me: usize, call: &Call) -> Result<(), TestCaseError> {
    let peer_local = peers[1 - me]
        .negotiator
        .local_description()
        .map(AppliedDescription::to_init);
    let this = &mut peers[me];
    let n = &mut this.negotiator;
    let before = snapshot(n);
    // The description applied, and on which side, for the signaling oracle.
    let mut applied: Option<(Side, RTCSdpType)> = None;
    let result = match call {
        Call::AddTransceiver(kind, direction) => n
            .add_transceiver(
                *kind,
                RTCRtpTransceiverInit::default().with_direction(*direction),
            )
            .map(|_| ()),
        Call::RequestDataChannel => n.request_data_channel(),
        Call::CreateOffer => n.create_offer(transport(me)).map(|offer| {
            this.last_offer = Some(offer);
        }),
        Call::SetLocalOffer => match this.last_offer.clone() {
            Some(offer) => {
                applied = Some((Side::Local, RTCSdpType::Offer));
                n.set_local_description(&offer).map(|_| ())
            }
            None => Ok(()),
        },
        Call::AnswerAndSetLocal => match n.create_answer(transport) {
            Ok(answer) => {
                applied = Some((Side::Local, RTCSdpType::Answer));
                n.set_local_description(&answer).map(|_| ())
            }
            Err(e) => Err(e),
        },
        Call::SetLocalMungedAnswer => {
            let munged = RTCSessionDescriptionInit::answer(
                "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
            );
            let result = n.set_local_description(&munged).map(|_| ());
            prop_assert!(result.is_err(), "a munged answer was applied");
            result
        }
        Call::ReceiveFromPeer => match peer_local {
            Some(description) => {
                applied = Some((Side::Remote, description.sdp_type));
                n.set_remote_description(&description).map(|_| ())
            }
            None => Ok(()),
        },
        Call::RollbackLocal => {
            applied = Some((Side::Local, RTCSdpType::Rollback));
            n.set_local_description(&RTCSessionDescriptionInit::rollback())
                .map(|_| ())
        }
        Call::RollbackRemote => {
            applied = Some((Side::Remote, RTCSdpType::Rollback));
            n.set_remote_description(&RTCSessionDescriptionInit::rollback())
                .map(|_| ())
        }
        Call::StopTransceiver(index) => match n.transceivers().get(*index).map(|t| t.id) {
            Some(id) => n.stop_transceiver(id),
            None => Ok(()),
        },
        Call::SetDirection(index, direction) => match n.transceivers().get(*index).map(|t| t.id) {
            Some(id) => n.set_direction(id, *direction),
            None => Ok(()),
        },
        Call::Close => {
            n.close();
            prop_assert_eq!(n.signaling_state(), RTCSignalingState::Closed);
            return Ok(());
        }
    };
    let after = snapshot(n);
    match result {
        Err(error) => {
            // A refused call changes nothing a later call could see.
            prop_assert!(
                before.0 == after.0 && before.1 == after.1 && before.2 == after.2,
                "{call:?} refused with {error:?} but changed the state"
            );
        }
        Ok(()) => {
            if let Some((side, sdp_type)) = applied {
                let expected = before.0.apply(side, sdp_type).map_err(|e| {
                    TestCaseError::fail(format!("{call:?} applied against the table: {e:?}"))
                })?;
                prop_assert_eq!(after.0, expected.state, "{:?} from {:?}", call, before.0);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_call_sequences_follow_the_signaling_table(
        calls in prop::collection::vec((0usize..2, call()), 1..40)
    ) {
        let mut peers = [
            Peer { negotiator: negotiator(AnswerOptions::default()), last_offer: None },
            Peer { negotiator: negotiator(AnswerOptions::default()), last_offer: None },
        ];
        for (me, call) in &calls {
            run(&mut peers, *me, call)?;
        }
    }
}
