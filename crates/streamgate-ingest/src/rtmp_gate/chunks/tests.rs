//! Hand-built chunk streams: every header type, chunk sizes, extended timestamps,
//! split and interleaved messages, and input that must fail without a panic.

use super::*;

const MAX: u32 = 64 * 1024;

/// Basic header for `fmt` and `csid` in the 1, 2 or 3-byte form.
fn basic(fmt: u8, csid: u32) -> Vec<u8> {
    match csid {
        2..=63 => vec![(fmt << 6) | csid as u8],
        64..=319 => vec![fmt << 6, (csid - 64) as u8],
        _ => {
            let v = (csid - 64) as u16;
            let [lo, hi] = v.to_le_bytes();
            vec![(fmt << 6) | 1, lo, hi]
        }
    }
}

fn be24(v: u32) -> [u8; 3] {
    let [_, a, b, c] = v.to_be_bytes();
    [a, b, c]
}

fn fmt0(csid: u32, ts: u32, len: u32, type_id: u8, sid: u32) -> Vec<u8> {
    let mut out = basic(0, csid);
    out.extend(be24(ts.min(EXTENDED)));
    out.extend(be24(len));
    out.push(type_id);
    out.extend(sid.to_le_bytes());
    if ts >= EXTENDED {
        out.extend(ts.to_be_bytes());
    }
    out
}

fn fmt1(csid: u32, delta: u32, len: u32, type_id: u8) -> Vec<u8> {
    let mut out = basic(1, csid);
    out.extend(be24(delta));
    out.extend(be24(len));
    out.push(type_id);
    out
}

fn fmt2(csid: u32, delta: u32) -> Vec<u8> {
    let mut out = basic(2, csid);
    out.extend(be24(delta));
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Parses all of `buf`, which must end on a chunk boundary, returning the messages.
fn parse_all(reader: &mut ChunkReader, buf: &[u8]) -> Result<Vec<Message>, ChunkError> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let chunk = reader.next_chunk(&buf[pos..])?.expect("whole chunk");
        assert!(chunk.len > 0);
        pos += chunk.len;
        out.extend(chunk.message);
    }
    Ok(out)
}

#[test]
fn a_type_0_chunk_carries_a_whole_small_message() {
    let buf = cat(&[&fmt0(3, 1000, 5, 20, 0), b"hello"]);
    let mut reader = ChunkReader::new(MAX);
    let chunk = reader.next_chunk(&buf).unwrap().unwrap();
    assert_eq!(chunk.len, 1 + 11 + 5);
    let msg = chunk.message.unwrap();
    assert_eq!(
        (msg.csid, msg.timestamp, msg.type_id, msg.stream_id),
        (3, 1000, 20, 0)
    );
    assert_eq!(msg.body, b"hello");
}

#[test]
fn types_1_2_and_3_inherit_from_the_previous_header() {
    let buf = cat(&[
        &fmt0(4, 100, 3, 9, 1),
        b"abc",
        &fmt1(4, 40, 2, 8),
        b"de",
        &fmt2(4, 20),
        b"fg",
        &basic(3, 4),
        b"hi",
    ]);
    let mut reader = ChunkReader::new(MAX);
    let msgs = parse_all(&mut reader, &buf).unwrap();
    let got: Vec<_> = msgs
        .iter()
        .map(|m| (m.timestamp, m.type_id, m.stream_id, m.body.as_slice()))
        .collect();
    assert_eq!(
        got,
        vec![
            (100, 9, 1, &b"abc"[..]),
            (140, 8, 1, &b"de"[..]),
            (160, 8, 1, &b"fg"[..]),
            // A type-3 chunk starting a message repeats the last delta, as in ffmpeg.
            (180, 8, 1, &b"hi"[..]),
        ]
    );
}

#[test]
fn two_and_three_byte_chunk_stream_ids_are_read() {
    for csid in [64, 319, 320, 65599] {
        let buf = cat(&[&fmt0(csid, 0, 1, 20, 0), b"x", &basic(3, csid), b"y"]);
        let mut reader = ChunkReader::new(MAX);
        let msgs = parse_all(&mut reader, &buf).unwrap();
        assert_eq!(msgs.len(), 2, "csid {csid}");
        assert!(msgs.iter().all(|m| m.csid == csid));
    }
}

#[test]
fn a_message_longer_than_the_chunk_size_spans_chunks_until_the_size_changes() {
    let body: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
    let mut reader = ChunkReader::new(MAX);
    let before = cat(&[
        &fmt0(3, 0, 200, 20, 0),
        &body[..128],
        &basic(3, 3),
        &body[128..],
    ]);
    let first = reader.next_chunk(&before).unwrap().unwrap();
    assert_eq!((first.len, first.message), (1 + 11 + 128, None));
    let second = reader.next_chunk(&before[first.len..]).unwrap().unwrap();
    assert_eq!(second.len, 1 + 72);
    assert_eq!(second.message.unwrap().body, body);

    let set = cat(&[&fmt0(2, 0, 4, SET_CHUNK_SIZE, 0), &4096u32.to_be_bytes()]);
    assert_eq!(parse_all(&mut reader, &set).unwrap().len(), 1);
    assert_eq!(reader.chunk_size(), 4096);
    let after = cat(&[&fmt0(3, 0, 200, 20, 0), &body]);
    let chunk = reader.next_chunk(&after).unwrap().unwrap();
    assert_eq!(chunk.len, after.len());
    assert_eq!(chunk.message.unwrap().body, body);
}

