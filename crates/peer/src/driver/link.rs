//! [`LinkTask`]: DTLS and SCTP over one connected UDP socket, without ICE: the task behind
//! [`SctpTransport::connect`](crate::SctpTransport::connect).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use antiphon_dtls::{DtlsConfig, DtlsParameters};
use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

use super::hub::ChannelHub;
use super::{COMMAND_QUEUE, Command, sleep_until};
use crate::core::{CoreEvent, SecureTransport};
use crate::error::{Error, OperationReason};
use crate::sctp::{SctpParameters, SctpTransport};

/// The largest datagram read (DTLS records are at most a path MTU).
const RECEIVE_BUFFER: usize = 8192;

/// The task (see the [module](self) documentation).
pub(crate) struct LinkTask {
    socket: UdpSocket,
    secure: SecureTransport,
    hub: ChannelHub,
    commands: mpsc::Receiver<Command>,
    /// Where to say why the transport failed, if it does.
    failure: Option<oneshot::Sender<Error>>,
    /// Who asked to close, told once the task ends.
    close_reply: Option<oneshot::Sender<()>>,
    /// Records the socket could not take yet.
    outgoing: VecDeque<Bytes>,
    done: bool,
}

impl LinkTask {
    /// A task for DTLS as `dtls.role` and then SCTP with `sctp` over `socket`, connected to
    /// the peer; the association is published in `sctp_slot` once up, and a failure sent to
    /// `failure`.
    pub(crate) fn new(
        socket: UdpSocket,
        config: DtlsConfig,
        dtls: DtlsParameters,
        sctp: SctpParameters,
        sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
        failure: oneshot::Sender<Error>,
    ) -> Result<Self, Error> {
        let now = Instant::now();
        let mut secure = SecureTransport::new(now, config, dtls, Some(sctp))
            .map_err(|error| Error::Operation(OperationReason::Dtls(error)))?;
        // A fixed path: the DTLS client starts at once.
        secure.path_ready(now);
        let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
        Ok(Self {
            socket,
            secure,
            hub: ChannelHub::new(commands_tx, sctp_slot, None),
            commands,
            failure: Some(failure),
            close_reply: None,
            outgoing: VecDeque::new(),
            done: false,
        })
    }

    /// Runs until closed, the socket fails, or the transport fails. Boxed, as `PeerTask::run`
    /// is: a task taken by value would take twice its size in the future.
    pub(crate) async fn run(mut self: Box<Self>) {
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        let progress = self.hub.progress();
        self.after(Instant::now());
        loop {
            if self.done && self.outgoing.is_empty() {
                break;
            }
            let now = Instant::now();
            if self.secure.poll_timeout().is_some_and(|due| due <= now) {
                // Due now: handled here rather than at the timer's next millisecond tick.
                self.secure.handle_timeout(now);
                self.after(now);
            }
            let deadline = self.secure.poll_timeout();
            let blocked = self.hub.blocked();
            tokio::select! {
                biased;
                writable = self.socket.writable(), if !self.outgoing.is_empty() => {
                    if writable.is_err() {
                        break;
                    }
                }
                command = self.commands.recv(), if !self.done => match command {
                    Some(command) => self.command(Instant::now(), command),
                    None => break,
                },
                received = self.socket.recv(&mut buffer), if !self.done => match received {
                    Ok(n) => self.secure.handle_datagram(Instant::now(), &buffer[..n]),
                    // ICMP port unreachable of an earlier send, on a connected socket.
                    Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {}
                    Err(_) => break,
                },
                () = sleep_until(deadline), if deadline.is_some() && !self.done => {
                    self.secure.handle_timeout(Instant::now());
                }
                () = progress.notified(), if blocked && !self.done => {}
            }
            self.after(Instant::now());
        }
        self.hub.finish();
        if let Some(reply) = self.close_reply.take() {
            let _ = reply.send(());
        }
    }

    fn command(&mut self, now: Instant, command: Command) {
        match command {
            Command::Close { done } => {
                self.secure.close(now);
                self.done = true;
                // `after` sends the close_notify and SHUTDOWN the close queued; the reply
                // waits for that.
                self.close_reply = Some(done);
            }
            command => self.hub.command(now, Some(&mut self.secure), command),
        }
    }

    /// Handles the core's events and sends what it produced, as far as the socket takes it.
    fn after(&mut self, now: Instant) {
        while let Some(event) = self.secure.poll_event() {
            match event {
                CoreEvent::Channel(event) => {
                    self.hub.on_event(self.secure.sctp_parameters(), event);
                }
                CoreEvent::DtlsFailed(error) => {
                    tracing::warn!(%error, "DTLS failed");
                    if let Some(failure) = self.failure.take() {
                        let _ = failure.send(Error::Operation(OperationReason::Dtls(error)));
                    }
                    self.done = true;
                }
                CoreEvent::DtlsClosed => self.done = true,
                _ => {}
            }
        }
        self.hub.after(now, &mut self.secure);
        // Events and reads may have produced more (SACKs, DCEP replies): all of it goes.
        while let Some(datagram) = self.secure.poll_transmit() {
            self.outgoing.push_back(datagram);
        }
        while let Some(datagram) = self.outgoing.front() {
            match self.socket.try_send(datagram) {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                sent => {
                    if let Err(error) = sent {
                        tracing::debug!(%error, "DTLS datagram not sent");
                    }
                    self.outgoing.pop_front();
                }
            }
        }
    }
}
