#!/usr/bin/env bash
# Makes the demo event's sample content: a 24 s HLS VOD in two renditions (360p and
# 180p) with a master playlist, 4 s MPEG-TS segments, under 4 MB in all. Everything is
# synthesised by ffmpeg (test pattern, a running clock and a tone), so nothing is
# downloaded and the result can be remade on any machine with ffmpeg.
#
#   scripts/make-sample-stream.sh [OUT_DIR]      (default: streams/demo)
#
# Layout, as the HLS server serves it under /streams/demo/:
#   index.m3u8              master playlist (relative URIs)
#   360p/index.m3u8 + seg_NNN.ts
#   180p/index.m3u8 + seg_NNN.ts
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-streams/demo}"
duration=24
segment=4

command -v ffmpeg >/dev/null || { echo "ffmpeg is required (apt-get install ffmpeg)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# One encode, two renditions. Keyframes every segment (-g/-keyint_min at 25 fps and
# -sc_threshold 0) so every segment starts on one and is exactly 4 s long.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=${duration}" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=${duration}" \
  -filter_complex "[0:v]drawtext=text='StreamGate demo %{pts\\:hms}':fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6:x=20:y=20,split=2[v1][v2];[v2]scale=320:180[v2s]" \
  -map "[v1]" -map "[v2s]" -map 1:a -map 1:a \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
  -g $((25 * segment)) -keyint_min $((25 * segment)) -sc_threshold 0 \
  -b:v:0 400k -maxrate:v:0 440k -bufsize:v:0 800k \
  -b:v:1 150k -maxrate:v:1 165k -bufsize:v:1 300k \
  -c:a aac -b:a 64k -ac 2 \
  -f hls -hls_time "$segment" -hls_playlist_type vod -hls_flags independent_segments \
  -hls_segment_filename "$tmp/%v/seg_%03d.ts" \
  -master_pl_name index.m3u8 \
  -var_stream_map "v:0,a:0,name:360p v:1,a:1,name:180p" \
  "$tmp/%v/index.m3u8"

# ffmpeg writes the master next to the variant folders' parent; move it into place.
mkdir -p "$out"
rm -rf "$out/360p" "$out/180p" "$out/index.m3u8"
mv "$tmp/360p" "$tmp/180p" "$out/"
mv "$tmp/index.m3u8" "$out/index.m3u8"
echo "wrote $out ($(du -sh "$out" | cut -f1)):"
cat "$out/index.m3u8"
