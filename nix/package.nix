# The `streamgate` binary, built from this repository with the versions pinned in
# Cargo.lock. Also installs the demo configuration and sample stream under
# share/streamgate, which `nix run` falls back to outside a checkout.
{ lib, rustPlatform, makeWrapper, ffmpeg-headless }:

let
  root = ../.;
in
rustPlatform.buildRustPackage {
  pname = "streamgate";
  version = (lib.importTOML ../Cargo.toml).workspace.package.version;

  # Only what the build reads: a checkout's target/ and data/ stay out of the store.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../crates
      ../migrations # embedded into the binary by sqlx::migrate!
      ../streamgate.toml
      ../streams
    ];
  };

  cargoLock.lockFile = ../Cargo.lock;
  # Live ingest runs ffmpeg (SRT and RTMP listeners, x264, AAC): the wrapper puts it
  # on PATH, where `[ingest] ffmpeg = "ffmpeg"` finds it.
  nativeBuildInputs = [ makeWrapper ];
  cargoBuildFlags = [ "-p" "streamgate-cli" ];

  # The test suite needs running PostgreSQL and Redis servers, ffmpeg and promtool
  # (see the README); it runs in CI and in the dev shell, not in the sandbox.
  doCheck = false;

  postInstall = ''
    install -Dm644 streamgate.toml $out/share/streamgate/streamgate.toml
    cp -r streams $out/share/streamgate/streams
    wrapProgram $out/bin/streamgate --suffix PATH : ${lib.makeBinPath [ ffmpeg-headless ]}
  '';

  meta = {
    description = "Ticketed, token-gated access to a live HLS stream or its recording";
    license = lib.licenses.agpl3Only;
    mainProgram = "streamgate";
    platforms = lib.platforms.linux;
  };
}
