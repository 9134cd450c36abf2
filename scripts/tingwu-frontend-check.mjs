// Drives TingWu's own frontend against a running tingwu-whisper, in headless chromium: the built
// frontend is served here on 127.0.0.1:5199 with its backend set to the "Whisper (8105)" preset,
// so every call is cross-origin (CORS). Transcribe (upload a WAV), Hotwords (replace, context
// append), Config (toggle hotword injection, save, reload the engine), Monitor. Prints every call
// the frontend made to the service and each step's outcome; saves screenshots. Not part of
// `npm test`: it needs TingWu's frontend built (docs/TINGWU.md says how).
//
//   node scripts/tingwu-frontend-check.mjs <frontend dist folder> <a WAV file> [screenshot folder]
//   (the service must listen on localhost:8105; TINGWU_CHROMIUM overrides the browser)
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const [distArg, wav, outArg] = process.argv.slice(2);
if (!distArg || !wav) {
  console.error("usage: node scripts/tingwu-frontend-check.mjs <frontend dist folder> <a WAV file> [screenshot folder]");
  process.exit(2);
}
const dist = path.resolve(distArg);
const API = "http://localhost:8105";
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon" };
const server = http.createServer((req, res) => {
  let file = path.join(dist, decodeURIComponent(req.url.split("?")[0]));
  if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dist, "index.html");
  res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(5199, "127.0.0.1", r));
const executablePath = [process.env.TINGWU_CHROMIUM, "/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => p && fs.existsSync(p));
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
await context.addInitScript(() => localStorage.setItem("tingwu-backend-storage", JSON.stringify({ state: { baseUrl: "http://localhost:8105" }, version: 0 })));
let failures = 0;
const page = await context.newPage();
const calls = [];
page.on("response", (r) => { if (r.url().startsWith(API)) calls.push(`${r.request().method()} ${r.url().slice(API.length)} -> ${r.status()}`); });
page.on("console", (m) => { if (m.type() === "error") calls.push(`console error: ${m.text()}`); });
const out = path.resolve(outArg ?? "tingwu-frontend-screenshots");
fs.mkdirSync(out, { recursive: true });
const api = async (route) => (await fetch(`${API}${route}`)).json();
const check = (what, actual, expected) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)} but the service has ${JSON.stringify(actual)}`);
};
const go = async (route) => { await page.goto(`http://127.0.0.1:5199${route}`); await page.waitForTimeout(3000); calls.push(`--- ${route}`); };
const shot = (name) => page.screenshot({ path: `${out}/tingwu-${name}.png`, fullPage: true });
const step = async (what, fn) => { try { await fn(); calls.push(`ok: ${what}`); } catch (e) { failures++; calls.push(`FAILED: ${what}: ${e.message.split("\n")[0]}`); } };

await go("/");
await step("transcribe a WAV", async () => {
  await page.setInputFiles("input[type=file]", wav);
  await page.getByRole("button", { name: "开始转写" }).click();
  await page.getByText("Hello world, this is TingWu.").first().waitFor({ timeout: 120000 });
});
await page.waitForTimeout(1000);
await shot("transcribe");

await go("/hotwords");
await step("replace hotwords", async () => {
  await page.locator("textarea").first().fill("TingWu\nKubernetes\nWhisper");
  await page.getByRole("button", { name: "更新全部" }).click();
  await page.getByText("共").first().waitFor();
  await page.waitForTimeout(1500);
  check("hotwords", (await api("/api/v1/hotwords")).hotwords, ["TingWu", "Kubernetes", "Whisper"]);
});
const term = `术语${Date.now()}`;
await step("context tab: append", async () => {
  await page.getByRole("tab", { name: /上下文热词/ }).click();
  await page.waitForTimeout(1000);
  await page.locator("textarea").first().fill(term);
  await page.getByRole("button", { name: /追加/ }).first().click();
  await page.waitForTimeout(1500);
  check("context hotwords", (await api("/api/v1/hotwords/context")).hotwords.includes(term), true);
});
await shot("hotwords");

await go("/config");
const before = (await api("/config")).config.hotword_injection_enable;
await step("hotword tab: toggle injection and save", async () => {
  await page.getByRole("tab", { name: "热词配置" }).click();
  await page.waitForTimeout(800);
  await page.locator("#hotword_injection_enable").click(); await page.waitForTimeout(500);
  await page.getByRole("button", { name: /^保存 \(/ }).click();
  await page.waitForTimeout(1500);
  check("hotword_injection_enable", (await api("/config")).config.hotword_injection_enable, !before);
});
await step("reload engine", async () => {
  await page.getByRole("button", { name: "重载引擎" }).click();
  await page.waitForTimeout(1500);
});
await shot("config");

await go("/monitor");
await page.waitForTimeout(1000);
await shot("monitor");
console.log(calls.join("\n"));
await browser.close();
server.close();
process.exit(failures === 0 ? 0 : 1);
