// The bounded queue in front of the model pool. A request is admitted (or refused at once with
// 503) before any decoding, holds its ticket until its response is done, and waits FIFO for one of
// the pool's slots. Admitted requests are never dropped: only their own client disconnect or
// timeout ends them early.
import { Semaphore } from "../util/semaphore.js";

/** Smoothing of the job-duration average behind Retry-After. */
const EWMA_WEIGHT = 0.2;
/** Retry-After before any job has finished. */
const INITIAL_JOB_MS = 10_000;
const MAX_RETRY_AFTER_S = 600;

/** A place in the queue. Release it exactly once when the request is done (release is idempotent). */
export interface Ticket {
  /** Waits for a free slot (FIFO; aborted by `signal`), runs `job`, frees the slot. */
  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Gives the place back. */
  release(): void;
}

export class InferenceQueue {
  /** Jobs that run at once (WHISPER_POOL_SIZE). */
  readonly poolSize: number;
  /** Requests that may wait beyond the running ones (WHISPER_QUEUE_SIZE). */
  readonly queueSize: number;
  readonly #slots: Semaphore;
  #admitted = 0;
  #averageJobMs = INITIAL_JOB_MS;
  #idleWaiters: (() => void)[] = [];

  constructor(poolSize: number, queueSize: number) {
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError(`Expected an integer of at least 1 for poolSize but received ${poolSize}`);
    if (!Number.isInteger(queueSize) || queueSize < 0) throw new RangeError(`Expected a non-negative integer for queueSize but received ${queueSize}`);
    this.poolSize = poolSize;
    this.queueSize = queueSize;
    this.#slots = new Semaphore(poolSize);
  }

  /** Requests admitted at most: running plus waiting. */
  get capacity(): number {
    return this.poolSize + this.queueSize;
  }

  /** Requests holding a ticket. */
  get admitted(): number {
    return this.#admitted;
  }

  /** Jobs running on the model now. */
  get running(): number {
    return this.#slots.inUse;
  }

  /** Admitted requests not running yet (decoding their upload or waiting for a slot). */
  get waiting(): number {
    return this.#admitted - this.#slots.inUse;
  }

  /** Free places. */
  get available(): number {
    return this.capacity - this.#admitted;
  }

  /** A ticket, or undefined when the queue is full. */
  tryAdmit(): Ticket | undefined {
    if (this.#admitted >= this.capacity) return undefined;
    this.#admitted++;
    let released = false;
    return {
      run: (job, signal) => this.#run(job, signal),
      release: () => {
        if (released) return;
        released = true;
        this.#admitted--;
        if (this.#admitted === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      },
    };
  }

  /**
   * A ticket that takes no admission place: background jobs wait FIFO for a model slot alongside
   * admitted requests but never fill the queue that requests are refused from.
   */
  backgroundTicket(): Ticket {
    return { run: (job, signal) => this.#run(job, signal), release: () => {} };
  }

  /** Seconds until a place is likely free: the queue ahead of a newcomer, at the recent job pace. */
  retryAfterSeconds(): number {
    const ahead = Math.max(1, this.#admitted - this.poolSize + 1);
    const seconds = Math.ceil((this.#averageJobMs * ahead) / this.poolSize / 1000);
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, seconds));
  }

  /** Resolves once no ticket is held (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.#admitted === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #run<T>(job: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    await this.#slots.acquire(signal);
    const started = performance.now();
    try {
      return await job();
    } finally {
      this.#slots.release();
      this.#averageJobMs += EWMA_WEIGHT * (performance.now() - started - this.#averageJobMs);
    }
  }
}
