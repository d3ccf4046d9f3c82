//! Server configuration, each option declared once: a field of [`Config`] whose clap
//! attributes make it a `plotcast serve` flag and a `PLOTCAST_*` variable with its
//! default (so `--help` lists it), and whose serde attributes make it a key of the TOML
//! file given by `--config`. [`Config::resolve`] layers them: flags > environment >
//! file > defaults.
//!
//! How the layers meet: clap parses flags, environment and defaults as usual, and
//! [`ServeArgs`] keeps only the values that came from the flags or the environment.
//! The file is read into a whole [`Config`] (missing keys take the defaults, unknown
//! keys are refused), and those values are put over it with clap's
//! `update_from_arg_matches`. The defaults are the flags' `default_value`s, parsed
//! without the environment ([`Config::default`]). A value is parsed by the same function
//! whichever layer it comes from (e.g. [`duration`] for `7d`, `10s`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, Command, FromArgMatches};
use serde::{Deserialize, Deserializer};

use crate::source::check_sources;
pub use crate::source::{SourceConfig, SourceKind};
use crate::tls::TlsError;

/// The configuration: every option of `plotcast serve`, resolved and checked. The doc
/// comments are the `--help` texts.
#[derive(Debug, Clone, clap::Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PLOTCAST_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory for the database.
    #[arg(long, env = "PLOTCAST_DATA_DIR", default_value = "plotcast-data")]
    pub data_dir: PathBuf,
    /// How long points are kept, e.g. `7d`, `12h`.
    #[arg(long, env = "PLOTCAST_RETENTION", default_value = "7d", value_parser = duration)]
    #[serde(deserialize_with = "duration_in_file")]
    pub retention: Duration,
    /// Token required on write and publish endpoints (Bearer/Token header).
    #[arg(long, env = "PLOTCAST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A viewer that cannot take data for this long is dropped.
    #[arg(long, env = "PLOTCAST_WRITE_TIMEOUT", default_value = "10s", value_parser = duration)]
    #[serde(deserialize_with = "duration_in_file")]
    pub write_timeout: Duration,
    /// Interval at which an unchanged frame is re-sent.
    #[arg(long, env = "PLOTCAST_KEEPALIVE", default_value = "2s", value_parser = duration)]
    #[serde(deserialize_with = "duration_in_file")]
    pub keepalive: Duration,
    /// Run the host-metrics collector and publish the `demo` chart into an empty data
    /// directory.
    #[arg(long, env = "PLOTCAST_DEMO", action = ArgAction::Set, default_value = "true")]
    pub demo: bool,
    /// Largest accepted request body in bytes (also after gzip).
    #[arg(long, env = "PLOTCAST_MAX_BODY", default_value = "10485760", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_body: usize,
    /// Allow a non-loopback address without a token (anyone who can reach the server
    /// can then write, publish and delete).
    #[arg(long, env = "PLOTCAST_INSECURE")]
    pub insecure: bool,
    /// Secret for signed URLs of private charts [default: the token].
    #[arg(long, env = "PLOTCAST_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,
    /// Most points (samples) one write request may carry.
    #[arg(long, env = "PLOTCAST_MAX_POINTS", default_value = "100000", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_points: usize,
    /// Most distinct series (metric + tags) the store accepts.
    #[arg(long, env = "PLOTCAST_MAX_SERIES", default_value = "10000", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_series: usize,
    /// Longest metric name, tag key or tag value in characters.
    #[arg(long, env = "PLOTCAST_MAX_NAME", default_value = "200", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_name: usize,
    /// Most stream viewers of one chart.
    #[arg(long, env = "PLOTCAST_MAX_VIEWERS_PER_CHART", default_value = "1000", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_viewers_per_chart: usize,
    /// Most live variants of one chart: distinct sets of URL parameters (`var-NAME`,
    /// overrides) streamed at once, each rendered on its own.
    #[arg(long, env = "PLOTCAST_MAX_VARIANTS_PER_CHART", default_value = "16", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_variants_per_chart: usize,
    /// Most stream viewers in total.
    #[arg(long, env = "PLOTCAST_MAX_VIEWERS", default_value = "10000", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_viewers: usize,
    /// Most open connections from one client IP address.
    #[arg(long, env = "PLOTCAST_MAX_CONNECTIONS_PER_IP", default_value = "1000", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_connections_per_ip: usize,
    /// A client must send a request's headers within this time (slowloris); an HTTP/2
    /// connection without a request in flight for this long is closed.
    #[arg(long, env = "PLOTCAST_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = duration)]
    #[serde(deserialize_with = "duration_in_file")]
    pub header_read_timeout: Duration,
    /// Most bytes a request's start line and headers may take in all (431 beyond).
    #[arg(long, env = "PLOTCAST_MAX_HEADER_BYTES", default_value = "16384", value_parser = limit)]
    #[serde(deserialize_with = "limit_in_file")]
    pub max_header_bytes: usize,
    /// PEM certificate chain for HTTPS (with --tls-key): the port then speaks TLS only,
    /// HTTP/2 and HTTP/1.1 by ALPN. Without it: plain HTTP/1.1 and h2c (prior knowledge).
    #[arg(long, env = "PLOTCAST_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "PLOTCAST_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Extra TTF/OTF/TTC font for the fallback chain, after the embedded one
    /// (repeatable; in the environment separated by `:`). The editor fetches them too.
    #[arg(long = "font", env = "PLOTCAST_FONTS", value_delimiter = ':')]
    pub fonts: Vec<PathBuf>,
    /// Add the machine's installed fonts that cover characters the chain lacks (CJK,
    /// Hebrew, symbols ...) after the `--font` ones, so text in any language renders.
    /// The editor fetches them too.
    #[arg(long, env = "PLOTCAST_SYSTEM_FONTS", action = ArgAction::Set, default_value = "true")]
    pub system_fonts: bool,
    /// A data source specs may query by name: `NAME=URL[;key=value...]`, e.g.
    /// `prom=http://127.0.0.1:9090;timeout=5s` (repeatable; in the environment separated
    /// by `,`). Keys: kind (prometheus), bearer_token, username, password, timeout,
    /// refresh, header.NAME; in the file, `[[sources]]` tables with `name`, `url` and
    /// these keys (`headers` a table).
    #[arg(long = "source", env = "PLOTCAST_SOURCES", value_delimiter = ',', value_parser = SourceConfig::parse_flag, hide_env_values = true)]
    pub sources: Vec<SourceConfig>,
    /// NATS server(s) to scale out on, e.g. `nats://127.0.0.1:4222` (several separated
    /// by `,`). An origin then publishes the frames of every chart that edges watch; an
    /// edge (`--role edge`) serves its viewers from them. See docs/SCALE-OUT.md.
    #[arg(long, env = "PLOTCAST_NATS")]
    pub nats: Option<String>,
    /// `origin`: store, API, editor, rendering. `edge`: serves `/charts/ID.mjpg`, `.jpg`
    /// and `.png` from frames an origin publishes on NATS (needs --nats; no data
    /// directory).
    #[arg(long, env = "PLOTCAST_ROLE", value_enum, default_value = "origin")]
    pub role: Role,
    /// NATS credentials file (JWT and NKey seed, as `nsc` writes them).
    #[arg(long, env = "PLOTCAST_NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// NATS token.
    #[arg(long, env = "PLOTCAST_NATS_TOKEN", hide_env_values = true)]
    pub nats_token: Option<String>,
    /// NATS user (with --nats-password).
    #[arg(long, env = "PLOTCAST_NATS_USER")]
    pub nats_user: Option<String>,
    /// NATS password of --nats-user.
    #[arg(long, env = "PLOTCAST_NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
    /// PEM root certificate(s) the NATS server's TLS certificate is checked against
    /// (`tls://` URLs, or servers that require TLS).
    #[arg(long, env = "PLOTCAST_NATS_TLS_CA")]
    pub nats_tls_ca: Option<PathBuf>,
    /// Prefix of plotcast's NATS subjects and of its key-value bucket, so several
    /// plotcast clusters can share one NATS.
    #[arg(long, env = "PLOTCAST_NATS_PREFIX", default_value = "plotcast", value_parser = nats_prefix)]
    #[serde(deserialize_with = "nats_prefix_in_file")]
    pub nats_prefix: String,
    /// How long an origin's lease on rendering a chart lasts unrenewed: when that origin
    /// dies, another takes the chart over within this time.
    #[arg(long, env = "PLOTCAST_LEASE_TTL", default_value = "3s", value_parser = duration)]
    #[serde(deserialize_with = "duration_in_file")]
    pub lease_ttl: Duration,
    /// (edge) The origin's URL, named in the answer an edge gives to writes, publishing
    /// and the editor.
    #[arg(long, env = "PLOTCAST_ORIGIN_URL")]
    pub origin_url: Option<String>,
}

