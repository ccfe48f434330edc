//! The deployment files say what the binary does. Every environment variable that
//! docker-compose.yml gives a StreamGate service is one the loader reads (a setting it
//! overrides, a secret, or a `*_FILE` secret whose file Compose mounts); each service
//! validates with exactly that environment; the Dockerfile runs as a non-root user on
//! the default ports.

use std::path::{Path, PathBuf};

use serde_yaml::Value;
use streamgate_core::Role;
use streamgate_core::env::{CONFIG_VAR, Env};
use streamgate_core::load::load_text;
use streamgate_core::secrets::SecretKind;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `${VAR:-default}` -> `default`; a plain value stays.
fn compose_default(value: &str) -> String {
    match value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .and_then(|v| v.split_once(":-"))
    {
        Some((_, default)) => default.to_owned(),
        None => value.to_owned(),
    }
}

fn secret_var(name: &str) -> Option<SecretKind> {
    SecretKind::ALL.into_iter().find(|k| {
        let var = k.var();
        [
            var.to_owned(),
            format!("{var}_FILE"),
            format!("STREAMGATE_{var}"),
            format!("STREAMGATE_{var}_FILE"),
        ]
        .iter()
        .any(|v| v == name)
    })
}

#[test]
fn compose_gives_each_service_only_variables_the_binary_reads() {
    let compose: Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("docker-compose.yml")).expect("docker-compose.yml"),
    )
    .expect("valid YAML");
    let toml = std::fs::read_to_string(root().join("streamgate.toml")).expect("streamgate.toml");
    let declared_secrets = compose["secrets"].as_mapping().expect("top-level secrets");
    let services = compose["services"].as_mapping().expect("services");
    let mut checked = Vec::new();
    for (name, service) in services {
        let name = name.as_str().expect("service name");
        let Some(command) = service["command"][0].as_str() else {
            continue; // not ours (postgres)
        };
        let role = match command {
            "platform" => Role::Platform,
            "hls" => Role::Hls,
            "up" => Role::Up,
            other => panic!("{name}: unknown command {other}"),
        };
        let mounted: Vec<&str> = service["secrets"]
            .as_sequence()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut env = Env::default();
        let mut secrets_seen = Vec::new();
        for (var, value) in service["environment"].as_mapping().expect("environment") {
            let var = var.as_str().expect("variable name");
            let value = compose_default(value.as_str().unwrap_or_default());
            if let Some(kind) = secret_var(var) {
                let file = value
                    .strip_prefix("/run/secrets/")
                    .unwrap_or_else(|| panic!("{name}: {var} should name a Compose secret"));
                assert!(
                    mounted.contains(&file),
                    "{name}: {var} names {file}, which is not mounted"
                );
                assert!(
                    declared_secrets.contains_key(file),
                    "{name}: secret {file} is not declared"
                );
                secrets_seen.push(kind);
                continue;
            }
            if var == CONFIG_VAR || var == "RUST_LOG" {
                continue;
            }
            // An empty default means "unset" (Env treats it so); try a real value too.
            let value = if value.is_empty() && var == "UPSTREAM_ORIGIN" {
                "http://origin.example.com/".to_owned()
            } else {
                value
            };
            env.set(var, value);
        }
        for kind in role.required_secrets() {
            assert!(secrets_seen.contains(kind), "{name} lacks {}", kind.var());
        }
        // The secrets themselves come from the mounted files at run time (checked
        // above); stand-ins let the rest of the environment be loaded as the service
        // will load it.
        let mut with_secrets = env.clone();
        for kind in role.required_secrets() {
            let value = match kind {
                SecretKind::AdminPasswordHash => {
                    "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y"
                }
                _ => "stand-in-secret-0123456789abcdef0123",
            };
            with_secrets.set(kind.var(), value);
        }
        let loaded = load_text(
            Path::new("streamgate.toml"),
            Some(&toml),
            &with_secrets,
            Some(role),
        )
        .unwrap_or_else(|r| panic!("{name} does not validate with its Compose environment:\n{r}"));
        let read: Vec<&str> = loaded
            .env_overrides
            .iter()
            .map(|(_, v)| v.as_str())
            .collect();
        for (var, _) in env.iter() {
            if secret_var(var).is_some() {
                continue;
            }
            assert!(
                read.contains(&var),
                "{name}: {var} is set in docker-compose.yml but the binary does not read it"
            );
        }
        if role == Role::Hls {
            assert_eq!(loaded.config.hls.listen.port(), 4000);
            assert_eq!(
                loaded.config.hls.platform_url.as_ref().map(|u| u.as_str()),
                Some("http://platform:3000/")
            );
        }
        checked.push(name.to_owned());
    }
    checked.sort();
    assert_eq!(
        checked,
        ["hls-server", "platform"],
        "the seed's two services"
    );
}

#[test]
fn the_dockerfile_runs_unprivileged_on_the_default_ports() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let user = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "runs as {user}"
    );
    assert!(text.lines().any(|l| l.trim() == "EXPOSE 3000 4000"));
    assert!(text.contains("HEALTHCHECK"));
    assert!(text.contains("ENTRYPOINT [\"streamgate\"]"));
    assert!(text.contains("cargo build --release --locked -p streamgate-cli"));
}
