//! The `plotcast` binary: `serve` runs the server; `render` draws one spec (with
//! optional data) to a PNG or JPEG; `sign` prints a signed URL for a private chart.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use render_core::{Data, Frame, Params, Renderer, Spec};
use server::system_fonts::{fallback_chain, FontFile};
use server::{image_files, Config, ServeArgs};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "plotcast",
    version,
    about = "Live charts streamed as MJPEG over HTTP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve charts as live MJPEG streams, with the HTTP API for specs and data.
    Serve(ServeArgs),
    /// Render one chart spec to a PNG or JPEG file.
    Render {
        /// The chart spec (JSON).
        spec: PathBuf,
        /// Data for the chart (JSON: {"series": [{"metric", "tags", "points": [[t_ms, v]]}]}).
        #[arg(long)]
        data: Option<PathBuf>,
        /// "Now" for the time axis: RFC 3339 time or ms since the epoch. Default: the
        /// latest point in the data, or the current time when there is none.
        #[arg(long)]
        now: Option<String>,
        /// Extra TTF/OTF fonts for the fallback chain (repeatable).
        #[arg(long = "font")]
        fonts: Vec<PathBuf>,
        /// Add the installed fonts that cover characters the chain lacks, as `serve`
        /// does.
        #[arg(long, action = clap::ArgAction::Set, default_value = "true")]
        system_fonts: bool,
        /// Output file; `.png`, `.jpg` or `.jpeg`.
        #[arg(short, long)]
        output: PathBuf,
        /// A variable's value, `NAME=VALUE` (repeatable; others take their default).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// An override, e.g. `theme=dark`, `width=640`, `window=1h` (repeatable).
        #[arg(long = "param", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Print a signed URL for viewing a private chart (no server needed: the URL is
    /// signed with the same secret the server uses).
    Sign {
        /// The chart id.
        id: String,
        /// How long the URL stays valid, e.g. `10m`, `1h`, `30d`.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// Base URL of the server [default: http://ADDR from the configuration].
        #[arg(long)]
        base: Option<String>,
        /// A variable value the URL shows, `NAME=VALUE` (repeatable); the viewer cannot
        /// change it.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// An override the URL shows, e.g. `theme=dark`, `width=640`, `window=1h`
        /// (repeatable); covered by the signature too.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// The secret: `--signing-key`, `--token`, their variables or `--config`, as
        /// for `serve`.
        #[command(flatten)]
        secret: ServeArgs,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Render {
            spec,
            data,
            now,
            fonts,
            system_fonts,
            output,
            vars,
            overrides,
        } => render(
            &spec,
            data.as_deref(),
            now.as_deref(),
            (&fonts, system_fonts),
            &output,
            &picture_params(&vars, &overrides)?,
        ),
        Command::Sign {
            id,
            ttl,
            base,
            vars,
            overrides,
            secret,
        } => sign(
            &id,
            &ttl,
            base.as_deref(),
            &picture_params(&vars, &overrides)?,
            secret,
        ),
    }
}

/// The picture parameters of `--var NAME=VALUE` and `--param KEY=VALUE` flags.
fn picture_params(vars: &[String], overrides: &[String]) -> anyhow::Result<Params> {
    let mut params = Params::default();
    let vars = vars.iter().map(|v| (render_core::VAR_PREFIX, "--var", v));
    let overrides = overrides.iter().map(|o| ("", "--param", o));
    for (prefix, flag, pair) in vars.chain(overrides) {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("{flag} {pair:?}: write KEY=VALUE");
        };
        match params.set(&format!("{prefix}{key}"), value) {
            Ok(true) => {}
            Ok(false) => bail!(
                "{flag} {pair:?}: {key:?} is not a picture parameter (theme, width, height, window, title)"
            ),
            Err(error) => bail!("{flag} {pair:?}: {error}"),
        }
    }
    Ok(params)
}