/// What a plotcast process does in a scale-out setup (`--role`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Owns the store and the API, renders charts.
    #[default]
    Origin,
    /// Serves viewers from frames received over NATS.
    Edge,
}

/// `plotcast serve`'s flags: [`Config`]'s options and `--config`, keeping only the
/// values given as flags or in the environment, so [`Config::resolve`] can put them
/// over the file.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    file: Option<PathBuf>,
    given: ArgMatches,
}

/// The `--config` flag (the one option that is not a key of the file).
#[derive(clap::Args)]
struct ConfigFile {
    /// TOML file with any of these options (keys as the flags, with `_` for `-`).
    #[arg(long, env = "PLOTCAST_CONFIG")]
    config: Option<PathBuf>,
}

impl Args for ServeArgs {
    fn augment_args(command: Command) -> Command {
        Config::augment_args(ConfigFile::augment_args(command))
    }

    fn augment_args_for_update(command: Command) -> Command {
        ServeArgs::augment_args(command)
    }
}

impl FromArgMatches for ServeArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<ServeArgs, clap::Error> {
        let file = ConfigFile::from_arg_matches(matches)?.config;
        let mut given = matches.clone();
        for id in matches.ids() {
            if matches.value_source(id.as_str()) == Some(ValueSource::DefaultValue) {
                given
                    .try_clear_id(id.as_str())
                    .map_err(|error| clap::Error::raw(ErrorKind::UnknownArgument, error))?;
            }
        }
        Ok(ServeArgs { file, given })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = ServeArgs::from_arg_matches(matches)?;
        Ok(())
    }
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
    /// The config file is not valid TOML for these options (the message shows the key).
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The cause.
        source: toml::de::Error,
    },
    /// The parsed flags do not fit [`Config`] (a bug: both come from one declaration).
    #[error(transparent)]
    Flags(#[from] clap::Error),
    /// A configured source is wrong (the message names it).
    #[error("--source / [[sources]]: {0}")]
    Source(String),
    /// Listening beyond loopback needs a token.
    #[error("refusing to listen on {0} (not a loopback address) without a token: set --token or PLOTCAST_TOKEN (or --insecure to allow anyone to write)")]
    NoToken(SocketAddr),
    /// `--tls-cert` / `--tls-key` cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An edge needs NATS to get its frames from.
    #[error("--role edge needs --nats (the NATS server the origins publish frames on)")]
    EdgeWithoutNats,
}

