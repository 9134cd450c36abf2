// Loader fuzzer: mutated and truncated fixture models go through the TypeScript pre-check
// (inspectGgmlModel) and, when it accepts them, through whisper.cpp's loader and one short
// transcription, in a child process. A crash of the child is a finding: either the pre-check must
// catch that input, or it is documented in docs/RELIABILITY.md.
//   tsx fuzz/model-loader.ts [--seconds 60] [--cases 5000] [--seed 1] [--raw]
// --raw skips the pre-check and feeds whisper.cpp directly: it shows what the pre-check prevents.
import { fork } from "node:child_process";
import fs from "node:fs/promises";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { inspectGgmlModel } from "../lib/models/ggml/inspect.js";
import { scriptedModelPath } from "../test/fixtures/models.js";
import { layoutOf, mutate } from "./mutate.js";
import type { Layout } from "./mutate.js";

const HERE = fileURLToPath(import.meta.url);
const CASE_TIMEOUT_MS = 10_000;

async function baseModel(): Promise<{ bytes: Uint8Array; layout: Layout }> {
  const file = await scriptedModelPath({ dims: "mini" });
  const bytes = new Uint8Array(await fs.readFile(file));
  const info = await inspectGgmlModel(bytes);
  const h = info.hparams;
  const melHeader = 4 + 11 * 4;
  const vocabCount = melHeader + 8 + h.nMels * 201 * 4;
  const layout = layoutOf(info.tensors, 0, melHeader, vocabCount);
  layout.vocabEnd = layout.tensors[0]!.header;
  return { bytes, layout };
}

// ---- child: runs cases from `start` until told to stop or it dies --------------------------------

async function child(seed: number, start: number, end: number, raw: boolean): Promise<void> {
  const { Whisper, ModelLoadError } = await import("../lib/index.js");
  const { loadNative } = await import("../lib/native.js");
  const { bytes, layout } = await baseModel();
  const audio = new Float32Array(16000);
  for (let i = start; i < end; i++) {
    const m = mutate(bytes, layout, seed, i);
    process.send!({ type: "start", index: i, what: m.what });
    let outcome: string;
    if (raw) {
      const native = await loadNative().binding.WhisperModel.load(m.bytes, { gpu: false, gpuDevice: 0, flashAttention: true }).catch(() => undefined);
      native?.free();
      process.send!({ type: "done", index: i, outcome: native ? "loaded-by-whisper" : "rejected-by-whisper" });
      continue;
    }
    try {
      const model = await Whisper.load(m.bytes, { threads: 1 });
      try {
        await model.transcribe(audio, { language: "en" });
        outcome = "transcribed";
      } catch (error) {
        outcome = `transcribe-error:${(error as Error).name}`;
      } finally {
        await model.dispose();
      }
    } catch (error) {
      if (!(error instanceof ModelLoadError)) throw error;
      const cause = (error as Error & { cause?: { name?: string } }).cause;
      outcome = cause?.name === "GgmlFormatError" ? "rejected-by-precheck" : "rejected-by-whisper";
    }
    process.send!({ type: "done", index: i, outcome });
  }
  process.exit(0);
}

// ---- parent ---------------------------------------------------------------------------------------

interface Finding {
  index: number;
  what: string;
  exit: string;
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      cases: { type: "string", default: "5000" },
      seed: { type: "string", default: "1" },
      raw: { type: "boolean", default: false },
    },
  });
  const deadline = Date.now() + Number(values.seconds) * 1000;
  const maxCases = Number(values.cases);
  const seed = Number(values.seed);
  await baseModel(); // generate the fixture before timing starts
  const outcomes = new Map<string, number>();
  const findings: Finding[] = [];
  let next = 0;
  while (next < maxCases && Date.now() < deadline) {
    const batchEnd = Math.min(maxCases, next + 250);
    let current: { index: number; what: string } | undefined;
    let hung = false;
    const exit = await new Promise<string>((resolve) => {
      const c = fork(HERE, ["--child", String(seed), String(next), String(batchEnd), values.raw ? "raw" : "checked"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "pipe", "ipc"] });
      let stderr = "";
      c.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
      let caseStarted = Date.now();
      const timer = setInterval(() => {
        // A case that takes this long is a hang (e.g. a loader loop over a lying count): a finding.
        if (current && Date.now() - caseStarted > CASE_TIMEOUT_MS) {
          hung = true;
          c.kill("SIGKILL");
        }
        if (Date.now() > deadline + 30_000) c.kill("SIGKILL");
      }, 250);
      c.on("message", (msg: { type: string; index: number; what?: string; outcome?: string }) => {
        if (msg.type === "start") {
          current = { index: msg.index, what: msg.what! };
          caseStarted = Date.now();
        } else {
          outcomes.set(msg.outcome!, (outcomes.get(msg.outcome!) ?? 0) + 1);
          current = undefined;
          next = msg.index + 1;
          if (Date.now() > deadline) c.kill("SIGTERM");
        }
      });
      c.on("exit", (code, signal) => {
        clearInterval(timer);
        resolve(signal ? `signal ${signal}` : `exit ${code}${code ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`);
      });
    });
    if (current && Date.now() <= deadline) {
      findings.push({ index: current.index, what: current.what, exit: hung ? `hang (> ${CASE_TIMEOUT_MS} ms)` : exit });
      outcomes.set(hung ? "HANG" : "CRASH", (outcomes.get(hung ? "HANG" : "CRASH") ?? 0) + 1);
      next = current.index + 1;
    } else if (!exit.startsWith("exit 0") && !exit.startsWith("signal SIGTERM") && next < batchEnd && Date.now() <= deadline) {
      findings.push({ index: next, what: "child failed outside a case", exit });
      next++;
    }
  }
  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  const summary = { mode: values.raw ? "raw whisper.cpp loader (no pre-check)" : "pre-check + whisper.cpp", cases: total, seed, outcomes: Object.fromEntries(outcomes), crashes: findings.length, findings: findings.slice(0, 20) };
  console.log(JSON.stringify(summary, null, 2));
  if (findings.length && !values.raw) process.exitCode = 1;
}

if (process.argv[2] === "--child") {
  child(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]), process.argv[6] === "raw").catch((error) => {
    console.error(error);
    process.exit(3);
  });
} else {
  parent().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
