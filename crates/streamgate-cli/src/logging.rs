//! The log writer of every long-running command: each formatted line passes through
//! [`streamgate_core::redact::redact_text`] before it reaches standard error, so no
//! code path (access log, an error that quotes a URL, a dependency's debug line) can put
//! a signed token in the log, whatever it was called or wherever it stood.

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

/// Standard error, one redacted line at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactedStderr;

/// The buffer of one log event; written, redacted, when the formatter drops it.
#[derive(Debug, Default)]
pub struct RedactingLine(Vec<u8>);

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = RedactingLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine::default()
    }
}

impl Write for RedactingLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.0);
        let line = streamgate_core::redact::redact_text(&text);
        // Nowhere to report a failed write to standard error.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}