impl Default for Config {
    /// The built-in defaults: the flags' `default_value`s (what `--help` shows), read
    /// without the environment.
    fn default() -> Config {
        let command = Config::augment_args(Command::new("defaults")).mut_args(|arg| arg.env(None));
        command
            .try_get_matches_from(["defaults"])
            .and_then(|matches| Config::from_arg_matches(&matches))
            .expect("the built-in defaults parse (tests::defaults_are_the_documented_ones)")
    }
}

impl Config {
    /// The secret signed URLs are made with: `--signing-key`, else the token.
    pub fn signing_secret(&self) -> Option<&str> {
        self.signing_key.as_deref().or(self.token.as_deref())
    }

    /// `https` with a certificate, else `http`: the scheme of the server's URLs.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Point retention in ms.
    pub fn retention_ms(&self) -> i64 {
        i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX)
    }

    /// Defaults for a data directory, without demo and system fonts (the same text on
    /// every machine): what tests start from.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            demo: false,
            system_fonts: false,
            ..Config::default()
        }
    }

    /// Puts the flags and environment of `args` over the TOML file (if any) over the
    /// defaults, and checks the result.
    pub fn resolve(args: ServeArgs) -> Result<Config, ConfigError> {
        let mut config = match &args.file {
            Some(path) => read_file(path)?,
            None => Config::default(),
        };
        config.update_from_arg_matches(&args.given)?;
        // An empty secret (e.g. `PLOTCAST_TOKEN=`) means none, even over the file's.
        config.token = config.token.filter(|token| !token.is_empty());
        config.signing_key = config.signing_key.filter(|key| !key.is_empty());
        check_sources(&config.sources).map_err(ConfigError::Source)?;
        config.nats = config.nats.filter(|url| !url.is_empty());
        let edge = config.role == Role::Edge;
        if edge && config.nats.is_none() {
            return Err(ConfigError::EdgeWithoutNats);
        }
        // An edge takes no writes: it needs no token to listen anywhere.
        let public = !config.addr.ip().is_loopback();
        if public && !edge && config.token.is_none() && !config.insecure {
            return Err(ConfigError::NoToken(config.addr));
        }
        // Read here too, so a bad file stops `plotcast serve` before it says it serves.
        crate::tls::acceptor(config.tls_cert.as_deref(), config.tls_key.as_deref())?;
        Ok(config)
    }
}

