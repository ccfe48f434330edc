#!/usr/bin/env bash
# Vendors hls.js for the viewer portal from the npm registry, at an exact version:
#
#   scripts/vendor-hlsjs.sh VERSION        (e.g. scripts/vendor-hlsjs.sh 1.7.4)
#
# 1. `npm pack hls.js@VERSION` into a scratch directory (npm's own client; no CDN);
# 2. checks the tarball against the registry's `dist.integrity` (an SRI string, usually
#    sha512) by hashing it ourselves, not by trusting npm's check alone;
# 3. copies `package/dist/hls.min.js` and `package/LICENSE` into
#    crates/streamgate-platform/assets/portal/ as hls.min.js and hls.js.LICENSE;
# 4. writes hls.js.VERSION there: the version, the tarball's integrity and the
#    sha256 of hls.min.js.
# The platform embeds those files and serves hls.min.js at /assets/hls.min.js.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'vendor-hlsjs: FAIL: %s\n' "$*" >&2; exit 1; }

version="${1:-}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "give an exact version such as 1.7.4 (got '${version}')"
command -v npm >/dev/null || die "npm is required (apt-get install npm)"
command -v openssl >/dev/null || die "openssl is required"

out=crates/streamgate-platform/assets/portal
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

integrity="$(npm view "hls.js@${version}" dist.integrity)"
[[ "$integrity" =~ ^(sha256|sha384|sha512)-[A-Za-z0-9+/=]+$ ]] || die "no usable dist.integrity for hls.js@${version}: '${integrity}'"
algo="${integrity%%-*}"
want="${integrity#*-}"

tarball="$(cd "$tmp" && npm pack --silent "hls.js@${version}" | tail -n 1)"
[ -f "$tmp/$tarball" ] || die "npm pack did not produce a tarball"
got="$(openssl dgst "-${algo}" -binary "$tmp/$tarball" | openssl base64 -A)"
[ "$got" = "$want" ] || die "integrity mismatch for ${tarball}: registry says ${algo}-${want}, file is ${algo}-${got}"

tar -xzf "$tmp/$tarball" -C "$tmp"
pkg_version="$(node -p "require('$tmp/package/package.json').version" 2>/dev/null || true)"
[ -z "$pkg_version" ] || [ "$pkg_version" = "$version" ] || die "tarball holds version ${pkg_version}, not ${version}"
[ -f "$tmp/package/dist/hls.min.js" ] || die "the tarball has no dist/hls.min.js"
[ -f "$tmp/package/LICENSE" ] || die "the tarball has no LICENSE"

mkdir -p "$out"
cp "$tmp/package/dist/hls.min.js" "$out/hls.min.js"
cp "$tmp/package/LICENSE" "$out/hls.js.LICENSE"
sha="$(sha256sum "$out/hls.min.js" | cut -d' ' -f1)"
cat > "$out/hls.js.VERSION" <<EOF
hls.js ${version}
source: npm pack hls.js@${version} (scripts/vendor-hlsjs.sh ${version})
integrity: ${integrity}
sha256 hls.min.js: ${sha}
EOF
printf 'vendor-hlsjs: hls.js %s -> %s/hls.min.js (%s bytes, sha256 %s)\n' \
  "$version" "$out" "$(wc -c < "$out/hls.min.js" | tr -d ' ')" "$sha"
