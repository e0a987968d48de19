//! str0m on loopback UDP: the smallest driver its sans-IO API asks for, so its connection
//! setup, data-channel throughput and idle memory can be measured next to Antiphon's.
//!
//! Each [`Str0mPeer`] is one `Rtc`, one tokio UDP socket on 127.0.0.1 and one task, the shape
//! of an Antiphon peer connection (its own sockets and task), so the figures compare like for
//! like: every transmit goes out with `send_to`, every datagram comes in through
//! `Input::Receive`, and `Input::Timeout` is given when str0m's timeout is due.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use str0m::channel::ChannelId;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig, RtcError};
use tokio::net::UdpSocket;

/// str0m's default limit on what the data channels buffer for sending (128 KiB).
pub const DEFAULT_BUFFERED: usize = 128 << 10;

/// The largest message either side accepts.
pub const MAX_MESSAGE: u32 = 1 << 20;

/// What the application of a [`Str0mPeer::run`] loop says after each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Keep running (and, before a wait, wait).
    Continue,
    /// The application wrote: take the output before waiting.
    Wrote,
    /// Stop the loop (the `Rtc` stays as it is).
    Done,
}

/// An `Rtc` on its own loopback UDP socket.
pub struct Str0mPeer {
    /// The str0m instance.
    pub rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    buffer: Vec<u8>,
}

/// A builder that takes messages up to [`MAX_MESSAGE`] and buffers up to `buffered` bytes
/// for sending (a message larger than that is never accepted).
pub fn config(buffered: usize) -> RtcConfig {
    Rtc::builder()
        .set_sctp_max_message_size(MAX_MESSAGE)
        .set_sctp_max_buffered_amount(buffered)
}

/// The receive buffer Antiphon's sockets ask for (`antiphon-ice`'s `RECEIVE_BUFFER`), so a
/// burst of a 256 KiB message is not dropped by a default-sized buffer on one side only.
const RECEIVE_BUFFER: usize = 2 << 20;

/// A non-blocking UDP socket on 127.0.0.1 with [`RECEIVE_BUFFER`] asked for.
fn bind_loopback() -> std::io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
    UdpSocket::from_std(socket.into())
}

impl Str0mPeer {
    /// Binds a socket on 127.0.0.1 and gives `rtc` its host candidate.
    ///
    /// # Errors
    /// The socket or the candidate, as text.
    pub fn bind(mut rtc: Rtc) -> Result<Self, String> {
        let socket = bind_loopback().map_err(|e| format!("bind: {e}"))?;
        let local = socket.local_addr().map_err(|e| format!("address: {e}"))?;
        let candidate = Candidate::host(local, "udp").map_err(|e| format!("candidate: {e}"))?;
        rtc.add_local_candidate(candidate);
        Ok(Self {
            rtc,
            socket,
            local,
            buffer: vec![0; 2048],
        })
    }

    /// Drives the `Rtc` until `app` says [`Step::Done`]. `app` sees every event
    /// (`Some`), and is also called with `None` before each wait, where it may write.
    ///
    /// # Errors
    /// str0m's error, or the socket's, as text.
    pub async fn run(
        &mut self,
        mut app: impl FnMut(&mut Rtc, Option<Event>) -> Step,
    ) -> Result<(), String> {
        loop {
            // An event may end the loop; what str0m has to send is sent first (a DCEP ACK
            // follows the open event it answers).
            let mut stop = false;
            let deadline = loop {
                match self.rtc.poll_output().map_err(rtc_error)? {
                    Output::Timeout(_) if stop => return Ok(()),
                    Output::Timeout(at) => break at,
                    Output::Transmit(transmit) => {
                        // Loopback drops nothing but a full socket buffer; SCTP recovers then.
                        let _ = self
                            .socket
                            .send_to(&transmit.contents, transmit.destination)
                            .await;
                    }
                    Output::Event(event) => {
                        stop |= app(&mut self.rtc, Some(event)) == Step::Done;
                    }
                }
            };
            match app(&mut self.rtc, None) {
                Step::Done => return Ok(()),
                // What the application wrote is output now: send it before waiting.
                Step::Wrote => continue,
                Step::Continue => {}
            }
            if deadline <= Instant::now() {
                self.rtc
                    .handle_input(Input::Timeout(Instant::now()))
                    .map_err(rtc_error)?;
                continue;
            }
            let sleep = tokio::time::sleep_until(deadline.into());
            tokio::select! {
                received = self.socket.recv_from(&mut self.buffer) => {
                    let (len, source) = received.map_err(|e| format!("recv: {e}"))?;
                    let now = Instant::now();
                    let contents = self.buffer.get(..len).unwrap_or_default();
                    let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, contents)
                    else {
                        continue;
                    };
                    self.rtc
                        .handle_input(Input::Receive(now, receive))
                        .map_err(rtc_error)?;
                }
                () = sleep => {
                    self.rtc
                        .handle_input(Input::Timeout(Instant::now()))
                        .map_err(rtc_error)?;
                }
            }
        }
    }
}

fn rtc_error(error: RtcError) -> String {
    format!("str0m: {error}")
}

/// Two str0m peers (built with [`config`]`(buffered)`) negotiated with one data channel
/// offered, not connected yet; the instant returned is taken once the offer exists
/// (certificates and sockets are setup, not connection time).
///
/// # Errors
/// The socket or the negotiation, as text.
pub fn negotiated_pair(
    buffered: usize,
) -> Result<(Str0mPeer, Str0mPeer, ChannelId, Instant), String> {
    let now = Instant::now();
    let mut offerer = Str0mPeer::bind(config(buffered).build(now))?;
    let mut answerer = Str0mPeer::bind(config(buffered).build(now))?;
    let mut change = offerer.rtc.sdp_api();
    let channel = change.add_channel("bench".into());
    let (offer, pending) = change.apply().ok_or("the offer has a change, it applies")?;
    let start = Instant::now();
    let answer = answerer
        .rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(rtc_error)?;
    offerer
        .rtc
        .sdp_api()
        .accept_answer(pending, answer)
        .map_err(rtc_error)?;
    Ok((offerer, answerer, channel, start))
}

/// Runs `peer` until its data channel is open; returns the channel.
///
/// # Errors
/// str0m's or the socket's error, or no channel within 20 s.
pub async fn until_open(peer: &mut Str0mPeer) -> Result<ChannelId, String> {
    let mut open = None;
    let run = peer.run(|_, event| match event {
        Some(Event::ChannelOpen(id, _)) => {
            open = Some(id);
            Step::Done
        }
        _ => Step::Continue,
    });
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .map_err(|_| "no channel open within 20 s".to_owned())??;
    open.ok_or_else(|| "the loop ended without a channel".to_owned())
}
