// `tingwu-whisper transcribe <file…>`: files in, transcripts out (stdout, or one file each in
// --output-dir), with a progress bar on stderr.
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { decodeAudio } from "../audio/decode.js";
import { WhisperBackend } from "../backends/whisper.js";
import type { WhisperBackendResult } from "../backends/whisper.js";
import { parseChineseScript } from "../chinese/index.js";
import type { ChineseScript } from "../chinese/index.js";
import { loadSettings } from "../config.js";
import { formatProgress } from "../models/progress.js";
import { toWhisperJson } from "../server/whisper-json.js";
import { renderSubtitles } from "../tingwu/formats.js";
import { percentBar, ProgressLine, UsageError } from "./common.js";

export const FORMATS = ["txt", "srt", "vtt", "json", "tsv"] as const;
type Format = (typeof FORMATS)[number];

export const TRANSCRIBE_USAGE = `Usage: tingwu-whisper transcribe <file…> [options]

Options:
  --model NAME|FILE     model name (tiny … large-v3-turbo, large, base-q5_1) or a ggml .bin file
                        (default: WHISPER_MODEL, else large; names are downloaded on first use)
  --language CODE       language code or English name, or auto (default: WHISPER_LANGUAGE, else auto)
  --translate           translate to English
  --format FORMAT       txt | srt | vtt | json | tsv (default txt)
  --output-dir DIR      write <name>.<format> for each file into DIR (needed for several files;
                        without it the transcript goes to stdout)
  --threads N           compute threads (default: WHISPER_THREADS, else all cores)
  --device DEVICE       auto | cuda | cpu (default: DEVICE, else auto)
  --chinese-script S    script of Chinese output: simplified | traditional | traditional-tw |
                        traditional-hk | as-is (default: WHISPER_ZH_SCRIPT, else simplified)
  --vad                 voice activity detection (Silero): decode only speech, in chunks of up to
                        30 s cut at pauses; for long recordings with silence (default: WHISPER_VAD)
  --vad-model NAME|FILE silero-v6.2.0 | silero-v5.1.2 or a ggml .bin (default: WHISPER_VAD_MODEL,
                        else silero-v6.2.0, downloaded on first use)
  --pool-size N         whisper states, i.e. VAD chunks decoded at once (default: WHISPER_POOL_SIZE, else 1)
  --quiet               no progress on stderr`;

export function render(result: WhisperBackendResult, format: Format): string {
  if (format === "json") return `${JSON.stringify(toWhisperJson(result.whisper, { temperature: 0, words: false }), null, 2)}\n`;
  return renderSubtitles(result.sentence_info, format);
}

export async function transcribe(args: string[]): Promise<number> {
  const { values, positionals: files } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      language: { type: "string" },
      translate: { type: "boolean", default: false },
      format: { type: "string", default: "txt" },
      "output-dir": { type: "string" },
      threads: { type: "string" },
      device: { type: "string" },
      "chinese-script": { type: "string" },
      vad: { type: "boolean" },
      "vad-model": { type: "string" },
      "pool-size": { type: "string" },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (files.length === 0) throw new UsageError("transcribe needs at least one file");
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`Expected one of ${FORMATS.join(", ")} for --format but received ${JSON.stringify(values.format)}`);
  const outputDir = values["output-dir"];
  let chineseScript: ChineseScript | undefined;
  try {
    if (values["chinese-script"] !== undefined) chineseScript = parseChineseScript(values["chinese-script"], "--chinese-script");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (files.length > 1 && outputDir === undefined) throw new UsageError("Several files need --output-dir (one transcript file each)");

  const env = { ...process.env };
  if (values.model !== undefined) env.WHISPER_MODEL = values.model;
  if (values.threads !== undefined) env.WHISPER_THREADS = values.threads;
  if (values.device !== undefined) env.DEVICE = values.device;
  if (values["vad-model"] !== undefined) env.WHISPER_VAD_MODEL = values["vad-model"];
  if (values["pool-size"] !== undefined) env.WHISPER_POOL_SIZE = values["pool-size"];
  if (values.language !== undefined) env.WHISPER_LANGUAGE = values.language;
  else if (env.WHISPER_LANGUAGE === undefined) env.WHISPER_LANGUAGE = "auto";
  const settings = loadSettings(env);

  const progress = new ProgressLine(process.stderr, !values.quiet);
  const backend = new WhisperBackend({
    model: settings.whisperModel,
    language: settings.whisperLanguage,
    device: settings.device,
    threads: settings.whisperThreads,
    concurrency: settings.whisperPoolSize,
    vad: values.vad ?? settings.whisperVad,
    vadModel: settings.whisperVadModel,
    downloadRoot: settings.whisperDownloadRoot,
    modelUrl: settings.whisperModelUrl,
    ...(settings.whisperModelSha256 ? { sha256: settings.whisperModelSha256 } : {}),
    chineseScript: chineseScript ?? settings.whisperZhScript,
    chinesePunctuation: settings.whisperZhPunctuation,
    chinesePrompt: settings.whisperZhPrompt,
    onDownloadProgress: (p) => progress.update(`downloading ${settings.whisperModel}  ${formatProgress(p)}`),
  });
  if (outputDir !== undefined) await fs.mkdir(outputDir, { recursive: true });

  let failures = 0;
  try {
    progress.update(`loading ${settings.whisperModel}…`, true);
    await backend.load();
    progress.done(`model ${settings.whisperModel} loaded (${backend.getInfo().device})`);
    for (const file of files) {
      const name = path.basename(file);
      try {
        progress.update(`${name}: decoding…`, true);
        const audio = await decodeAudio(file, settings.ffmpegPath !== undefined ? { ffmpegPath: settings.ffmpegPath } : {});
        const started = performance.now();
        const result = await backend.transcribeSamples(audio.samples, {
          translate: values.translate,
          ...(format === "json" ? { includeTokens: true } : {}),
          onProgress: (percent) => progress.update(`${name}: ${percentBar(percent)}`),
        });
        const seconds = (performance.now() - started) / 1000;
        const text = render(result, format);
        if (outputDir === undefined) process.stdout.write(text);
        else {
          const target = path.join(outputDir, `${path.parse(file).name}.${format}`);
          await fs.writeFile(target, text);
          progress.update(`${name}: written to ${target}`, true);
        }
        progress.done(`${name}: ${percentBar(100)}  ${(audio.durationMs / 1000).toFixed(1)} s of audio in ${seconds.toFixed(1)} s (${result.language})`);
      } catch (error) {
        failures++;
        progress.done("");
        process.stderr.write(`${name}: failed: ${(error as Error).message}\n`);
      }
    }
  } finally {
    await backend.unload();
  }
  return failures === 0 ? 0 : 1;
}
