// Real processes for the job tests: redis-server on a free loopback port with AOF in a temporary
// directory, and `tingwu-whisper serve|worker` children (through tsx) whose JSON logs are kept.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { waitFor } from "../server/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** True when redis-server can be run here. */
export const REDIS_AVAILABLE = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

/** A free TCP port on 127.0.0.1 (free when asked; taken right after by the caller). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  /** Clean shutdown (SIGTERM: Redis fsyncs its AOF and exits). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (the AOF is read back). */
  start(): Promise<void>;
}

/** redis-server with `appendonly yes` (fsync always) in `dir`. */
export async function startRedis(dir: string): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = "";
  const start = async () => {
    output = "";
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--loglevel", "notice"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => /Ready to accept connections/.test(output) || child!.exitCode !== null, 30_000, "redis-server to start");
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGTERM");
      await exited;
    },
  };
}

export interface LogLine {
  msg?: string;
  job?: string;
  state?: string;
  error?: string;
  [key: string]: unknown;
}

export interface CliProcess {
  child: ChildProcess;
  logs: LogLine[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a log line matching `match`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
}

/** `tingwu-whisper <args>` from the sources, JSON logs on stdout collected. */
export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "lib/cli.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  let buffer = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    async waitForLog(match, timeoutMs = 120_000, what = "a log line") {
      await waitFor(() => logs.some(match) || child.exitCode !== null, timeoutMs, what);
      const line = logs.find(match);
      if (!line) throw new Error(`the process exited (${child.exitCode}) before ${what}: ${stderr.slice(-2000)}`);
      return line;
    },
  };
}

/** Kills a child if it still runs (test cleanup). */
export function killQuietly(proc: CliProcess | undefined): void {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
}
