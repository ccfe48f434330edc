//! `streamgate up`: topology A in one command. The platform and the HLS server run in
//! one process on the embedded SQLite database, serving the demo event from
//! `streams/demo` on a fresh clone.
//!
//! Secrets still never live in `streamgate.toml`. When the environment does not set
//! them, `up` makes development secrets and a random admin password once, keeps them
//! in `<data dir>/dev-secrets.env` (mode 0600) and says so loudly: fine for trying
//! StreamGate on a laptop, and never silently used in a deployment that sets its own.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use streamgate_core::EventId;
use streamgate_core::env::Env;
use streamgate_core::secrets::SecretKind;
use streamgate_core::{LoadOptions, Loaded, Role};
use streamgate_hls::{HlsOptions, HlsServer};

use super::{init_logging, load_or_report, runtime, shutdown_signal};

/// Options of `streamgate up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// --prune and --no-watch, as for `streamgate platform`.
    #[command(flatten)]
    platform: super::serve::PlatformArgs,
    /// Listen on this address (both services) instead of the configured one. With
    /// development secrets `up` listens on 127.0.0.1 unless this, the file or the
    /// environment names an address (`--host 0.0.0.0` opens it to the network).
    #[arg(long, value_name = "IP")]
    host: Option<std::net::IpAddr>,
}

/// What `up` says did not happen when the configuration is invalid.
const NOT_STARTED: &str = "nothing was started";

/// The file development secrets are kept in, inside the data directory.
pub const DEV_SECRETS_FILE: &str = "dev-secrets.env";

