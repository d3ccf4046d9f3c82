//! Server configuration: command-line flags, `PLOTCAST_*` environment variables and a
//! TOML file, in that order of precedence, resolved into one checked [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// `plotcast serve` flags; each also reads a `PLOTCAST_*` variable.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PLOTCAST_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Directory for the database [default: plotcast-data].
    #[arg(long, env = "PLOTCAST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML file with any of these options (keys as the flags, with `_` for `-`).
    #[arg(long, env = "PLOTCAST_CONFIG")]
    pub config: Option<PathBuf>,
    /// How long points are kept, e.g. `7d`, `12h` [default: 7d].
    #[arg(long, env = "PLOTCAST_RETENTION")]
    pub retention: Option<String>,
    /// Token required on write and publish endpoints (Bearer/Token header).
    #[arg(long, env = "PLOTCAST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A viewer that cannot take data for this long is dropped [default: 10s].
    #[arg(long, env = "PLOTCAST_WRITE_TIMEOUT")]
    pub write_timeout: Option<String>,
    /// Interval at which an unchanged frame is re-sent [default: 2s].
    #[arg(long, env = "PLOTCAST_KEEPALIVE")]
    pub keepalive: Option<String>,
    /// Run the host-metrics collector and publish the `demo` chart into an empty data
    /// directory [default: true].
    #[arg(long, env = "PLOTCAST_DEMO")]
    pub demo: Option<bool>,
    /// Largest accepted request body in bytes (also after gzip) [default: 10485760].
    #[arg(long, env = "PLOTCAST_MAX_BODY")]
    pub max_body: Option<usize>,
}

/// The TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    retention: Option<String>,
    token: Option<String>,
    write_timeout: Option<String>,
    keepalive: Option<String>,
    demo: Option<bool>,
    max_body: Option<usize>,
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for these options.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The cause.
        source: toml::de::Error,
    },
    /// A duration option is not a duration.
    #[error("{name}: {value:?} is not a duration (e.g. \"30s\", \"7d\")")]
    Duration {
        /// The option.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// Listening beyond loopback needs a token.
    #[error("refusing to listen on {0} (not a loopback address) without a token: set --token or PLOTCAST_TOKEN")]
    NoToken(SocketAddr),
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Point retention in ms.
    pub retention_ms: i64,
    /// Token for write endpoints, if any.
    pub token: Option<String>,
    /// Viewer write timeout.
    pub write_timeout: Duration,
    /// Keepalive interval of streams.
    pub keepalive: Duration,
    /// Run the demo collector (and publish the demo chart into an empty store).
    pub demo: bool,
    /// Largest request body.
    pub max_body: usize,
}

impl Config {
    /// Defaults for a data directory, without demo: what tests start from.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            retention_ms: 7 * 86_400_000,
            token: None,
            write_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(2),
            demo: false,
            max_body: 10 * 1024 * 1024,
        }
    }

    /// Merges flags/env (already merged by clap) over the TOML file over defaults.
    pub fn resolve(args: ServeArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let defaults = Config::for_data_dir("plotcast-data");
        let duration = |name: &'static str, value: Option<String>, default: Duration| match value {
            None => Ok(default),
            Some(text) => render_core::parse_duration_ms(&text)
                .and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis)
                .ok_or(ConfigError::Duration { name, value: text }),
        };
        let retention = duration(
            "retention",
            args.retention.or(file.retention),
            Duration::from_millis(defaults.retention_ms.unsigned_abs()),
        )?;
        let config = Config {
            addr: args.addr.or(file.addr).unwrap_or(defaults.addr),
            data_dir: args.data_dir.or(file.data_dir).unwrap_or(defaults.data_dir),
            retention_ms: i64::try_from(retention.as_millis()).unwrap_or(i64::MAX),
            token: args.token.or(file.token).filter(|t| !t.is_empty()),
            write_timeout: duration(
                "write_timeout",
                args.write_timeout.or(file.write_timeout),
                defaults.write_timeout,
            )?,
            keepalive: duration(
                "keepalive",
                args.keepalive.or(file.keepalive),
                defaults.keepalive,
            )?,
            demo: args.demo.or(file.demo).unwrap_or(true),
            max_body: args.max_body.or(file.max_body).unwrap_or(defaults.max_body),
        };
        if !config.addr.ip().is_loopback() && config.token.is_none() {
            return Err(ConfigError::NoToken(config.addr));
        }
        Ok(config)
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_public_address_needs_token() {
        let dir = std::env::temp_dir().join(format!("plotcast-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("plotcast.toml");
        let _ = std::fs::write(
            &path,
            "addr = \"127.0.0.1:9000\"\nretention = \"2d\"\ndemo = false\n",
        );
        let args = ServeArgs {
            config: Some(path.clone()),
            retention: Some("1h".into()),
            ..ServeArgs::default()
        };
        let config = Config::resolve(args).map_err(|e| e.to_string());
        let config = config
            .as_ref()
            .map(|c| (c.addr.port(), c.retention_ms, c.demo));
        assert_eq!(config, Ok((9000, 3_600_000, false)));
        let public = ServeArgs {
            addr: Some(SocketAddr::from(([0, 0, 0, 0], 80))),
            ..ServeArgs::default()
        };
        assert!(matches!(
            Config::resolve(public),
            Err(ConfigError::NoToken(_))
        ));
        let _ = std::fs::write(&path, "adr = \"x\"\n");
        let typo = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(typo).is_err_and(|e| e.to_string().contains("adr")));
    }
}
