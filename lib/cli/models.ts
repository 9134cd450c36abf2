// `tingwu-whisper models list|download <name>`.
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadSettings } from "../config.js";
import { MODEL_ALIASES, modelFilePath, OFFICIAL_MODEL_SHA1, OFFICIAL_MODEL_SIZE, parseModelSpec } from "../models/names.js";
import { formatBytes, formatProgress } from "../models/progress.js";
import { resolveModelFile } from "../models/resolve.js";
import { ProgressLine, UsageError } from "./common.js";

export const MODELS_USAGE = `Usage: tingwu-whisper models list [--download-root DIR]
       tingwu-whisper models download <name> [--download-root DIR] [--quiet]
       tingwu-whisper models convert <input> [--out FILE] (see models convert --help)

list      the official model names, their download sizes, and which are in the download root
download  fetch ggml-<name>.bin into the download root (resumable, checksum verified)
convert   a CTranslate2 (faster-whisper) or Hugging Face Whisper model to a ggml .bin

The download root is WHISPER_DOWNLOAD_ROOT (default ./data/models/whisper); the server is
WHISPER_MODEL_URL (default the whisper.cpp models on Hugging Face).`;

async function size(file: string): Promise<number | undefined> {
  try {
    const stat = await fs.stat(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

export async function models(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { "download-root": { type: "string" }, quiet: { type: "boolean", default: false } }, strict: true, allowPositionals: true });
  const settings = loadSettings(process.env, { WHISPER_DOWNLOAD_ROOT: { option: "--download-root", value: values["download-root"] } });
  const root = settings.whisperDownloadRoot;

  if (action === "list") {
    if (positionals.length > 0) throw new UsageError(`models list takes no arguments but received ${positionals.join(" ")}`);
    const names = new Set(["large", ...Object.keys(OFFICIAL_MODEL_SHA1)]);
    // Files already in the root that aren't official names (quantised, fine-tuned...).
    for (const entry of await fs.readdir(root).catch(() => [] as string[])) {
      const match = /^ggml-(.+)\.bin$/.exec(entry);
      if (match) names.add(match[1]!);
    }
    const rows: string[][] = [];
    for (const name of names) {
      let file: string;
      try {
        file = modelFilePath(parseModelSpec(name), root);
      } catch {
        file = path.resolve(root, `ggml-${name}.bin`);
      }
      const bytes = await size(file);
      const listed = OFFICIAL_MODEL_SIZE[MODEL_ALIASES[name] ?? name];
      if (bytes !== undefined) rows.push([name, formatBytes(bytes), file]);
      else rows.push([name, listed === undefined ? "-" : `~${listed}`, "(not downloaded)"]);
    }
    const width = Math.max(...rows.map((r) => r[0]!.length), 4);
    process.stdout.write(`${"NAME".padEnd(width)}  ${"SIZE".padStart(9)}  FILE\n`);
    for (const [name, sizeText, file] of rows) process.stdout.write(`${name!.padEnd(width)}  ${sizeText!.padStart(9)}  ${file}\n`.replace(/ +\n$/, "\n"));
    process.stdout.write(`\nDownload root: ${path.resolve(root)}\n`);
    return 0;
  }

  if (action === "download") {
    if (positionals.length !== 1) throw new UsageError("models download needs exactly one model name, e.g. `models download base`");
    const name = positionals[0]!;
    const spec = parseModelSpec(name, "name");
    if (spec.kind === "path") throw new UsageError(`Expected a model name (e.g. large-v3, base-q5_1) but received a path: ${name}`);
    const progress = new ProgressLine(process.stderr, !values.quiet);
    const file = await resolveModelFile(name, {
      downloadRoot: root,
      baseUrl: settings.whisperModelUrl,
      ...(settings.whisperModelSha256 ? { sha256: settings.whisperModelSha256 } : {}),
      onProgress: (p) => progress.update(`${spec.fileName}  ${formatProgress(p)}`),
    });
    progress.done();
    process.stdout.write(`${file}\n`);
    return 0;
  }

  throw new UsageError(action === undefined ? "models needs an action: list, download or convert" : `Unknown models action ${JSON.stringify(action)}; expected list, download or convert`);
}
