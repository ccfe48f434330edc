//! ffmpeg's `-progress` output: blocks of `key=value` lines, one block a second, each
//! ending with `progress=continue` (or `progress=end` as ffmpeg stops). The first block
//! arrives once the encoder's stream is being written, which is how the supervisor
//! knows an encoder is connected.

/// One block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Frames written since ffmpeg started.
    pub frame: u64,
    /// Output frames per second.
    pub fps: Option<f64>,
    /// Frames dropped.
    pub drop_frames: u64,
    /// Frames duplicated.
    pub dup_frames: u64,
    /// Speed relative to real time.
    pub speed: Option<f64>,
    /// Output position in microseconds.
    pub out_time_us: Option<u64>,
    /// Whether this was ffmpeg's last block.
    pub end: bool,
}

/// Collects lines into blocks.
#[derive(Debug, Default)]
pub struct ProgressParser {
    current: Progress,
}

impl ProgressParser {
    /// Takes one line; returns the block it completed, if any. Unknown keys and
    /// unparsable values are skipped: a newer ffmpeg adding fields must not stop health.
    pub fn line(&mut self, line: &str) -> Option<Progress> {
        let (key, value) = line.trim().split_once('=')?;
        let value = value.trim();
        let block = &mut self.current;
        match key {
            "frame" => block.frame = value.parse().unwrap_or(block.frame),
            "fps" => block.fps = value.parse().ok(),
            "drop_frames" => block.drop_frames = value.parse().unwrap_or(block.drop_frames),
            "dup_frames" => block.dup_frames = value.parse().unwrap_or(block.dup_frames),
            "speed" => block.speed = value.trim_end_matches('x').trim().parse().ok(),
            "out_time_us" => block.out_time_us = value.parse().ok(),
            "progress" => {
                let mut done = std::mem::take(&mut self.current);
                done.end = value == "end";
                return Some(done);
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_read_as_ffmpeg_writes_them() {
        let text = "frame=116\nfps=25.03\nstream_0_0_q=-1.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=4560000\nout_time=00:00:04.560000\ndup_frames=2\ndrop_frames=1\nspeed=1.01x\nprogress=continue\nframe=141\nfps=N/A\nspeed=   0x\nprogress=end\n";
        let mut parser = ProgressParser::default();
        let blocks: Vec<Progress> = text.lines().filter_map(|l| parser.line(l)).collect();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].frame, 116);
        assert_eq!(blocks[0].fps, Some(25.03));
        assert_eq!(blocks[0].dup_frames, 2);
        assert_eq!(blocks[0].drop_frames, 1);
        assert_eq!(blocks[0].speed, Some(1.01));
        assert_eq!(blocks[0].out_time_us, Some(4_560_000));
        assert!(!blocks[0].end);
        assert_eq!(blocks[1].frame, 141);
        assert_eq!(blocks[1].fps, None);
        assert_eq!(blocks[1].speed, Some(0.0));
        assert!(blocks[1].end);
    }

    #[test]
    fn garbage_is_skipped() {
        let mut parser = ProgressParser::default();
        assert_eq!(parser.line("no equals sign"), None);
        assert_eq!(parser.line("frame=lots"), None);
        assert_eq!(parser.line(""), None);
        assert_eq!(parser.line("progress=continue").map(|p| p.frame), Some(0));
    }
}