#[test]
fn extended_timestamps_are_read_on_the_header_and_on_type_3_continuations() {
    let ts = 0x0100_0000;
    let body = [7u8; 200];
    let buf = cat(&[
        &fmt0(5, ts, 200, 9, 1),
        &body[..128],
        &basic(3, 5),
        &ts.to_be_bytes(),
        &body[128..],
    ]);
    let mut reader = ChunkReader::new(MAX);
    let first = reader.next_chunk(&buf).unwrap().unwrap();
    assert_eq!(first.len, 1 + 11 + 4 + 128);
    let second = reader.next_chunk(&buf[first.len..]).unwrap().unwrap();
    assert_eq!(second.len, 1 + 4 + 72);
    let msg = second.message.unwrap();
    assert_eq!((msg.timestamp, msg.body.len()), (ts, 200));

    // A type-3 chunk starting the next message also carries the extended field.
    let next = cat(&[&basic(3, 5), &ts.to_be_bytes(), &body[..128]]);
    let chunk = reader.next_chunk(&next).unwrap().unwrap();
    assert_eq!(chunk.len, 1 + 4 + 128);
}

#[test]
fn a_command_split_across_chunks_interleaves_with_other_chunk_streams() {
    let command = vec![b'c'; 150];
    let buf = cat(&[
        &fmt0(3, 0, 150, 20, 0),
        &command[..128],
        &fmt0(4, 0, 2, 8, 1),
        b"au",
        &basic(3, 3),
        &command[128..],
    ]);
    let mut reader = ChunkReader::new(MAX);
    let msgs = parse_all(&mut reader, &buf).unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!((msgs[0].csid, msgs[0].body.as_slice()), (4, &b"au"[..]));
    assert_eq!((msgs[1].csid, msgs[1].type_id), (3, 20));
    assert_eq!(msgs[1].body, command);
}

#[test]
fn every_truncation_asks_for_more_and_changes_nothing() {
    let buf = cat(&[&fmt0(3, EXTENDED + 5, 140, 20, 0), &[1u8; 128]]);
    let mut reader = ChunkReader::new(MAX);
    for end in 0..buf.len() {
        assert_eq!(reader.next_chunk(&buf[..end]), Ok(None), "prefix {end}");
    }
    let chunk = reader.next_chunk(&buf).unwrap().unwrap();
    assert_eq!((chunk.len, chunk.message), (buf.len(), None));
}

#[test]
fn chunks_without_a_header_to_inherit_are_refused() {
    for fmt in 1..=3 {
        let buf = cat(&[&basic(fmt, 3), &[0u8; 16]]);
        let mut reader = ChunkReader::new(MAX);
        assert_eq!(
            reader.next_chunk(&buf),
            Err(ChunkError::NoPreviousHeader(3))
        );
    }
}

#[test]
fn a_new_header_in_the_middle_of_a_message_is_refused() {
    let buf = cat(&[
        &fmt0(3, 0, 200, 20, 0),
        &[0u8; 128],
        &fmt0(3, 0, 200, 20, 0),
    ]);
    let mut reader = ChunkReader::new(MAX);
    assert_eq!(
        parse_all(&mut reader, &buf),
        Err(ChunkError::HeaderMidMessage(3))
    );
}

#[test]
fn oversized_messages_and_bad_chunk_sizes_are_refused() {
    let mut reader = ChunkReader::new(MAX);
    assert_eq!(
        reader.next_chunk(&fmt0(3, 0, MAX + 1, 20, 0)),
        Err(ChunkError::TooLarge(MAX + 1))
    );
    for size in [0u32, 0x8000_0000] {
        let set = cat(&[&fmt0(2, 0, 4, SET_CHUNK_SIZE, 0), &size.to_be_bytes()]);
        let mut reader = ChunkReader::new(MAX);
        assert_eq!(reader.next_chunk(&set), Err(ChunkError::BadChunkSize));
    }
    let short = cat(&[&fmt0(2, 0, 2, SET_CHUNK_SIZE, 0), &[0, 1]]);
    assert_eq!(
        ChunkReader::new(MAX).next_chunk(&short),
        Err(ChunkError::BadChunkSize)
    );
}

#[test]
fn too_many_chunk_streams_are_refused() {
    let mut buf = Vec::new();
    for csid in 3..3 + MAX_CHUNK_STREAMS as u32 + 1 {
        buf.extend(fmt0(csid, 0, 5, 20, 0));
        buf.extend([0u8; 5]);
    }
    let mut reader = ChunkReader::new(MAX);
    assert_eq!(
        parse_all(&mut reader, &buf),
        Err(ChunkError::TooManyStreams)
    );
}

#[test]
fn garbage_ends_in_an_error_or_a_request_for_more_never_a_panic() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..2000 {
        let len = (seed % 300) as usize;
        let mut buf = Vec::with_capacity(len);
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            buf.push(seed as u8);
        }
        let mut reader = ChunkReader::new(MAX);
        let mut pos = 0;
        while let Ok(Some(chunk)) = reader.next_chunk(&buf[pos..]) {
            assert!(chunk.len > 0 && pos + chunk.len <= buf.len());
            pos += chunk.len;
        }
    }
}
