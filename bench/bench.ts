// npm run bench [-- --quick | --full] [--model file.bin] [--runs N] [--device cpu|cuda]
//                [--http-only | --portable-only]  (measure just that section again into latest.json)
//                [--realtime [--streams 1,2,3,4]]  (streaming: bench/results/realtime-latest.{json,md})
//                [--realtime --paced all|jfk]  (decode-paced, latency in audio time: realtime-paced.json)
//                [--tokenizer]  (prompt tokenizer on the largest accepted prompt: results/tokenizer.json)
//                [--long [--long-minutes N] [--long-modes off,on,on+parallel] [--vad-model file.bin] [--threads N]]
//                (long audio with silences, VAD off / on / on+parallel; bench/long.ts)
// Measures tingwu-whisper side by side with whisper-cli built from the same whisper.cpp source
// and flags. It reports; it never fails on speed.
// This file reads the arguments and runs the selected mode: the default run (bench/suite.ts, with
// bench/addon-cases.ts, bench/portable.ts and bench/http-case.ts), --http-only (bench/http-case.ts),
// --portable-only (bench/portable.ts), --long (bench/long.ts), --realtime (bench/realtime.ts),
// --tokenizer (bench/tokenizer.ts). Paths and the run's settings: bench/context.ts; results,
// table and report: bench/report.ts.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { type BenchContext, NATIVE_BUILD, RESULTS } from "./context.js";
import { httpOnly } from "./http-case.js";
import { portableOnly } from "./portable.js";
import { runSuite } from "./suite.js";
import { tokenizerBench } from "./tokenizer.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    full: { type: "boolean", default: false },
    model: { type: "string", multiple: true },
    runs: { type: "string" },
    device: { type: "string", default: "cpu" },
    "no-cli": { type: "boolean", default: false },
    "http-only": { type: "boolean", default: false },
    "portable-only": { type: "boolean", default: false },
    realtime: { type: "boolean", default: false },
    streams: { type: "string" },
    paced: { type: "string" },
    tokenizer: { type: "boolean", default: false },
    long: { type: "boolean", default: false },
    "long-minutes": { type: "string", default: "4" },
    "vad-model": { type: "string" },
    "long-modes": { type: "string", default: "off,on,on+parallel" },
    threads: { type: "string" },
  },
});
const mode = values.quick ? "quick" : values.full ? "full" : "default";
const runs = values.runs ? Number(values.runs) : mode === "quick" ? 3 : 5;
const warmup = 1;
// The addon side of "addon vs whisper-cli" is the build made with whisper-cli's flags
// (build/Release, -march=native), not whichever binary the loader prefers (a CPU prebuild comes
// first there). TINGWU_WHISPER_BINARY or TINGWU_WHISPER_VARIANT set by the caller still win.
if (values.device !== "cuda" && !process.env.TINGWU_WHISPER_BINARY && !process.env.TINGWU_WHISPER_VARIANT && existsSync(NATIVE_BUILD)) {
  process.env.TINGWU_WHISPER_BINARY = NATIVE_BUILD;
}

const ctx: BenchContext = { mode, runs, warmup, device: values.device, noCli: values["no-cli"], notes: [] };

(values.realtime
  ? import("./realtime.js").then(({ realtimeOnly }) => realtimeOnly({ model: values.model?.[0], paced: values.paced, streams: values.streams }))
  : values.tokenizer
  ? tokenizerBench(values.model?.[0], values.runs ? Number(values.runs) : 30, RESULTS)
  : values.long
    ? import("./long.js").then(({ longOnly }) =>
        longOnly({ modes: values["long-modes"], minutes: values["long-minutes"], model: values.model?.[0], vadModel: values["vad-model"], threads: values.threads }),
      )
    : values["http-only"]
      ? httpOnly(ctx)
      : values["portable-only"]
        ? portableOnly(ctx)
        : runSuite(ctx, values.model)
).catch((error) => {
  console.error(error);
  process.exit(1);
});
