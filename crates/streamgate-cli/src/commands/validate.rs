//! `streamgate validate`: the same load and checks a service runs at start, without
//! starting anything, so CI and editors can catch a bad `streamgate.toml` before it is
//! deployed. Exit 0 when valid, 1 with every problem listed otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use streamgate_core::env::Env;
use streamgate_core::{LoadOptions, Role, load};

use super::up::DevSecretsFor;

/// Options of `streamgate validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also require what this role needs to start (its secrets; `platform` drops the
    /// HLS content requirement).
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Up,
    Platform,
    Hls,
    Ingest,
}

impl From<RoleArg> for Role {
    fn from(value: RoleArg) -> Self {
        match value {
            RoleArg::Up => Role::Up,
            RoleArg::Platform => Role::Platform,
            RoleArg::Hls => Role::Hls,
            RoleArg::Ingest => Role::Ingest,
        }
    }
}

/// Runs the check and prints the outcome.
pub fn run(config: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let mut options = LoadOptions {
        config_path: config,
        env: Env::from_process(),
        role: args.role.map(Role::from),
        require_secrets: args.role.is_some(),
    };
    // `up` fills unset secrets from its development secrets: judge them as it would.
    let mut dev_note = None;
    if options.role == Some(Role::Up) {
        let first = load(&LoadOptions {
            require_secrets: false,
            ..options.clone()
        });
        if let Ok(first) = first {
            match super::up::dev_secrets_for_validate(&mut options.env, &first)? {
                DevSecretsFor::NotNeeded => {}
                DevSecretsFor::Filled(path, names) => {
                    dev_note = Some(format!(
                        "{} from {} (development secrets, as `up` uses them; set them in the environment for anything but a trial)",
                        names.join(", "),
                        path.display()
                    ));
                }
                DevSecretsFor::WouldMake(path, names) => {
                    options.require_secrets = false;
                    dev_note = Some(format!(
                        "{} not set: `up` will make development secrets for them in {} (set them in the environment for anything but a trial)",
                        names.join(", "),
                        path.display()
                    ));
                }
            }
        }
    }
    match load(&options) {
        Ok(loaded) => {
            let c = &loaded.config;
            let batches: usize = c.events.iter().map(|e| e.codes.len()).sum();
            let codes: u64 = c
                .events
                .iter()
                .flat_map(|e| &e.codes)
                .map(|b| u64::from(b.count))
                .sum();
            let file = loaded.source.path.display();
            if loaded.source.found {
                println!(
                    "{file} is valid: {} event{}, {batches} code batch{} ({codes} codes), {} HLS edge{}",
                    c.events.len(),
                    plural(c.events.len()),
                    if batches == 1 { "" } else { "es" },
                    c.topology.edges.len(),
                    plural(c.topology.edges.len()),
                );
            } else {
                println!(
                    "no config file at {file}: built-in defaults and the environment are valid"
                );
            }
            for (path, var) in &loaded.env_overrides {
                println!("  {path} is set by {var}");
            }
            if let Some(note) = &dev_note {
                println!("note: {note}");
            }
            for note in loaded.notes.iter().filter(|_| dev_note.is_none()) {
                println!("note: {note}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(report) => {
            eprintln!("{report}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
