export interface RunpathEntry {
  offset: number;
  value: string;
  tag: "RUNPATH" | "RPATH";
}
export function findRunpath(buf: Buffer): RunpathEntry | undefined;
export function keepOriginOnly(file: string): { before: string; after: string };
