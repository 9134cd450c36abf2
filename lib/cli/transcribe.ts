// `tingwu-whisper transcribe <file…>`: files in, transcripts out (stdout, or one file each in
// --output-dir), with a progress bar on stderr.
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { decodeAudio } from "../audio/decode.js";
import { backendOptionsFromSettings } from "../backends/settings.js";
import { WhisperBackend } from "../backends/whisper.js";
import { loadSettings } from "../config.js";
import { renderTranscript, transcribeOptionsFor } from "../formats/render.js";
import type { TranscriptFormat } from "../formats/render.js";
import { LANGUAGE_WHEN_OMITTED } from "../languages.js";
import { formatProgress } from "../models/progress.js";
import { percentBar, ProgressLine, UsageError } from "./common.js";

export const FORMATS = ["txt", "srt", "vtt", "json", "tsv"] as const satisfies readonly TranscriptFormat[];
type Format = (typeof FORMATS)[number];

export const TRANSCRIBE_USAGE = `Usage: tingwu-whisper transcribe <file…> [options]

Options:
  --model NAME|FILE     model name (tiny … large-v3-turbo, large, base-q5_1) or a ggml .bin file
                        (default: WHISPER_MODEL, else large; names are downloaded on first use)
  --language CODE       language code or English name, or auto (default: WHISPER_LANGUAGE, else auto)
  --translate           translate to English
  --prompt TEXT         text given to the decoder as previous context (names, spelling, style)
  --hotwords TERM       a term to keep as written (repeatable; TingWu's hotword prompt)
  --word-timestamps     per-word timings in the json format
  --format FORMAT       txt | srt | vtt | json | tsv (default txt)
  --output-dir DIR      write <name>.<format> for each file into DIR (needed for several files;
                        without it the transcript goes to stdout)
  --threads N           compute threads, 1 to 512 (default: WHISPER_THREADS, else all cores)
  --device DEVICE       auto | cuda | cpu (default: DEVICE, else auto)
  --chinese-script S    script of Chinese output: simplified | traditional | traditional-tw |
                        traditional-hk | as-is (default: WHISPER_ZH_SCRIPT, else simplified)
  --vad                 voice activity detection (Silero): decode only speech, in chunks of up to
                        30 s cut at pauses; for long recordings with silence (default: WHISPER_VAD)
  --vad-model NAME|FILE silero-v6.2.0 | silero-v5.1.2 or a ggml .bin (default: WHISPER_VAD_MODEL,
                        else silero-v6.2.0, downloaded on first use)
  --pool-size N         whisper states, i.e. VAD chunks decoded at once (default: WHISPER_POOL_SIZE, else 1)
  --quiet               no progress on stderr`;

/** Input files that can't be read, each with the reason; checked before the model loads. */
async function unreadable(files: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const file of files) {
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) problems.push(`${file}: not a file`);
      else await fs.access(file, fs.constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(`${file}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message}`);
    }
  }
  return problems;
}

export async function transcribe(args: string[]): Promise<number> {
  const { values, positionals: files } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      language: { type: "string" },
      translate: { type: "boolean", default: false },
      prompt: { type: "string" },
      hotwords: { type: "string", multiple: true },
      "word-timestamps": { type: "boolean", default: false },
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
  if (files.length > 1 && outputDir === undefined) throw new UsageError("Several files need --output-dir (one transcript file each)");

  // Flags win over the environment and are reported under their own names.
  const settings = loadSettings(process.env, {
    WHISPER_MODEL: { option: "--model", value: values.model },
    WHISPER_THREADS: { option: "--threads", value: values.threads },
    DEVICE: { option: "--device", value: values.device },
    WHISPER_VAD_MODEL: { option: "--vad-model", value: values["vad-model"] },
    WHISPER_POOL_SIZE: { option: "--pool-size", value: values["pool-size"] },
    WHISPER_ZH_SCRIPT: { option: "--chinese-script", value: values["chinese-script"] },
    WHISPER_LANGUAGE: { option: "--language", value: values.language ?? (process.env.WHISPER_LANGUAGE === undefined ? LANGUAGE_WHEN_OMITTED.cli : undefined) },
  });

  // Before anything is loaded or downloaded.
  const problems = await unreadable(files);
  if (problems.length > 0) {
    process.stderr.write(`${problems.join("\n")}\n`);
    return 1;
  }

  const progress = new ProgressLine(process.stderr, !values.quiet);
  const backend = new WhisperBackend({
    ...backendOptionsFromSettings(settings),
    vad: values.vad ?? settings.whisperVad,
    onDownloadProgress: (p) => progress.update(`downloading ${settings.whisperModel}  ${formatProgress(p)}`),
  });
  if (outputDir !== undefined) await fs.mkdir(outputDir, { recursive: true });

  const words = values["word-timestamps"];
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
          ...(values.prompt !== undefined ? { initialPrompt: values.prompt } : {}),
          ...(values.hotwords !== undefined ? { hotwords: values.hotwords } : {}),
          ...transcribeOptionsFor(format, { words }),
          onProgress: (percent) => progress.update(`${name}: ${percentBar(percent)}`),
        });
        const seconds = (performance.now() - started) / 1000;
        const text = renderTranscript(result, format, { words, indent: 2 }) + (format === "json" ? "\n" : "");
        // The bar's line ends before the transcript starts (both may share one terminal).
        progress.done(`${name}: ${percentBar(100)}  ${(audio.durationMs / 1000).toFixed(1)} s of audio in ${seconds.toFixed(1)} s (${result.language})`);
        if (outputDir === undefined) process.stdout.write(text);
        else {
          const target = path.join(outputDir, `${path.parse(file).name}.${format}`);
          await fs.writeFile(target, text);
          progress.done(`${name}: written to ${target}`);
        }
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
