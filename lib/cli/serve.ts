// `tingwu-whisper serve`: the HTTP service, configured by the environment (see .env.example);
// flags override the matching variables.
import { parseArgs } from "node:util";
import { loadSettings } from "../config.js";
import { startServer } from "../server/server.js";
import { UsageError } from "./common.js";

export const SERVE_USAGE = `Usage: tingwu-whisper serve [--port N] [--host ADDR] [--model NAME|FILE] [--language CODE] [--no-inference | --worker]

Starts the HTTP service (TingWu, whisper-asr-webservice, OpenAI and jobs routes). Every other
setting comes from the environment: WHISPER_DOWNLOAD_ROOT, DEVICE, WHISPER_THREADS,
WHISPER_POOL_SIZE, WHISPER_QUEUE_SIZE, WHISPER_MAX_UPLOAD_MB, REDIS_URL, JOB_STORAGE, LOG_LEVEL, ...
(see .env.example, docs/DEPLOYMENT.md and docs/SCALE.md). Flags win over PORT, HOST,
WHISPER_MODEL and WHISPER_LANGUAGE.

  --no-inference   an API-only front: no model is loaded, jobs go to BullMQ (REDIS_URL) for
                   \`tingwu-whisper worker\` processes, and the sync routes answer 503
  --worker         with REDIS_URL: also run BullMQ jobs on this server's model (with the sync
                   requests, FIFO on its WHISPER_POOL_SIZE slots)`;

export async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      model: { type: "string" },
      language: { type: "string" },
      "no-inference": { type: "boolean" },
      worker: { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
  const settings = loadSettings(process.env, {
    PORT: { option: "--port", value: values.port },
    HOST: { option: "--host", value: values.host },
    WHISPER_MODEL: { option: "--model", value: values.model },
    WHISPER_LANGUAGE: { option: "--language", value: values.language },
  });
  const inference = values["no-inference"] !== true;
  if (!inference && !settings.redisUrl) throw new UsageError("--no-inference needs REDIS_URL: the jobs of an API-only front run on `tingwu-whisper worker` processes");
  const jobWorker = values.worker === true;
  if (jobWorker && (!inference || !settings.redisUrl)) throw new UsageError("--worker needs REDIS_URL and a model (not --no-inference)");
  // Resolves once listening; the process then lives until SIGTERM/SIGINT.
  await startServer(settings, { inference, jobWorker });
}
