export interface CudaLibraries {
  major: number;
  /** Library name (libcudart.so.12) to the file found. */
  found: Record<string, string>;
  /** Library names found nowhere. */
  missing: string[];
  /** Folders holding the found libraries. */
  dirs: string[];
}
export function cudaLibraryNames(major: number | string): string[];
export function cudaInstallCommand(major: number | string): string;
export function cudaLibrarySearchDirs(major: number | string, env?: NodeJS.ProcessEnv): string[];
export function findCudaLibraries(major: number | string, options?: { env?: NodeJS.ProcessEnv; searchDirs?: string[] }): CudaLibraries;
export function describeMissingCudaLibraries(result: CudaLibraries): string;
export function withCudaLibraryPath(env: NodeJS.ProcessEnv, result: CudaLibraries): NodeJS.ProcessEnv;
export function preloadCudaLibraries(result: CudaLibraries): string[];