fn read_file(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.display().to_string(),
        source,
    })
}

/// A duration such as `30s`, `12h`, `7d` (render-core's syntax), not negative.
fn duration(text: &str) -> Result<Duration, String> {
    render_core::parse_duration_ms(text)
        .and_then(|ms| u64::try_from(ms).ok())
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} is not a duration (e.g. \"30s\", \"7d\")"))
}

/// A NATS subject token for plotcast's subjects: letters, digits, `-` and `_`.
fn nats_prefix(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!("{text:?}: use letters, digits, '-' and '_'"))
    }
}

/// A limit: a count of at least 1 (0 would refuse everything).
fn limit(text: &str) -> Result<usize, String> {
    let count = text.parse().map_err(|e| format!("{text:?}: {e}"))?;
    at_least_one(count)
}

fn at_least_one(count: usize) -> Result<usize, String> {
    match count {
        0 => Err("must be at least 1".to_string()),
        count => Ok(count),
    }
}

/// [`duration`] for a TOML string.
fn duration_in_file<'de, D: Deserializer<'de>>(value: D) -> Result<Duration, D::Error> {
    duration(&String::deserialize(value)?).map_err(serde::de::Error::custom)
}

/// [`nats_prefix`] for a TOML string.
fn nats_prefix_in_file<'de, D: Deserializer<'de>>(value: D) -> Result<String, D::Error> {
    nats_prefix(&String::deserialize(value)?).map_err(serde::de::Error::custom)
}

