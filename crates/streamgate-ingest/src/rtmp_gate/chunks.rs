//! The RTMP chunk stream from encoder to server, parsed far enough to reassemble the
//! messages an encoder sends before it publishes (connect, createStream, publish).
//!
//! The gate must see exactly the messages ffmpeg will see, or a crafted stream could
//! show the gate one thing and ffmpeg another. So this follows ffmpeg's reader
//! (`rtmppkt.c`) where it matters — the extended timestamp of a type-3 chunk follows
//! the header that started the message, Set Chunk Size applies from the next chunk —
//! and refuses what ffmpeg would tolerate but reads differently (a type-1/2/3 chunk
//! with no earlier header, a new header in the middle of a message).

use std::collections::HashMap;

/// The chunk size every RTMP peer starts with (RTMP 1.0, 5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;

/// Chunk streams tracked at once; encoders use three or four, and each may hold a
/// partial message.
const MAX_CHUNK_STREAMS: usize = 64;

/// The 24-bit timestamp value that says a 4-byte extended timestamp follows.
const EXTENDED: u32 = 0x00FF_FFFF;

/// Message type of Set Chunk Size (a protocol control message).
pub const SET_CHUNK_SIZE: u8 = 1;

/// Why the chunk stream cannot be parsed (or must not be, before publishing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A type-1, 2 or 3 chunk on a chunk stream that never had a full header.
    #[error("chunk on chunk stream {0} refers to a header that was never sent")]
    NoPreviousHeader(u32),
    /// A type-0, 1 or 2 header while a message on that chunk stream is unfinished.
    #[error("new message header on chunk stream {0} before its message is complete")]
    HeaderMidMessage(u32),
    /// A message larger than the limit given to the reader.
    #[error("message of {0} bytes is larger than allowed")]
    TooLarge(u32),
    /// More chunk streams than any encoder uses.
    #[error("too many chunk streams")]
    TooManyStreams,
    /// A Set Chunk Size message that is short, zero or has the top bit set.
    #[error("invalid Set Chunk Size message")]
    BadChunkSize,
}

/// One reassembled RTMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The chunk stream it came on.
    pub csid: u32,
    /// Its timestamp, absolute (deltas applied).
    pub timestamp: u32,
    /// Message type: 1 Set Chunk Size, 8 audio, 9 video, 20 AMF0 command, ...
    pub type_id: u8,
    /// The message stream it belongs to (0 for the connection).
    pub stream_id: u32,
    /// The payload.
    pub body: Vec<u8>,
}

/// One parsed chunk: how many bytes it took, and the message it completed, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Bytes of the input the chunk occupied (headers and payload).
    pub len: usize,
    /// The message this chunk completed.
    pub message: Option<Message>,
}

