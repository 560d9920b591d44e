//! Opaque bearer secrets (refresh, reset and visitor tokens).
//!
//! Format: `nc<kind>_<id as 32 hex>_<32 random bytes, base64url>`. The id
//! finds the row; only SHA-256 of the random part is stored and it is compared
//! in constant time. The prefix lets secret scanners recognise leaked tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Which kind of secret; part of the prefix so one kind is never accepted as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretKind {
    Refresh,
    Reset,
    Visitor,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            SecretKind::Refresh => "ncr_",
            SecretKind::Reset => "ncp_",
            SecretKind::Visitor => "ncv_",
        }
    }
}

/// A freshly minted secret: the string for the client and the hash to store.
pub(crate) struct Minted {
    pub(crate) token: String,
    pub(crate) hash: Vec<u8>,
}

/// Mints a token for row `id`.
pub(crate) fn mint(kind: SecretKind, id: Uuid) -> Minted {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    Minted {
        token: format!(
            "{}{}_{}",
            kind.prefix(),
            id.simple(),
            URL_SAFE_NO_PAD.encode(secret)
        ),
        hash: sha256(&secret),
    }
}

/// Splits a presented token into its row id and the hash of its secret.
/// `None` for anything malformed (wrong kind, length, alphabet).
pub(crate) fn parse(kind: SecretKind, token: &str) -> Option<(Uuid, Vec<u8>)> {
    let rest = token.strip_prefix(kind.prefix())?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 32 || secret.len() != 43 {
        return None;
    }
    let id = Uuid::try_parse(id).ok()?;
    let secret = URL_SAFE_NO_PAD.decode(secret).ok()?;
    (secret.len() == 32).then(|| (id, sha256(&secret)))
}

/// Constant-time equality of two secret hashes.
pub(crate) fn hashes_match(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// SHA-256.
pub(crate) fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let id = Uuid::now_v7();
        let m = mint(SecretKind::Refresh, id);
        let (pid, hash) = parse(SecretKind::Refresh, &m.token).unwrap();
        assert_eq!(pid, id);
        assert!(hashes_match(&hash, &m.hash));
        assert!(
            parse(SecretKind::Reset, &m.token).is_none(),
            "kind is checked"
        );
        let mut tampered = m.token.clone();
        tampered.pop();
        tampered.push(if m.token.ends_with('A') { 'B' } else { 'A' });
        let (_, h2) = parse(SecretKind::Refresh, &tampered).unwrap_or((id, vec![]));
        assert!(!hashes_match(&h2, &m.hash));
        for bad in ["", "ncr_", "ncr_x_y", &m.token[..m.token.len() - 1]] {
            assert!(parse(SecretKind::Refresh, bad).is_none(), "{bad}");
        }
    }
}
