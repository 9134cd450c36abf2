// What the benchmark's modes share: where things are, the machine's cores, and the settings of this
// run (made once by bench/bench.ts from its arguments and passed to each mode).
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const RESULTS = path.join(ROOT, "bench", "results");
export const TMP = path.join(RESULTS, "tmp");
/** The addon built with whisper-cli's flags (-march=native): the addon side of "addon vs whisper-cli". */
export const NATIVE_BUILD = path.join(ROOT, "build", "Release", "tingwu_whisper.node");

export const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;

export interface BenchContext {
  mode: "quick" | "full" | "default";
  /** Measured runs per case, after `warmup` runs that are thrown away. */
  runs: number;
  warmup: number;
  device: string;
  /** --no-cli: no whisper-cli runs (and no build of it). */
  noCli: boolean;
  /** Notes for the report, added to while the run goes on. */
  notes: string[];
}
