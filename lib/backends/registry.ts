import type { ASRBackend, BackendOptions } from "./types.js";

export type BackendFactory = (options: BackendOptions) => ASRBackend;

const factories = new Map<string, BackendFactory>();

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
