// npm run bench -- --long [--long-minutes N] [--model ggml-base.bin] [--vad-model ggml-silero-v6.2.0.bin]
// Long-form audio with silences: espeak-ng sentences and jfk.wav repeated, separated by stretches
// of silence and of low noise. Whisper (real weights) with VAD off, on (chunks decoded one after
// another, each with the previous chunk's text as prompt) and on+parallel (chunks decoded at once
// on the model's state pool, no carried prompt): wall time, real-time factor, WER against the
// script, and the words emitted inside the silent stretches (hallucinations).
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runtimeInfo, Whisper } from "../lib/index.js";
import type { TranscribeResult } from "../lib/index.js";
import { loadAudio, synthesize } from "../test/accuracy/helpers/audio.js";
import { JFK_TEXT, JFK_WAV } from "../test/accuracy/helpers/env.js";
import { normalizeWords, wordErrorRate } from "../test/accuracy/helpers/text.js";
import { cores, RESULTS, ROOT } from "./context.js";

const SENTENCES = [
  "Good morning everyone, let us start the weekly planning meeting.",
  "The first item on the agenda is the release schedule for the next quarter.",
  "We finished the database migration last Friday without any downtime.",
  "Customer support received fewer complaints after the new search page went live.",
  "Please send me the budget numbers before the end of the day.",
  "The marketing team would like to move the product launch to early spring.",
  "Our test coverage improved, but the build still takes too long.",
  "Does anyone have questions about the hiring plan?",
  "Thank you all, the next meeting is on Tuesday at ten.",
];

interface Stretch { start: number; end: number } // samples

/** Builds the audio: speech items separated by 6-20 s of silence or low noise (seeded). */
async function buildAudio(minutes: number, dir: string): Promise<{ audio: Float32Array; reference: string; silences: Stretch[] }> {
  const jfk = await loadAudio(JFK_WAV);
  const items: { samples: Float32Array; text: string }[] = [];
  for (const [i, text] of SENTENCES.entries()) items.push({ samples: (await synthesize("en-us", text, dir, `s${i}`)).samples, text });
  const parts: Float32Array[] = [];
  const silences: Stretch[] = [];
  const words: string[] = [];
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let length = 0;
  const target = minutes * 60 * 16000;
  for (let k = 0; length < target; k++) {
    const item = k % 3 === 2 ? { samples: jfk, text: JFK_TEXT } : items[(k - Math.floor(k / 3)) % items.length]!;
    parts.push(item.samples);
    words.push(item.text);
    length += item.samples.length;
    const gap = Math.floor((6 + rand() * 14) * 16000);
    const pause = new Float32Array(gap);
    if (k % 2 === 1) for (let i = 0; i < gap; i++) pause[i] = (rand() - 0.5) * 0.01; // low background noise
    silences.push({ start: length + 4000, end: length + gap - 4000 }); // 250 ms margins
    parts.push(pause);
    length += gap;
  }
  const audio = new Float32Array(length);
  let at = 0;
  for (const p of parts) {
    audio.set(p, at);
    at += p.length;
  }
  return { audio, reference: words.join(" "), silences };
}

function wordsInSilence(result: TranscribeResult, silences: Stretch[]): number {
  let n = 0;
  for (const s of result.segments) {
    const [a, b] = [s.start * 16, Math.max(s.end * 16, s.start * 16 + 1)];
    const inside = silences.reduce((acc, z) => acc + Math.max(0, Math.min(b, z.end) - Math.max(a, z.start)), 0);
    if (inside / (b - a) > 0.5) n += normalizeWords(s.text).length;
  }
  return n;
}

export interface LongCase {
  mode: "off" | "on" | "on+parallel";
  audio_s: number;
  threads: number;
  concurrency: number;
  wall_ms: number;
  rtf: number;
  wer: number;
  words_in_silence: number;
  vad_ms: number | null;
}

export const LONG_MODES = ["off", "on", "on+parallel"] as const;

