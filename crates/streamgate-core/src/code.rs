//! Access codes: the secret printed on a ticket. Twelve base62 characters from a
//! CSPRNG give about 71 bits, far beyond what rate-limited guessing can reach. Each
//! character is drawn by rejection sampling: a random byte is used only when it is below
//! 248 (the largest multiple of 62 that fits a byte), so every character is equally
//! likely. Taking `byte % 62` directly would make the first eight characters 25% more
//! likely than the rest.

use std::fmt;

use rand::{CryptoRng, RngCore};

/// Characters an access code is made of: digits, upper and lower case letters.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of a generated code.
pub const CODE_LEN: usize = 12;

/// Largest multiple of 62 that fits a byte; bytes at or above it are thrown away.
const REJECT_FROM: u8 = 248;

/// A well-formed access code (generated here, or typed by a viewer and checked).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessCode(String);

/// Why a typed code is refused before any lookup (SPEC: 400 `Access code is required`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Nothing but whitespace.
    #[error("access code is empty")]
    Empty,
    /// Something other than letters and digits, or absurdly long.
    #[error("access code may only contain letters and digits")]
    Malformed,
}

impl AccessCode {
    /// A new code from the thread-local CSPRNG (ChaCha, seeded from the OS).
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rng())
    }

    /// A new code from the given cryptographic RNG; tests pass a seeded one.
    pub fn generate_with<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut out = String::with_capacity(CODE_LEN);
        let mut buf = [0u8; 16];
        while out.len() < CODE_LEN {
            rng.fill_bytes(&mut buf);
            for &byte in &buf {
                if byte < REJECT_FROM && out.len() < CODE_LEN {
                    out.push(char::from(ALPHABET[usize::from(byte % 62)]));
                }
            }
        }
        Self(out)
    }

    /// Checks what a viewer typed: surrounding whitespace is ignored (pasting from an
    /// email adds some), then only letters and digits are allowed.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CodeError::Empty);
        }
        if trimmed.len() > 64 || !trimmed.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CodeError::Malformed);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The code's text, for storage and for showing to the operator who made it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessCode {
    /// Codes are bearer secrets: debug output (and so logs) shows only a prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0.chars().take(3).collect();
        write!(f, "AccessCode({shown}…)")
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn generated_codes_have_the_right_shape_and_differ() {
        let a = AccessCode::generate();
        let b = AccessCode::generate();
        assert_eq!(a.as_str().len(), CODE_LEN);
        assert!(a.as_str().bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a, b);
        assert_eq!(AccessCode::parse(a.as_str()), Ok(a));
    }

    #[test]
    fn every_character_is_equally_likely() {
        // Chi-square over 744,000 characters from a seeded CSPRNG. With 61 degrees of
        // freedom the 99.99th percentile is about 112; `byte % 62` without rejection
        // scores in the thousands here.
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts = [0u64; 62];
        for _ in 0..62_000 {
            for c in AccessCode::generate_with(&mut rng).as_str().bytes() {
                let i = ALPHABET.iter().position(|&a| a == c).expect("alphabet");
                counts[i] += 1;
            }
        }
        let n: u64 = counts.iter().sum();
        let expected = n as f64 / 62.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(
            chi2 < 112.0,
            "chi-square {chi2:.1}: the alphabet is not uniform"
        );
    }

    #[test]
    fn typed_codes_are_trimmed_and_checked() {
        assert_eq!(
            AccessCode::parse("  Ab12Cd34Ef56 \n").map(|c| c.0),
            Ok("Ab12Cd34Ef56".to_owned())
        );
        assert_eq!(AccessCode::parse("   "), Err(CodeError::Empty));
        assert_eq!(AccessCode::parse("abc-def"), Err(CodeError::Malformed));
        assert_eq!(AccessCode::parse("abc' OR 1=1"), Err(CodeError::Malformed));
        assert!(!format!("{:?}", AccessCode::parse("Ab12Cd34Ef56").expect("ok")).contains("Ef56"));
    }
}
