# NixOS module: one StreamGate service (`streamgate up`, `platform` or `hls`).
#
# `settings` becomes streamgate.toml in the Nix store; secrets never do: they are
# handed over as systemd credentials and read through the *_FILE variables. The
# platform watches its file, but a file in the store only changes by a redeploy,
# which restarts the service with the new file.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.streamgate;
  settingsFormat = pkgs.formats.toml { };
  configFile = settingsFormat.generate "streamgate.toml" cfg.settings;

  # option name -> credential name, and the variable that points at it.
  secrets = {
    playbackSigningSecret = {
      credential = "playback_signing_secret";
      variable = "PLAYBACK_SIGNING_SECRET_FILE";
    };
    internalApiKey = {
      credential = "internal_api_key";
      variable = "INTERNAL_API_KEY_FILE";
    };
    adminPasswordHash = {
      credential = "admin_password_hash";
      variable = "ADMIN_PASSWORD_HASH_FILE";
    };
    playbackSigningSecretPrevious = {
      credential = "playback_signing_secret_previous";
      variable = "PLAYBACK_SIGNING_SECRET_PREVIOUS_FILE";
    };
  };
  givenSecrets = lib.filterAttrs (_: path: path != null) cfg.secretFiles;

  portOf = listen: lib.toInt (lib.last (lib.splitString ":" listen));
  platformPort = portOf (cfg.settings.platform.listen or "0.0.0.0:3000");
  hlsPort = portOf (cfg.settings.hls.listen or "0.0.0.0:4000");

  secretFileOption =
    name: description:
    lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "/.+");
      default = null;
      example = "/run/secrets/streamgate/${secrets.${name}.credential}";
      description = ''
        Absolute path of a file holding the ${description}, read by systemd
        (`LoadCredential`), so it may be readable by root only. Give a string, not a
        Nix path literal, which would copy the secret into the world-readable store.
      '';
    };
in
{
  options.services.streamgate = {
    enable = lib.mkEnableOption "StreamGate, ticketed access to a live HLS stream";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The StreamGate package to run.";
    };

    role = lib.mkOption {
      type = lib.types.enum [
        "up"
        "platform"
        "hls"
      ];
      default = "up";
      description = ''
        What this machine runs: `up` (platform and HLS server in one process,
        topology A), `platform` alone, or `hls` alone (a media host or an edge).
      '';
    };

    settings = lib.mkOption {
      type = settingsFormat.type;
      default = { };
      example = lib.literalExpression ''
        {
          platform.public_url = "https://app.example.com";
          platform.trusted_proxies = [ "127.0.0.1" ];
          hls.public_url = "https://hls.example.com";
          hls.stream_root = "/srv/streams";
          events = [{
            id = "launch";
            title = "Launch night";
            starts_at = "2026-06-01T19:00:00Z";
            ends_at = "2026-06-01T21:00:00Z";
            codes = [{ label = "general"; count = 500; }];
          }];
        }
      '';
      description = ''
        Contents of streamgate.toml (see the README's configuration reference).
        Relative paths are relative to /var/lib/streamgate, so the default database
        is /var/lib/streamgate/data/streamgate.db. Never put secrets or a database
        password here: use `secretFiles` and `environment`.
      '';
    };

    environment = lib.mkOption {
      type = lib.types.attrsOf lib.types.str;
      default = { };
      example = {
        RUST_LOG = "info,sqlx=warn";
        STREAMGATE_HLS__EDGE_ID = "eu-west";
      };
      description = ''
        Extra environment variables of the service (the README's names, e.g.
        `PLATFORM_APP_URL`, `STREAMGATE_<SECTION>__<KEY>`). They end up in the
        world-readable store: no secrets here (see `environmentFile`).
      '';
    };

    secretFiles = {
      playbackSigningSecret = secretFileOption "playbackSigningSecret" "playback signing secret";
      internalApiKey = secretFileOption "internalApiKey" "internal API key";
      adminPasswordHash = secretFileOption "adminPasswordHash" "admin password hash";
      playbackSigningSecretPrevious =
        secretFileOption "playbackSigningSecretPrevious"
          "previous playback signing secret (still accepted during a key rotation)";
    };

    environmentFile = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "/.+");
      default = null;
      example = "/run/secrets/streamgate/env";
      description = ''
        Absolute path of a root-readable file of `NAME=value` lines added to the
        environment (systemd `EnvironmentFile`), for values that must stay out of the
        store, such as a `DATABASE_URL` holding a PostgreSQL password.
      '';
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Open the TCP ports of `platform.listen` (roles `up`, `platform`) and
        `hls.listen` (roles `up`, `hls`).
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    # Proxied segments are cached in the service's cache directory unless set.
    services.streamgate.settings.hls.segment_cache_root = lib.mkDefault "/var/cache/streamgate";

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall (
      lib.optional (cfg.role != "hls") platformPort ++ lib.optional (cfg.role != "platform") hlsPort
    );

    systemd.services.streamgate = {
      description = "StreamGate (${cfg.role})";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [
        "network-online.target"
        "postgresql.service"
      ];

      environment =
        cfg.environment
        // lib.mapAttrs' (
          name: _: lib.nameValuePair secrets.${name}.variable "%d/${secrets.${name}.credential}"
        ) givenSecrets;

      serviceConfig = {
        ExecStart = "${cfg.package}/bin/streamgate --config ${configFile} ${cfg.role}";
        Restart = "on-failure";
        RestartSec = 5;

        EnvironmentFile = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
        LoadCredential = lib.mapAttrsToList (
          name: path: "${secrets.${name}.credential}:${path}"
        ) givenSecrets;

        DynamicUser = true;
        StateDirectory = "streamgate";
        StateDirectoryMode = "0700";
        CacheDirectory = "streamgate";
        WorkingDirectory = "/var/lib/streamgate";

        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectControlGroups = true;
        RestrictAddressFamilies = [
          "AF_INET"
          "AF_INET6"
          "AF_UNIX"
        ];
        RestrictNamespaces = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        SystemCallFilter = [ "@system-service" ];
        SystemCallArchitectures = "native";
        CapabilityBoundingSet = "";
      };
    };
  };
}
