// Deterministic mutations of a ggml model file for the loader fuzzer: case i of seed s is always
// the same bytes, so the parent and the child process agree on it without sending 7 MB around.
import type { GgmlTensorInfo } from "../lib/models/ggml/format.js";

export interface Layout {
  /** Offsets of the 11 hparam int32s (after the magic). */
  hparams: number[];
  melHeader: number;
  vocabCount: number;
  vocabEnd: number;
  tensors: { header: number; dataOffset: number; nDims: number }[];
}

export interface Mutation {
  bytes: Uint8Array;
  what: string;
}

/** xorshift32: small, fast, reproducible. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const INTERESTING = [0, -1, 1, 2, 3, 4, 5, 255, 256, 1023, 1500, 3000, 51864, 51865, 51866, 51867, 65535, 0x7fffffff, -0x80000000, 0x40000000, -2];

export function layoutOf(tensors: GgmlTensorInfo[], vocabEnd: number, melHeader: number, vocabCount: number): Layout {
  return {
    hparams: Array.from({ length: 11 }, (_, i) => 4 + i * 4),
    melHeader,
    vocabCount,
    vocabEnd,
    tensors: tensors.map((t) => ({ header: t.dataOffset - headerSize(t), dataOffset: t.dataOffset, nDims: t.shape.length })),
  };
}

function headerSize(t: GgmlTensorInfo): number {
  return 12 + 4 * t.shape.length + new TextEncoder().encode(t.name).length;
}

export function mutate(base: Uint8Array, layout: Layout, seed: number, index: number): Mutation {
  const r = rng(seed * 1_000_003 + index * 7919 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (n: number) => Math.floor(r() * n);
  const kind = int(10);
  const copy = () => base.slice();
  const setI32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer, b.byteOffset).setInt32(off, v, true);
  switch (kind) {
    case 0: {
      // Truncation, mostly inside the header/vocab/tensor tables, sometimes anywhere.
      const limit = r() < 0.7 ? Math.min(base.length, layout.vocabEnd + 4096) : base.length;
      const at = int(limit);
      return { bytes: base.slice(0, at), what: `truncate at ${at}` };
    }
    case 1:
    case 2: {
      const b = copy();
      const i = int(11);
      const v = r() < 0.7 ? pick(INTERESTING) : (int(0x100000000) | 0);
      setI32(b, layout.hparams[i]!, v);
      return { bytes: b, what: `hparam[${i}] = ${v}` };
    }
    case 3: {
      const b = copy();
      const v = r() < 0.7 ? pick(INTERESTING) : (int(0x100000000) | 0);
      const off = r() < 0.5 ? layout.melHeader : layout.melHeader + 4;
      setI32(b, off, v);
      return { bytes: b, what: `mel ${off === layout.melHeader ? "n_mel" : "n_fft"} = ${v}` };
    }
    case 4: {
      const b = copy();
      const v = r() < 0.7 ? pick(INTERESTING) : (int(0x100000000) | 0);
      setI32(b, layout.vocabCount, v);
      return { bytes: b, what: `vocab count = ${v}` };
    }
    case 5:
    case 6: {
      // A field of a tensor header: n_dims, name length, type, a dimension.
      const b = copy();
      const t = pick(layout.tensors);
      const field = int(3 + t.nDims);
      const v = r() < 0.7 ? pick(INTERESTING) : (int(0x100000000) | 0);
      setI32(b, t.header + field * 4, v);
      return { bytes: b, what: `tensor@${t.header} field ${field} = ${v}` };
    }
    case 7: {
      // Random byte flips in the tables (header, mel, vocab, a tensor header).
      const b = copy();
      const n = 1 + int(8);
      const spots: number[] = [];
      for (let k = 0; k < n; k++) {
        const region = r() < 0.5 ? int(layout.vocabEnd) : pick(layout.tensors).header + int(48);
        b[region] = int(256);
        spots.push(region);
      }
      return { bytes: b, what: `flip bytes at ${spots.join(",")}` };
    }
    case 8: {
      // Drop a tensor: splice out its header and data.
      const i = int(layout.tensors.length);
      const t = layout.tensors[i]!;
      const end = i + 1 < layout.tensors.length ? layout.tensors[i + 1]!.header : base.length;
      const b = new Uint8Array(base.length - (end - t.header));
      b.set(base.subarray(0, t.header), 0);
      b.set(base.subarray(end), t.header);
      return { bytes: b, what: `remove tensor #${i}` };
    }
    default: {
      // Duplicate a tensor, or append garbage.
      if (r() < 0.5) {
        const i = int(layout.tensors.length);
        const t = layout.tensors[i]!;
        const end = i + 1 < layout.tensors.length ? layout.tensors[i + 1]!.header : base.length;
        const b = new Uint8Array(base.length + (end - t.header));
        b.set(base, 0);
        b.set(base.subarray(t.header, end), base.length);
        return { bytes: b, what: `duplicate tensor #${i} at the end` };
      }
      const extra = 1 + int(4096);
      const b = new Uint8Array(base.length + extra);
      b.set(base, 0);
      for (let k = base.length; k < b.length; k++) b[k] = int(256);
      return { bytes: b, what: `append ${extra} random bytes` };
    }
  }
}
