//! Two tokio drivers on loopback UDP reach connected and exchange DTLS-range datagrams through
//! their `webrtc_util::Conn`; other traffic is demultiplexed away from it (RFC 7983).

use std::time::Duration;

use antiphon_ice::driver::{DriverConfig, IceDriver};
use antiphon_ice::{IceConnectionState, IceCredentials, IceRole};
use tokio::net::UdpSocket;
use tokio::time::timeout;
use webrtc_util::Conn;

async fn pair() -> (IceDriver, IceDriver) {
    let mut a = IceDriver::bind(DriverConfig::new(
        IceRole::Controlling,
        IceCredentials::generate(),
    ))
    .await
    .expect("bind A");
    let mut b = IceDriver::bind(DriverConfig::new(
        IceRole::Controlled,
        IceCredentials::generate(),
    ))
    .await
    .expect("bind B");
    a.set_remote_credentials(b.local_credentials().clone());
    b.set_remote_credentials(a.local_credentials().clone());
    for c in a.local_candidates() {
        b.add_remote_candidate(c)
            .await
            .expect("B takes A's candidate");
    }
    for c in b.local_candidates() {
        a.add_remote_candidate(c)
            .await
            .expect("A takes B's candidate");
    }
    let wait = async {
        let (sa, sb) = tokio::join!(a.connected(), b.connected());
        (sa, sb)
    };
    let (sa, sb) = timeout(Duration::from_secs(10), wait)
        .await
        .expect("connect in time");
    assert_eq!(
        (sa, sb),
        (IceConnectionState::Connected, IceConnectionState::Connected)
    );
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_drivers_connect_and_carry_dtls() {
    let (mut a, mut b) = pair().await;
    let (la, ra) = a.selected_pair().expect("A selected");
    let (lb, rb) = b.selected_pair().expect("B selected");
    assert_eq!((la, ra), (rb, lb));
    assert!(la.ip().is_loopback());

    let conn_a = a.dtls_conn().expect("conn A");
    let conn_b = b.dtls_conn().expect("conn B");
    assert!(a.dtls_conn().is_none(), "the Conn is handed out once");
    assert_eq!(conn_a.remote_addr(), Some(ra));
    assert_eq!(conn_a.local_addr().expect("local"), la);

    // A DTLS handshake record header (content type 22) one way, an alert (21) back.
    let hello = [22u8, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3];
    assert_eq!(conn_a.send(&hello).await.expect("send"), hello.len());
    let mut buf = [0u8; 64];
    let (n, from) = timeout(Duration::from_secs(5), conn_b.recv_from(&mut buf))
        .await
        .expect("in time")
        .expect("recv");
    assert_eq!(&buf[..n], &hello);
    assert_eq!(from, la);
    let alert = [21u8, 0xfe, 0xfd, 9];
    conn_b
        .send_to(&alert, "192.0.2.1:9".parse().expect("addr"))
        .await
        .expect("send_to goes to the selected pair");
    let n = timeout(Duration::from_secs(5), conn_a.recv(&mut buf))
        .await
        .expect("in time")
        .expect("recv");
    assert_eq!(&buf[..n], &alert);

    // Someone else's traffic to B: RTP is counted and dropped, DTLS from an unvalidated
    // address never reaches the Conn.
    let stranger = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    stranger
        .send_to(&[0x80, 0x60, 0, 1], lb)
        .await
        .expect("send RTP");
    stranger
        .send_to(&[22, 0xfe, 0xfd, 0xee], lb)
        .await
        .expect("send DTLS");
    stranger.send_to(&[0xff, 1], lb).await.expect("send junk");
    conn_a.send(&hello).await.expect("send");
    let n = timeout(Duration::from_secs(5), conn_b.recv(&mut buf))
        .await
        .expect("in time")
        .expect("recv");
    assert_eq!(&buf[..n], &hello, "only the peer's DTLS arrives");
    timeout(Duration::from_secs(5), async {
        while b.dropped() != (1, 1, 1) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("drops counted");

    conn_b.close().await.expect("close");
    assert!(conn_b.recv(&mut buf).await.is_err());
    a.close();
    b.close();
}