/// What a message header says, kept per chunk stream for the headers that inherit it.
#[derive(Debug, Clone, Copy, Default)]
struct Head {
    /// The 24-bit timestamp field of the header that started the message.
    ts_field: u32,
    timestamp: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

/// A chunk stream's last header and its unfinished message.
#[derive(Debug, Default)]
struct ChunkStream {
    head: Head,
    in_message: bool,
    body: Vec<u8>,
}

/// A chunk header as read, before its payload is known to be there.
struct Header {
    csid: u32,
    head: Head,
    starts_message: bool,
    payload_len: usize,
}

/// Incremental reader of a client's chunk stream: give it the unparsed bytes, it takes
/// one whole chunk at a time and changes nothing until a whole chunk is there.
#[derive(Debug)]
pub struct ChunkReader {
    chunk_size: u32,
    max_message: u32,
    streams: HashMap<u32, ChunkStream>,
}

impl ChunkReader {
    /// A reader at the start of a chunk stream (just after the handshake), refusing
    /// messages longer than `max_message` bytes.
    pub fn new(max_message: u32) -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_message,
            streams: HashMap::new(),
        }
    }

    /// The chunk size now in force for the client's chunks.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Parses the chunk at the start of `buf`: `Ok(None)` when `buf` does not yet hold
    /// all of it (nothing changed; call again with more bytes).
    pub fn next_chunk(&mut self, buf: &[u8]) -> Result<Option<Chunk>, ChunkError> {
        let mut cur = Cursor { buf, pos: 0 };
        let Some(header) = self.read_header(&mut cur)? else {
            return Ok(None);
        };
        let Some(payload) = cur.take(header.payload_len) else {
            return Ok(None);
        };
        let message = self.commit(&header, payload)?;
        Ok(Some(Chunk {
            len: cur.pos,
            message,
        }))
    }

    fn read_header(&self, cur: &mut Cursor<'_>) -> Result<Option<Header>, ChunkError> {
        let Some(first) = cur.u8() else {
            return Ok(None);
        };
        let fmt = first >> 6;
        let csid = match first & 0x3F {
            0 => match cur.u8() {
                Some(b) => 64 + u32::from(b),
                None => return Ok(None),
            },
            1 => match cur.u16_le() {
                Some(v) => 64 + u32::from(v),
                None => return Ok(None),
            },
            n => u32::from(n),
        };
        let prev = self.streams.get(&csid);
        let mid = prev.is_some_and(|s| s.in_message);
        if fmt < 3 && mid {
            return Err(ChunkError::HeaderMidMessage(csid));
        }
        let prev_head = match prev {
            Some(s) => s.head,
            None if fmt > 0 => return Err(ChunkError::NoPreviousHeader(csid)),
            None if self.streams.len() >= MAX_CHUNK_STREAMS => {
                return Err(ChunkError::TooManyStreams);
            }
            None => Head::default(),
        };
        let Some(mut head) = read_message_header(cur, fmt, prev_head) else {
            return Ok(None);
        };
        let ts = if head.ts_field == EXTENDED {
            match cur.u32_be() {
                Some(v) => v,
                None => return Ok(None),
            }
        } else {
            head.ts_field
        };
        head.timestamp = match (mid, fmt) {
            (true, _) => prev_head.timestamp,
            (false, 0) => ts,
            (false, _) => prev_head.timestamp.wrapping_add(ts),
        };
        if head.length > self.max_message {
            return Err(ChunkError::TooLarge(head.length));
        }
        let received = prev.filter(|_| mid).map_or(0, |s| s.body.len());
        let left = (head.length as usize).saturating_sub(received);
        Ok(Some(Header {
            csid,
            head,
            starts_message: !mid,
            payload_len: left.min(self.chunk_size as usize),
        }))
    }

    fn commit(&mut self, header: &Header, payload: &[u8]) -> Result<Option<Message>, ChunkError> {
        let stream = self.streams.entry(header.csid).or_default();
        if header.starts_message {
            stream.head = header.head;
            stream.body.clear();
            stream.in_message = true;
        }
        stream.body.extend_from_slice(payload);
        if stream.body.len() < stream.head.length as usize {
            return Ok(None);
        }
        stream.in_message = false;
        let message = Message {
            csid: header.csid,
            timestamp: stream.head.timestamp,
            type_id: stream.head.type_id,
            stream_id: stream.head.stream_id,
            body: std::mem::take(&mut stream.body),
        };
        if message.type_id == SET_CHUNK_SIZE {
            self.chunk_size = parse_chunk_size(&message.body)?;
        }
        Ok(Some(message))
    }
}

/// The message header of a chunk of type `fmt`, inheriting from `prev`; `None` when
/// the bytes are not all there yet. The timestamp is left to the caller.
fn read_message_header(cur: &mut Cursor<'_>, fmt: u8, prev: Head) -> Option<Head> {
    let mut head = prev;
    match fmt {
        0 => {
            head.ts_field = cur.u24()?;
            head.length = cur.u24()?;
            head.type_id = cur.u8()?;
            head.stream_id = cur.u32_le()?;
        }
        1 => {
            head.ts_field = cur.u24()?;
            head.length = cur.u24()?;
            head.type_id = cur.u8()?;
        }
        2 => head.ts_field = cur.u24()?,
        _ => {}
    }
    Some(head)
}

/// The new chunk size in a Set Chunk Size body: 31 bits, at least 1 (as ffmpeg, which
/// reads it as a signed 32-bit number and refuses anything not positive).
fn parse_chunk_size(body: &[u8]) -> Result<u32, ChunkError> {
    let bytes: [u8; 4] = body
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(ChunkError::BadChunkSize)?;
    match u32::from_be_bytes(bytes) {
        0 => Err(ChunkError::BadChunkSize),
        n if n > 0x7FFF_FFFF => Err(ChunkError::BadChunkSize),
        n => Ok(n),
    }
}

/// A read position in a byte slice whose reads say `None` at the end.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16_le(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Option<u32> {
        self.take(3)
            .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    fn u32_be(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u32_le(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests;
