// Runs the image that `npm run image:build` wrote without a Docker engine: skopeo turns the OCI
// archive into an OCI layout, umoci unpacks it into a runtime bundle (rootfs + config.json made
// from the image config: entrypoint, cmd, env, working dir), and crun runs that bundle with the
// image's own config, plus a data folder bind-mounted at /app/data. The container shares the
// host's network namespace so the test reaches it on 127.0.0.1; crun runs without cgroups (no
// systemd on CI machines). Needs root, as `docker run` does.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface Unpacked {
  dir: string;
  rootfs: string;
  /** config.json as umoci wrote it from the image config. */
  config: RuntimeConfig;
}

interface RuntimeConfig {
  process: { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number }; terminal?: boolean };
  root: { path: string; readonly?: boolean };
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { namespaces: { type: string }[]; [key: string]: unknown };
  [key: string]: unknown;
}

export function run(cmd: string, args: string[], options: { cwd?: string; input?: string } = {}): string {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${result.status}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export function unpack(archive: string, dir: string, tag: string): Unpacked {
  run("skopeo", ["copy", "--quiet", `oci-archive:${archive}:${tag}`, `oci:${dir}/layout:smoke`]);
  run("umoci", ["unpack", "--image", `${dir}/layout:smoke`, `${dir}/bundle`]);
  const config = JSON.parse(fs.readFileSync(`${dir}/bundle/config.json`, "utf8")) as RuntimeConfig;
  return { dir, rootfs: path.join(dir, "bundle", "rootfs"), config };
}

export interface RunOptions {
  /** Overrides and additions to the image's environment. */
  env?: Record<string, string>;
  /** Host folder mounted at /app/data. */
  data?: string;
  /** Replaces the image's entrypoint + cmd. */
  args?: string[];
  /** Appended to the image's entrypoint instead of its cmd. */
  cmd?: string[];
}

export class Container {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    private readonly image: Unpacked,
    readonly id: string,
    options: RunOptions,
  ) {
    const config = structuredClone(image.config);
    const env = new Map(config.process.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const));
    for (const [k, v] of Object.entries(options.env ?? {})) env.set(k, v);
    config.process.env = [...env].map(([k, v]) => `${k}=${v}`);
    config.process.terminal = false;
    if (options.args) config.process.args = options.args;
    else if (options.cmd) config.process.args = [...this.entrypoint(), ...options.cmd];
    config.root = { path: image.rootfs, readonly: false };
    config.linux.namespaces = config.linux.namespaces.filter((n) => n.type !== "network");
    if (options.data) config.mounts.push({ destination: "/app/data", type: "bind", source: options.data, options: ["rbind", "rw"] });
    const bundle = path.join(image.dir, `run-${id}`);
    fs.mkdirSync(bundle, { recursive: true });
    fs.writeFileSync(path.join(bundle, "config.json"), JSON.stringify(config, null, 2));
    this.child = spawn("crun", [...this.crunGlobal(), "run", "--bundle", bundle, id], { stdio: ["ignore", "pipe", "pipe"] });
    const collect = (chunk: Buffer) => this.output.push(chunk.toString("utf8"));
    this.child.stdout!.on("data", collect);
    this.child.stderr!.on("data", collect);
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** The image's entrypoint: config.json's args without the image's cmd (["serve"]). */
  private entrypoint(): string[] {
    const args = this.image.config.process.args;
    return args.at(-1) === "serve" ? args.slice(0, -1) : args;
  }

  private crunGlobal(): string[] {
    return ["--cgroup-manager=disabled", "--root", path.join(this.image.dir, "crun-state")];
  }

  get logs(): string {
    return this.output.join("");
  }

  /** Host pid of the container's first process (the service, after the entrypoint's exec). */
  pid(): number {
    return (JSON.parse(run("crun", [...this.crunGlobal(), "state", this.id])) as { pid: number }).pid;
  }

  /** Runs a command inside the running container, as `docker exec` does (as root, the image's env). */
  exec(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("crun", [...this.crunGlobal(), "exec", this.id, ...args], { encoding: "utf8", timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** SIGTERM (docker stop), then the exit code; SIGKILL after `graceMs`. */
  async stop(graceMs = 60_000): Promise<number | null> {
    spawnSync("crun", [...this.crunGlobal(), "kill", this.id, "TERM"]);
    const timer = setTimeout(() => spawnSync("crun", [...this.crunGlobal(), "kill", this.id, "KILL"]), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    spawnSync("crun", [...this.crunGlobal(), "delete", "--force", this.id]);
    return code;
  }
}

/** Polls `url` until `accept` says yes; fails with the container's log when it exits or time runs out. */
export async function waitFor(container: Container, url: string, accept: (res: Response) => boolean, timeoutMs = 180_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void container.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`the container exited before ${url} answered; its log:\n${container.logs}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (accept(res)) return res;
      await res.body?.cancel();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer as expected within ${timeoutMs} ms; the container's log:\n${container.logs}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Size and layers of the archive, from its OCI index, manifest and config. */
export function describeArchive(archive: string): { bytes: number; layers: { size: number; createdBy: string }[]; config: { config?: Record<string, unknown> } } {
  const entry = (name: string) => run("tar", ["-xOf", archive, name]);
  const blob = (digest: string) => JSON.parse(entry(`blobs/${digest.replace(":", "/")}`)) as Record<string, unknown>;
  const index = JSON.parse(entry("index.json")) as { manifests: { digest: string }[] };
  const manifest = blob(index.manifests[0]!.digest) as { config: { digest: string }; layers: { size: number }[] };
  const config = blob(manifest.config.digest) as { config?: Record<string, unknown>; history?: { created_by?: string; empty_layer?: boolean }[] };
  const history = (config.history ?? []).filter((h) => !h.empty_layer);
  return {
    bytes: fs.statSync(archive).size,
    layers: manifest.layers.map((l, i) => ({ size: l.size, createdBy: (history[i]?.created_by ?? "").replace(/\s+/g, " ").slice(0, 110) })),
    config,
  };
}
