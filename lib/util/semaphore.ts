import { AbortError } from "../errors.js";

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A counting semaphore whose waiters can be aborted or rejected all at once (FIFO). */
export class Semaphore {
  #available: number;
  readonly #waiters: Waiter[] = [];

  constructor(readonly permits: number) {
    this.#available = permits;
  }

  /** Calls waiting for a permit. */
  get pending(): number {
    return this.#waiters.length;
  }

  /** Permits in use. */
  get inUse(): number {
    return this.permits - this.#available;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    if (this.#available > 0) {
      this.#available--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next.resolve();
    else this.#available++;
  }

  /** Rejects every waiter (used on dispose). */
  rejectAll(error: unknown): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}
