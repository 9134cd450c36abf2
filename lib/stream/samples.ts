// The audio of one utterance: appended at the end, cut at the front, addressed by absolute
// sample index (samples since the stream began), in one growable Float32Array.
export class SampleBuffer {
  #data = new Float32Array(16_000 * 4);
  #start = 0; // index in #data of the first kept sample
  #length = 0;
  #origin: number; // absolute index of the first kept sample

  constructor(origin: number) {
    this.#origin = origin;
  }

  /** Absolute index of the first sample kept. */
  get start(): number {
    return this.#origin;
  }

  /** Absolute index one past the last sample. */
  get end(): number {
    return this.#origin + this.#length;
  }

  get length(): number {
    return this.#length;
  }

  append(samples: Float32Array): void {
    const needed = this.#length + samples.length;
    if (this.#start + needed > this.#data.length) {
      if (needed <= this.#data.length) {
        this.#data.copyWithin(0, this.#start, this.#start + this.#length);
      } else {
        const next = new Float32Array(needed * 2);
        next.set(this.#data.subarray(this.#start, this.#start + this.#length));
        this.#data = next;
      }
      this.#start = 0;
    }
    this.#data.set(samples, this.#start + this.#length);
    this.#length += samples.length;
  }

  /** Drops everything before absolute index `at` (clamped to what is kept). */
  dropBefore(at: number): void {
    const drop = Math.min(Math.max(0, at - this.#origin), this.#length);
    this.#start += drop;
    this.#length -= drop;
    this.#origin += drop;
  }

  /** A copy of the kept samples, padded with silence to at least `minLength`. */
  copy(minLength = 0): Float32Array {
    const out = new Float32Array(Math.max(this.#length, minLength));
    out.set(this.#data.subarray(this.#start, this.#start + this.#length));
    return out;
  }
}
