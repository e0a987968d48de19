//! `close()` and dropping the last handle free everything a connection took: thousands of
//! connections are opened and closed (most answered and never connected, some connected with a
//! data channel, some with a task waiting for a `datachannel` event), and afterwards the
//! runtime runs the tasks it ran before and the heap holds what it held before, counted by an
//! instrumented global allocator (exact, unlike RSS, which the allocator need not give back).
//!
//! Regression: each closed signaling session of `antiphon serve` kept about 18 KiB, and a task
//! waiting in `accept_data_channel` (since replaced by the `datachannel` event) kept its connection alive after `close()`.

mod common;

use std::alloc::System;
use std::sync::Arc;
use std::time::Duration;

use antiphon_codec::MediaKind;
use antiphon_peer::{
    RTCDataChannelInit, RTCPeerConnectionState, RTCRtpTransceiverInit, RTCSessionDescriptionInit,
};
use common::loopback::{loopback_peer as peer, negotiate, within};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes allocated and not yet freed (stats_alloc counts a realloc's growth in
/// `bytes_allocated` and its shrinking in `bytes_deallocated`).
fn live_bytes() -> i64 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

/// Answered-only connections per round.
const ANSWERED: usize = 1_000;
/// Rounds: one connected pair each, plus `ANSWERED` answered-only connections.
const ROUNDS: usize = 10;
/// Answered-only connections before the baseline is taken.
const WARM_UP: usize = 100;
/// What may stay per closed connection: caches that grow to a high-water mark (tokio's task
/// and timer slabs, the watch internals) but no part of any connection.
const ALLOWED_PER_CONNECTION: i64 = 64;

/// An offer with audio, video and a data channel, without candidates: answering it starts an
/// ICE agent with nobody to check.
async fn offer_text() -> RTCSessionDescriptionInit {
    let offerer = peer();
    for kind in [MediaKind::Audio, MediaKind::Video] {
        offerer
            .add_transceiver(kind, RTCRtpTransceiverInit::default())
            .await
            .expect("a transceiver");
    }
    let _chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let offer = offerer.create_offer().await.expect("an offer");
    offerer.close().await;
    let sdp = offer
        .sdp
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
        .collect();
    RTCSessionDescriptionInit {
        sdp_type: offer.sdp_type,
        sdp,
    }
}

/// Answered, never connected, closed.
async fn answered(offer: &RTCSessionDescriptionInit) {
    let pc = peer();
    pc.set_remote_description(offer.clone())
        .await
        .expect("the offer applies");
    let answer = pc.create_answer().await.expect("an answer");
    pc.set_local_description(Some(answer))
        .await
        .expect("the answer applies");
    pc.close().await;
}

/// A connected pair with a data channel message, a task waiting for a `datachannel` event on
/// the offerer, closed; the connections' handles dropped by the caller.
async fn connected() {
    let offerer = Arc::new(peer());
    let mut offerer_events = offerer.subscribe();
    let answerer = peer();
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    negotiate(&offerer, &answerer).await;
    let waiting = tokio::spawn(async move { offerer_events.next_data_channel().await.is_none() });
    let channel = within("open", async { chat.opened().await.map(|()| chat.clone()) })
        .await
        .expect("a channel");
    channel.send_text("hello").await.expect("sent");
    let remote = within("accept", answerer_events.next_data_channel())
        .await
        .expect("a channel");
    within("message", remote.recv()).await.expect("a message");
    assert_eq!(
        offerer.connection_state(),
        RTCPeerConnectionState::Connected
    );
    offerer.close().await;
    answerer.close().await;
    assert!(
        within("the waiting task ends", waiting)
            .await
            .expect("joins"),
        "a wait for a `datachannel` event ends with None on close()"
    );
    let weak = Arc::downgrade(&offerer);
    drop(offerer);
    assert!(
        weak.upgrade().is_none(),
        "nothing else holds the connection"
    );
}

/// Waits until the runtime runs at most `tasks` tasks; the number it ran last.
fn settle(rt: &tokio::runtime::Runtime, tasks: usize) -> usize {
    let mut alive = usize::MAX;
    for _ in 0..250 {
        alive = rt.handle().metrics().num_alive_tasks();
        if alive <= tasks {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    alive
}

#[test]
fn thousands_of_closed_connections_leave_no_task_and_no_memory_behind() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let offer = rt.block_on(offer_text());
    // Warm up: process-wide state (the shared capabilities, tokio's slabs and timer wheel,
    // thread-locals) reaches its size before the baseline is taken.
    rt.block_on(async {
        connected().await;
        for _ in 0..WARM_UP {
            answered(&offer).await;
        }
    });
    let tasks = settle(&rt, 0);
    let before = live_bytes();

    rt.block_on(async {
        for _ in 0..ROUNDS {
            connected().await;
            for _ in 0..ANSWERED {
                answered(&offer).await;
            }
        }
    });
    let after_tasks = settle(&rt, tasks);
    let after = live_bytes();
    let connections = (ROUNDS * (ANSWERED + 2)) as i64;
    assert_eq!(after_tasks, tasks, "tasks left behind after close()");
    let kept = after - before;
    assert!(
        kept <= ALLOWED_PER_CONNECTION * connections,
        "{connections} closed connections kept {kept} bytes ({} per connection)",
        kept / connections
    );
}
