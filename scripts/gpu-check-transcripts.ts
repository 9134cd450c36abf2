// Part of scripts/gpu-check.sh: the scripted model's exact transcript on the GPU, with flash
// attention on and off, alone and three at once (concurrency 3). Prints one JSON object; exits 1
// when a transcript differs or the model did not run on a GPU.
//   node --import tsx scripts/gpu-check-transcripts.ts
import { performance } from "node:perf_hooks";
import { Whisper, runtimeInfo } from "../lib/index.js";
import { SCRIPT, makeAudio, scriptedModelPath } from "../test/fixtures/models.js";

interface Run {
  flashAttention: boolean;
  device: string;
  deviceName: string;
  exact: boolean;
  single_ms: number;
  concurrent3_ms: number;
  concurrent3_exact: boolean;
}

const audio = makeAudio(5);
const runs: Run[] = [];
const modelFile = await scriptedModelPath({ dims: "mini" });
for (const flashAttention of [true, false]) {
  const model = await Whisper.load(modelFile, { gpu: true, flashAttention, concurrency: 3, threads: 4 });
  try {
    await model.transcribe(audio, { language: "auto" }); // warm-up (kernel loading, pools)
    let started = performance.now();
    const one = await model.transcribe(audio, { language: "auto" });
    const single = performance.now() - started;
    started = performance.now();
    const three = await Promise.all([0, 1, 2].map(() => model.transcribe(audio, { language: "auto" })));
    const concurrent = performance.now() - started;
    runs.push({
      flashAttention,
      device: model.info.device,
      deviceName: model.info.deviceName,
      exact: one.text === SCRIPT.text && one.language === SCRIPT.language,
      single_ms: Math.round(single),
      concurrent3_ms: Math.round(concurrent),
      concurrent3_exact: three.every((r) => r.text === SCRIPT.text),
    });
  } finally {
    await model.dispose();
  }
}

const info = runtimeInfo();
const ok = runs.every((r) => r.exact && r.concurrent3_exact && r.device !== "cpu");
process.stdout.write(
  `${JSON.stringify({
    ok,
    binary: info.binary,
    binaryChoice: info.binaryChoice,
    cudaVersion: info.cudaVersion,
    cudaRuntimeVersion: info.cudaRuntimeVersion,
    cudaDriverVersion: info.cudaDriverVersion,
    gpus: info.devices.filter((d) => d.type === "gpu").map((d) => ({ name: d.description || d.name, memoryTotal: d.memoryTotal })),
    runs,
  })}\n`,
);
process.exit(ok ? 0 : 1);
