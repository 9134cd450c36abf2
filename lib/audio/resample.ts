// Sample-rate conversion for decoded audio (whisper needs 16 kHz).

// Resampling: band-limited interpolation with a Kaiser-windowed sinc, evaluated polyphase.
// Output sample n sits at input position t = n * from / to. With to/from = L/M in lowest terms,
// t's fractional part is one of L phases, so each phase's taps are computed once. When L is
// large (odd rates such as 44101 Hz), a table of MAX_PHASES phases is interpolated linearly.
// The cutoff is ROLLOFF x the lower Nyquist, so downsampling filters out what would alias.

/** Zero crossings of the sinc on each side: filter length vs. transition width. */
const ZERO_CROSSINGS = 16;
/** Kaiser beta 6.5 gives about 70 dB of stopband rejection: far below anything audible to whisper. */
const KAISER_BETA = 6.5;
/** Cutoff as a fraction of the lower Nyquist; the transition band ends just past it. */
const ROLLOFF = 0.9;
const MAX_PHASES = 1024;
const MAX_RATE = 10_000_000;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkRate(rate: unknown, option: string): number {
  if (typeof rate !== "number") throw new TypeError(`Expected a number for ${option} but received ${typeof rate}`);
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE) {
    throw new RangeError(`Expected an integer between 1 and ${MAX_RATE} for ${option} but received ${rate}`);
  }
  return rate;
}

/** A reusable converter between two sample rates; {@link process} fills any slice of the output. */
export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** to/from = up/down in lowest terms. */
  readonly #up: number;
  readonly #down: number;
  readonly #phases: number;
  readonly #taps: number;
  readonly #half: number;
  /** (phases + 1) rows of taps; row p is for fractional position p/phases (the last row is 1.0). */
  readonly #table: Float32Array;

  constructor(fromRate: number, toRate: number) {
    this.fromRate = checkRate(fromRate, "fromRate");
    this.toRate = checkRate(toRate, "toRate");
    const g = gcd(fromRate, toRate);
    this.#up = toRate / g;
    this.#down = fromRate / g;
    const cutoff = ROLLOFF * Math.min(1, toRate / fromRate); // relative to the input Nyquist
    const reach = ZERO_CROSSINGS / cutoff; // filter half-length, in input samples
    this.#half = Math.ceil(reach);
    this.#taps = 2 * this.#half;
    this.#phases = Math.min(this.#up, MAX_PHASES);
    this.#table = new Float32Array((this.#phases + 1) * this.#taps);
    const i0Beta = besselI0(KAISER_BETA);
    const row = new Float64Array(this.#taps);
    for (let p = 0; p <= this.#phases; p++) {
      const frac = p / this.#phases;
      let sum = 0;
      for (let m = 0; m < this.#taps; m++) {
        // Tap m multiplies input k - half + 1 + m, which lies tau input samples before t.
        const tau = frac + this.#half - 1 - m;
        const x = tau / reach;
        let h = 0;
        if (Math.abs(x) < 1) {
          const arg = Math.PI * cutoff * tau;
          const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
          h = cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / i0Beta);
        }
        row[m] = h;
        sum += h;
      }
      // Unit DC gain for every phase, so a constant stays exactly constant.
      for (let m = 0; m < this.#taps; m++) this.#table[p * this.#taps + m] = row[m]! / sum;
    }
  }

  /** Output samples for `inputLength` input samples: ceil(inputLength * to / from). */
  outputLength(inputLength: number): number {
    return Math.ceil((inputLength * this.#up) / this.#down);
  }

  /** Computes output samples [start, end) from the whole `input` (reads past its ends as silence). */
  process(input: Float32Array, output: Float32Array, start = 0, end = output.length): void {
    if (this.#phases === this.#up) processExact(input, output, start, end, this.#up, this.#down, this.#half, this.#taps, this.#table);
    else processInterpolated(input, output, start, end, this.#up, this.#down, this.#half, this.#taps, this.#table, this.#phases);
  }
}

// Free functions with every value in a local: V8 keeps these loops tight.
function processExact(input: Float32Array, output: Float32Array, start: number, end: number, up: number, down: number, half: number, taps: number, table: Float32Array): void {
  const length = input.length;
  for (let n = start; n < end; n++) {
    const position = n * down; // in units of 1/up input samples; exact below 2^53
    const k = Math.floor(position / up);
    const row = (position - k * up) * taps;
    const base = k - half + 1;
    const lo = base < 0 ? -base : 0;
    const hi = Math.min(length - base, taps);
    // Four accumulators: one long dependency chain of adds would be the bottleneck.
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let m = lo;
    for (; m + 3 < hi; m += 4) {
      const t = row + m;
      const i = base + m;
      a0 += table[t]! * input[i]!;
      a1 += table[t + 1]! * input[i + 1]!;
      a2 += table[t + 2]! * input[i + 2]!;
      a3 += table[t + 3]! * input[i + 3]!;
    }
    for (; m < hi; m++) a0 += table[row + m]! * input[base + m]!;
    output[n] = a0 + a1 + (a2 + a3);
  }
}

function processInterpolated(input: Float32Array, output: Float32Array, start: number, end: number, up: number, down: number, half: number, taps: number, table: Float32Array, phases: number): void {
  const length = input.length;
  for (let n = start; n < end; n++) {
    const position = n * down;
    const k = Math.floor(position / up);
    const phase = ((position - k * up) * phases) / up;
    const p = Math.floor(phase);
    const a = phase - p;
    const row = p * taps;
    const base = k - half + 1;
    const lo = base < 0 ? -base : 0;
    const hi = Math.min(length - base, taps);
    let acc = 0;
    let accNext = 0;
    for (let m = lo; m < hi; m++) {
      const x = input[base + m]!;
      acc += table[row + m]! * x;
      accNext += table[row + taps + m]! * x;
    }
    output[n] = acc + a * (accNext - acc);
  }
}

/**
 * Resamples mono audio with a band-limited (Kaiser-windowed sinc) filter: no aliasing when
 * downsampling, no imaging when upsampling. Returns a new array of ceil(n * toRate / fromRate)
 * samples (a copy when the rates are equal).
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(samples instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for samples but received ${samples === null ? "null" : typeof samples}`);
  checkRate(fromRate, "fromRate");
  checkRate(toRate, "toRate");
  if (fromRate === toRate) return samples.slice();
  const resampler = new Resampler(fromRate, toRate);
  const out = new Float32Array(resampler.outputLength(samples.length));
  resampler.process(samples, out);
  return out;
}
