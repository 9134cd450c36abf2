// Download progress: the throttled meter behind progress events, and one-line text for the CLI.
import type { DownloadProgress } from "./download.js";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** `1536` -> `"1.5 KiB"`; three significant digits from KiB on. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${UNITS[unit]}`;
}

/** `3725` -> `"1h02m05s"`, `65` -> `"1m05s"`, `7` -> `"7s"`; unknown -> `"--"`. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}h${two(m)}m${two(rest)}s`;
  if (m > 0) return `${m}m${two(rest)}s`;
  return `${rest}s`;
}

/** Options of {@link formatProgress}. */
export interface FormatProgressOptions {
  /** Characters inside the bar's brackets. Default `30`; `0` leaves the bar out. */
  width?: number;
}

/**
 * A progress line such as
 * `[=============>                ]  45.2%  1.30 GiB / 2.88 GiB  12.4 MiB/s  ETA 2m10s`.
 * Without a total size it shows bytes and rate only.
 */
export function formatProgress(progress: DownloadProgress, options: FormatProgressOptions = {}): string {
  const width = options.width ?? 30;
  if (!Number.isInteger(width) || width < 0) throw new RangeError(`Expected a non-negative integer for width but received ${String(width)}`);
  const { receivedBytes, totalBytes, bytesPerSecond, etaSeconds } = progress;
  const rate = `${formatBytes(bytesPerSecond)}/s`;
  if (totalBytes === undefined || totalBytes <= 0) return `${formatBytes(receivedBytes)}  ${rate}`;
  const fraction = Math.min(1, Math.max(0, receivedBytes / totalBytes));
  let bar = "";
  if (width > 0) {
    const filled = Math.floor(fraction * width);
    bar = `[${"=".repeat(filled)}${filled < width ? `>${" ".repeat(width - filled - 1)}` : ""}] `;
  }
  const percent = `${(fraction * 100).toFixed(1)}%`.padStart(6);
  return `${bar}${percent}  ${formatBytes(receivedBytes)} / ${formatBytes(totalBytes)}  ${rate}  ETA ${formatDuration(etaSeconds)}`;
}

/** Throttled progress with a rate over a sliding window of a few seconds. */
export class ProgressMeter {
  static readonly WINDOW_MS = 5000;
  readonly #onProgress: ((progress: DownloadProgress) => void) | undefined;
  readonly #intervalMs: number;
  #samples: { t: number; bytes: number }[] = [];
  #lastReport = -Infinity;

  constructor(onProgress: ((progress: DownloadProgress) => void) | undefined, intervalMs: number) {
    this.#onProgress = onProgress;
    this.#intervalMs = intervalMs;
  }

  start(bytes: number, total: number | undefined): void {
    // A new attempt: bytes jump (resume) or restart; the rate starts over.
    this.#samples = [{ t: performance.now(), bytes }];
    this.#emit(bytes, total, true);
  }

  update(bytes: number, total: number | undefined): void {
    const now = performance.now();
    if (now - this.#lastReport < this.#intervalMs) return;
    this.#samples.push({ t: now, bytes });
    while (this.#samples.length > 2 && now - this.#samples[0]!.t > ProgressMeter.WINDOW_MS) this.#samples.shift();
    this.#emit(bytes, total, false);
  }

  finish(bytes: number, total: number | undefined): void {
    this.#samples.push({ t: performance.now(), bytes });
    this.#emit(bytes, total ?? bytes, true);
  }

  #emit(bytes: number, total: number | undefined, force: boolean): void {
    if (!this.#onProgress) return;
    const now = performance.now();
    if (!force && now - this.#lastReport < this.#intervalMs) return;
    this.#lastReport = now;
    const first = this.#samples[0]!;
    const seconds = (now - first.t) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.max(0, (bytes - first.bytes) / seconds) : 0;
    const progress: DownloadProgress = { receivedBytes: bytes, bytesPerSecond };
    if (total !== undefined) {
      progress.totalBytes = total;
      if (bytesPerSecond > 0) progress.etaSeconds = Math.max(0, (total - bytes) / bytesPerSecond);
      else if (bytes >= total) progress.etaSeconds = 0;
    }
    this.#onProgress(progress);
  }
}
