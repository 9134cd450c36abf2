// `tingwu-whisper inspect`: what was built and what this machine offers.
import { parseArgs } from "node:util";
import { formatBytes } from "../models/progress.js";
import { runtimeInfo } from "../whisper.js";

export const INSPECT_USAGE = `Usage: tingwu-whisper inspect [--json]

Shows the native build in use (whisper.cpp version, variant, binary, CUDA), its ggml backends,
the devices they see, and the CPU features whisper.cpp detected.`;

/** `"CPU : SSE3 = 1 | AVX = 1 | AVX512 = 0"` -> `{ SSE3: true, AVX: true, AVX512: false }` per section. */
export function parseSystemInfo(systemInfo: string): Record<string, Record<string, boolean>> {
  const sections: Record<string, Record<string, boolean>> = {};
  let current = "GENERAL";
  for (const part of systemInfo.split("|")) {
    const text = part.trim();
    if (!text) continue;
    const header = /^([A-Za-z0-9_]+)\s*:\s*(.*)$/.exec(text);
    const flag = header ? header[2]! : text;
    if (header) current = header[1]!;
    const kv = /^([A-Za-z0-9_.]+)\s*=\s*(\S+)$/.exec(flag.trim());
    if (kv) {
      const section = sections[current] ?? {};
      section[kv[1]!] = kv[2] !== "0";
      sections[current] = section;
    }
  }
  return sections;
}

export function inspect(args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: "boolean", default: false } }, strict: true, allowPositionals: false });
  const info = runtimeInfo();
  const features = parseSystemInfo(info.systemInfo);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...info, features }, null, 2)}\n`);
    return 0;
  }
  const yes = (b: boolean) => (b ? "yes" : "no");
  const lines = [
    "Build",
    `  whisper.cpp   ${info.whisperCppVersion}`,
    `  variant       ${info.variant}`,
    `  binary        ${info.binary}`,
    `  chosen        ${info.binaryChoice.reason}`,
    ...info.binaryChoice.skipped.map((s) => `  passed over   ${s}`),
    `  CUDA          ${info.cudaCompiled ? `compiled with ${info.cudaVersion ?? "?"}` : "not compiled in"}`,
  ];
  if (info.cudaCompiled) {
    lines.push(`  CUDA runtime  ${info.cudaRuntimeVersion ?? "not found"}`);
    lines.push(`  CUDA driver   ${info.cudaDriverVersion ?? "not found (no NVIDIA driver: CPU only)"}`);
  }
  lines.push(`  dynamic backends ${yes(info.dynamicBackends)}`);
  if (info.cpuBackend) {
    const fp16 = info.cpuBackend.includes("fp16") ? " (AVX512-FP16 arithmetic; TINGWU_CPU_FP16=0 turns it off)" : "";
    lines.push(`  CPU backend   ${info.cpuBackend}${fp16}`);
  }
  lines.push("", `Backends\n  ${info.backends.join(", ") || "none"}`, "", "Devices");
  for (const d of info.devices) {
    const memory = d.memoryTotal > 0 ? `  ${formatBytes(d.memoryFree)} free of ${formatBytes(d.memoryTotal)}` : "";
    lines.push(`  ${d.name} (${d.type}, ${d.backend}): ${d.description}${memory}`);
  }
  if (!info.devices.some((d) => d.type === "gpu" || d.type === "igpu")) lines.push("  no GPU: transcription runs on the CPU");
  lines.push("", "CPU features");
  const cpu = features.CPU ?? {};
  const on = Object.entries(cpu).filter(([, v]) => v).map(([k]) => k);
  const off = Object.entries(cpu).filter(([, v]) => !v).map(([k]) => k);
  lines.push(`  enabled   ${on.join(" ") || "none"}`);
  if (off.length) lines.push(`  disabled  ${off.join(" ")}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
