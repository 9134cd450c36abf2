// Runs the image that `npm run image:build` wrote without a Docker engine: skopeo turns the OCI
// archive into an OCI layout, umoci unpacks it into a runtime bundle (rootfs + config.json made from
// the image config: entrypoint, cmd, env, working dir), and the image's entrypoint runs chrooted in
// that rootfs in its own mount, PID, IPC and UTS namespaces (util-linux unshare), with a data folder
// bind-mounted at /app/data, as `docker run -v data:/app/data` does. No OCI runtime: crun refuses
// hybrid cgroup hierarchies like these machines', and a container without cgroup limits needs none.
// The network namespace is the host's, so the test reaches the service on 127.0.0.1. Needs root.
import { execFile, spawn } from "node:child_process";
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
  process: { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number } };
  [key: string]: unknown;
}

/** Runs a command without blocking the test worker (skopeo, umoci and tar take a while on busy machines). */
export function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000, ...(env ? { env } : {}) }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ status, stdout, stderr: stderr || (error && status === -1 ? error.message : "") });
    });
  });
}

/** {@link run}, failing unless the command exits 0; gives its stdout. */
export async function check(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export async function unpack(archive: string, dir: string, tag: string): Promise<Unpacked> {
  await check("skopeo", ["copy", "--quiet", `oci-archive:${archive}:${tag}`, `oci:${dir}/layout:smoke`]);
  await check("umoci", ["unpack", "--image", `${dir}/layout:smoke`, `${dir}/bundle`]);
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
  private readonly env: Record<string, string>;

  constructor(
    private readonly image: Unpacked,
    readonly id: string,
    options: RunOptions,
  ) {
    const config = image.config;
    this.env = Object.fromEntries(config.process.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    Object.assign(this.env, options.env ?? {});
    const args = options.args ?? (options.cmd ? [...this.entrypoint(), ...options.cmd] : config.process.args);
    // In the new mount namespace (private propagation: nothing reaches the host): /proc of the new
    // PID namespace, the host's /dev, the data folder; then chroot and exec, so the entrypoint is
    // the namespace's PID 1 as in a container. Everything is unmounted when that process ends.
    const script = [
      'set -e; root="$1"; data="$2"; cwd="$3"; shift 3',
      'mount -t proc proc "$root/proc"',
      'mount --rbind /dev "$root/dev"',
      'if [ -n "$data" ]; then mkdir -p "$root/app/data"; mount --bind "$data" "$root/app/data"; fi',
      'exec chroot "$root" /bin/sh -c \'cd "$0" && exec "$@"\' "$cwd" "$@"',
    ].join("\n");
    this.child = spawn("unshare", ["--mount", "--pid", "--ipc", "--uts", "--fork", "--", "/bin/sh", "-c", script, "run", image.rootfs, options.data ?? "", config.process.cwd || "/", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: this.env,
    });
    const collect = (chunk: Buffer) => this.output.push(chunk.toString("utf8"));
    this.child.stdout!.on("data", collect);
    this.child.stderr!.on("data", collect);
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))));
  }

  /** The image's entrypoint: config.json's args without the image's cmd (["serve"]). */
  private entrypoint(): string[] {
    const args = this.image.config.process.args;
    return args.at(-1) === "serve" ? args.slice(0, -1) : args;
  }

  get logs(): string {
    return this.output.join("");
  }

  /** Host pid of the container's PID 1 (the service, after the entrypoint's execs). */
  pid(): number {
    const unshare = this.child.pid!;
    const children = fs.readFileSync(`/proc/${unshare}/task/${unshare}/children`, "utf8").trim().split(/\s+/);
    return Number(children[0]);
  }

  /** Runs a command inside the running container, as `docker exec` does (as root, the image's env). */
  exec(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return run("nsenter", ["--target", String(this.pid()), "--mount", "--pid", "--ipc", "--uts", "--root", "--wd", "--", ...args], this.env);
  }

  /** SIGTERM to PID 1 (docker stop), then its exit code; SIGKILL after `graceMs`. */
  async stop(graceMs = 60_000): Promise<number | null> {
    let pid: number | undefined;
    try {
      pid = this.pid();
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        if (pid) process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }, graceMs);
    const code = await this.exited;
    clearTimeout(timer);
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
export async function describeArchive(archive: string): Promise<{ bytes: number; layers: { size: number; createdBy: string }[]; config: { config?: Record<string, unknown> } }> {
  const entry = (name: string) => check("tar", ["-xOf", archive, name]);
  const blob = async (digest: string) => JSON.parse(await entry(`blobs/${digest.replace(":", "/")}`)) as Record<string, unknown>;
  const index = JSON.parse(await entry("index.json")) as { manifests: { digest: string }[] };
  const manifest = (await blob(index.manifests[0]!.digest)) as { config: { digest: string }; layers: { size: number }[] };
  const config = (await blob(manifest.config.digest)) as { config?: Record<string, unknown>; history?: { created_by?: string; empty_layer?: boolean }[] };
  // buildah without --layers squashes each stage into one layer, named by its last instruction.
  const history = (config.history ?? []).filter((h) => !h.empty_layer);
  return {
    bytes: fs.statSync(archive).size,
    layers: manifest.layers.map((l, i) => ({ size: l.size, createdBy: (history[i]?.created_by ?? "").replace(/\s+/g, " ").slice(0, 110) })),
    config,
  };
}
