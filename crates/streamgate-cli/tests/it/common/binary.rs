//! The `streamgate` binary as a person runs it: spawned in a directory, its log read
//! line by line, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `streamgate` process and the log lines read so far.
pub struct Up {
    pub child: Child,
    pub log: mpsc::Receiver<String>,
    pub lines: Vec<String>,
}

/// Starts `streamgate args...` in `dir` with only `env` (and PATH) set.
pub fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Up {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamgate"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn streamgate");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Up {
        child,
        log,
        lines: Vec::new(),
    }
}

impl Up {
    /// Reads log lines until one contains `needle`; returns it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.lines.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no line containing {needle:?} in:\n{}",
            self.lines.join("\n")
        );
    }

    pub fn field(&self, label: &str) -> String {
        self.lines
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(label))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{}", self.lines.join("\n")))
    }

    pub fn listening(&self, label: &str) -> String {
        let line = self.field(label);
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        format!("http://{addr}")
    }

    pub fn stop(mut self) -> Vec<String> {
        let term = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(term.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "SIGTERM is a clean stop, got {status}");
        self.lines.extend(self.log.try_iter());
        std::mem::take(&mut self.lines)
    }
}

/// A test that fails half-way must not leave its server running: it would keep the
/// ports, the database and (under a shared build lock) the lock's descriptor.
impl Drop for Up {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