export async function runLong(o: { model: string; vadModel: string; minutes: number; threads: number; modes?: readonly LongCase["mode"][] }): Promise<LongCase[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-bench-long-"));
  try {
    const { audio, reference, silences } = await buildAudio(o.minutes, dir);
    const audioS = audio.length / 16000;
    console.error(`long audio: ${audioS.toFixed(1)} s, ${silences.length} silent stretches, ${normalizeWords(reference).length} words`);
    const cases: LongCase[] = [];
    const parallel = Math.max(2, o.threads);
    for (const mode of o.modes ?? LONG_MODES) {
      const concurrency = mode === "on+parallel" ? parallel : 1;
      const threads = mode === "on+parallel" ? Math.max(1, Math.floor(o.threads / concurrency)) : o.threads;
      const model = await Whisper.load(o.model, { threads, concurrency });
      try {
        const started = performance.now();
        const r = await model.transcribe(audio, { language: "en", ...(mode === "off" ? {} : { vad: { model: o.vadModel, concurrency } }) });
        const wall = performance.now() - started;
        const c: LongCase = {
          mode,
          audio_s: Math.round(audioS * 10) / 10,
          threads,
          concurrency,
          wall_ms: Math.round(wall),
          rtf: Math.round((wall / 1000 / audioS) * 1000) / 1000,
          wer: Math.round(wordErrorRate(reference, r.text).rate * 1000) / 10,
          words_in_silence: wordsInSilence(r, silences),
          vad_ms: r.timings.vadMs === undefined ? null : Math.round(r.timings.vadMs),
        };
        console.error(JSON.stringify(c));
        cases.push(c);
      } finally {
        await model.dispose();
      }
    }
    return cases;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** --long: long-form audio with silences, VAD off / on / on+parallel, into bench/results/long-latest.{json,md}. */
export async function longOnly(o: { modes: string; minutes: string; model?: string; vadModel?: string; threads?: string }): Promise<void> {
  const modes = o.modes.split(",").map((m) => m.trim());
  const bad = modes.find((m) => !(LONG_MODES as readonly string[]).includes(m));
  if (bad !== undefined) throw new RangeError(`Expected ${LONG_MODES.join(", ")} in --long-modes but received ${JSON.stringify(bad)}`);
  const model = o.model ?? path.join(ROOT, "data", "models", "real", "ggml-base.bin");
  const vadModel = o.vadModel ?? path.join(ROOT, "data", "models", "real", "ggml-silero-v6.2.0.bin");
  for (const [file, how] of [[model, "bash scripts/fetch-real-model.sh"], [vadModel, "bash scripts/fetch-real-model.sh --vad-only"]]) {
    if (!existsSync(file!)) throw new Error(`${file} is missing: run ${how}`);
  }
  const threads = o.threads ? Number(o.threads) : cores;
  const cases = await runLong({ model, vadModel, minutes: Number(o.minutes), threads, modes: modes as (typeof LONG_MODES)[number][] });
  const info = runtimeInfo();
  const meta = { date: new Date().toISOString(), model: path.basename(model), vad_model: path.basename(vadModel), cores, cpu: os.cpus()[0]?.model ?? "", variant: info.variant, load: os.loadavg().map((l) => l.toFixed(1)).join(" ") };
  await fs.mkdir(RESULTS, { recursive: true });
  await fs.writeFile(path.join(RESULTS, "long-latest.json"), `${JSON.stringify({ meta, cases }, null, 2)}\n`);
  const header = "| mode | audio s | threads x states | wall s | RTF | WER % | words in silence | VAD ms |\n|---|---|---|---|---|---|---|---|";
  const rows = cases.map((c) => `| ${c.mode} | ${c.audio_s} | ${c.threads} x ${c.concurrency} | ${(c.wall_ms / 1000).toFixed(1)} | ${c.rtf} | ${c.wer} | ${c.words_in_silence} | ${c.vad_ms ?? "-"} |`);
  const md = `# Long audio, VAD off / on / on+parallel\n\n${Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`).join("\n")}\n\n${header}\n${rows.join("\n")}\n`;
  await fs.writeFile(path.join(RESULTS, "long-latest.md"), md);
  console.log(md);
}
