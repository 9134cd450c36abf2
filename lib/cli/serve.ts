// `tingwu-whisper serve`: the HTTP service, configured by the environment (see .env.example);
// flags override the matching variables.
import { parseArgs } from "node:util";
import { loadSettings } from "../config.js";
import { startServer } from "../server/server.js";

export const SERVE_USAGE = `Usage: tingwu-whisper serve [--port N] [--host ADDR] [--model NAME|FILE] [--language CODE]

Starts the HTTP service (TingWu, whisper-asr-webservice and OpenAI routes). Every other setting
comes from the environment: WHISPER_DOWNLOAD_ROOT, DEVICE, WHISPER_THREADS, WHISPER_POOL_SIZE,
WHISPER_QUEUE_SIZE, WHISPER_MAX_UPLOAD_MB, LOG_LEVEL, ... (see .env.example and docs/DEPLOYMENT.md).
Flags win over PORT, HOST, WHISPER_MODEL and WHISPER_LANGUAGE.`;

export async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      model: { type: "string" },
      language: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  const env = { ...process.env };
  if (values.port !== undefined) env.PORT = values.port;
  if (values.host !== undefined) env.HOST = values.host;
  if (values.model !== undefined) env.WHISPER_MODEL = values.model;
  if (values.language !== undefined) env.WHISPER_LANGUAGE = values.language;
  // Resolves once listening; the process then lives until SIGTERM/SIGINT.
  await startServer(loadSettings(env));
}
