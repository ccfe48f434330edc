//! Layered loading: built-in defaults < `streamgate.toml` < `STREAMGATE_*` variables <
//! the seed's variables, then the schema and rule checks, then the secrets. One call,
//! [`load`], either returns a configuration that every later stage can trust or a
//! [`Report`] of every problem with its location. Nothing half-checked escapes.

mod env_layer;
mod syntax;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Value as FigValue};
use figment::{Figment, Metadata, Profile, Provider};
use serde_json::Value;

use crate::config::{EventConfig, HlsConfig, PlatformConfig, TopologyConfig};
use crate::env::{CONFIG_VAR, Env, PREFIX};
use crate::secrets::{SecretKind, secret_problem};
use crate::validate::{
    Diagnostic, Finding, KeyPath, Location, Report, Rule, RuleInput, SourceMap, check_rules,
    check_schema, checkable_events, secret_keys_in_file,
};
use crate::{Config, Secret, Secrets};
use env_layer::{env_findings_one_by_one, prefixed_layer, seed_layer};
use syntax::parse_document;

/// Which services a process runs; decides which settings and secrets are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Platform and HLS server in one process (topology A, `streamgate up`).
    Up,
    /// The platform alone (topology B and C's central service).
    Platform,
    /// An HLS server alone (topology B's media host, C's edges).
    Hls,
    /// Live ingest alone (`streamgate ingest`), on the box whose files an origin serves.
    Ingest,
}

impl Role {
    /// Secrets the role cannot start without.
    pub fn required_secrets(self) -> &'static [SecretKind] {
        match self {
            Role::Up | Role::Platform => &[
                SecretKind::PlaybackSigningSecret,
                SecretKind::InternalApiKey,
                SecretKind::AdminPasswordHash,
            ],
            Role::Hls => &[
                SecretKind::PlaybackSigningSecret,
                SecretKind::InternalApiKey,
            ],
            Role::Ingest => &[],
        }
    }
}

/// The database engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// The embedded default: `sqlite:` URLs and the seed's Prisma-style `file:` URLs.
    Sqlite,
    /// `postgres://` or `postgresql://`.
    Postgres,
}

impl DatabaseKind {
    /// The engine a URL selects, or `None` for anything else.
    pub fn of(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase())?;
        match scheme.as_str() {
            "sqlite" | "file" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config`; falls back to `STREAMGATE_CONFIG`, then `./streamgate.toml`.
    pub config_path: Option<PathBuf>,
    /// The environment to read overrides and secrets from.
    pub env: Env,
    /// The role being started; `None` checks the file for every role it could serve.
    pub role: Option<Role>,
    /// Whether the role's missing secrets are errors (services starting, `validate
    /// --role`) or notes (tools such as `plan` that never use them).
    pub require_secrets: bool,
}

/// The file a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    /// Path as given or defaulted.
    pub path: PathBuf,
    /// Whether the file existed. A missing default file means "defaults and environment only",
    /// which is how the seed's env-only deployments run.
    pub found: bool,
}

/// A configuration that passed every check.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged, validated settings.
    pub config: Config,
    /// Secrets from the environment.
    pub secrets: Secrets,
    /// Where the file was.
    pub source: ConfigSource,
    /// Which keys were set by which environment variable, for `validate` to show.
    pub env_overrides: Vec<(KeyPath, String)>,
    /// Things worth saying that are not errors (missing secrets when no role was given).
    pub notes: Vec<String>,
}

/// Resolves the config path from the options and environment.
pub fn config_path(options: &LoadOptions) -> (PathBuf, bool) {
    if let Some(p) = &options.config_path {
        return (p.clone(), true);
    }
    if let Some(p) = options.env.get(CONFIG_VAR) {
        return (PathBuf::from(p), true);
    }
    (PathBuf::from("streamgate.toml"), false)
}

