//! Headless real browsers for the interop tests: Debian's Chromium and Firefox ESR, each with a
//! fresh profile, fake camera and microphone, no permission prompts, and settings for a network
//! namespace that holds only loopback (the tests run in one: `cargo xtask test`).
//!
//! A missing browser is a test failure, never a skip: `.ci/run` and `cargo xtask ci` install
//! both.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Which browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Browser {
    /// `/usr/bin/chromium` (`CHROMIUM` overrides).
    Chromium,
    /// `/usr/bin/firefox-esr` (`FIREFOX` overrides).
    Firefox,
}

impl Browser {
    /// A short lowercase name for messages and file names.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
        }
    }

    fn executable(self) -> String {
        let (variable, default, package) = match self {
            Browser::Chromium => ("CHROMIUM", "/usr/bin/chromium", "chromium"),
            Browser::Firefox => ("FIREFOX", "/usr/bin/firefox-esr", "firefox-esr"),
        };
        let path = std::env::var(variable).unwrap_or_else(|_| default.to_owned());
        assert!(
            std::path::Path::new(&path).exists(),
            "{} is required for this test: apt-get install {package} (or set {variable})",
            self.name()
        );
        path
    }

    /// Opens `url` headless in a new profile; the browser is killed and its profile removed
    /// when the returned handle is dropped.
    pub(crate) fn open(self, url: &str) -> Running {
        self.open_trusting(url, &Trust::Nothing)
    }

    /// [`open`](Self::open), the browser trusting a server certificate as `trust` says.
    pub(crate) fn open_trusting(self, url: &str, trust: &Trust<'_>) -> Running {
        let profile = std::env::temp_dir().join(format!(
            "antiphon-{}-{}-{}",
            self.name(),
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&profile).expect("browser profile directory");
        let mut command = Command::new(self.executable());
        match self {
            Browser::Chromium => {
                command
                    .args([
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--use-fake-device-for-media-stream",
                        "--use-fake-ui-for-media-stream",
                        // The page plays the returned audio unmuted without a gesture.
                        "--autoplay-policy=no-user-gesture-required",
                        // The namespace has only loopback: gather on it, and write host
                        // candidates as addresses, not mDNS names.
                        "--allow-loopback-in-peer-connection",
                        "--disable-features=WebRtcHideLocalIpsWithMdns",
                    ])
                    .arg(format!("--user-data-dir={}", profile.display()));
                match trust {
                    Trust::Nothing => {}
                    Trust::PublicKey(spki) => {
                        command.arg(format!("--ignore-certificate-errors-spki-list={spki}"));
                    }
                    Trust::Authority(_) => panic!("Chromium trusts a server by its public key"),
                }
            }
            Browser::Firefox => {
                std::fs::write(profile.join("user.js"), FIREFOX_PREFS).expect("Firefox user.js");
                match trust {
                    Trust::Nothing => {}
                    Trust::Authority(ca) => trust_in_profile(&profile, ca),
                    Trust::PublicKey(_) => panic!("Firefox trusts a server by its authority"),
                }
                command
                    .args(["--headless", "--no-remote", "--profile"])
                    .arg(&profile)
                    .env("MOZ_CRASHREPORTER_DISABLE", "1");
            }
        }
        let child = command
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.name()));
        Running { child, profile }
    }
}

/// What a browser trusts beyond its own roots, for a test server's HTTPS.
pub(crate) enum Trust<'a> {
    /// Nothing more.
    Nothing,
    /// Chromium: a certificate with this public key (SHA-256 of its SubjectPublicKeyInfo,
    /// base64), whatever else is wrong with it (`--ignore-certificate-errors-spki-list`).
    PublicKey(&'a str),
    /// Firefox: the CA certificate (PEM) in this file, put into the profile's NSS database with
    /// NSS's `certutil` (libnss3-tools, which `.ci/run` installs).
    Authority(&'a std::path::Path),
}

/// Creates the profile's certificate database with `ca` trusted to issue server certificates.
fn trust_in_profile(profile: &std::path::Path, ca: &std::path::Path) {
    let database = format!("sql:{}", profile.display());
    for args in [
        vec!["-N", "-d", &database, "--empty-password"],
        vec![
            "-A",
            "-d",
            &database,
            "-n",
            "antiphon test CA",
            "-t",
            "C,,",
            "-i",
        ],
    ] {
        let mut command = Command::new("certutil");
        command.args(&args);
        if args[0] == "-A" {
            command.arg(ca);
        }
        let status = command
            .status()
            .unwrap_or_else(|e| panic!("certutil (apt-get install libnss3-tools): {e}"));
        assert!(status.success(), "certutil {args:?}: {status}");
    }
}

/// A distinct number per call in this process, for profile names.
fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Firefox preferences: fake devices without prompts, host candidates on loopback written as
/// addresses, online in a namespace without other interfaces, and nothing that phones home.
const FIREFOX_PREFS: &str = r#"
user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("media.peerconnection.ice.default_address_only", false);
user_pref("network.manage-offline-status", false);
user_pref("network.dns.disableIPv6", false);
user_pref("media.autoplay.default", 0);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("app.update.enabled", false);
user_pref("app.normandy.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("toolkit.startup.max_resumed_crashes", -1);
"#;

/// A running browser, killed (and its profile removed) when dropped.
pub(crate) struct Running {
    child: Child,
    profile: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The browser's helpers (Chromium's zygote, GPU and crash handler processes) outlive
        // it for a moment and may still write into the profile, so one removal can fail or be
        // undone: remove until the profile stays gone (at most about two seconds).
        for _ in 0..50 {
            let _ = std::fs::remove_dir_all(&self.profile);
            std::thread::sleep(std::time::Duration::from_millis(40));
            if !self.profile.exists() {
                return;
            }
        }
    }
}
