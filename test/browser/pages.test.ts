// Our web page and Swagger UI in a real browser: Debian's chromium, driven headless by
// playwright-core (no browser download). Upload a WAV on the page and read the scripted model's
// exact transcript; open /docs and execute a request from it. With TINGWU_UPDATE_SCREENSHOTS=1 the
// screenshots are written to docs/ (web-page.png, swagger-ui.png).
// Without chromium the tests skip, unless TINGWU_REQUIRE_BROWSER=1 (CI), which makes that a failure.
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toSrt } from "../../lib/formats/subtitles.js";
import { SCRIPT_SENTENCES, SCRIPT_TEXT, startTestServer, wavFile } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";

/** The browser: TINGWU_CHROMIUM, else Debian's chromium (the real binary; /usr/bin/chromium is a wrapper script). */
const CANDIDATES = [process.env.TINGWU_CHROMIUM, "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);
const executablePath = CANDIDATES.find((p) => fs.existsSync(p));
const required = process.env.TINGWU_REQUIRE_BROWSER === "1";
const DOCS = path.resolve(import.meta.dirname, "../../docs");
const TIMEOUT = 300_000;

/** Takes the screenshot (so rendering is exercised) and keeps it in docs/ when asked to. */
async function screenshot(page: Page, name: string, fullPage: boolean): Promise<void> {
  const png = await page.screenshot({ fullPage });
  expect(png.subarray(1, 4).toString()).toBe("PNG");
  if (process.env.TINGWU_UPDATE_SCREENSHOTS === "1") fs.writeFileSync(path.join(DOCS, name), png);
}

if (!executablePath && required) {
  describe("browser", () => {
    it("has chromium (TINGWU_REQUIRE_BROWSER=1)", () => {
      throw new Error(`No chromium found (looked for ${CANDIDATES.join(", ")}); install Debian's chromium package or set TINGWU_CHROMIUM`);
    });
  });
}

describe.skipIf(!executablePath)("in headless chromium", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: executablePath!, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("our page: upload a WAV, see the exact transcript, segments and an SRT download", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 1100 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.base}/`);
    await expect.poll(() => page.textContent("#model-model"), { timeout: 30_000 }).toBe(path.basename(server.settings.whisperModel));
    expect(await page.textContent("#model-status")).toBe("ready");

    await page.setInputFiles("#file", { name: "speech.wav", mimeType: "audio/wav", buffer: wavFile() });
    await page.fill("#hotwords", "TingWu");
    await page.selectOption("#language", "zh");
    await page.click("#submit");
    await page.waitForSelector("#result[data-done=true]", { timeout: 240_000 });

    expect(await page.textContent("#text")).toBe(SCRIPT_TEXT);
    const rows = await page.$$eval("#segments tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    expect(rows).toEqual(SCRIPT_SENTENCES.map((s) => [hms(s.start), hms(s.end), s.text]));
    expect(await page.$eval("#progress", (el) => (el as unknown as { value: number }).value)).toBe(100);
    expect(await page.isHidden("#error")).toBe(true);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("button[data-format=srt]")]);
    expect(download.suggestedFilename()).toBe("speech.srt");
    expect(fs.readFileSync((await download.path())!, "utf8")).toBe(toSrt(SCRIPT_SENTENCES));

    await screenshot(page, "web-page.png", true);
    expect(errors).toEqual([]);
    await context.close();
  }, TIMEOUT);

  it("our page sends the API key it keeps as a Bearer token", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen: (string | undefined)[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/api/v1/backend")) seen.push(request.headers().authorization);
    });
    await page.goto(`${server.base}/`);
    await page.fill("#api-key", "secret-key");
    await page.dispatchEvent("#api-key", "change");
    await expect.poll(() => seen.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toBe("Bearer secret-key");
    expect(await page.evaluate('localStorage.getItem("tingwu-whisper.apiKey")')).toBe("secret-key");
    await context.close();
  }, TIMEOUT);

  it("Swagger UI at /docs: execute GET /health from it", async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
    const page = await context.newPage();
    await page.goto(`${server.base}/docs`);
    const operation = page.locator(".opblock-get", { has: page.locator('.opblock-summary-path[data-path="/health"]') });
    await operation.locator(".opblock-summary").click({ timeout: 60_000 });
    await operation.locator(".try-out__btn").click();
    await operation.locator("button.execute").click();
    const status = operation.locator(".live-responses-table tbody .response-col_status").first();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/^\s*200/);
    const body = await operation.locator(".live-responses-table tbody .response-col_description pre").first().textContent();
    expect(JSON.parse(body ?? "")).toEqual({ status: "healthy", version: expect.any(String) });
    await screenshot(page, "swagger-ui.png", false);
    await context.close();
  }, TIMEOUT);
});

function hms(ms: number): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor((ms % 3_600_000) / 60_000))}:${pad(Math.floor((ms % 60_000) / 1000))}.${pad(ms % 1000, 3)}`;
}
