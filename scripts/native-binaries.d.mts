export type NativeVariant = "cpu" | "cuda";

/** TINGWU_WHISPER_VARIANT: `cpu` or `cuda`, or undefined when unset; throws a RangeError naming it otherwise. */
export function requestedVariant(env?: NodeJS.ProcessEnv): NativeVariant | undefined;

/** A binary the loader may use. */
export interface NativeCandidate {
  file: string;
  variant: NativeVariant;
  source: "prebuild" | "local build";
  /** The CUDA major of a cuda binary (from its folder name: cuda12, cuda13). */
  cudaMajor?: number;
}

/** What a child process saw when it loaded a binary. */
export interface ProbeResult {
  ok: boolean;
  /** GPU devices the binary sees (CUDA devices for the cuda variant). */
  gpus: number;
  /** The CUDA version the driver supports ("12.2"), null without a driver; absent for CPU binaries. */
  cudaDriverVersion?: string | null;
  /** Why it failed (ok: false), in one line. */
  error?: string;
}

export interface CudaChoice {
  candidate?: NativeCandidate;
  /** Why this binary (or why none), in one line. */
  reason: string;
  /** Binaries passed over before it, each with the reason. */
  skipped: string[];
}

export const PROBE_TIMEOUT_MS: number;
export const MIN_DRIVER: Record<number, string>;
export function cudaMajors(names: string[]): number[];
export function nativeCandidates(root: string, variant: NativeVariant): NativeCandidate[];
export function probeInChild(file: string, env?: NodeJS.ProcessEnv, cudaMajor?: number): ProbeResult;
export function cudaDriverPresent(env?: NodeJS.ProcessEnv): boolean;
export function driverRunsCudaMajor(driverVersion: string | null | undefined, major: number | undefined): boolean | undefined;
export function chooseCudaBinary(
  candidates: NativeCandidate[],
  options: { probe: (file: string, cudaMajor?: number) => ProbeResult; requireDevice: boolean },
): CudaChoice;