/// Runs platform and HLS server together until Ctrl-C or SIGTERM.
pub fn up(config: Option<PathBuf>, args: UpArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let mut env = Env::from_process();
    let options = |env: &Env, require_secrets| LoadOptions {
        config_path: config.clone(),
        env: env.clone(),
        role: Some(Role::Up),
        require_secrets,
    };
    let (path, explicit) = streamgate_core::load::config_path(&options(&env, false));
    if !explicit && !path.exists() {
        let here = std::env::current_dir().unwrap_or_default();
        bail!(
            "there is no streamgate.toml in {}: `up` serves the events it declares. Run it in a StreamGate checkout (which has the demo event), pass --config FILE, or write one (every key: `streamgate schema --markdown`)",
            here.display()
        );
    }
    // First without secrets, to learn where the data directory is and which secrets
    // the environment already gives.
    let first = load_or_report(&options(&env, false), NOT_STARTED)?;
    let missing = missing_for_up(&first);
    let mut admin_password = None;
    if !missing.is_empty() {
        let dir = data_dir(&first.config.platform.database_url);
        let dev = DevSecrets::load_or_create(&dir.join(DEV_SECRETS_FILE))?;
        for kind in &missing {
            env.set(kind.var(), dev.get(*kind));
        }
        if missing.contains(&SecretKind::AdminPasswordHash) {
            admin_password = Some(dev.admin_password.clone());
        }
        eprintln!(
            "\n  !! DEVELOPMENT SECRETS: {} came from {} (made once, mode 0600).\n  !! Set them in the environment for anything but a trial run (see the README).\n",
            missing
                .iter()
                .map(|k| k.var())
                .collect::<Vec<_>>()
                .join(", "),
            dev.path.display()
        );
    }
    // Addresses go in as environment overrides, so that the watcher's reloads (which
    // read the file with this environment) keep them instead of reporting a change.
    let (listen, loopback_only) = listen_where(&first, args.host, !missing.is_empty());
    for (var, addr) in listen {
        env.set(var, addr);
    }
    let loaded = load_or_report(&options(&env, true), NOT_STARTED)?;
    runtime()?.block_on(async move {
        let signal = shutdown_signal();
        let platform = super::serve::build_platform(&loaded, env, &args.platform).await?;
        let platform_addr = platform.local_addr();
        let mut reach = platform_addr;
        if reach.ip().is_unspecified() {
            reach.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let ingest_stop = tokio_util::sync::CancellationToken::new();
        let ingest = super::ingest::start_beside(
            &loaded,
            Role::Up,
            platform.state().config.clone(),
            ingest_stop.clone(),
        );
        let hls = HlsServer::build(
            &loaded.config,
            &loaded.secrets,
            HlsOptions {
                platform_url: url::Url::parse(&format!("http://{reach}/")).ok(),
                first_sync_wait: None,
                ingest: ingest.as_ref().map(|i| i.subscribe()),
            },
        )
        .await
        .context("the HLS server did not start")?;
        let hls_addr = hls.local_addr();
        let store = platform.state().store.clone();
        let platform = platform.spawn();
        let hls = hls.spawn();
        banner(
            &loaded,
            platform_addr,
            hls_addr,
            admin_password.as_deref(),
            &store,
        )
        .await;
        if loopback_only {
            eprintln!(
                "  Listening on 127.0.0.1 only: development secrets and a printed admin password are for this machine.
  To open it to the network use --host 0.0.0.0 (or set platform.listen / hls.listen), with your own secrets.
"
            );
        }
        // Either service stopping by itself (a background task failed) stops both.
        tokio::select! {
            () = signal => eprintln!("stopping (in-flight requests get up to 10 s)..."),
            () = platform.stopping() => eprintln!("the platform is stopping; stopping the HLS server too"),
            () = hls.stopping() => eprintln!("the HLS server is stopping; stopping the platform too"),
        }
        // The HLS server first: its waiting revocation request then goes away before
        // the platform drains. Both are stopped even when the first one failed.
        ingest_stop.cancel();
        let hls = hls.stop().await;
        let platform = platform.stop().await;
        if let Some(ingest) = ingest {
            ingest.stopped().await;
        }
        hls.context("the HLS server failed")?;
        platform.context("the platform failed")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Decides the listen addresses: `--host` wins; with development secrets, addresses
/// nobody chose (not in the file, not in the environment) become 127.0.0.1, so a trial
/// does not show the console and its printed password to the local network. Returns
/// the overrides to set (variable, address) and whether loopback was chosen for the
/// operator.
fn listen_where(
    loaded: &Loaded,
    host: Option<std::net::IpAddr>,
    dev_secrets: bool,
) -> (Vec<(&'static str, String)>, bool) {
    const PLATFORM: &str = "STREAMGATE_PLATFORM__LISTEN";
    const HLS: &str = "STREAMGATE_HLS__LISTEN";
    let with_ip = |mut addr: std::net::SocketAddr, ip| {
        addr.set_ip(ip);
        addr.to_string()
    };
    let (platform, hls) = (loaded.config.platform.listen, loaded.config.hls.listen);
    if let Some(ip) = host {
        return (
            vec![(PLATFORM, with_ip(platform, ip)), (HLS, with_ip(hls, ip))],
            false,
        );
    }
    if !dev_secrets {
        return (Vec::new(), false);
    }
    let file: Option<toml::Table> = loaded
        .source
        .found
        .then(|| std::fs::read_to_string(&loaded.source.path).ok())
        .flatten()
        .and_then(|text| text.parse().ok());
    let chosen = |section: &str| {
        let in_file = file
            .as_ref()
            .and_then(|t| t.get(section))
            .and_then(|s| s.get("listen"))
            .is_some();
        let in_env = loaded
            .env_overrides
            .iter()
            .any(|(key, _)| key.to_string() == format!("{section}.listen"));
        in_file || in_env
    };
    let localhost = std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST);
    let mut out = Vec::new();
    if !chosen("platform") && platform.ip().is_unspecified() {
        out.push((PLATFORM, with_ip(platform, localhost)));
    }
    if !chosen("hls") && hls.ip().is_unspecified() {
        out.push((HLS, with_ip(hls, localhost)));
    }
    let loopback = !out.is_empty();
    (out, loopback)
}

/// The directory of the SQLite file (`data/` for the default URL); `data` for
/// PostgreSQL, whose data lives elsewhere.
pub fn data_dir(database_url: &str) -> PathBuf {
    match streamgate_store::db::sqlite_file(database_url) {
        Some(file) => match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        },
        None => PathBuf::from("data"),
    }
}

/// Development secrets kept in the data directory.
struct DevSecrets {
    path: PathBuf,
    signing: String,
    internal: String,
    admin_password: String,
    admin_hash: String,
    ingest: String,
}

impl DevSecrets {
    fn get(&self, kind: SecretKind) -> &str {
        match kind {
            SecretKind::PlaybackSigningSecret | SecretKind::PlaybackSigningSecretPrevious => {
                &self.signing
            }
            SecretKind::InternalApiKey => &self.internal,
            SecretKind::AdminPasswordHash => &self.admin_hash,
            SecretKind::IngestSecret => &self.ingest,
        }
    }

    /// The secrets of an existing file, `None` when there is none yet.
    fn load_existing(path: &Path) -> anyhow::Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn parse(path: &Path, text: &str) -> anyhow::Result<Self> {
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .with_context(|| {
                    format!(
                        "{} has no {name}; delete the file to make new development secrets",
                        path.display()
                    )
                })
        };
        let signing = value("PLAYBACK_SIGNING_SECRET")?;
        // Files made before live ingest have no INGEST_SECRET: one follows from the
        // signing secret, so publish keys stay the same from run to run.
        let ingest = value("INGEST_SECRET").unwrap_or_else(|_| derived_ingest_secret(&signing));
        Ok(Self {
            path: path.to_owned(),
            signing,
            internal: value("INTERNAL_API_KEY")?,
            admin_password: value("ADMIN_PASSWORD")?,
            admin_hash: value("ADMIN_PASSWORD_HASH")?,
            ingest,
        })
    }

    fn create(path: &Path) -> anyhow::Result<Self> {
        let secret = || {
            streamgate_core::secrets::generate_secret()
                .context("the operating system's random source failed")
        };
        let signing = secret()?;
        let internal = secret()?;
        let ingest = secret()?;
        // A password a person can type: 16 base62 characters from the code generator's
        // unbiased alphabet (about 95 bits).
        let admin_password: String = (0..2)
            .map(|_| streamgate_core::AccessCode::generate().as_str()[..8].to_owned())
            .collect();
        let admin_hash = bcrypt::hash(&admin_password, 12).context("bcrypt failed")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot make {}", dir.display()))?;
        }
        let text = format!(
            "# Development secrets made by `streamgate up`. Not for production: set\n\
             # PLAYBACK_SIGNING_SECRET, INTERNAL_API_KEY and ADMIN_PASSWORD_HASH in the\n\
             # environment instead. Delete this file to make new ones.\n\
             PLAYBACK_SIGNING_SECRET={signing}\nINTERNAL_API_KEY={internal}\n\
             ADMIN_PASSWORD={admin_password}\nADMIN_PASSWORD_HASH={admin_hash}\n\
             INGEST_SECRET={ingest}\n"
        );
        write_private(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            signing,
            internal,
            admin_password,
            admin_hash,
            ingest,
        })
    }
}

