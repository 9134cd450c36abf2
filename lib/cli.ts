#!/usr/bin/env node
// The `tingwu-whisper` command. Exit codes: 0 ok, 1 failure, 2 bad command line or settings.
import { runConvert } from "./cli/convert.js";
import { inspect, INSPECT_USAGE } from "./cli/inspect.js";
import { EXIT, UsageError } from "./cli/common.js";
import { models, MODELS_USAGE } from "./cli/models.js";
import { serve, SERVE_USAGE } from "./cli/serve.js";
import { transcribe, TRANSCRIBE_USAGE } from "./cli/transcribe.js";
import { worker, WORKER_USAGE } from "./cli/worker.js";
import { SettingsError } from "./config.js";
import { VERSION } from "./version.js";

const USAGE = `Usage: tingwu-whisper <command> [options]

Commands:
  serve                       start the HTTP service (TingWu, whisper-asr-webservice, OpenAI, jobs routes)
  worker                      run transcription jobs from Redis (BullMQ) on this process's model
  transcribe <file…>          transcribe files (--model --language --format --output-dir)
  models list                 list model names and the ones downloaded
  models download <name>      download a model, with a progress bar
  models convert <input>      convert a CTranslate2 / Hugging Face Whisper model to ggml
  inspect                     build, backends, devices and CPU features

Run \`tingwu-whisper <command> --help\` for a command's options.`;

const COMMANDS: Record<string, { usage: string; run: (args: string[]) => Promise<number | undefined> | Promise<void> | number }> = {
  serve: { usage: SERVE_USAGE, run: serve },
  worker: { usage: WORKER_USAGE, run: worker },
  transcribe: { usage: TRANSCRIBE_USAGE, run: transcribe },
  models: { usage: MODELS_USAGE, run: models },
  inspect: { usage: INSPECT_USAGE, run: inspect },
};

/** Runs the CLI; resolves with the exit code (serve resolves once listening). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tingwu-whisper: unknown command ${JSON.stringify(name)}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  // `models convert` has its own options, help and exit codes.
  if (name === "models" && args[0] === "convert") return runConvert(args.slice(1));
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return (await command.run(args)) ?? EXIT.ok;
  } catch (error) {
    // parseArgs throws TypeError with codes ERR_PARSE_ARGS_*.
    const code = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`tingwu-whisper ${name}: ${(error as Error).message}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    if (error instanceof SettingsError) {
      process.stderr.write(`tingwu-whisper ${name}: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`tingwu-whisper ${name}: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT.failure;
  }
}

// `tingwu-whisper models list | head` closes stdout early; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await main(process.argv.slice(2));
// `serve` and `worker` keep running (their signal handlers exit); other commands end here.
if (!["serve", "worker"].includes(process.argv[2] ?? "") || code !== EXIT.ok) process.exitCode = code;
