// npm run soak [-- --quick]: many sequential transcriptions on the scripted model plus
// load/dispose cycles; memory must stay flat. The last line is JSON:
// {"runs":..,"rss_start_mb":..,"rss_end_mb":..,"growth_pct":..,...}
import fs from "node:fs";
import { parseArgs } from "node:util";
import { Whisper } from "../lib/index.js";
import { SCRIPT, makeAudio, scriptedModelPath } from "../test/fixtures/models.js";

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, runs: { type: "string" } } });
const runs = values.runs ? Number(values.runs) : values.quick ? 200 : 1000;
const cycles = values.quick ? 10 : 50;
const WARMUP = 20;

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const fds = () => fs.readdirSync("/proc/self/fd").length;
const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
const settle = async () => {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 50));
};

async function main(): Promise<void> {
  const file = await scriptedModelPath({ dims: "mini" });
  const audio = makeAudio(5);
  let model = await Whisper.load(file, { threads: 2 });
  // A load/dispose cycle: the old model and its states must be freed completely.
  const reload = async () => {
    await model.dispose();
    model = await Whisper.load(file, { threads: 2 });
  };
  let bad = 0;
  // Warm-up: allocator pools, V8 code and whisper.cpp's buffers reach their steady size first,
  // including what a load/dispose cycle leaves behind (glibc keeps freed arenas' top pages mapped
  // until trimmed): the measured loop below repeats both, so its start must have seen both.
  for (let i = 1; i <= WARMUP; i++) {
    await model.transcribe(audio, { language: "en" });
    if (i % 10 === 0) await reload();
  }
  await settle();
  const start = { rss: rssMb(), fds: fds(), handles: handles() };
  const t0 = performance.now();
  const cycleEvery = Math.floor(runs / cycles);
  const samples: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const result = await model.transcribe(audio, { language: "en", onSegment: () => undefined });
    if (result.text !== SCRIPT.text) bad++;
    if (i % cycleEvery === 0) await reload();
    if (i % 100 === 0) {
      samples.push(Number(rssMb().toFixed(1)));
      process.stderr.write(`[soak] ${i}/${runs} rss ${rssMb().toFixed(1)} MB\n`);
    }
  }
  await settle();
  const end = { rss: rssMb(), fds: fds(), handles: handles() };
  await model.dispose();
  const growth = ((end.rss - start.rss) / start.rss) * 100;
  const summary = {
    runs,
    load_dispose_cycles: cycles,
    wrong_transcripts: bad,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    rss_start_mb: Number(start.rss.toFixed(1)),
    rss_end_mb: Number(end.rss.toFixed(1)),
    growth_pct: Number(growth.toFixed(2)),
    rss_every_100_mb: samples,
    fds_start: start.fds,
    fds_end: end.fds,
    handles_start: start.handles,
    handles_end: end.handles,
    ok: bad === 0 && growth < 5 && end.fds <= start.fds,
  };
  console.log(JSON.stringify(summary));
  if (!summary.ok) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
