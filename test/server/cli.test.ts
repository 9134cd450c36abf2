// The `tingwu-whisper` command, run as a child process from the sources (through tsx).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCRIPT, scriptedModelPath } from "../fixtures/models.js";
import { wavFile } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "lib/cli.ts", ...args], { cwd: ROOT, env: { ...process.env, WHISPER_THREADS: "2", ...env }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let model: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-cli-"));
  model = await scriptedModelPath({ dims: "mini" });
  await fs.writeFile(path.join(dir, "speech.wav"), wavFile());
  await fs.writeFile(path.join(dir, "other.wav"), wavFile());
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("tingwu-whisper transcribe", () => {
  it("prints the transcript in the chosen format to stdout, progress to stderr", async () => {
    const { code, stdout, stderr } = await cli(["transcribe", path.join(dir, "speech.wav"), "--model", model, "--format", "srt"]);
    expect(code).toBe(0);
    expect(stdout).toBe("1\n00:00:00,400 --> 00:00:01,800\nHello world, this is TingWu.\n\n2\n00:00:02,000 --> 00:00:03,600\n你好，世界。\n\n");
    expect(stderr).toMatch(/speech\.wav: \[=+\] 100% {2}4\.0 s of audio in [\d.]+ s \(zh\)/);
  });

  it("writes one file per input into --output-dir and fails (exit 1) only for the bad ones", async () => {
    const out = path.join(dir, "out");
    await fs.writeFile(path.join(dir, "noise.wav"), Buffer.from("RIFF but not really a wave file"));
    const { code, stderr } = await cli(["transcribe", path.join(dir, "speech.wav"), path.join(dir, "noise.wav"), path.join(dir, "other.wav"), "--model", model, "--format", "tsv", "--output-dir", out]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/noise\.wav: failed: /);
    const tsv = "start\tend\ttext\n400\t1800\tHello world, this is TingWu.\n2000\t3600\t你好，世界。\n";
    expect(await fs.readFile(path.join(out, "speech.tsv"), "utf8")).toBe(tsv);
    expect(await fs.readFile(path.join(out, "other.tsv"), "utf8")).toBe(tsv);
    expect((await fs.readdir(out)).sort()).toEqual(["other.tsv", "speech.tsv"]);
  });

  it.each([
    [["transcribe"], /transcribe needs at least one file/],
    [["transcribe", "a.wav", "--format", "docx"], /Expected one of txt, srt, vtt, json, tsv for --format but received "docx"/],
    [["transcribe", "a.wav", "b.wav"], /Several files need --output-dir/],
    [["transcribe", "a.wav", "--colour"], /Unknown option '--colour'/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["models", "delete"], /Unknown models action "delete"/],
    [["models", "convert"], /Expected exactly one input model/],
  ])("usage errors exit 2: %j", async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it("a bad flag exits 2 naming the flag; a bad variable names the variable", async () => {
    const flag = await cli(["transcribe", path.join(dir, "speech.wav"), "--threads", "0"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('Invalid settings on the command line:\n--threads: expected an integer between 1 and 512 but received "0"');
    expect(flag.stderr).not.toContain("WHISPER_THREADS");
    const variable = await cli(["transcribe", path.join(dir, "speech.wav")], { WHISPER_THREADS: "0" });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toContain('Invalid settings in the environment:\nWHISPER_THREADS: expected an integer between 1 and 512 but received "0"');
    // A flag wins over the variable, so a good flag hides a bad variable's value.
    const both = await cli(["transcribe", path.join(dir, "speech.wav"), "--model", model, "--threads", "1", "--quiet"], { WHISPER_THREADS: "0" });
    expect(both.code).toBe(0);
    const serve = await cli(["serve", "--port", "http"]);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain('--port: expected an integer between 0 and 65535 but received "http"');
  });

  it("checks that every input exists before it loads or downloads a model", async () => {
    const root = path.join(dir, "empty-root");
    const { code, stdout, stderr } = await cli(["transcribe", path.join(dir, "speech.wav"), path.join(dir, "missing.wav"), path.join(dir), "--model", "tiny", "--output-dir", path.join(dir, "never")], {
      WHISPER_DOWNLOAD_ROOT: root,
      WHISPER_MODEL_URL: "http://127.0.0.1:9",
    });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`${path.join(dir, "missing.wav")}: no such file\n${dir}: not a file\n`);
    await expect(fs.stat(root)).rejects.toThrow(/ENOENT/);
    await expect(fs.stat(path.join(dir, "never"))).rejects.toThrow(/ENOENT/);
  });

  it("--word-timestamps adds words to json; --prompt and --hotwords are taken", async () => {
    const { code, stdout } = await cli(["transcribe", path.join(dir, "speech.wav"), "--model", model, "--format", "json", "--word-timestamps", "--prompt", "A talk.", "--hotwords", "TingWu", "--hotwords", "SenseVoice", "--quiet"]);
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as { text: string; segments: { text: string; words: { word: string; start: number; end: number }[] }[] };
    expect(json.text).toBe(SCRIPT.text);
    for (const segment of json.segments) {
      expect(segment.words.map((w) => w.word).join("")).toBe(segment.text);
      for (const w of segment.words) expect(w.end).toBeGreaterThanOrEqual(w.start);
    }
    const plain = await cli(["transcribe", path.join(dir, "speech.wav"), "--model", model, "--format", "json", "--quiet"]);
    expect((JSON.parse(plain.stdout) as { segments: object[] }).segments[0]).not.toHaveProperty("words");
  });

  // Both streams on one terminal (a pty from script(1)): the bar's line ends before the transcript.
  it.runIf(process.platform === "linux")("the transcript starts on its own line after the progress bar", async () => {
    const command = [process.execPath, "--import", "tsx", "lib/cli.ts", "transcribe", path.join(dir, "speech.wav"), "--model", model].map((a) => `'${a}'`).join(" ");
    const { stdout } = await new Promise<{ stdout: string }>((resolve) => {
      execFile("script", ["-qec", command, "/dev/null"], { cwd: ROOT, env: { ...process.env, WHISPER_THREADS: "2", COLUMNS: "200" } }, (_error, out) => resolve({ stdout: out }));
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's erase-line sequence starts with ESC
    expect(stdout).toMatch(/100%[^\n]*\(zh\)\x1b\[K\r?\nHello world, this is TingWu\.\r?\n你好，世界。\r?\n/);
  });
});

describe("tingwu-whisper models", () => {
  let server: http.Server;
  let base: string;
  const body = Buffer.alloc(300_000, 7);
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url !== "/ggml-base.bin") return void res.writeHead(404).end();
      res.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("download fetches ggml-<name>.bin into the download root with a progress line; list shows it", async () => {
    const root = path.join(dir, "models");
    const env = { WHISPER_DOWNLOAD_ROOT: root, WHISPER_MODEL_URL: base, WHISPER_MODEL_SHA256: createHash("sha256").update(body).digest("hex") };
    const download = await cli(["models", "download", "base"], env);
    expect(download.code).toBe(0);
    expect(download.stdout).toBe(`${path.join(root, "ggml-base.bin")}\n`);
    expect(download.stderr).toMatch(/ggml-base\.bin {2}\[=+\] 100\.0% {2}293 KiB \/ 293 KiB/);
    expect(await fs.readFile(path.join(root, "ggml-base.bin"))).toEqual(body);

    const list = await cli(["models", "list"], env);
    expect(list.code).toBe(0);
    const lines = list.stdout.split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SIZE\s+FILE$/);
    expect(lines.find((l) => l.startsWith("base "))).toMatch(new RegExp(`^base\\s+293 KiB  ${path.join(root, "ggml-base.bin").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`));
    expect(lines.find((l) => l.startsWith("tiny "))).toMatch(/^tiny\s+~75 MiB {2}\(not downloaded\)$/);
    expect(lines.find((l) => l.startsWith("large "))).toMatch(/^large\s+~2\.9 GiB {2}\(not downloaded\)$/);
  });

  it("download of a name the server doesn't have fails with exit 1 and says why", async () => {
    const { code, stderr } = await cli(["models", "download", "tiny"], { WHISPER_DOWNLOAD_ROOT: path.join(dir, "models2"), WHISPER_MODEL_URL: base });
    expect(code).toBe(1);
    expect(stderr).toMatch(/ggml-tiny\.bin was not found and downloading it from .* failed: the server answered HTTP 404/);
  });
});

describe("tingwu-whisper inspect", () => {
  it("shows build, backends, devices and CPU features", async () => {
    const { code, stdout } = await cli(["inspect"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Build\n {2}whisper\.cpp {3}\d+\.\d+\.\d+\n {2}variant {7}(cpu|portable|cuda)\n/);
    expect(stdout).toMatch(/\nBackends\n {2}.*CPU/);
    // The CPU backend module is named exactly when backends are loaded at run time (portable).
    const info = JSON.parse((await cli(["inspect", "--json"])).stdout) as { cpuBackend: string | null; dynamicBackends: boolean };
    if (info.cpuBackend) expect(stdout).toContain(`\n  CPU backend   ${info.cpuBackend}`);
    else expect(stdout).not.toContain("CPU backend");
    expect(info.cpuBackend !== null).toBe(info.dynamicBackends);
    expect(stdout).toMatch(/\nDevices\n {2}CPU \(cpu, CPU\): /);
    // Why the loader took this binary (runtimeInfo().binaryChoice, scripts/native-binaries.mjs).
    const choice = (JSON.parse((await cli(["inspect", "--json"])).stdout) as { binaryChoice: { reason: string } }).binaryChoice;
    expect(choice.reason.length).toBeGreaterThan(0);
    expect(stdout).toContain(`\n  chosen        ${choice.reason}\n`);
    expect(stdout).toMatch(/\nCPU features\n {2}enabled {3}.*\S/);
  });

  it("--json includes the parsed feature flags", async () => {
    const { code, stdout } = await cli(["inspect", "--json"]);
    expect(code).toBe(0);
    const info = JSON.parse(stdout) as { variant: string; systemInfo: string; features: { CPU?: Record<string, boolean> }; devices: unknown[] };
    expect(["cpu", "portable", "cuda"]).toContain(info.variant);
    const cpu = info.features.CPU ?? {};
    expect(Object.keys(cpu).length).toBeGreaterThan(0);
    for (const [flag, on] of Object.entries(cpu)) expect(info.systemInfo).toContain(`${flag} = ${on ? "1" : "0"}`);
  });
});
