//! Connecting to NATS with the configured credentials and TLS, so that a process starts
//! (and an origin serves its API) while NATS is still unreachable, and reconnects
//! within about a second once NATS is back.

use std::time::Duration;

use async_nats::{Client, ConnectOptions};

use crate::config::Config;

/// Longest wait between two reconnection attempts: edges resume soon after NATS returns.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Why the NATS client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// An edge was started without NATS.
    #[error("--role edge needs --nats (the NATS server the origins publish frames on)")]
    Missing,
    /// `--nats-creds` could not be read.
    #[error("--nats-creds {path}: {source}")]
    Credentials {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The client refused the options (e.g. a malformed URL).
    #[error("--nats {url}: {message}")]
    Connect {
        /// The configured URL(s).
        url: String,
        /// What the client said.
        message: String,
    },
}

/// A client of `config.nats` named `name`, connecting in the background.
pub async fn connect(config: &Config, url: &str, name: &str) -> Result<Client, NatsError> {
    let mut options = match &config.nats_creds {
        Some(path) => ConnectOptions::with_credentials_file(path)
            .await
            .map_err(|source| NatsError::Credentials {
                path: path.display().to_string(),
                source,
            })?,
        None => ConnectOptions::new(),
    };
    if let Some(token) = &config.nats_token {
        options = options.token(token.clone());
    }
    if let (Some(user), Some(password)) = (&config.nats_user, &config.nats_password) {
        options = options.user_and_password(user.clone(), password.clone());
    }
    if let Some(ca) = &config.nats_tls_ca {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    let servers: Vec<&str> = url.split(',').map(str::trim).collect();
    options
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            (Duration::from_millis(100) * u32::try_from(attempts).unwrap_or(u32::MAX))
                .min(MAX_RECONNECT_DELAY)
        })
        .connect(servers)
        .await
        .map_err(|error| NatsError::Connect {
            url: url.to_string(),
            message: error.to_string(),
        })
}
