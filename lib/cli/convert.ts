// `tingwu-whisper models convert`: a CTranslate2 (faster-whisper) or Hugging Face safetensors
// Whisper model -> whisper.cpp ggml .bin. The CLI entry point passes the arguments after
// "models convert" and exits with the returned code.
import path from "node:path";
import { parseArgs } from "node:util";
import { convertModel, describeSource, ggmlModelName } from "../models/convert/convert.js";
import { ConvertError } from "../models/convert/errors.js";
import { convertSilero, isSileroSource, SILERO_SAFETENSORS } from "../models/convert/silero.js";
import { GgmlFormatError } from "../models/ggml/format.js";

export const CONVERT_USAGE = `Usage: tingwu-whisper models convert <input> [--out ggml-<name>.bin] [--f32] [--force]
       tingwu-whisper models convert <silero-vad-dir | ${SILERO_SAFETENSORS}> [--vad-version 6.2.0] [--out ...]

Converts a Whisper model, or the Silero VAD model, to the ggml format whisper.cpp loads.

  <input>        A CTranslate2 / faster-whisper model directory (model.bin + vocabulary.txt),
                 or a Hugging Face directory (model.safetensors + config.json + tokenizer.json),
                 or the weights file itself with its side files next to it,
                 or Silero VAD weights (${SILERO_SAFETENSORS} from the silero-vad wheel's
                 silero_vad/data/, or that directory): written as ggml-silero-v<version>.bin.
  --vad-version  The Silero model version recorded in the file. Default 6.2.0 (the model in
                 silero-vad 6.2.x wheels).
  -o, --out      Output file. Default: ggml-<name>.bin in the current directory, where <name> is
                 whisper.cpp's name for the model (base, tiny.en, ...).
  --f32          Write weight matrices as f32 instead of f16. whisper.cpp v1.9.1's CPU encoder
                 can't run such a file and tingwu-whisper won't load it; for other ggml tools only.
  -f, --force    Replace the output file if it exists.
  -h, --help     Show this help.

Exit codes: 0 converted, 1 the model could not be converted, 2 bad arguments.`;

/** Where the command writes; the CLI passes the process streams, tests capture them. */
export interface ConvertIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const processIO: ConvertIO = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Runs `models convert` with the arguments after it; resolves to the exit code. */
export async function runConvert(argv: readonly string[], io: ConvertIO = processIO): Promise<number> {
  let values: { out?: string; f32?: boolean; force?: boolean; help?: boolean; "vad-version"?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: "string", short: "o" },
        f32: { type: "boolean" },
        force: { type: "boolean", short: "f" },
        help: { type: "boolean", short: "h" },
        "vad-version": { type: "string" },
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${CONVERT_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(CONVERT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr(`Expected exactly one input model (a directory or weights file) but received ${positionals.length}\n\n${CONVERT_USAGE}`);
    return 2;
  }
  const input = positionals[0]!;
  if (values.out === "") {
    io.stderr(`Expected a file path for --out but received an empty string`);
    return 2;
  }
  try {
    if (await isSileroSource(input)) {
      const version = values["vad-version"] ?? "6.2.0";
      if (!/^\d+\.\d+\.\d+$/.test(version)) {
        io.stderr(`Expected a major.minor.patch version such as 6.2.0 for --vad-version but received ${JSON.stringify(version)}`);
        return 2;
      }
      const r = await convertSilero(input, values.out ?? `ggml-silero-v${version}.bin`, { version, overwrite: values.force ?? false });
      io.stdout(`${path.resolve(r.output)}: Silero VAD v${r.version} (16 kHz), ${r.nTensors} tensors, ${mb(r.bytes)}`);
      return 0;
    }
    const out = values.out ?? `ggml-${ggmlModelName(await describeSource(input))}${values.f32 ? "-f32" : ""}.bin`;
    if (values.f32) {
      io.stderr("warning: --f32 writes an all-f32 model; whisper.cpp v1.9.1's CPU encoder aborts on it and tingwu-whisper refuses to load it");
    }
    const r = await convertModel(input, out, { f32: values.f32 ?? false, overwrite: values.force ?? false });
    const kind = r.modelType === "unknown" ? "Whisper (non-standard size)" : `Whisper ${ggmlModelName(r)}`;
    io.stdout(
      `${path.resolve(r.output)}: ${kind}, ${r.multilingual ? "multilingual" : "English-only"}, ${r.hparams.ftype === 0 ? "f32" : "f16"}, ` +
        `${r.nTensors} tensors, ${r.vocabSize} tokens, ${mb(r.bytes)} (from ${r.format === "ctranslate2" ? "CTranslate2" : "safetensors"} in ${r.seconds.toFixed(1)} s)`,
    );
    return 0;
  } catch (error) {
    const systemError = typeof (error as NodeJS.ErrnoException).syscall === "string";
    if (error instanceof ConvertError || error instanceof GgmlFormatError || systemError) {
      io.stderr(`Conversion failed: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}
