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
    /// Allow a non-loopback address without a token (anyone who can reach the server
    /// can then write, publish and delete).
    #[arg(long, env = "PLOTCAST_INSECURE")]
    pub insecure: bool,
    /// Secret for signed URLs of private charts [default: the token].
    #[arg(long, env = "PLOTCAST_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,
    /// Most points (samples) one write request may carry [default: 100000].
    #[arg(long, env = "PLOTCAST_MAX_POINTS")]
    pub max_points: Option<usize>,
    /// Most distinct series (metric + tags) the store accepts [default: 10000].
    #[arg(long, env = "PLOTCAST_MAX_SERIES")]
    pub max_series: Option<usize>,
    /// Longest metric name, tag key or tag value in characters [default: 200].
    #[arg(long, env = "PLOTCAST_MAX_NAME")]
    pub max_name: Option<usize>,
    /// Most stream viewers of one chart [default: 1000].
    #[arg(long, env = "PLOTCAST_MAX_VIEWERS_PER_CHART")]
    pub max_viewers_per_chart: Option<usize>,
    /// Most stream viewers in total [default: 10000].
    #[arg(long, env = "PLOTCAST_MAX_VIEWERS")]
    pub max_viewers: Option<usize>,
    /// Most open connections from one client IP address [default: 1000].
    #[arg(long, env = "PLOTCAST_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<usize>,
    /// A client must send a request's headers within this time (slowloris) [default: 10s].
    #[arg(long, env = "PLOTCAST_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: Option<String>,
    /// Extra TTF/OTF/TTC font for the fallback chain, after the embedded one
    /// (repeatable; in the environment separated by `:`). The editor fetches them too.
    #[arg(long = "font", env = "PLOTCAST_FONTS", value_delimiter = ':')]
    pub fonts: Vec<PathBuf>,
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
    insecure: Option<bool>,
    signing_key: Option<String>,
    max_points: Option<usize>,
    max_series: Option<usize>,
    max_name: Option<usize>,
    max_viewers_per_chart: Option<usize>,
    max_viewers: Option<usize>,
    max_connections_per_ip: Option<usize>,
    header_read_timeout: Option<String>,
    fonts: Option<Vec<PathBuf>>,
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
    #[error("refusing to listen on {0} (not a loopback address) without a token: set --token or PLOTCAST_TOKEN (or --insecure to allow anyone to write)")]
    NoToken(SocketAddr),
    /// A limit of 0 would refuse everything.
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
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
    /// A non-loopback address without a token was explicitly allowed.
    pub insecure: bool,
    /// Secret for signed URLs (`--signing-key`, else the token).
    pub signing_key: Option<String>,
    /// Most samples per write request.
    pub max_points: usize,
    /// Most distinct series in the store.
    pub max_series: usize,
    /// Longest metric name, tag key or tag value (characters).
    pub max_name: usize,
    /// Most viewers of one chart.
    pub max_viewers_per_chart: usize,
    /// Most viewers in total.
    pub max_viewers: usize,
    /// Most open connections per client IP.
    pub max_connections_per_ip: usize,
    /// Time a client has to send a request's header block.
    pub header_read_timeout: Duration,
    /// Extra fonts of the fallback chain, in order.
    pub fonts: Vec<PathBuf>,
    /// Fault injection for tests; not reachable from flags, env or the config file.
    #[doc(hidden)]
    pub faults: std::sync::Arc<crate::faults::Faults>,
}

impl Config {
    /// The secret signed URLs are made with: `--signing-key`, else the token.
    pub fn signing_secret(&self) -> Option<&str> {
        self.signing_key.as_deref().or(self.token.as_deref())
    }

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
            insecure: false,
            signing_key: None,
            max_points: 100_000,
            max_series: 10_000,
            max_name: 200,
            max_viewers_per_chart: 1_000,
            max_viewers: 10_000,
            max_connections_per_ip: 1_000,
            header_read_timeout: Duration::from_secs(10),
            fonts: Vec::new(),
            faults: std::sync::Arc::default(),
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
            insecure: args.insecure || file.insecure.unwrap_or(false),
            signing_key: args
                .signing_key
                .or(file.signing_key)
                .filter(|k| !k.is_empty()),
            max_points: args
                .max_points
                .or(file.max_points)
                .unwrap_or(defaults.max_points),
            max_series: args
                .max_series
                .or(file.max_series)
                .unwrap_or(defaults.max_series),
            max_name: args.max_name.or(file.max_name).unwrap_or(defaults.max_name),
            max_viewers_per_chart: args
                .max_viewers_per_chart
                .or(file.max_viewers_per_chart)
                .unwrap_or(defaults.max_viewers_per_chart),
            max_viewers: args
                .max_viewers
                .or(file.max_viewers)
                .unwrap_or(defaults.max_viewers),
            max_connections_per_ip: args
                .max_connections_per_ip
                .or(file.max_connections_per_ip)
                .unwrap_or(defaults.max_connections_per_ip),
            header_read_timeout: duration(
                "header_read_timeout",
                args.header_read_timeout.or(file.header_read_timeout),
                defaults.header_read_timeout,
            )?,
            fonts: if args.fonts.is_empty() {
                file.fonts.unwrap_or_default()
            } else {
                args.fonts
            },
            faults: defaults.faults,
        };
        for (name, value) in [
            ("max_body", config.max_body),
            ("max_points", config.max_points),
            ("max_series", config.max_series),
            ("max_name", config.max_name),
            ("max_viewers_per_chart", config.max_viewers_per_chart),
            ("max_viewers", config.max_viewers),
            ("max_connections_per_ip", config.max_connections_per_ip),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        if !config.addr.ip().is_loopback() && config.token.is_none() && !config.insecure {
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
        let insecure = ServeArgs {
            addr: Some(SocketAddr::from(([0, 0, 0, 0], 80))),
            insecure: true,
            ..ServeArgs::default()
        };
        assert!(Config::resolve(insecure).is_ok_and(|c| c.insecure && c.token.is_none()));
        let with_token = ServeArgs {
            addr: Some(SocketAddr::from(([0, 0, 0, 0], 80))),
            token: Some("t".into()),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(with_token).is_ok_and(|c| c.signing_secret() == Some("t")));
        let zero = ServeArgs {
            max_series: Some(0),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(zero).is_err_and(|e| e.to_string().contains("max_series")));
        let _ = std::fs::write(&path, "adr = \"x\"\n");
        let typo = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(typo).is_err_and(|e| e.to_string().contains("adr")));
    }
}
