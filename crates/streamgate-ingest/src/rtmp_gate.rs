//! Placeholder: the RTMP key gate is being written.
