// Backend types -> factories. The package's own backends are listed here (not registered by an
// import's side effect); registerBackend adds or replaces one at run time.
import type { ASRBackend, BackendOptions } from "./types.js";
import { WhisperBackend } from "./whisper.js";
import type { WhisperBackendOptions } from "./whisper.js";

export type BackendFactory = (options: BackendOptions) => ASRBackend;

/** The backends this package provides (ASR_BACKEND accepts these). */
export const BUILT_IN_BACKENDS = ["whisper"] as const;

const factories = new Map<string, BackendFactory>([["whisper", (options) => new WhisperBackend(options as WhisperBackendOptions)]]);

/** Registers (or replaces) the factory for a backend type. */
export function registerBackend(type: string, factory: BackendFactory): void {
  if (typeof type !== "string" || type.length === 0) throw new TypeError(`Expected a non-empty string for type but received ${String(type)}`);
  if (typeof factory !== "function") throw new TypeError(`Expected a function for factory but received ${typeof factory}`);
  factories.set(type, factory);
}

/** Backend types that can be built. */
export function registeredBackends(): string[] {
  return [...factories.keys()];
}

/**
 * Builds a backend. Throws RangeError for an unknown type (listing the known ones) and lets the
 * factory's own typed error through when a backend can't work here (e.g. NativeLoadError).
 */
export function getBackend(type: string, options: BackendOptions = {}): ASRBackend {
  const factory = factories.get(type);
  if (!factory) {
    throw new RangeError(`Unknown ASR backend ${JSON.stringify(type)}; registered backends: ${registeredBackends().join(", ") || "none"}`);
  }
  return factory(options);
}
