//! [`SourceConfig`]: a data source the operator names (`[[sources]]` in the TOML
//! file, or `--source NAME=URL[;key=value...]`), which specs then refer to by name: a
//! request never names a URL.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The kinds of source there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A Prometheus server (or anything answering its HTTP API: Thanos, VictoriaMetrics,
    /// Mimir), asked `/api/v1/query_range`.
    #[default]
    Prometheus,
}

/// One configured source.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// What specs call it (`"source": "prom"`): 1 to 64 of a-z, A-Z, 0-9, `_`, `-`.
    pub name: String,
    /// What it is. Default `prometheus`.
    #[serde(default)]
    pub kind: SourceKind,
    /// Its base URL, e.g. `http://127.0.0.1:9090` (`/api/v1/...` is appended).
    pub url: String,
    /// Sent as `Authorization: Bearer ...`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// Basic auth user (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// Basic auth password.
    #[serde(default)]
    pub password: Option<String>,
    /// Extra request headers, e.g. `X-Scope-OrgID`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How long one query may take. Default 10s.
    #[serde(default = "default_timeout", deserialize_with = "duration_in_file")]
    pub timeout: Duration,
    /// How often a query a chart shows is asked again (never more often than its
    /// step); a spec's series may set its own. Default 5s.
    #[serde(default = "default_refresh", deserialize_with = "duration_in_file")]
    pub refresh: Duration,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_refresh() -> Duration {
    Duration::from_secs(5)
}

fn duration(text: &str) -> Result<Duration, String> {
    render_core::parse_duration_ms(text)
        .and_then(|ms| u64::try_from(ms).ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} is not a positive duration (e.g. \"5s\")"))
}

fn duration_in_file<'de, D: Deserializer<'de>>(value: D) -> Result<Duration, D::Error> {
    duration(&String::deserialize(value)?).map_err(serde::de::Error::custom)
}

impl SourceConfig {
    /// Parses the flag form `NAME=URL[;key=value...]`, keys as in the file
    /// (`kind`, `bearer_token`, `username`, `password`, `timeout`, `refresh`,
    /// `header.NAME`), e.g. `prom=http://127.0.0.1:9090;timeout=5s`.
    pub fn parse_flag(text: &str) -> Result<SourceConfig, String> {
        let mut parts = text.split(';');
        let first = parts.next().unwrap_or_default();
        let (name, url) = first.split_once('=').ok_or_else(|| {
            format!("{first:?} is not NAME=URL (e.g. prom=http://127.0.0.1:9090)")
        })?;
        let mut source = SourceConfig {
            name: name.to_string(),
            kind: SourceKind::Prometheus,
            url: url.to_string(),
            bearer_token: None,
            username: None,
            password: None,
            headers: BTreeMap::new(),
            timeout: default_timeout(),
            refresh: default_refresh(),
        };
        for part in parts.filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not key=value"))?;
            let text = Some(value.to_string());
            match key {
                "kind" if value == "prometheus" => source.kind = SourceKind::Prometheus,
                "kind" => return Err(format!("kind {value:?} is not one of: prometheus")),
                "bearer_token" => source.bearer_token = text,
                "username" => source.username = text,
                "password" => source.password = text,
                "timeout" => source.timeout = duration(value)?,
                "refresh" => source.refresh = duration(value)?,
                other => match other.strip_prefix("header.") {
                    Some(header) if !header.is_empty() => {
                        source.headers.insert(header.to_string(), value.to_string());
                    }
                    _ => return Err(format!(
                        "unknown key {other:?} (kind, bearer_token, username, password, timeout, refresh, header.NAME)"
                    )),
                },
            }
        }
        source.check()?;
        Ok(source)
    }

    /// Checks the name and the URL.
    pub fn check(&self) -> Result<(), String> {
        if !render_core::valid_source_name(&self.name) {
            return Err(format!(
                "source name {:?} is not 1 to 64 of a-z, A-Z, 0-9, '_', '-'",
                self.name
            ));
        }
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| format!("source {}: url {:?}: {e}", self.name, self.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "source {}: url {:?} is not http:// or https://",
                self.name, self.url
            ));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(format!(
                "source {}: basic auth needs both username and password",
                self.name
            ));
        }
        Ok(())
    }
}

/// Checks every source and that no two share a name.
pub fn check_sources(sources: &[SourceConfig]) -> Result<(), String> {
    for (i, source) in sources.iter().enumerate() {
        source.check()?;
        if sources[..i].iter().any(|s| s.name == source.name) {
            return Err(format!("source {:?} is configured twice", source.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_form_takes_the_files_keys() {
        let source = SourceConfig::parse_flag(
            "prom=http://127.0.0.1:9090;timeout=3s;refresh=15s;bearer_token=t;header.X-Scope-OrgID=a",
        )
        .expect("valid");
        assert_eq!(source.name, "prom");
        assert_eq!(source.url, "http://127.0.0.1:9090");
        assert_eq!(source.timeout, Duration::from_secs(3));
        assert_eq!(source.refresh, Duration::from_secs(15));
        assert_eq!(source.bearer_token.as_deref(), Some("t"));
        assert_eq!(source.headers["X-Scope-OrgID"], "a");
        for (bad, says) in [
            ("prom", "is not NAME=URL"),
            ("p rom=http://a", "is not 1 to 64"),
            ("prom=ftp://a", "is not http"),
            ("prom=http://a;colour=red", "unknown key \"colour\""),
            ("prom=http://a;username=u", "needs both"),
            ("prom=http://a;timeout=0s", "not a positive duration"),
        ] {
            let error = SourceConfig::parse_flag(bad).expect_err(bad);
            assert!(error.contains(says), "{bad}: {error}");
        }
        let twice = [source.clone(), source];
        assert!(check_sources(&twice).is_err_and(|e| e.contains("configured twice")));
    }
}
