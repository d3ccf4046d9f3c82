//! Signed URLs for private charts: `?exp=UNIX_SECONDS&sig=HEX(HMAC-SHA256(secret,
//! "{id}:{exp}"))`, or, for a URL with picture parameters (variables, overrides) whose
//! canonical query is `Q`, of `"{id}:{exp}?{Q}"`: a viewer cannot change them. And the
//! constant-time token comparison of the write endpoints.

use hmac::{Hmac, Mac};
use render_core::Params;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `exp`/`sig` in the URL.
    #[error("chart {0:?} is private: use a signed URL (?exp=…&sig=…, from `plotcast sign` or POST /api/charts/{0}/sign) or the token")]
    Missing(String),
    /// `exp` is not a number or `sig` not 64 hex digits.
    #[error("malformed signed URL: exp must be UNIX seconds and sig 64 hex digits")]
    Malformed,
    /// The signature does not match.
    #[error("the URL's signature is not valid for chart {0:?}")]
    Forged(String),
    /// The URL expired.
    #[error("the signed URL expired at {0} (UNIX seconds); ask for a new one")]
    Expired(i64),
    /// The server has no secret to check signatures with.
    #[error("chart {0:?} is private but the server has no signing key (--signing-key or --token)")]
    NoSecret(String),
}

/// The hex HMAC-SHA256 under `secret` of `"{id}:{exp}"`, or `"{id}:{exp}?{params}"`
/// when `params` (a canonical query, `render_core::Params::query`) is not empty.
pub fn sign(secret: &str, id: &str, exp: i64, params: &str) -> String {
    hex(&mac(secret, id, exp, params).finalize().into_bytes())
}

fn mac(secret: &str, id: &str, exp: i64, params: &str) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(format!("{id}:{exp}").as_bytes());
    if !params.is_empty() {
        mac.update(format!("?{params}").as_bytes());
    }
    mac
}

/// The query of a signed URL for chart `id` with picture parameters `params`, valid
/// until `exp` (UNIX seconds): the parameters, then `exp` and `sig`; and the `sig`.
pub fn signed_query(secret: &str, id: &str, exp: i64, params: &Params) -> (String, String) {
    let picture = params.query();
    let sig = sign(secret, id, exp, &picture);
    let query = match picture.is_empty() {
        true => format!("exp={exp}&sig={sig}"),
        false => format!("{picture}&exp={exp}&sig={sig}"),
    };
    (query, sig)
}

/// Checks `exp` and `sig` (as given in the query) for chart `id` with the canonical
/// picture parameters `params` at `now_secs`.
pub fn verify(
    secret: &str,
    id: &str,
    params: &str,
    exp: Option<&str>,
    sig: Option<&str>,
    now_secs: i64,
) -> Result<(), SignatureError> {
    let (Some(exp), Some(sig)) = (exp, sig) else {
        return Err(SignatureError::Missing(id.to_string()));
    };
    let exp: i64 = exp.parse().map_err(|_| SignatureError::Malformed)?;
    let sig = unhex(sig).ok_or(SignatureError::Malformed)?;
    // `verify_slice` compares in constant time.
    mac(secret, id, exp, params)
        .verify_slice(&sig)
        .map_err(|_| SignatureError::Forged(id.to_string()))?;
    if exp < now_secs {
        return Err(SignatureError::Expired(exp));
    }
    Ok(())
}

/// Compares a presented token with the configured one in time independent of where
/// they differ and of their lengths (both are hashed first, then compared with
/// `subtle`).
pub fn token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_until_they_expire_and_forgeries_fail() {
        let sig = sign("secret", "cpu", 2_000, "");
        assert_eq!(sig.len(), 64);
        let ok =
            |id, exp: &str, sig: &str, now| verify("secret", id, "", Some(exp), Some(sig), now);
        assert_eq!(ok("cpu", "2000", &sig, 1_999), Ok(()));
        assert_eq!(ok("cpu", "2000", &sig.to_uppercase(), 1_999), Ok(()));
        assert_eq!(
            ok("cpu", "2000", &sig, 2_001),
            Err(SignatureError::Expired(2000))
        );
        assert!(matches!(
            ok("cpu", "3000", &sig, 0),
            Err(SignatureError::Forged(_))
        ));
        assert!(matches!(
            ok("mem", "2000", &sig, 0),
            Err(SignatureError::Forged(_))
        ));
        assert_eq!(ok("cpu", "x", &sig, 0), Err(SignatureError::Malformed));
        assert_eq!(ok("cpu", "2000", "abc", 0), Err(SignatureError::Malformed));
        let other = sign("other", "cpu", 2_000, "");
        assert!(matches!(
            ok("cpu", "2000", &other, 0),
            Err(SignatureError::Forged(_))
        ));
        assert!(matches!(
            verify("secret", "cpu", "", None, Some(&sig), 0),
            Err(SignatureError::Missing(_))
        ));
    }

    #[test]
    fn signatures_cover_the_parameters() {
        let sig = sign("secret", "cpu", 2_000, "var-host=db2");
        let with = |params| verify("secret", "cpu", params, Some("2000"), Some(&sig), 0);
        assert_eq!(with("var-host=db2"), Ok(()));
        assert!(matches!(
            with("var-host=db1"),
            Err(SignatureError::Forged(_))
        ));
        assert!(matches!(with(""), Err(SignatureError::Forged(_))));
        // The unparameterised signature is the one made before parameters existed.
        let plain = sign("secret", "cpu", 2_000, "");
        assert_ne!(plain, sig);
        assert!(matches!(
            verify(
                "secret",
                "cpu",
                "var-host=db2",
                Some("2000"),
                Some(&plain),
                0
            ),
            Err(SignatureError::Forged(_))
        ));
    }

    #[test]
    fn tokens_compare_by_content_only() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abd", "abc"));
        assert!(!token_matches("ab", "abc"));
        assert!(!token_matches("", "abc"));
    }
}
