{
  description = "StreamGate: ticketed, token-gated access to a live HLS stream or its recording";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        default = pkgs.callPackage ./nix/package.nix { };
      });

      # `nix run`: topology A (`streamgate up`). In a checkout it uses ./streamgate.toml
      # and ./streams like `cargo run -- up`; elsewhere it uses the packaged demo
      # configuration and stream. Either way the database and development secrets go
      # to ./data.
      apps = forAllSystems (
        pkgs:
        let
          pkg = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
          up = pkgs.writeShellScript "streamgate-up" ''
            if [ -z "''${STREAMGATE_CONFIG:-}" ] && [ ! -e streamgate.toml ]; then
              export STREAMGATE_CONFIG=${pkg}/share/streamgate/streamgate.toml
              export STREAM_ROOT="''${STREAM_ROOT:-${pkg}/share/streamgate/streams}"
            fi
            exec ${pkg}/bin/streamgate up "$@"
          '';
        in
        {
          default = {
            type = "app";
            program = "${up}";
          };
        }
      );

      # `nix develop`: the toolchain and the services the tests and benchmarks use.
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [
            cargo
            rustc
            clippy
            rustfmt
            postgresql # tests: a server on 127.0.0.1:5432
            redis # tests: shared rate limits on 127.0.0.1:6379
            ffmpeg # tests: a real HLS client; scripts/make-sample-stream.sh
            prometheus # promtool checks both services' /metrics
            nginx # scripts/bench-hls.sh reference server
            wrk # scripts/bench-hls.sh load generator
          ];
        };
      });

      nixosModules.default = ./nix/module.nix;
    };
}
