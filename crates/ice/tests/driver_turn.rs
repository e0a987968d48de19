//! Two tokio drivers with the relay policy reach each other only through a real TURN server
//! (coturn on 127.0.0.1, inside the loopback-only namespace), and DTLS-range datagrams cross
//! through their allocations both ways.

#[path = "../../peer/tests/common/coturn.rs"]
mod coturn;

use std::net::SocketAddr;
use std::time::Duration;

use antiphon_ice::driver::{DriverConfig, IceDriver};
use antiphon_ice::turn::{TurnServerConfig, TurnTransport};
use antiphon_ice::{
    Candidate, CandidateType, IceConnectionState, IceCredentials, IceEvent, IceRole,
};
use coturn::{Auth, Coturn};
use tokio::time::timeout;
use webrtc_util::Conn;

async fn relay_driver(role: IceRole, server: SocketAddr) -> IceDriver {
    let mut config = DriverConfig::new(role, IceCredentials::generate());
    config.agent.turn_servers = vec![TurnServerConfig::new(
        server,
        TurnTransport::Udp,
        "alice",
        "secret",
    )];
    config.agent.relay_only = true;
    IceDriver::bind(config).await.expect("bind")
}

/// The relay candidate, once allocated.
async fn relay_candidate(driver: &mut IceDriver) -> Candidate {
    timeout(Duration::from_secs(10), async {
        loop {
            match driver.next_event().await {
                Some(IceEvent::NewLocalCandidate(c)) => return c,
                Some(IceEvent::RelayFailed { error, .. }) => panic!("no allocation: {error}"),
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
    })
    .await
    .expect("allocated in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_drivers_carry_dtls_through_coturn() {
    let server = Coturn::start(Auth::User {
        username: "alice".into(),
        password: "secret".into(),
    });
    let address = SocketAddr::from(([127, 0, 0, 1], server.port));
    let mut a = relay_driver(IceRole::Controlling, address).await;
    let mut b = relay_driver(IceRole::Controlled, address).await;
    assert!(
        a.local_candidates().is_empty(),
        "relay only: no host candidate"
    );
    let (ca, cb) = (relay_candidate(&mut a).await, relay_candidate(&mut b).await);
    assert_eq!(
        (ca.kind.clone(), cb.kind.clone()),
        (CandidateType::Relay, CandidateType::Relay)
    );
    a.set_remote_credentials(b.local_credentials().clone());
    b.set_remote_credentials(a.local_credentials().clone());
    a.add_remote_candidate(cb.clone())
        .await
        .expect("A takes B's relay");
    b.add_remote_candidate(ca.clone())
        .await
        .expect("B takes A's relay");
    let (sa, sb) = timeout(Duration::from_secs(10), async {
        tokio::join!(a.connected(), b.connected())
    })
    .await
    .expect("connected in time");
    assert_eq!(
        (sa, sb),
        (IceConnectionState::Connected, IceConnectionState::Connected)
    );
    let (la, ra) = a.selected_pair().expect("A selected");
    assert_eq!(
        Some(la),
        ca.socket_addr(),
        "A sends from its relayed address"
    );
    assert_eq!(Some(ra), cb.socket_addr());

    let (conn_a, conn_b) = (a.dtls_conn().expect("A"), b.dtls_conn().expect("B"));
    let hello = [22u8, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3];
    let mut buf = [0u8; 64];
    for round in 0..5u8 {
        let mut message = hello;
        message[15] = round;
        conn_a.send(&message).await.expect("sent");
        let (n, from) = timeout(Duration::from_secs(5), conn_b.recv_from(&mut buf))
            .await
            .expect("through the relay in time")
            .expect("received");
        assert_eq!((&buf[..n], from), (&message[..], la));
        conn_b
            .send(&[21, 0xfe, 0xfd, round])
            .await
            .expect("sent back");
        let n = timeout(Duration::from_secs(5), conn_a.recv(&mut buf))
            .await
            .expect("back in time")
            .expect("received");
        assert_eq!(&buf[..n], &[21, 0xfe, 0xfd, round]);
    }
    a.close();
    b.close();
}

/// Runs `client` on `socket` until `done` or `limit`; the time it took.
fn drive(
    socket: &std::net::UdpSocket,
    client: &mut antiphon_ice::turn::TurnClient,
    done: impl Fn(&antiphon_ice::turn::TurnClient) -> bool,
    limit: Duration,
) -> Duration {
    let start = std::time::Instant::now();
    let mut buffer = [0u8; 2048];
    socket
        .set_read_timeout(Some(Duration::from_millis(10)))
        .expect("a timeout");
    while start.elapsed() < limit && !done(client) {
        while let Some(t) = client.poll_transmit() {
            socket.send_to(&t.contents, t.destination).expect("sent");
        }
        if let Ok((n, _)) = socket.recv_from(&mut buffer) {
            client.handle_receive(std::time::Instant::now(), &buffer[..n]);
        }
        client.handle_timeout(std::time::Instant::now());
    }
    start.elapsed()
}

#[test]
fn an_address_whose_allocation_was_just_deleted_allocates_again() {
    use antiphon_ice::turn::{TurnClient, TurnState};
    // coturn holds a deleted allocation's address for about two seconds and answers an
    // Allocate from it 437 (a new socket often gets a port a closed one just had): the client
    // waits and asks again instead of giving up.
    let server = Coturn::start(Auth::User {
        username: "alice".into(),
        password: "secret".into(),
    });
    let config = TurnServerConfig::new(
        SocketAddr::from(([127, 0, 0, 1], server.port)),
        TurnTransport::Udp,
        "alice",
        "secret",
    );
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut first = TurnClient::new(std::time::Instant::now(), config.clone(), 1);
    drive(
        &socket,
        &mut first,
        |c| c.state() == TurnState::Allocated,
        Duration::from_secs(5),
    );
    assert_eq!(first.state(), TurnState::Allocated);
    first.close(std::time::Instant::now());
    drive(
        &socket,
        &mut first,
        |c| c.state() == TurnState::Closed,
        Duration::from_secs(5),
    );
    assert_eq!(first.state(), TurnState::Closed, "deleted");
    let mut second = TurnClient::new(std::time::Instant::now(), config, 2);
    let took = drive(
        &socket,
        &mut second,
        |c| c.state() != TurnState::Allocating,
        Duration::from_secs(10),
    );
    let events: Vec<_> = std::iter::from_fn(|| second.poll_event()).collect();
    assert_eq!(
        second.state(),
        TurnState::Allocated,
        "after {took:?}: {events:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_stream_turn_server_is_refused_by_the_driver() {
    let mut config = DriverConfig::new(IceRole::Controlled, IceCredentials::generate());
    config.agent.turn_servers = vec![TurnServerConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 3478)),
        TurnTransport::Tcp,
        "alice",
        "secret",
    )];
    let error = IceDriver::bind(config).await.expect_err("refused");
    assert!(matches!(
        error,
        antiphon_ice::Error::RelayTransport(TurnTransport::Tcp)
    ));
    assert!(error.to_string().contains("UDP only"), "{error}");
}
