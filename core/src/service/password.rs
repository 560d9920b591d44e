//! argon2id password hashing, run off the async executor.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
};

use crate::config::PasswordHashing;
use crate::error::{Error, Result};

/// Hashes and verifies passwords with argon2id at the configured cost.
#[derive(Clone)]
pub(crate) struct PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when the account does not
    /// exist so that "unknown email" costs the same time as "wrong password".
    dummy_hash: String,
}

impl PasswordHasher {
    pub(crate) fn new(cost: PasswordHashing) -> Result<Self> {
        let params = Params::new(cost.m_cost_kib, cost.t_cost, cost.p_cost, None)
            .map_err(|e| Error::Config(format!("argon2 parameters: {e}")))?;
        let mut dummy = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut dummy);
        let dummy_hash = hash_blocking(&params, &hex::encode(dummy))?;
        Ok(PasswordHasher { params, dummy_hash })
    }

    /// A PHC string for `password` with a fresh salt.
    pub(crate) async fn hash(&self, password: &str) -> Result<String> {
        let params = self.params.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&params, &password))
            .await
            .map_err(|e| Error::Internal(format!("hash task: {e}")))?
    }

    /// Whether `password` matches `phc` (constant-time comparison inside argon2).
    /// `None` verifies against a dummy hash and returns `false`, taking the same time.
    pub(crate) async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool> {
        let known = phc.is_some();
        let phc = phc.unwrap_or(&self.dummy_hash).to_owned();
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else {
                return false;
            };
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .await
        .map_err(|e| Error::Internal(format!("verify task: {e}")))?;
        Ok(ok && known)
    }

    /// True when `phc` was made with other parameters than the configured ones,
    /// so a successful login should store a fresh hash.
    pub(crate) fn needs_rehash(&self, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(h) => match Params::try_from(&h) {
                Ok(p) => {
                    h.algorithm.as_str() != "argon2id"
                        || p.m_cost() != self.params.m_cost()
                        || p.t_cost() != self.params.t_cost()
                        || p.p_cost() != self.params.p_cost()
                }
                Err(_) => true,
            },
            Err(_) => true,
        }
    }
}

fn hash_blocking(params: &Params, password: &str) -> Result<String> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies_argon2id() {
        let h = PasswordHasher::new(PasswordHashing::INSECURE_FAST_FOR_TESTS).unwrap();
        let phc = h.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
        assert!(h.verify("correct horse", Some(&phc)).await.unwrap());
        assert!(!h.verify("wrong horse", Some(&phc)).await.unwrap());
        assert!(!h.verify("correct horse", None).await.unwrap());
        assert!(!h.verify("x", Some("not a phc string")).await.unwrap());
        assert!(!h.needs_rehash(&phc));
        let owasp = PasswordHasher::new(PasswordHashing::OWASP).unwrap();
        assert!(owasp.needs_rehash(&phc));
        let phc2 = h.hash("correct horse").await.unwrap();
        assert_ne!(phc, phc2, "each hash has its own salt");
    }
}
