//! A real TURN server for the tests: Debian's coturn (`turnserver`), started on 127.0.0.1 with
//! UDP, TCP and TLS listeners (a throwaway certificate for 127.0.0.1 made here) inside the
//! loopback-only namespace the tests run in. `.ci/run` installs it; a missing `turnserver` is a
//! failure, never a skip.

#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the server authenticates.
pub enum Auth {
    /// Long-term credentials for one user.
    User { username: String, password: String },
    /// The shared-secret scheme (TURN REST API): ephemeral credentials.
    Secret(String),
}

/// A running `turnserver`, killed on drop.
pub struct Coturn {
    child: Child,
    /// The UDP and TCP listener.
    pub port: u16,
    /// The TLS listener.
    pub tls_port: u16,
    /// The certificate the TLS listener presents (PEM): the root a client must trust.
    pub certificate_pem: String,
    dir: PathBuf,
}

/// A port free for both UDP and TCP on 127.0.0.1 right now.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = udp.local_addr().expect("address").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn turnserver() -> PathBuf {
    for candidate in ["/usr/bin/turnserver", "/usr/local/bin/turnserver"] {
        let path = PathBuf::from(candidate);
        if path.exists() {
            return path;
        }
    }
    panic!(
        "turnserver (Debian's coturn) is not installed: `apt-get install coturn` (.ci/run does)"
    );
}

/// A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost: the CA's
/// PEM (what clients trust), the server's certificate and key (PEM).
pub fn throwaway_certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Antiphon test CA");
    let ca = ca_params.self_signed(&ca_key).expect("the CA certificate");
    let leaf_key = KeyPair::generate().expect("a server key");
    let leaf_params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server parameters");
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("the server certificate");
    (ca.pem(), leaf.pem(), leaf_key.serialize_pem())
}

impl Coturn {
    /// Starts a server with `auth`, and waits until it listens.
    pub fn start(auth: Auth) -> Coturn {
        let dir = std::env::temp_dir().join(format!(
            "antiphon-coturn-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let (certificate_pem, leaf_pem, leaf_key) = throwaway_certificates();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &leaf_pem).expect("written");
        std::fs::write(&key, leaf_key).expect("written");
        let (port, tls_port) = (free_port(), free_port());
        let mut command = Command::new(turnserver());
        command.args([
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            "--allow-loopback-peers",
            "--realm=antiphon.test",
            "--no-cli",
            "--no-dtls",
            "--fingerprint",
            "--log-file=stdout",
            "--simple-log",
        ]);
        command.arg(format!("--listening-port={port}"));
        command.arg(format!("--tls-listening-port={tls_port}"));
        command.arg(format!("--cert={}", cert.display()));
        command.arg(format!("--pkey={}", key.display()));
        match &auth {
            Auth::User { username, password } => {
                command.arg("--lt-cred-mech");
                command.arg(format!("--user={username}:{password}"));
            }
            Auth::Secret(secret) => {
                command.arg("--use-auth-secret");
                command.arg(format!("--static-auth-secret={secret}"));
            }
        }
        let log = std::fs::File::create(dir.join("turnserver.log")).expect("a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("turnserver starts");
        let server = Coturn {
            child,
            port,
            tls_port,
            certificate_pem,
            dir,
        };
        server.wait_listening();
        server
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [self.port, self.tls_port] {
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "turnserver did not listen on {port}: {}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("turnserver.log")).unwrap_or_default()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
