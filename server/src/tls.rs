//! HTTPS: the certificate chain and private key of `--tls-cert` / `--tls-key` (PEM
//! files) loaded into a rustls server configuration (ring provider) that offers HTTP/2
//! and HTTP/1.1 by ALPN. Every problem names the file it is about.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Only one of the two options is set.
    #[error("--tls-cert and --tls-key go together (PLOTCAST_TLS_CERT, PLOTCAST_TLS_KEY): only {0} is set")]
    Half(&'static str),
    /// The certificate file cannot be read or holds no certificate.
    #[error("TLS certificate file {path}: {message}")]
    Cert {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The key file cannot be read or holds no private key.
    #[error("TLS key file {path}: {message}")]
    Key {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the pair (e.g. the key is not the certificate's).
    #[error("TLS certificate {cert} with key {key}: {message}")]
    Pair {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
        /// What rustls said.
        message: String,
    },
}

/// The acceptor for the certificate chain `cert` and key `key` (`--tls-cert`,
/// `--tls-key`), or `None` when both are unset (plain HTTP).
pub fn acceptor(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<TlsAcceptor>, TlsError> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(TlsError::Half("--tls-cert")),
        (None, Some(_)) => return Err(TlsError::Half("--tls-key")),
        (Some(cert), Some(key)) => (cert, key),
    };
    let chain = read_chain(cert)?;
    let private_key = read_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pair_error = |message: String| TlsError::Pair {
        cert: cert.display().to_string(),
        key: key.display().to_string(),
        message,
    };
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| pair_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| pair_error(e.to_string()))?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(server))))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let failed = |message: String| TlsError::Cert {
        path: path.display().to_string(),
        message,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| failed(pem_problem(&e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(pem_problem(&e)))?;
    if chain.is_empty() {
        return Err(failed(
            "no PEM certificate (BEGIN CERTIFICATE) in it".into(),
        ));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Key {
        path: path.display().to_string(),
        message: match e {
            pem::Error::NoItemsFound => {
                "no PEM private key (PKCS#8, PKCS#1 or SEC1) in it".to_string()
            }
            other => pem_problem(&other),
        },
    })
}

/// A PEM reading error as a sentence (the I/O error's own text for a missing file).
fn pem_problem(error: &pem::Error) -> String {
    match error {
        pem::Error::Io(io) => io.to_string(),
        other => format!("not valid PEM: {other}"),
    }
}
