// The default run of `npm run bench` (-- --quick | --full | --model file.bin ...): tingwu-whisper
// side by side with whisper-cli per model and duration, then flash attention off, threads,
// concurrency on one model, portable vs native and HTTP (not in --quick).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runtimeInfo } from "../lib/index.js";
import { scriptedModelPath } from "../test/fixtures/models.js";
import { type CaseSpec, runCase, whisperCli } from "./addon-cases.js";
import { type BenchContext, cores, ROOT, TMP } from "./context.js";
import { httpCase } from "./http-case.js";
import { portableSpecs } from "./portable.js";
import { type BenchCase, type BenchResults, writeOutputs } from "./report.js";
import { round } from "./stats.js";

/** The default run (--quick, --full or neither): the plan of cases, each run, into bench/results/latest.*. */
export async function runSuite(ctx: BenchContext, modelFiles: string[] | undefined): Promise<void> {
  const { mode, runs, warmup, notes } = ctx;
  await fs.mkdir(TMP, { recursive: true });
  const info = runtimeInfo();
  if (ctx.device === "cuda" && !info.devices.some((d) => d.type === "gpu")) {
    const why = info.cudaCompiled
      ? "this addon was built with CUDA but no CUDA device is visible here"
      : "this addon was built without CUDA (use npm run build:cuda and TINGWU_WHISPER_VARIANT=cuda)";
    console.log(`--device cuda: no CUDA benchmark was run: ${why}. These figures would be made up, so there are none.`);
    notes.push(`CUDA requested but not measured: ${why}.`);
    return;
  }
  const cli = ctx.noCli ? undefined : whisperCli();
  if (!cli && !ctx.noCli) notes.push("whisper-cli could not be built: CLI columns are empty.");

  const models: { name: string; file: string }[] = [];
  if (modelFiles?.length) {
    for (const m of modelFiles) models.push({ name: path.basename(m), file: path.resolve(m) });
  } else {
    models.push({ name: "tiny (scripted)", file: await scriptedModelPath({ dims: "tiny" }) });
    if (mode !== "quick") models.push({ name: "base (scripted)", file: await scriptedModelPath({ dims: "base" }) });
  }
  const durations = mode === "quick" ? [5] : [5, 30, 120];
  const base = (m: { name: string; file: string }) => ({ modelName: m.name, modelFile: m.file, threads: cores, concurrency: 1, flashAttention: true, withCli: true });
  const specs: CaseSpec[] = [];
  for (const m of models) for (const audio_s of durations) specs.push({ ...base(m), kind: "duration", audio_s });
  if (mode !== "quick") {
    const m = models[0]!;
    specs.push({ ...base(m), kind: "flash-attention", audio_s: 30, flashAttention: false });
    for (const threads of [...new Set([1, 2, cores])].filter((t) => t !== cores)) specs.push({ ...base(m), kind: "threads", audio_s: 30, threads });
    for (const concurrency of [1, 2, 4]) specs.push({ ...base(m), kind: "concurrency", audio_s: 30, concurrency, threads: Math.max(1, Math.floor(cores / Math.min(concurrency, cores))), withCli: false });
    specs.push(...portableSpecs(models, mode === "full" ? durations : [30], ctx));
    if (mode === "full") {
      for (const m2 of models) for (const audio_s of durations) specs.push({ ...base(m2), kind: "flash-attention", audio_s, flashAttention: false });
    }
  }

  const cases: BenchCase[] = [];
  for (const spec of specs) {
    process.stderr.write(`[bench] ${spec.kind} ${spec.modelName} ${spec.audio_s}s threads=${spec.threads} conc=${spec.concurrency} fa=${spec.flashAttention}${spec.variant ? ` ${spec.variant}` : ""}\n`);
    cases.push(await runCase(spec, cli, ctx));
  }
  const conc = cases.filter((c) => c.kind === "concurrency");
  const one = conc.find((c) => c.concurrency === 1) as (BenchCase & { rss_mb?: number }) | undefined;
  for (const c of conc as (BenchCase & { rss_mb?: number })[]) {
    if (one && c.concurrency > 1 && one.rss_mb !== undefined && c.rss_mb !== undefined) {
      c.mb_per_extra_state = round((c.rss_mb - one.rss_mb) / (c.concurrency - 1));
    }
  }

  if (mode !== "quick") cases.push(await httpCase(cases, models[0]!, ctx));

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString().slice(0, 10),
      host: os.hostname(),
      mode,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      whisperCppVersion: info.whisperCppVersion,
      variant: info.variant,
      binary: path.relative(ROOT, info.binary),
      systemInfo: info.systemInfo,
      runs,
      warmup,
      device: ctx.device,
    },
    notes,
    cases,
  };
  await writeOutputs(results);
}