/// [`limit`] for a TOML integer.
fn limit_in_file<'de, D: Deserializer<'de>>(value: D) -> Result<usize, D::Error> {
    at_least_one(usize::deserialize(value)?).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, PoisonError};

    use clap::{CommandFactory, Parser};

    use super::*;

    /// `plotcast serve`'s flags alone, flattened as in main.rs.
    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    /// Held while a test's variables are set: clap reads the process environment.
    static ENV: Mutex<()> = Mutex::new(());

    /// Runs `run` with the variables `env` set, and no other test parsing meanwhile.
    fn with_env<T>(env: &[(&str, &str)], run: impl FnOnce() -> T) -> T {
        let _serial = ENV.lock().unwrap_or_else(PoisonError::into_inner);
        for (name, value) in env {
            std::env::set_var(name, value);
        }
        let result = run();
        for (name, _) in env {
            std::env::remove_var(name);
        }
        result
    }

    /// Resolves `plotcast serve FLAGS` with `env` set; errors as text.
    fn resolve(env: &[(&str, &str)], flags: &[&str]) -> Result<Config, String> {
        let argv = std::iter::once("serve").chain(flags.iter().copied());
        let parsed = with_env(env, || Serve::try_parse_from(argv));
        Config::resolve(parsed.map_err(|e| e.to_string())?.args).map_err(|e| e.to_string())
    }

    /// Asserts that `result` is an error whose message contains every one of `words`.
    fn assert_refused(result: Result<Config, String>, words: &[&str]) {
        let error = result.err().unwrap_or_default();
        assert!(
            words.iter().all(|w| error.contains(w)),
            "{words:?}: {error}"
        );
    }

    /// A temporary TOML file (removed when the first value is dropped) and its path.
    fn file(text: &str) -> (tempfile::TempPath, String) {
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::fs::write(file.path(), text).expect("writing the test's TOML file");
        let path = file.into_temp_path();
        let shown = path.display().to_string();
        (path, shown)
    }

    /// One option of each kind: duration, number, bool, path, secret.
    type Kinds = (Duration, usize, bool, PathBuf, Option<String>);

    fn kinds(config: Config) -> Kinds {
        let Config {
            retention,
            max_points,
            demo,
            data_dir,
            token,
            ..
        } = config;
        (retention, max_points, demo, data_dir, token)
    }

    fn expect(hours: u64, count: usize, demo: bool, dir: &str, token: Option<&str>) -> Kinds {
        let retention = Duration::from_secs(hours * 3600);
        (
            retention,
            count,
            demo,
            dir.into(),
            token.map(str::to_string),
        )
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file_option_by_option() {
        let (_file, path) = file(
            "retention = \"2d\"\nmax_points = 7\ndemo = false\ndata_dir = \"/file\"\ntoken = \"f\"\n",
        );
        let env = [
            ("PLOTCAST_RETENTION", "3h"),
            ("PLOTCAST_MAX_POINTS", "8"),
            ("PLOTCAST_DEMO", "true"),
            ("PLOTCAST_DATA_DIR", "/env"),
            ("PLOTCAST_TOKEN", "e"),
        ];
        let file_flag = ["--config", path.as_str()];
        let flags = [
            &file_flag[..],
            &["--retention", "4h", "--max-points", "9", "--demo", "false"],
            &["--data-dir", "/flag", "--token", "l"],
        ]
        .concat();
        let layers = |env: &[(&str, &str)], flags: &[&str]| resolve(env, flags).map(kinds);
        let defaults = expect(7 * 24, 100_000, true, "plotcast-data", None);
        assert_eq!(layers(&[], &[]), Ok(defaults));
        let from_file = expect(2 * 24, 7, false, "/file", Some("f"));
        assert_eq!(layers(&[], &file_flag), Ok(from_file));
        let from_env = expect(3, 8, true, "/env", Some("e"));
        assert_eq!(layers(&env, &file_flag), Ok(from_env));
        assert_eq!(
            layers(&env, &flags),
            Ok(expect(4, 9, false, "/flag", Some("l")))
        );
        // Each option on its own: the retention from the environment, the token from a
        // flag, the rest from the file (named by its variable this time).
        let mixed = [("PLOTCAST_CONFIG", path.as_str()), env[0]];
        assert_eq!(
            layers(&mixed, &["--token", "l"]),
            Ok(expect(3, 7, false, "/file", Some("l")))
        );
        // An empty secret means none, even over the file's.
        let no_token = layers(&[("PLOTCAST_TOKEN", "")], &file_flag);
        assert!(no_token.is_ok_and(|(.., token)| token.is_none()));
    }

    #[test]
    fn a_public_address_needs_a_token_or_insecure() {
        let public = ["--addr", "0.0.0.0:80"];
        let refused = resolve(&[], &public);
        assert!(refused.is_err_and(|e| e.contains("refusing to listen on 0.0.0.0:80")));
        let with_token = resolve(&[], &[&public[..], &["--token", "t"]].concat());
        assert!(with_token.is_ok_and(|c| c.signing_secret() == Some("t")));
        let (_file, path) = file("addr = \"0.0.0.0:80\"\ninsecure = true\n");
        let insecure = resolve(&[], &["--config", &path]);
        assert!(insecure.is_ok_and(|c| c.insecure && c.token.is_none()));
        // The environment is above the file, `--insecure` above both.
        let env = [("PLOTCAST_INSECURE", "false")];
        assert!(resolve(&env, &["--config", &path]).is_err());
        let flag = resolve(&env, &["--config", &path, "--insecure"]);
        assert!(flag.is_ok_and(|c| c.insecure));
    }

    #[test]
    fn a_bad_value_is_refused_naming_the_option() {
        let flags = |flags: &[&str]| resolve(&[], flags);
        let env = |name, value| resolve(&[(name, value)], &[]);
        let in_file = |line: &str| resolve(&[], &["--config", &file(line).1]);
        for (result, words) in [
            (
                flags(&["--retention", "soon"]),
                ["--retention", "\"soon\" is not a duration"],
            ),
            (
                flags(&["--max-body", "lots"]),
                ["--max-body", "\"lots\": invalid digit"],
            ),
            (
                env("PLOTCAST_MAX_SERIES", "0"),
                ["--max-series", "must be at least 1"],
            ),
            (env("PLOTCAST_DEMO", "maybe"), ["--demo", "'maybe'"]),
            (
                in_file("keepalive = \"often\""),
                ["keepalive", "\"often\" is not a duration"],
            ),
            (
                in_file("max_viewers = 0"),
                ["max_viewers", "must be at least 1"],
            ),
            (in_file("addr = 8080"), ["addr", "invalid type"]),
        ] {
            assert_refused(result, &words);
        }
    }

    #[test]
    fn an_unknown_file_key_is_refused_naming_it() {
        // `config` is a flag, not a key: a file cannot name another file.
        for key in ["adr", "config", "faults"] {
            let (_file, path) = file(&format!("{key} = \"x\"\n"));
            let unknown = format!("unknown field `{key}`");
            assert_refused(resolve(&[], &["--config", &path]), &[&unknown]);
        }
    }

    #[test]
    fn sources_come_from_flags_the_environment_or_the_file() {
        let flag = resolve(&[], &["--source", "prom=http://127.0.0.1:9090;refresh=10s"]);
        assert!(flag.is_ok_and(|c| c.sources.len() == 1
            && c.sources[0].name == "prom"
            && c.sources[0].refresh == Duration::from_secs(10)));
        let env = [("PLOTCAST_SOURCES", "a=http://a:9090,b=https://b")];
        let names =
            resolve(&env, &[]).map(|c| c.sources.into_iter().map(|s| s.name).collect::<Vec<_>>());
        assert_eq!(names, Ok(vec!["a".to_string(), "b".to_string()]));
        let (_file, path) = file(
            "[[sources]]\nname = \"prom\"\nurl = \"http://127.0.0.1:9090\"\ntimeout = \"2s\"\nheaders = { X-Org = \"1\" }\n",
        );
        let from_file = resolve(&[], &["--config", &path]);
        assert!(
            from_file.is_ok_and(|c| c.sources[0].timeout == Duration::from_secs(2)
                && c.sources[0].headers["X-Org"] == "1")
        );
        let (_bad, path) = file("[[sources]]\nname = \"prom\"\nurl = \"file:///etc\"\n");
        assert_refused(
            resolve(&[], &["--config", &path]),
            &["is not http:// or https://"],
        );
        assert_refused(
            resolve(&[], &["--source", "nourl"]),
            &["--source", "NAME=URL"],
        );
    }

    #[test]
    fn an_edge_needs_nats_but_no_token_and_the_prefix_is_one_subject_token() {
        assert_refused(
            resolve(&[], &["--role", "edge"]),
            &["--role edge needs --nats"],
        );
        let public_edge = [
            "--role",
            "edge",
            "--nats",
            "nats://n:4222",
            "--addr",
            "0.0.0.0:80",
        ];
        let edge = resolve(&[], &public_edge);
        assert!(edge.is_ok_and(|c| c.role == Role::Edge && c.token.is_none()));
        assert_refused(
            resolve(&[], &["--nats-prefix", "a.b"]),
            &["--nats-prefix", "letters"],
        );
        let (_file, path) = file("nats = \"nats://n:4222\"\nrole = \"edge\"\nlease_ttl = \"5s\"\n");
        let from_file = resolve(&[], &["--config", &path]);
        assert!(
            from_file.is_ok_and(|c| c.role == Role::Edge && c.lease_ttl == Duration::from_secs(5))
        );
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let defaults = Config::default();
        assert_eq!(defaults.addr, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(defaults.retention_ms(), 7 * 86_400_000);
        assert_eq!(defaults.max_body, 10 * 1024 * 1024);
        let example = toml::from_str::<Config>(include_str!("../plotcast.example.toml"));
        assert!(example.is_ok_and(|c| c.data_dir == Path::new("/var/lib/plotcast")));
    }

    #[test]
    fn help_lists_every_option_with_its_default_and_hides_secrets() {
        let env = [
            ("PLOTCAST_TOKEN", "s3cret"),
            ("PLOTCAST_SIGNING_KEY", "k3y"),
        ];
        let (command, help) = with_env(&env, || {
            let mut command = Serve::command();
            let help = command.render_long_help().to_string();
            (command, help)
        });
        assert!(!help.contains("s3cret") && !help.contains("k3y"), "{help}");
        for arg in command
            .get_arguments()
            .filter(|arg| arg.get_long().is_some())
        {
            let long = format!("--{}", arg.get_long().unwrap_or_default());
            assert!(help.contains(&long), "{long}: {help}");
            // A flag's implicit `false` is not shown (nor meant to be).
            let takes_value = arg.get_action().takes_values();
            for default in arg.get_default_values().iter().filter(|_| takes_value) {
                let shown = format!("[default: {}]", default.to_string_lossy());
                assert!(help.contains(&shown), "{long} {shown}: {help}");
            }
        }
    }

    #[test]
    fn unusable_tls_files_stop_resolve_naming_them() {
        let error = resolve(
            &[],
            &["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "k.pem"],
        );
        let error = error.expect_err("a missing certificate is refused");
        assert!(error.contains("/nonexistent/cert.pem"), "{error}");
        let error = resolve(&[("PLOTCAST_TLS_KEY", "/nonexistent/key.pem")], &[]);
        let error = error.expect_err("a key without a certificate is refused");
        assert!(error.contains("go together"), "{error}");
    }
}