/// The development ingest secret of a secrets file that predates ingest.
fn derived_ingest_secret(signing: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("streamgate dev ingest secret\n{signing}"));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The secrets `up` needs that the environment does not set (`INGEST_SECRET` only
/// when an event takes a stream).
fn missing_for_up(loaded: &Loaded) -> Vec<SecretKind> {
    let mut needed = Role::Up.required_secrets().to_vec();
    if streamgate_core::ingest::runs_here(&loaded.config, Role::Up) {
        needed.push(SecretKind::IngestSecret);
    }
    needed
        .into_iter()
        .filter(|kind| kind.get(&loaded.secrets).is_none())
        .collect()
}

/// What `validate --role up` should know about development secrets, so that it says
/// what `up` would do instead of calling secrets missing that `up` supplies.
pub enum DevSecretsFor {
    /// The environment sets every secret `up` needs.
    NotNeeded,
    /// These secrets were filled into the environment from the existing file.
    Filled(PathBuf, Vec<&'static str>),
    /// `up` would make these secrets in that file (it does not exist yet).
    WouldMake(PathBuf, Vec<&'static str>),
}

/// Fills `env` with the development secrets `up` would use for what the environment
/// leaves unset, reading (never writing) `<data dir>/dev-secrets.env`.
pub fn dev_secrets_for_validate(env: &mut Env, loaded: &Loaded) -> anyhow::Result<DevSecretsFor> {
    let missing = missing_for_up(loaded);
    if missing.is_empty() {
        return Ok(DevSecretsFor::NotNeeded);
    }
    let path = data_dir(&loaded.config.platform.database_url).join(DEV_SECRETS_FILE);
    let names = missing.iter().map(|k| k.var()).collect();
    Ok(match DevSecrets::load_existing(&path)? {
        Some(dev) => {
            for kind in &missing {
                env.set(kind.var(), dev.get(*kind));
            }
            DevSecretsFor::Filled(path, names)
        }
        None => DevSecretsFor::WouldMake(path, names),
    })
}

/// Creates `path` readable by its owner only, before any secret is written to it.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// What a person needs to try it: where things are, the password, codes to redeem.
async fn banner(
    loaded: &Loaded,
    platform: std::net::SocketAddr,
    hls: std::net::SocketAddr,
    admin_password: Option<&str>,
    store: &streamgate_store::Store,
) {
    let public = loaded
        .config
        .platform
        .public_url
        .as_str()
        .trim_end_matches('/');
    let hls_public = loaded.config.hls.public_url.as_str().trim_end_matches('/');
    let mut out = String::new();
    out.push_str("\nStreamGate is up (topology A: platform and HLS server in one process)\n");
    out.push_str(&format!(
        "  platform     {public}  (listening on {platform})\n"
    ));
    out.push_str(&format!("  API docs     {public}/docs\n"));
    out.push_str(&format!("  console      {public}/admin\n"));
    out.push_str(&format!(
        "  HLS server   {hls_public}  (listening on {hls})\n"
    ));
    match admin_password {
        Some(pw) => out.push_str(&format!(
            "  admin        password {pw}  (development secret)\n"
        )),
        None => out.push_str("  admin        password from ADMIN_PASSWORD_HASH\n"),
    }
    // Where each ingest event's encoder connects (the key stays off the terminal's
    // scrollback: `ingest-url` prints it on demand).
    for event in &loaded.config.events {
        if let Some(ingest) = &event.ingest {
            out.push_str(&format!(
                "  ingest of {:<9} {} on port {}  (publish URL: streamgate ingest-url --event {})\n",
                event.id.as_str(),
                ingest.protocol.as_str().to_uppercase(),
                ingest.port,
                event.id.as_str()
            ));
        }
    }
    let mut first_code = None;
    for event in &loaded.config.events {
        let codes =
            streamgate_store::codes::unused_codes(store, &EventId::from(event.id.as_str()), 5)
                .await
                .unwrap_or_default();
        if codes.is_empty() {
            continue;
        }
        first_code.get_or_insert_with(|| codes[0].clone());
        out.push_str(&format!(
            "  codes of {:<10} {}\n",
            event.id.as_str(),
            codes.join("  ")
        ));
    }
    if let Some(code) = first_code {
        out.push_str(&format!(
            "\nTry it:\n  curl -s {public}/api/tokens/validate -H 'content-type: application/json' -d '{{\"code\":\"{code}\"}}'\n  \
             then play  {hls_public}/streams/<event>/index.m3u8?__token=<playbackToken>  (ffplay, VLC, Safari)\n"
        ));
    }
    eprintln!("{out}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamgate_core::load;

    fn loaded(file: &str, env: &[(&str, &str)]) -> (tempfile::TempDir, Loaded) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("streamgate.toml");
        std::fs::write(&path, file).expect("write");
        let mut vars = Env::default();
        for (k, v) in env {
            vars.set(*k, *v);
        }
        let options = LoadOptions {
            config_path: Some(path),
            env: vars,
            role: None,
            require_secrets: false,
        };
        let loaded = load(&options).unwrap_or_else(|r| panic!("{r}"));
        (dir, loaded)
    }

    const NO_LISTEN: &str = "[hls]\nstream_root = \"streams\"\n";

    #[test]
    fn development_secrets_keep_unchosen_addresses_on_loopback() {
        let (_dir, l) = loaded(NO_LISTEN, &[]);
        let (overrides, loopback) = listen_where(&l, None, true);
        assert!(loopback);
        assert_eq!(
            overrides,
            [
                ("STREAMGATE_PLATFORM__LISTEN", "127.0.0.1:3000".to_owned()),
                ("STREAMGATE_HLS__LISTEN", "127.0.0.1:4000".to_owned())
            ]
        );
        // Real secrets: the defaults stand.
        assert_eq!(listen_where(&l, None, false), (Vec::new(), false));
    }

    #[test]
    fn an_address_named_in_the_file_the_environment_or_the_flag_is_kept() {
        let file = "[platform]\nlisten = \"0.0.0.0:3000\"\n[hls]\nstream_root = \"streams\"\n";
        let (_dir, l) = loaded(file, &[]);
        let (overrides, _) = listen_where(&l, None, true);
        assert_eq!(
            overrides,
            [("STREAMGATE_HLS__LISTEN", "127.0.0.1:4000".to_owned())]
        );

        let (_dir, l) = loaded(NO_LISTEN, &[("STREAMGATE_HLS__LISTEN", "0.0.0.0:4100")]);
        let (overrides, _) = listen_where(&l, None, true);
        assert_eq!(
            overrides,
            [("STREAMGATE_PLATFORM__LISTEN", "127.0.0.1:3000".to_owned())]
        );

        let (_dir, l) = loaded(NO_LISTEN, &[]);
        let (overrides, loopback) = listen_where(&l, Some("0.0.0.0".parse().expect("ip")), true);
        assert!(!loopback);
        assert_eq!(
            overrides,
            [
                ("STREAMGATE_PLATFORM__LISTEN", "0.0.0.0:3000".to_owned()),
                ("STREAMGATE_HLS__LISTEN", "0.0.0.0:4000".to_owned())
            ]
        );
    }
}
