// The package's name and version, read from package.json (one level above lib/ and dist/).
import { createRequire } from "node:module";

const pkg = createRequire(import.meta.url)("../package.json") as { name: string; version: string; description: string };

/** The package version (`tingwu-whisper --version`, /health). */
export const VERSION: string = pkg.version;
/** The package description (the OpenAPI document's). */
export const DESCRIPTION: string = pkg.description;
