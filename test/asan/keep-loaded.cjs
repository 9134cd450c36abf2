// Preloaded into vitest's main process by scripts/asan.sh: holds the addon mapped for the whole
// run. The tests load it in a worker thread, and node unloads a worker's addons when the worker
// exits, after which LeakSanitizer's exit-time report could not name the addon's functions.
require(process.env.TINGWU_WHISPER_BINARY);
