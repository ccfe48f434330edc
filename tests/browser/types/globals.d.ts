// What the type check of the browser apps (tsconfig.json beside this folder) needs to
// know beyond the DOM library: the part of hls.js the viewer portal uses (vendored as
// assets/portal/hls.min.js, loaded as a classic script that sets window.Hls), the
// portal's test hook, and Safari's video full screen.

interface HlsLevel {
  height?: number;
  bitrate?: number;
}

interface HlsErrorData {
  fatal: boolean;
  type: string;
  response?: { code?: number };
}

interface HlsLevelLoadedData {
  details?: { live: boolean };
}

interface HlsPlayer {
  readonly levels: HlsLevel[];
  currentLevel: number;
  readonly autoLevelEnabled: boolean;
  readonly manualLevel: number;
  on(event: string, listener: (event: string, data: any) => void): void;
  attachMedia(media: HTMLMediaElement): void;
  loadSource(url: string): void;
  destroy(): void;
  swapAudioCodec(): void;
  recoverMediaError(): void;
}

interface HlsConfig {
  xhrSetup?: (xhr: XMLHttpRequest, url: string) => void;
  enableWorker?: boolean;
  lowLatencyMode?: boolean;
  backBufferLength?: number;
  startPosition?: number;
}

interface HlsStatic {
  new (config?: HlsConfig): HlsPlayer;
  isSupported(): boolean;
  readonly Events: {
    readonly MANIFEST_PARSED: string;
    readonly LEVEL_LOADED: string;
    readonly LEVEL_SWITCHED: string;
    readonly ERROR: string;
  };
  readonly ErrorTypes: {
    readonly NETWORK_ERROR: string;
    readonly MEDIA_ERROR: string;
  };
}

interface Window {
  Hls?: HlsStatic;
  /** The viewer portal's hook for the browser tests (tests/browser/viewer.mjs). */
  __sg?: { readonly state: string; readonly live: boolean; token(): string | null };
}

interface HTMLVideoElement {
  /** Safari on iOS: the video's own full screen (the stage cannot go full screen). */
  webkitEnterFullscreen?: () => void;
}
