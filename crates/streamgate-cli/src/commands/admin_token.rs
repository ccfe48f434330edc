//! `streamgate admin-token create|list|revoke`: API tokens for scripts and generated
//! clients of the admin API (`Authorization: Bearer <token>`). A token is printed once,
//! when made; the database keeps only its hash.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use streamgate_store::admin_tokens;
use streamgate_store::format_ms;

use super::{load_for_tools, open_store, runtime};

/// `streamgate admin-token ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AdminTokenCommand {
    /// Make a token and print it (once).
    Create {
        /// A name for the token, e.g. the script or person using it.
        #[arg(long)]
        name: String,
    },
    /// List tokens (names and dates, never the tokens).
    List,
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

/// Runs an `admin-token` subcommand.
pub fn run(config: Option<PathBuf>, command: AdminTokenCommand) -> anyhow::Result<ExitCode> {
    let loaded = load_for_tools(config)?;
    runtime()?.block_on(async {
        let store = open_store(&loaded).await?;
        let result = match command {
            AdminTokenCommand::Create { name } => {
                let token = admin_tokens::create(&store, &name).await;
                token.map(|token| {
                    println!("{token}");
                    if std::io::stdout().is_terminal() {
                        eprintln!(
                            "Token {name:?} made. It is shown this once; send it as `Authorization: Bearer <token>`."
                        );
                    }
                })
            }
            AdminTokenCommand::List => admin_tokens::list(&store).await.map(|tokens| {
                println!("{:<24} {:<24} {:<24} status", "name", "created", "last used");
                for t in tokens {
                    println!(
                        "{:<24} {:<24} {:<24} {}",
                        t.name,
                        format_ms(t.created_at),
                        t.last_used_at.map(format_ms).unwrap_or_else(|| "never".into()),
                        t.revoked_at
                            .map(|at| format!("revoked {}", format_ms(at)))
                            .unwrap_or_else(|| "active".into())
                    );
                }
            }),
            AdminTokenCommand::Revoke { name } => admin_tokens::revoke(&store, &name)
                .await
                .map(|()| eprintln!("token {name:?} revoked")),
        };
        store.close().await;
        result?;
        Ok(ExitCode::SUCCESS)
    })
}
