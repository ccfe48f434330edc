//! `streamgate gen-secret` and `streamgate hash-password`: the seed's "Generating
//! Secrets" section without needing OpenSSL, Node.js or Python on the host.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context, bail};

/// bcrypt cost the seed uses; about a quarter of a second per check on one core.
const BCRYPT_COST: u32 = 12;

/// Shortest admin password accepted: bcrypt hides the hash, not a guessable password.
const MIN_PASSWORD_LEN: usize = 8;

/// Prints a new random secret for `PLAYBACK_SIGNING_SECRET` or `INTERNAL_API_KEY`.
pub fn gen_secret() -> anyhow::Result<ExitCode> {
    let secret = streamgate_core::secrets::generate_secret()
        .context("the operating system's random source failed")?;
    println!("{secret}");
    Ok(ExitCode::SUCCESS)
}

/// Reads a password (prompt without echo on a terminal, else stdin) and prints its hash.
pub fn hash_password() -> anyhow::Result<ExitCode> {
    let password = if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password("Admin password: ").context("cannot read the password")?;
        let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
        if first != again {
            bail!("the two passwords differ; nothing was hashed");
        }
        first
    } else {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the password from stdin")?;
        // `echo pw | streamgate hash-password` adds one newline that is not part of it.
        let trimmed = input.strip_suffix('\n').unwrap_or(&input);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    };
    if password.chars().count() < MIN_PASSWORD_LEN {
        bail!("the password is too short: use at least {MIN_PASSWORD_LEN} characters");
    }
    let hash = bcrypt::hash(&password, BCRYPT_COST).context("bcrypt failed")?;
    println!("{hash}");
    if std::io::stdout().is_terminal() {
        eprintln!(
            "Set it as ADMIN_PASSWORD_HASH, quoted ('...') so the shell leaves its $ signs alone, or put it in a file named by ADMIN_PASSWORD_HASH_FILE."
        );
    }
    Ok(ExitCode::SUCCESS)
}
