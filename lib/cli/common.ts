// Shared CLI plumbing: usage errors, a one-line progress display on stderr.

/** A mistake in the command line; printed with the usage text, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit codes. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * A progress line on stderr: redrawn in place on a terminal, and only at the end otherwise
 * (so logs and pipes don't fill with carriage returns).
 */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #tty: boolean;
  #last = "";
  #lastDraw = 0;

  constructor(stream: NodeJS.WriteStream = process.stderr, enabled = true) {
    this.#stream = stream;
    this.#enabled = enabled;
    this.#tty = enabled && stream.isTTY === true;
  }

  /** Shows `text` (throttled to 10 redraws a second unless `force`). */
  update(text: string, force = false): void {
    this.#last = text;
    if (!this.#tty) return;
    const now = performance.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    // Cut to the terminal's width so the line never wraps (a wrapped line can't be redrawn).
    const width = this.#stream.columns || 100;
    this.#stream.write(`\r${text.slice(0, Math.max(20, width - 1))}\x1b[K`);
  }

  /** Leaves the final text on its own line (or clears the line when `text` is empty). */
  done(text = this.#last): void {
    if (this.#tty) this.#stream.write(text ? `\r${text}\x1b[K\n` : "\r\x1b[K");
    else if (text && this.#enabled) this.#stream.write(`${text}\n`);
    this.#last = "";
  }
}

/** `[=========>          ]  45%` */
export function percentBar(percent: number, width = 30): string {
  const fraction = Math.min(1, Math.max(0, percent / 100));
  const filled = Math.floor(fraction * width);
  const bar = `${"=".repeat(filled)}${filled < width ? `>${" ".repeat(width - filled - 1)}` : ""}`;
  return `[${bar}] ${`${Math.round(fraction * 100)}%`.padStart(4)}`;
}
