//! Faults over loopback UDP: a remote that vanishes after connecting, and what `close()` leaves
//! behind (tasks, sockets).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use antiphon_peer::{
    PeerConnectionEvent, PeerOptions, RTCConfiguration, RTCDataChannel, RTCPeerConnection,
    RTCPeerConnectionState as State, RTCSessionDescriptionInit,
};

fn loopback() -> PeerOptions {
    PeerOptions::default().with_bind(vec![IpAddr::from([127, 0, 0, 1])])
}

fn peer() -> Arc<RTCPeerConnection> {
    Arc::new(RTCPeerConnection::with_options(RTCConfiguration::default(), loopback()).unwrap())
}

async fn within<T>(what: &str, limit: Duration, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out: {what}"),
    }
}

fn settled(s: State) -> bool {
    matches!(s, State::Connected | State::Failed)
}

/// An offer with a data channel, applied; and that channel.
async fn offer(pc: &RTCPeerConnection) -> (RTCSessionDescriptionInit, RTCDataChannel) {
    let chat = pc
        .create_data_channel("chat", antiphon_peer::RTCDataChannelInit::default())
        .await
        .unwrap();
    let offer = pc.create_offer().await.unwrap();
    pc.set_local_description(Some(offer.clone())).await.unwrap();
    (offer, chat)
}

async fn answer(
    pc: &RTCPeerConnection,
    offer: RTCSessionDescriptionInit,
) -> RTCSessionDescriptionInit {
    pc.set_remote_description(offer).await.unwrap();
    let answer = pc.create_answer().await.unwrap();
    pc.set_local_description(Some(answer.clone()))
        .await
        .unwrap();
    answer
}

/// The loopback port of the first host candidate in `sdp`.
fn candidate_port(sdp: &str) -> u16 {
    sdp.lines()
        .filter_map(|line| line.strip_prefix("a=candidate:"))
        .find_map(|value| {
            let fields: Vec<&str> = value.split_whitespace().collect();
            (fields.get(4) == Some(&"127.0.0.1")).then(|| fields[5].parse().expect("port"))
        })
        .expect("a loopback host candidate")
}

/// The remote lives on its own runtime; shutting that runtime down makes it vanish at once
/// (no DTLS close_notify, no SCTP ABORT, its socket closed). Our side then goes
/// `disconnected` when consent is stale (8 s without a consent response) and `failed` when
/// consent is lost (30 s, RFC 7675). Those are the ICE agent's defaults and `PeerOptions`
/// does not expose them, so this test pauses the tokio clock once connected: the timers run
/// on virtual time and the test takes well under a second.
#[test]
fn a_remote_that_vanishes_after_connecting_goes_disconnected_then_failed() {
    let local_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let remote_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let local = local_rt.block_on(async { peer() });
    let remote = remote_rt.block_on(async { peer() });
    let (offer, _chat) = local_rt.block_on(offer(&local));
    let answer = remote_rt.block_on(answer(&remote, offer));
    let mut events = local.subscribe();
    local_rt.block_on(async {
        local.set_remote_description(answer).await.unwrap();
        let reached = within(
            "local connects",
            Duration::from_secs(20),
            local.wait_for_state(settled),
        )
        .await;
        assert_eq!(reached, State::Connected);
    });
    assert_eq!(
        remote_rt.block_on(within(
            "remote connects",
            Duration::from_secs(20),
            remote.wait_for_state(settled)
        )),
        State::Connected
    );

    remote_rt.shutdown_background();
    drop(remote);

    let (states, elapsed) = local_rt.block_on(async {
        tokio::time::pause();
        let vanished_at = tokio::time::Instant::now();
        let reached = within(
            "local fails",
            Duration::from_secs(120),
            local.wait_for_state(|s| s == State::Failed),
        )
        .await;
        assert_eq!(reached, State::Failed);
        let mut states = Vec::new();
        while let Some(event) = events.try_recv() {
            if let PeerConnectionEvent::ConnectionState(state) = event {
                states.push(state);
            }
        }
        (states, vanished_at.elapsed())
    });
    let after: Vec<State> = states
        .into_iter()
        .skip_while(|s| *s != State::Connected)
        .collect();
    assert_eq!(
        after,
        [State::Connected, State::Disconnected, State::Failed]
    );
    // Failed at the 30 s consent timeout, counted from the last consent response.
    assert!(
        elapsed >= Duration::from_secs(20) && elapsed <= Duration::from_secs(31),
        "failed after {elapsed:?}"
    );
    local_rt.block_on(local.close());
}

/// After `close()` on both sides of a connected pair, the runtime is back to the tasks it had
/// before, and the UDP ports are free to bind again.
///
/// Regression (2026-11-25): `close()` used to leave two tasks per connection and both UDP ports
/// bound: it never closed the DTLS session (whose reader and writer tasks hold the `IceConn`, and
/// so the sockets), and the connection task waiting in SCTP `accept` kept the association alive.
#[test]
fn close_leaves_no_task_or_socket_behind() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let before = rt.handle().metrics().num_alive_tasks();
    let ports = rt.block_on(async {
        let (offerer, answerer) = (peer(), peer());
        let mut answerer_events = answerer.subscribe();
        let (offer, chat) = offer(&offerer).await;
        let answer = answer(&answerer, offer.clone()).await;
        offerer
            .set_remote_description(answer.clone())
            .await
            .unwrap();
        for pc in [&offerer, &answerer] {
            assert_eq!(
                within(
                    "connects",
                    Duration::from_secs(20),
                    pc.wait_for_state(settled)
                )
                .await,
                State::Connected
            );
        }
        // A data channel, so SCTP's tasks are running too.
        let channel = within("open", Duration::from_secs(20), async {
            chat.opened().await.map(|()| chat.clone())
        })
        .await
        .unwrap();
        channel.send_text("hi").await.unwrap();
        let remote = within(
            "accept",
            Duration::from_secs(20),
            answerer_events.next_data_channel(),
        )
        .await
        .expect("a channel");
        within("message", Duration::from_secs(20), remote.recv())
            .await
            .expect("a message");
        assert!(rt_tasks() > before, "connected pair runs tasks");
        offerer.close().await;
        answerer.close().await;
        drop((channel, remote));
        (candidate_port(&offer.sdp), candidate_port(&answer.sdp))
    });
    // Closed and still referenced: the sockets must already be released.
    let released = |port: u16| std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok();
    let mut alive = usize::MAX;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(20));
        alive = rt.handle().metrics().num_alive_tasks();
        if alive <= before && released(ports.0) && released(ports.1) {
            break;
        }
    }
    assert_eq!(alive, before, "tasks left behind after close()");
    assert!(
        released(ports.0),
        "offerer's UDP port {} still bound",
        ports.0
    );
    assert!(
        released(ports.1),
        "answerer's UDP port {} still bound",
        ports.1
    );

    fn rt_tasks() -> usize {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    }
}
