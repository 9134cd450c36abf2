// The energy gate: 20 ms frames whose RMS is above a threshold count as voice. Decoding is only
// worth it when there is voice, so silence (and a muted microphone) costs no model time.

/** Samples per gate frame (20 ms at 16 kHz). */
export const GATE_FRAME = 320;

export class EnergyGate {
  readonly #threshold: number;
  readonly #carry = new Float32Array(GATE_FRAME);
  #carried = 0;
  #seen = 0;
  #lastVoice = Number.NEGATIVE_INFINITY;

  /** @param threshold RMS (samples in [-1, 1]) above which a frame is voice; 0 treats everything as voice. */
  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  /** Absolute sample index just past the last voiced frame, or -Infinity. */
  get lastVoice(): number {
    return this.#lastVoice;
  }

  /** Feeds samples that follow the previous ones. */
  push(samples: Float32Array): void {
    if (this.#threshold <= 0) {
      this.#seen += samples.length;
      if (samples.length > 0) this.#lastVoice = this.#seen;
      return;
    }
    const limit = this.#threshold * this.#threshold * GATE_FRAME;
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(GATE_FRAME - this.#carried, samples.length - i);
      this.#carry.set(samples.subarray(i, i + take), this.#carried);
      this.#carried += take;
      i += take;
      if (this.#carried < GATE_FRAME) break;
      let energy = 0;
      for (let k = 0; k < GATE_FRAME; k++) energy += this.#carry[k]! * this.#carry[k]!;
      this.#seen += GATE_FRAME;
      this.#carried = 0;
      if (energy > limit) this.#lastVoice = this.#seen;
    }
  }
}
