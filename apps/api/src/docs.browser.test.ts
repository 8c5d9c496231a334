import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The reference page at /docs in a real browser (Debian's chromium, driven by playwright-core):
// it renders every operation of the OpenAPI document from assets Ripen serves itself.

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`docs.browser.test: no browser at ${CHROMIUM}; .ci/run installs it`);

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  stack = await startTestStack({ worker: false });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // No network here: without these, chromium's own background calls are refused at every start.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe.skipIf(!hasChromium)("/docs in a browser", () => {
  it("renders every door's operations, loading nothing from elsewhere", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    const foreign: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(stack.apiUrl) && !request.url().startsWith("data:")) {
        foreign.push(request.url());
      }
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    const response = await page.goto(`${stack.apiUrl}/docs`);
    expect(response?.status()).toBe(200);
    await page.locator(".opblock").first().waitFor();
    const paths = await page.locator(".opblock-summary-path").allTextContents();
    const shown = paths.map((p) => p.replace(/\u200b/g, "").trim());
    for (const path of [
      "/v1/images/generations",
      "/v1/tasks/{taskId}",
      "/v1/models",
      "/v1/cost",
      "/api/v1/images/generate",
      "/api/v1/account/calculate-cost",
      "/api/v1/jobs/createTask",
      "/api/v1/jobs/recordInfo",
      "/paid/nano/banana/create",
      "/paid/get/taskid",
    ]) {
      expect(shown, path).toContain(path);
    }
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);

    const dir = join(process.cwd(), ".data", "screenshots");
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, "docs.png") });
    await page.close();
  });
});
