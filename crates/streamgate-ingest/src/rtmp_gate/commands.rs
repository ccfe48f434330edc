//! What an encoder may send before its publish is verified, and the checks on it.
//!
//! ffmpeg's RTMP listener starts recording once it has seen `publish` or `FCPublish`
//! (whatever the stream name), audio or video, or an `onStatus` that claims the
//! stream started. So before the key is verified only the messages an encoder needs to
//! get there pass: protocol control, and the commands `connect` (whose `app` must be
//! `live`), `releaseStream`, `FCPublish`, `createStream`, `_checkbw` and `publish`,
//! the three that name the stream checked against the key. Everything else ends the
//! connection, including AMF3 commands and Abort (ffmpeg ignores Abort, so the gate
//! and ffmpeg would disagree on what follows it).

use streamgate_core::Secret;

use super::amf0::{AmfError, Decoder, Value};
use super::chunks::Message;

/// The application name encoders must connect to (`rtmp://host/live`).
pub const APP: &str = "live";

/// Message type of an AMF0 command.
const AMF0_COMMAND: u8 = 20;

/// Why a connection was refused before publishing; never carries what was presented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A stream name that is not the event's key.
    #[error("wrong stream key")]
    WrongKey,
    /// A `connect` to an application other than `live`.
    #[error("wrong application name")]
    WrongApp,
    /// A message type not allowed before publishing (media, data, AMF3, Abort).
    #[error("message type {0} before publishing")]
    UnexpectedMessage(u8),
    /// A command not allowed before publishing, or before `connect`.
    #[error("command not allowed at this point")]
    UnexpectedCommand,
    /// A command whose arguments are not the AMF0 values expected.
    #[error("malformed command: {0}")]
    Malformed(#[from] AmfError),
    /// A command with a value of the wrong type where the name, id or key should be.
    #[error("malformed command arguments")]
    BadArguments,
}

impl Refusal {
    /// Whether this is a credential refusal (wrong key or app) rather than a protocol one.
    pub fn is_credential(&self) -> bool {
        matches!(self, Refusal::WrongKey | Refusal::WrongApp)
    }
}

/// What to do with a message that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Forward it and keep checking.
    Forward,
    /// It is the verified `publish`: forward it and stop checking.
    Published,
}

/// The checks on one connection's messages up to its publish.
pub struct Policy<'a> {
    key: &'a Secret,
    connected: bool,
}

impl<'a> Policy<'a> {
    /// Checks against `key`, starting before `connect`.
    pub fn new(key: &'a Secret) -> Self {
        Self {
            key,
            connected: false,
        }
    }

    /// Whether `message` may go to ffmpeg.
    pub fn check(&mut self, message: &Message) -> Result<Verdict, Refusal> {
        match message.type_id {
            // Set Chunk Size, Acknowledgement, User Control, Window Ack Size, Peer Bandwidth.
            1 | 3..=6 => Ok(Verdict::Forward),
            AMF0_COMMAND => self.command(&message.body),
            other => Err(Refusal::UnexpectedMessage(other)),
        }
    }

    fn command(&mut self, body: &[u8]) -> Result<Verdict, Refusal> {
        let mut args = Decoder::new(body);
        let name = args.value()?;
        let name = name.as_str_bytes().ok_or(Refusal::BadArguments)?;
        if !matches!(args.value()?, Value::Number(_)) {
            return Err(Refusal::BadArguments);
        }
        if !self.connected {
            if name != b"connect" {
                return Err(Refusal::UnexpectedCommand);
            }
            check_app(&args.value()?)?;
            self.connected = true;
            return Ok(Verdict::Forward);
        }
        match name {
            b"createStream" | b"_checkbw" => Ok(Verdict::Forward),
            b"releaseStream" | b"FCPublish" => {
                self.check_stream_name(&mut args)?;
                Ok(Verdict::Forward)
            }
            b"publish" => {
                self.check_stream_name(&mut args)?;
                Ok(Verdict::Published)
            }
            _ => Err(Refusal::UnexpectedCommand),
        }
    }

    /// The null command object, then the stream name, which (less any `?query`) must
    /// be the key.
    fn check_stream_name(&self, args: &mut Decoder<'_>) -> Result<(), Refusal> {
        if args.value()? != Value::Null {
            return Err(Refusal::BadArguments);
        }
        let name = args.value()?;
        let name = name.as_str_bytes().ok_or(Refusal::BadArguments)?;
        let name = strip_query(name);
        let name = std::str::from_utf8(name).map_err(|_| Refusal::WrongKey)?;
        // An empty key (none configured) must not let an empty stream name through.
        if !name.is_empty() && self.key.matches(name) {
            Ok(())
        } else {
            Err(Refusal::WrongKey)
        }
    }
}

/// The command object of `connect` must name the app `live` (a `?query` or trailing
/// slash allowed, as encoders add them).
fn check_app(command_object: &Value) -> Result<(), Refusal> {
    let app = command_object
        .field(b"app")
        .and_then(Value::as_str_bytes)
        .ok_or(Refusal::WrongApp)?;
    let app = strip_query(app);
    let app = app.strip_suffix(b"/").unwrap_or(app);
    if app == APP.as_bytes() {
        Ok(())
    } else {
        Err(Refusal::WrongApp)
    }
}

fn strip_query(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b'?') {
        Some(at) => &name[..at],
        None => name,
    }
}

#[cfg(test)]
mod tests;
