//! DTLS-SRTP protection profiles and the keying material split (RFC 5764 §4.2, RFC 7714 §12).

use std::fmt;

use crate::role::DtlsRole;

/// The exporter label of RFC 5764 §4.2.
pub const SRTP_EXPORTER_LABEL: &str = "EXTRACTOR-dtls_srtp";

/// An SRTP protection profile negotiated through the DTLS `use_srtp` extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// `SRTP_AEAD_AES_128_GCM` (0x0007): 16-byte key, 12-byte salt.
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (0x0008): 32-byte key, 12-byte salt.
    AeadAes256Gcm,
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001): 16-byte key, 14-byte salt.
    Aes128CmHmacSha1_80,
}

impl SrtpProfile {
    /// What we offer, in preference order: both AEAD profiles, then the mandatory-to-implement
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (RFC 8827 §6.5).
    pub const DEFAULT: [SrtpProfile; 3] = [
        Self::AeadAes128Gcm,
        Self::AeadAes256Gcm,
        Self::Aes128CmHmacSha1_80,
    ];

    /// The IANA name, e.g. `SRTP_AEAD_AES_128_GCM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
            Self::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
        }
    }

    /// The two-byte profile identifier of the `use_srtp` extension.
    pub fn id(self) -> u16 {
        match self {
            Self::AeadAes128Gcm => 0x0007,
            Self::AeadAes256Gcm => 0x0008,
            Self::Aes128CmHmacSha1_80 => 0x0001,
        }
    }

    /// Master key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::AeadAes128Gcm | Self::Aes128CmHmacSha1_80 => 16,
            Self::AeadAes256Gcm => 32,
        }
    }

    /// Master salt length in bytes.
    pub fn salt_len(self) -> usize {
        match self {
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 12,
            Self::Aes128CmHmacSha1_80 => 14,
        }
    }

    /// Bytes to export: a key and a salt for each direction.
    pub fn keying_material_len(self) -> usize {
        2 * (self.key_len() + self.salt_len())
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One direction's SRTP master key and salt.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    key: Vec<u8>,
    salt: Vec<u8>,
}

impl SrtpKeys {
    /// The master key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The master salt.
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }
}

impl fmt::Debug for SrtpKeys {
    /// Shows the lengths only: the bytes are secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKeys")
            .field("key_len", &self.key.len())
            .field("salt_len", &self.salt.len())
            .finish()
    }
}

/// The exported DTLS-SRTP keying material, split per RFC 5764 §4.2:
/// `client_write_key | server_write_key | client_write_salt | server_write_salt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpKeyingMaterial {
    profile: SrtpProfile,
    client: SrtpKeys,
    server: SrtpKeys,
}

impl SrtpKeyingMaterial {
    /// Splits exported material for `profile`; `None` unless it is exactly
    /// [`SrtpProfile::keying_material_len`] bytes.
    pub fn split(profile: SrtpProfile, material: &[u8]) -> Option<Self> {
        if material.len() != profile.keying_material_len() {
            return None;
        }
        let (keys, salts) = material.split_at(2 * profile.key_len());
        let (client_key, server_key) = keys.split_at(profile.key_len());
        let (client_salt, server_salt) = salts.split_at(profile.salt_len());
        Some(Self {
            profile,
            client: SrtpKeys {
                key: client_key.to_vec(),
                salt: client_salt.to_vec(),
            },
            server: SrtpKeys {
                key: server_key.to_vec(),
                salt: server_salt.to_vec(),
            },
        })
    }

    /// The profile the material was split for.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// What the DTLS client protects its outgoing SRTP with.
    pub fn client_write(&self) -> &SrtpKeys {
        &self.client
    }

    /// What the DTLS server protects its outgoing SRTP with.
    pub fn server_write(&self) -> &SrtpKeys {
        &self.server
    }

    /// Keys for what we send, given our DTLS role.
    pub fn local(&self, role: DtlsRole) -> &SrtpKeys {
        match role {
            DtlsRole::Client => &self.client,
            DtlsRole::Server => &self.server,
        }
    }

    /// Keys for what the peer sends, given our DTLS role.
    pub fn remote(&self, role: DtlsRole) -> &SrtpKeys {
        match role {
            DtlsRole::Client => &self.server,
            DtlsRole::Server => &self.client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_layout_per_profile() {
        for profile in SrtpProfile::DEFAULT {
            let material: Vec<u8> = (0..profile.keying_material_len())
                .map(|i| u8::try_from(i).unwrap_or(u8::MAX))
                .collect();
            let split = SrtpKeyingMaterial::split(profile, &material);
            let Some(split) = split else {
                panic!("{profile}: split refused the exact length");
            };
            let k = profile.key_len();
            let s = profile.salt_len();
            assert_eq!(split.client_write().key(), &material[..k], "{profile}");
            assert_eq!(split.server_write().key(), &material[k..2 * k], "{profile}");
            assert_eq!(
                split.client_write().salt(),
                &material[2 * k..2 * k + s],
                "{profile}"
            );
            assert_eq!(
                split.server_write().salt(),
                &material[2 * k + s..],
                "{profile}"
            );
            assert_eq!(
                split.local(DtlsRole::Client),
                split.remote(DtlsRole::Server)
            );
            assert_eq!(
                split.local(DtlsRole::Server),
                split.remote(DtlsRole::Client)
            );
            assert!(SrtpKeyingMaterial::split(profile, &material[1..]).is_none());
        }
    }

    #[test]
    fn profile_table() {
        let table = [
            (SrtpProfile::AeadAes128Gcm, 0x0007, 16, 12, 56),
            (SrtpProfile::AeadAes256Gcm, 0x0008, 32, 12, 88),
            (SrtpProfile::Aes128CmHmacSha1_80, 0x0001, 16, 14, 60),
        ];
        for (profile, id, key, salt, total) in table {
            assert_eq!(
                (
                    profile.id(),
                    profile.key_len(),
                    profile.salt_len(),
                    profile.keying_material_len()
                ),
                (id, key, salt, total),
                "{profile}"
            );
            assert_eq!(profile.to_stack() as u16, id, "{profile}");
            assert_eq!(SrtpProfile::from_stack(profile.to_stack()), Some(profile));
        }
        assert_eq!(
            SrtpProfile::from_stack(
                rtc_dtls::extension::extension_use_srtp::SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_32
            ),
            None
        );
    }
}