fn sign(
    id: &str,
    ttl: &str,
    base: Option<&str>,
    params: &Params,
    args: ServeArgs,
) -> anyhow::Result<()> {
    if !render_core::valid_chart_id(id) {
        bail!("{id:?} is not a chart id (1 to 64 of a-z, 0-9, '_', '-')");
    }
    let config = Config::resolve(args)?;
    let Some(secret) = config.signing_secret() else {
        bail!("no secret to sign with: pass --signing-key or --token (or set PLOTCAST_SIGNING_KEY / PLOTCAST_TOKEN) as the server has them");
    };
    let ttl_ms = render_core::parse_duration_ms(ttl)
        .filter(|ms| *ms > 0)
        .with_context(|| format!("--ttl {ttl:?} is not a duration such as 10m or 1h"))?;
    let exp = chrono::Utc::now()
        .timestamp_millis()
        .saturating_add(ttl_ms)
        .div_euclid(1000);
    let (query, _) = server::signing::signed_query(secret, id, exp, params);
    let base = match base {
        Some(base) => base.trim_end_matches('/').to_string(),
        None => format!("{}://{}", config.scheme(), config.addr),
    };
    println!("{base}/charts/{id}.mjpg?{query}");
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info")),
        )
        .init();
    let config = Config::resolve(args)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("listening on {}", config.addr))?;
        let addr = listener.local_addr()?;
        let base = format!("{}://{addr}", config.scheme());
        let edge = config.role == server::Role::Edge;
        let mut banner = if edge {
            let nats = config.nats.as_deref().unwrap_or_default();
            format!("plotcast edge serving on {base}/  (charts' frames from NATS {nats})\n")
        } else {
            format!(
                "plotcast serving on {base}/  (data in {})\neditor:      {base}/\n",
                config.data_dir.display()
            )
        };
        if config.demo && !edge {
            banner.push_str(&format!("demo stream: {base}/charts/demo.mjpg\n"));
        }
        // A closed stdout must not stop the server (println! would panic).
        let mut stdout = std::io::stdout();
        let _ = stdout
            .write_all(banner.as_bytes())
            .and_then(|()| stdout.flush());
        server::run(listener, config, shutdown_signal()).await?;
        Ok(())
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "listening for Ctrl-C failed");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

fn render(
    spec_path: &std::path::Path,
    data_path: Option<&std::path::Path>,
    now: Option<&str>,
    (font_paths, system_fonts): (&[PathBuf], bool),
    output: &std::path::Path,
    params: &Params,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(spec_path)
        .with_context(|| format!("reading {}", spec_path.display()))?;
    let spec =
        Spec::from_json(&text).with_context(|| format!("parsing {}", spec_path.display()))?;
    let spec = render_core::resolve(&spec, params)
        .with_context(|| format!("checking {}", spec_path.display()))?;
    let data = match data_path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Data::from_json(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Data::default(),
    };
    let now = match now {
        Some(text) => parse_time(text)?,
        None => data
            .latest_timestamp()
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis()),
    };
    let mut configured = Vec::new();
    for path in font_paths {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading font {}", path.display()))?;
        configured.push(FontFile {
            path: path.clone(),
            bytes,
        });
    }
    let chain = fallback_chain(configured, system_fonts);
    let renderer =
        Renderer::with_fonts(chain.into_iter().map(|f| f.bytes)).context("registering fonts")?;
    let mut frame = Frame::default();
    renderer.render(&spec, &data, now, &mut frame);
    let extension = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match extension.as_deref() {
        Some("png") => image_files::png(&frame)?,
        Some("jpg" | "jpeg") => image_files::jpeg(&frame, 85)?,
        _ => bail!(
            "{}: the output must end in .png, .jpg or .jpeg",
            output.display()
        ),
    };
    std::fs::write(output, bytes).with_context(|| format!("writing {}", output.display()))
}

fn parse_time(text: &str) -> anyhow::Result<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let time = chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("{text:?} is neither ms since the epoch nor an RFC 3339 time"))?;
    Ok(time.timestamp_millis())
}