/// Loads and checks a configuration (see the module docs for the layering).
pub fn load(options: &LoadOptions) -> Result<Loaded, Report> {
    let (path, explicit) = config_path(options);
    let text = match std::fs::read(&path) {
        Ok(bytes) => match crate::validate::decode_utf8(&path, &bytes) {
            Ok(text) => Some(text.to_owned()),
            Err(diagnostic) => {
                return Err(Report {
                    diagnostics: vec![*diagnostic],
                });
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
        Err(e) => {
            return Err(Report {
                diagnostics: vec![Diagnostic {
                    location: Location::File {
                        path: path.clone(),
                        line: 1,
                        column: 1,
                    },
                    path: KeyPath::root(),
                    message: format!("cannot read the config file: {e}"),
                    rule: Rule::Io,
                    hint: Some(format!("pass --config PATH or set {CONFIG_VAR}")),
                }],
            });
        }
    };
    load_text_with(
        &path,
        text.as_deref(),
        &options.env,
        options.role,
        options.require_secrets,
    )
}

/// Loads a configuration from text already read (`None`: no file, defaults only),
/// requiring the role's secrets when a role is given.
pub fn load_text(
    path: &Path,
    text: Option<&str>,
    env: &Env,
    role: Option<Role>,
) -> Result<Loaded, Report> {
    load_text_with(path, text, env, role, role.is_some())
}

/// [`load_text`] with the secret requirement chosen by the caller. The hot-reload
/// watcher calls this with the new text of the file.
pub fn load_text_with(
    path: &Path,
    text: Option<&str>,
    env: &Env,
    role: Option<Role>,
    require_secrets: bool,
) -> Result<Loaded, Report> {
    let mut report = Report::default();
    let source = ConfigSource {
        path: path.to_owned(),
        found: text.is_some(),
    };

    // 1. Syntax.
    let (document, map) = match text {
        Some(text) => match parse_document(path, text) {
            Ok(parsed) => parsed,
            Err(diagnostic) => {
                return Err(Report {
                    diagnostics: vec![*diagnostic],
                });
            }
        },
        None => (Value::Object(Default::default()), SourceMap::new(path, "")),
    };

    // 2. Secrets written into the file, then the schema.
    let secret_keys = secret_keys_in_file(&document);
    let skip: Vec<KeyPath> = secret_keys.iter().map(|f| f.path.clone()).collect();
    let mut file_findings = secret_keys;
    file_findings.extend(check_schema(&document, &skip));
    let schema_failed = !file_findings.is_empty();
    let mut reported: Vec<KeyPath> = Vec::new();
    for finding in file_findings {
        reported.push(finding.path.clone());
        report
            .diagnostics
            .push(locate(finding, &map, &HashMap::new()));
    }

    // 3. Environment layers.
    let mut env_keys: HashMap<KeyPath, String> = HashMap::new();
    let prefixed = prefixed_layer(env, &mut env_keys, &mut report);
    let file_layer = match FigValue::serialize(&document) {
        Ok(FigValue::Dict(_, dict)) => dict,
        _ => Dict::new(),
    };
    let defaults = match FigValue::serialize(Config::default()) {
        Ok(FigValue::Dict(_, dict)) => dict,
        _ => Dict::new(),
    };
    let base = Figment::from(Layer::new("built-in defaults", defaults))
        .merge(Layer::new("config file", file_layer));
    let figment = base
        .clone()
        .merge(Layer::new("STREAMGATE_* environment", prefixed));
    let seed = seed_layer(env, &figment, &mut env_keys, &mut report);
    let figment = figment.merge(Layer::new("seed environment", seed));

    // 4. Types, then rules, on the merged configuration.
    let config = match figment.extract::<Config>() {
        Ok(config) => Some(config),
        Err(errors) => {
            let findings = type_findings(errors, env, &env_keys, schema_failed);
            for finding in &findings {
                reported.push(finding.path.clone());
            }
            // Deserialisation stops at a table's first bad value, so a second bad
            // variable would hide behind the first: check each one on its own too.
            let mut findings = findings;
            for finding in env_findings_one_by_one(env, &base) {
                if !reported.contains(&finding.path) {
                    reported.push(finding.path.clone());
                    findings.push(finding);
                }
            }
            for finding in findings {
                report.diagnostics.push(locate(finding, &map, &env_keys));
            }
            None
        }
    };
    // Rules run on whatever has the right shape, so one run reports everything it can.
    let partial_platform;
    let partial_hls;
    let partial_topology;
    let partial_events: Vec<(usize, EventConfig)>;
    let input = match &config {
        Some(config) => RuleInput::whole(config),
        None => {
            partial_platform = figment.extract_inner::<PlatformConfig>("platform").ok();
            partial_hls = figment.extract_inner::<HlsConfig>("hls").ok();
            partial_topology = figment.extract_inner::<TopologyConfig>("topology").ok();
            partial_events = checkable_events(&document, &reported);
            RuleInput {
                platform: partial_platform.as_ref(),
                hls: partial_hls.as_ref(),
                topology: partial_topology.as_ref(),
                events: partial_events.iter().map(|(i, e)| (*i, e)).collect(),
            }
        }
    };
    {
        for finding in check_rules(&input, role) {
            if reported.contains(&finding.path) {
                continue;
            }
            if finding.rule == Rule::Secret("secret-in-file") && !map.contains(&finding.path) {
                // A password in DATABASE_URL from the environment is where it belongs.
                continue;
            }
            report.diagnostics.push(locate(finding, &map, &env_keys));
        }
    }

    // 5. Secrets. INGEST_SECRET is needed only where an event takes a stream.
    let ingests = config
        .as_ref()
        .is_some_and(|c| crate::ingest::runs_here(c, role.unwrap_or(Role::Up)));
    let (secrets, notes) = load_secrets(env, role, require_secrets, ingests, &mut report);

    report.sort();
    match config {
        Some(config) if report.is_empty() => {
            let mut env_overrides: Vec<(KeyPath, String)> = env_keys.into_iter().collect();
            env_overrides.sort();
            Ok(Loaded {
                config,
                secrets,
                source,
                env_overrides,
                notes,
            })
        }
        _ => Err(report),
    }
}

/// Findings from the typed extraction: unknown keys and wrong types. File problems are
/// left out when the schema pass already described them; environment problems name
/// their variable and quote its value.
pub(super) fn type_findings(
    errors: figment::Error,
    env: &Env,
    env_keys: &HashMap<KeyPath, String>,
    schema_failed: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for error in errors {
        let mut at = KeyPath::root();
        for key in &error.path {
            at = match key.parse::<usize>() {
                Ok(i) => at.index(i),
                Err(_) => at.key(key),
            };
        }
        let mut finding = Finding::new(
            at.clone(),
            Rule::Schema("type".to_owned()),
            error.kind.to_string(),
        );
        if let figment::error::Kind::UnknownField(field, expected) = &error.kind {
            if error.path.last() != Some(field) {
                finding.path = at.key(field);
            }
            finding.rule = Rule::Schema("additionalProperties".to_owned());
            finding.message = format!("unknown key `{field}`");
            finding.hint = Some(format!("allowed here: {}", expected.join(", ")));
        }
        let from_env = env_keys.get(&finding.path);
        if schema_failed && from_env.is_none() {
            // The schema pass already described what is wrong with the file.
            continue;
        }
        if let Some(var) = from_env {
            finding.rule = Rule::Environment;
            let unknown = matches!(error.kind, figment::error::Kind::UnknownField(..));
            if let Some(raw) = env.get(var).filter(|_| !unknown) {
                finding.message = format!("{raw:?}: {}", finding.message);
            }
        }
        out.push(finding);
    }
    out
}

fn locate(finding: Finding, map: &SourceMap, env_keys: &HashMap<KeyPath, String>) -> Diagnostic {
    let location = match env_keys.get(&finding.path) {
        Some(var) => Location::Env { var: var.clone() },
        // A key the file never mentions (not even its table) is a default.
        None => map
            .locate_written(&finding.path, finding.at_key)
            .unwrap_or(Location::Default),
    };
    Diagnostic {
        location,
        path: finding.path,
        message: finding.message,
        rule: finding.rule,
        hint: finding.hint,
    }
}

fn load_secrets(
    env: &Env,
    role: Option<Role>,
    require: bool,
    ingests: bool,
    report: &mut Report,
) -> (Secrets, Vec<String>) {
    let mut secrets = Secrets::default();
    let mut notes = Vec::new();
    for kind in SecretKind::ALL {
        match read_secret(env, kind) {
            Ok(Some((value, from))) => {
                if let Some(problem) = secret_problem(kind, value.expose()) {
                    report.diagnostics.push(Diagnostic {
                        location: Location::Env { var: from },
                        path: KeyPath::root(),
                        message: problem,
                        rule: Rule::Secret("malformed"),
                        hint: Some(kind.how_to_make().to_owned()),
                    });
                }
                *kind.slot(&mut secrets) = Some(value);
            }
            Ok(None) => {}
            Err(diagnostic) => report.diagnostics.push(*diagnostic),
        }
    }
    let role = role.unwrap_or(Role::Up);
    let mut required = role.required_secrets().to_vec();
    if ingests {
        required.push(SecretKind::IngestSecret);
    }
    for kind in required {
        if kind.get(&secrets).is_some() {
            continue;
        }
        let var = kind.var();
        if require {
            report.diagnostics.push(Diagnostic {
                location: Location::Env {
                    var: var.to_owned(),
                },
                path: KeyPath::root(),
                message: format!("{var} is required but not set"),
                rule: Rule::Secret("missing"),
                hint: Some(format!("set {var} or {var}_FILE; {}", kind.how_to_make())),
            });
        } else {
            notes.push(format!(
                "{var} is not set: `streamgate platform`/`hls` will refuse to start without it ({})",
                kind.how_to_make()
            ));
        }
    }
    (secrets, notes)
}

/// Reads one secret from `X`, `STREAMGATE_X`, `X_FILE` or `STREAMGATE_X_FILE`. Setting
/// more than one is refused: which one wins would be a guess.
fn read_secret(env: &Env, kind: SecretKind) -> Result<Option<(Secret, String)>, Box<Diagnostic>> {
    let var = kind.var();
    let names = [
        var.to_owned(),
        format!("{PREFIX}{var}"),
        format!("{var}_FILE"),
        format!("{PREFIX}{var}_FILE"),
    ];
    let set: Vec<&String> = names.iter().filter(|n| env.get(n).is_some()).collect();
    let [name] = set.as_slice() else {
        if set.is_empty() {
            return Ok(None);
        }
        let list: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
        return Err(Box::new(Diagnostic {
            location: Location::Env {
                var: list.join(", "),
            },
            path: KeyPath::root(),
            message: format!("{var} is set {} ways at once", list.len()),
            rule: Rule::Secret("ambiguous"),
            hint: Some("set exactly one of them".to_owned()),
        }));
    };
    let raw = env.get(name).unwrap_or_default();
    if !name.ends_with("_FILE") {
        return Ok(Some((Secret::new(raw), (*name).clone())));
    }
    match std::fs::read_to_string(raw) {
        // Files written by `echo` or editors end with a newline that is not part of the secret.
        Ok(content) => Ok(Some((
            Secret::new(content.trim_end_matches(['\n', '\r'])),
            (*name).clone(),
        ))),
        Err(e) => Err(Box::new(Diagnostic {
            location: Location::Env {
                var: (*name).clone(),
            },
            path: KeyPath::root(),
            message: format!("cannot read secret file {raw:?}: {e}"),
            rule: Rule::Secret("file"),
            hint: None,
        })),
    }
}

/// A figment provider that names its layer, so type errors say where a value came from.
pub(super) struct Layer {
    name: &'static str,
    dict: Dict,
}

impl Layer {
    pub(super) fn new(name: &'static str, dict: Dict) -> Self {
        Self { name, dict }
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}
