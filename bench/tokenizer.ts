// `npm run bench -- --tokenizer [--model FILE]`: how long the prompt tokenizer (lib/prompt/tokenizer.ts)
// takes for the largest prompt the HTTP routes accept: a hotwords field at its limit (one line) and
// an initial prompt at its limit, joined as the whisper backend joins them. Issue 12 asks for
// under 50 ms. Runs on the calling thread, as it does in the server.
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { FIELD_LIMITS } from "../lib/limits.js";
import { loadNative } from "../lib/native.js";
import { maxPromptTokens, PromptTokenizer } from "../lib/prompt/tokenizer.js";
import { buildHotwordPrompt } from "../lib/tingwu/hotwords.js";
import { scriptedModelPath } from "../test/fixtures/models.js";
import { quantile } from "./stats.js";

const fill = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/** The largest accepted prompt made of `unit`: hotwords (one line) + "\n" + initial prompt, as WhisperBackend builds it. */
export function largestPrompt(unit: string): string {
  return [fill(unit, FIELD_LIMITS.prompt), buildHotwordPrompt(fill(unit, FIELD_LIMITS.hotwords))].join("\n");
}

export async function tokenizerBench(modelFile: string | undefined, runs: number, outDir: string): Promise<void> {
  const real = path.resolve("data/models/real/ggml-base.bin");
  const file = modelFile ?? process.env.TINGWU_WHISPER_REAL_MODEL ?? (existsSync(real) ? real : await scriptedModelPath({ dims: "tiny" }));
  const model = await loadNative().binding.WhisperModel.load(file, { gpu: false, gpuDevice: 0, flashAttention: true });
  try {
    let started = performance.now();
    const vocabulary = model.vocabulary();
    const vocabMs = performance.now() - started;
    started = performance.now();
    const tokenizer = PromptTokenizer.fromVocabulary(vocabulary);
    const buildMs = performance.now() - started;
    const keep = maxPromptTokens(model.info().nTextCtx);
    const cases = [
      { name: "ASCII letters (one word)", unit: "a" },
      { name: "Chinese prose (one word)", unit: "这是一个很长的中文提示词没有任何空格" },
      { name: "digits, spaces, punctuation", unit: "1, 2; 3 ...!? " },
      { name: "mixed English/Chinese", unit: "Kubernetes 集群, TingWu's 转写 2024! " },
    ];
    const rows = [];
    for (const c of cases) {
      const text = largestPrompt(c.unit);
      for (let i = 0; i < 3; i++) tokenizer.encodeTail(text, keep);
      const times: number[] = [];
      let tokens = 0;
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        tokens = tokenizer.encode(text).length;
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      rows.push({ case: c.name, chars: text.length, utf8_bytes: Buffer.byteLength(text), tokens, median_ms: +quantile(times, 0.5).toFixed(2), p95_ms: +quantile(times, 0.95).toFixed(2), max_ms: +times[times.length - 1]!.toFixed(2) });
    }
    const result = { date: new Date().toISOString(), model: path.basename(file), vocabulary_ms: +vocabMs.toFixed(1), build_ms: +buildMs.toFixed(1), runs, limit_ms: 50, cases: rows };
    console.table(rows);
    console.log(`model ${result.model}: vocabulary ${result.vocabulary_ms} ms, trie build ${result.build_ms} ms (once per model, on first prompt)`);
    await fs.mkdir(outDir, { recursive: true });
    await fs.writeFile(path.join(outDir, "tokenizer.json"), `${JSON.stringify(result, null, 2)}\n`);
    const worst = Math.max(...rows.map((r) => r.median_ms));
    if (worst >= 50) console.log(`WARNING: the slowest median (${worst} ms) is not under 50 ms`);
  } finally {
    model.free();
  }
}
