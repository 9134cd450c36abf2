// The portable build (runtime CPU dispatch, build/portable) against the -march=native build
// (build/Release), run alternately in each round with whisper-cli: the portable-vs-native cases of
// the default run and `npm run bench -- --portable-only`.
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { scriptedModelPath } from "../test/fixtures/models.js";
import { type CaseSpec, runCase, whisperCli } from "./addon-cases.js";
import { type BenchContext, cores, NATIVE_BUILD, ROOT, TMP } from "./context.js";
import { type BenchCase, readLatest, writeOutputs } from "./report.js";

const PORTABLE_BUILD = path.join(ROOT, "build", "portable", "tingwu_whisper.node");

/** The portable build against the native one (run alternately in each round), per model and duration. */
export function portableSpecs(models: { name: string; file: string }[], durations: number[], ctx: BenchContext): CaseSpec[] {
  if (!existsSync(PORTABLE_BUILD)) {
    ctx.notes.push("No portable (runtime CPU dispatch) build in build/portable: portable-vs-native not measured (node scripts/build-native.mjs --variant portable).");
    return [];
  }
  const compareBinary = existsSync(NATIVE_BUILD) ? NATIVE_BUILD : undefined;
  return models.flatMap((m) =>
    durations.map((audio_s): CaseSpec => ({
      kind: "portable-vs-native",
      modelName: m.name,
      modelFile: m.file,
      audio_s,
      threads: cores,
      concurrency: 1,
      flashAttention: true,
      withCli: true,
      variant: "portable",
      binary: PORTABLE_BUILD,
      compareBinary,
    })),
  );
}

/** --portable-only: measures the portable-vs-native cases again (e.g. with more --runs) into the last results. */
export async function portableOnly(ctx: BenchContext): Promise<void> {
  const { runs } = ctx;
  await fs.mkdir(TMP, { recursive: true });
  const results = await readLatest();
  const cli = ctx.noCli ? undefined : whisperCli();
  const models = [
    { name: "tiny (scripted)", file: await scriptedModelPath({ dims: "tiny" }) },
    { name: "base (scripted)", file: await scriptedModelPath({ dims: "base" }) },
  ];
  const cases: BenchCase[] = [];
  for (const spec of portableSpecs(models, [30], ctx)) {
    process.stderr.write(`[bench] ${spec.kind} ${spec.modelName} ${spec.audio_s}s (${runs} runs)\n`);
    cases.push(await runCase(spec, cli, ctx));
  }
  if (cases.length === 0) throw new Error(ctx.notes.join(" "));
  results.cases = [...results.cases.filter((c) => c.kind !== "portable-vs-native"), ...cases];
  results.notes = [
    ...results.notes.filter((n) => !n.startsWith("portable-vs-native measured again")),
    `portable-vs-native measured again on ${new Date().toISOString().slice(0, 10)} with --portable-only (1 warm-up + ${runs} runs); the other cases are from the run above.`,
  ];
  await writeOutputs(results);
}
