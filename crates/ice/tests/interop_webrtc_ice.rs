//! Interop with another ICE implementation: webrtc-rs `webrtc-ice` 0.17 over loopback UDP.
//! Credentials and candidates are exchanged in-process as SDP candidate strings; both agents
//! reach connected and exchange a DTLS-range datagram each way.

use std::sync::Arc;
use std::time::Duration;

use antiphon_ice::driver::{DriverConfig, IceDriver};
use antiphon_ice::{Candidate, IceConnectionState, IceCredentials, IceRole};
use tokio::sync::mpsc;
use tokio::time::timeout;
use webrtc_ice::agent::Agent;
use webrtc_ice::agent::agent_config::AgentConfig;
use webrtc_ice::candidate::CandidateType;
use webrtc_ice::candidate::candidate_base::unmarshal_candidate;
use webrtc_ice::mdns::MulticastDnsMode;
use webrtc_ice::network_type::NetworkType;
use webrtc_util::Conn;

/// A webrtc-ice agent gathering loopback UDP host candidates; returns it and its candidates.
async fn webrtc_ice_agent() -> (Arc<Agent>, Vec<String>) {
    let agent = Agent::new(AgentConfig {
        network_types: vec![NetworkType::Udp4],
        candidate_types: vec![CandidateType::Host],
        multicast_dns_mode: MulticastDnsMode::Disabled,
        include_loopback: true,
        ..Default::default()
    })
    .await
    .expect("webrtc-ice agent");
    let (tx, mut rx) = mpsc::unbounded_channel();
    agent.on_candidate(Box::new(move |c| {
        let _ = tx.send(c.map(|c| c.marshal()));
        Box::pin(async {})
    }));
    agent.gather_candidates().expect("gather");
    let mut candidates = Vec::new();
    while let Some(Some(c)) = timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("gathering ends")
    {
        candidates.push(c);
    }
    (Arc::new(agent), candidates)
}

async fn antiphon_driver(role: IceRole) -> IceDriver {
    IceDriver::bind(DriverConfig::new(role, IceCredentials::generate()))
        .await
        .expect("bind")
}

/// Cross-signals credentials and candidates; returns the webrtc-ice credentials.
async fn signal(theirs: &Agent, their_candidates: &[String], ours: &IceDriver) -> (String, String) {
    let (ufrag, pwd) = theirs.get_local_user_credentials().await;
    ours.set_remote_credentials(
        IceCredentials::new(ufrag.clone(), pwd.clone())
            .expect("webrtc-ice credentials are RFC 8839 credentials"),
    );
    let mut usable = 0;
    for line in their_candidates {
        let candidate = Candidate::parse(&format!("candidate:{line}"))
            .expect("we parse webrtc-ice's candidate");
        if ours.add_remote_candidate(candidate).await.is_ok() {
            usable += 1;
        }
    }
    assert!(
        usable > 0,
        "no usable webrtc-ice candidate in {their_candidates:?}"
    );
    for c in ours.local_candidates() {
        let text = c.to_string();
        let bare = text.strip_prefix("candidate:").expect("prefix");
        let parsed = unmarshal_candidate(bare).expect("webrtc-ice parses our candidate");
        let parsed: Arc<dyn webrtc_ice::candidate::Candidate + Send + Sync> = Arc::new(parsed);
        theirs
            .add_remote_candidate(&parsed)
            .expect("webrtc-ice takes our candidate");
    }
    (ufrag, pwd)
}

async fn exchange(theirs: Arc<impl Conn + Send + Sync + 'static>, ours: &mut IceDriver) {
    let our_conn = ours.dtls_conn().expect("conn");
    let hello = [22u8, 0xfe, 0xfd, 1, 2, 3, 4];
    theirs.send(&hello).await.expect("webrtc-ice sends");
    let mut buf = [0u8; 64];
    let n = timeout(Duration::from_secs(5), our_conn.recv(&mut buf))
        .await
        .expect("in time")
        .expect("recv");
    assert_eq!(&buf[..n], &hello);
    let reply = [23u8, 0xfe, 0xfd, 9, 8, 7];
    our_conn.send(&reply).await.expect("we send");
    let n = timeout(Duration::from_secs(5), theirs.recv(&mut buf))
        .await
        .expect("in time")
        .expect("recv");
    assert_eq!(&buf[..n], &reply);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_answer_a_controlling_webrtc_ice_agent() {
    let (theirs, their_candidates) = webrtc_ice_agent().await;
    let mut ours = antiphon_driver(IceRole::Controlled).await;
    signal(&theirs, &their_candidates, &ours).await;
    let creds = ours.local_credentials().clone();
    let (_cancel_tx, cancel_rx) = mpsc::channel(1);
    let dialer = theirs.clone();
    let dial = tokio::spawn(async move {
        dialer
            .dial(cancel_rx, creds.ufrag().to_owned(), creds.pwd().to_owned())
            .await
    });
    let state = timeout(Duration::from_secs(15), ours.connected())
        .await
        .expect("we connect in time");
    assert_eq!(state, IceConnectionState::Connected);
    let their_conn = timeout(Duration::from_secs(15), dial)
        .await
        .expect("dial in time")
        .expect("task")
        .expect("webrtc-ice connects");
    let selected = theirs
        .get_selected_candidate_pair()
        .expect("webrtc-ice selected a pair");
    let (local, remote) = ours.selected_pair().expect("we selected a pair");
    assert_eq!(selected.remote.port(), local.port());
    assert_eq!(selected.local.port(), remote.port());
    exchange(their_conn, &mut ours).await;
    theirs.close().await.expect("close");
    ours.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_offer_to_a_controlled_webrtc_ice_agent() {
    let (theirs, their_candidates) = webrtc_ice_agent().await;
    let mut ours = antiphon_driver(IceRole::Controlling).await;
    signal(&theirs, &their_candidates, &ours).await;
    let creds = ours.local_credentials().clone();
    let (_cancel_tx, cancel_rx) = mpsc::channel(1);
    let acceptor = theirs.clone();
    let accept = tokio::spawn(async move {
        acceptor
            .accept(cancel_rx, creds.ufrag().to_owned(), creds.pwd().to_owned())
            .await
    });
    let state = timeout(Duration::from_secs(15), ours.connected())
        .await
        .expect("we connect in time");
    assert_eq!(state, IceConnectionState::Connected);
    let their_conn = timeout(Duration::from_secs(15), accept)
        .await
        .expect("accept in time")
        .expect("task")
        .expect("webrtc-ice connects");
    exchange(their_conn, &mut ours).await;
    theirs.close().await.expect("close");
    ours.close();
}
