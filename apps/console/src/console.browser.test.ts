import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";

// The client console in a real browser (Debian's chromium, driven by playwright-core), against
// the whole stack: tasks really run through the worker and the sandbox provider.

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`console.browser.test: no browser at ${CHROMIUM}; .ci/run installs it`);

const screenshots = join(process.cwd(), ".data", "screenshots");
const PHONE = { width: 390, height: 844 };

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(screenshots, { recursive: true });
  [stack, browser] = await Promise.all([
    startTestStack({ sandbox: { generationMs: 300 } }),
    chromium.launch({
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
    }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshots, `console-${name}.png`), fullPage: true });

/** Opens one of the console's sections from its navigation. */
const go = (page: Page, section: string) =>
  page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: section }).click();

/** Signs in with a client key, by mouse or (`keyboard`) by typing and pressing Enter alone. */
async function signIn(page: Page, apiKey: string, keyboard = false): Promise<void> {
  // What the page showed when a step failed: the clue a timeout alone does not give.
  onTestFailed(async () => {
    await shot(page, "failed");
  });
  await page.goto(`${stack.apiUrl}/console`);
  const field = page.getByLabel("API key", { exact: true });
  await field.fill(apiKey);
  if (keyboard) await field.press("Enter");
  else await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Generations" }).waitFor();
}

// In-page code is passed as source text: this file is type-checked for Node, without the DOM.

/**
 * Waits until an image matching `selector` has loaded real pixels. (Polled from here: the
 * console's CSP forbids the in-page eval that `waitForFunction` with source text needs.)
 */
const imageLoaded = (page: Page, selector: string) =>
  expect
    .poll(
      () =>
        page.evaluate(
          `(() => { const img = document.querySelector(${JSON.stringify(selector)}); return !!img && img.complete && img.naturalWidth > 0; })()`,
        ),
      { timeout: 10_000 },
    )
    .toBe(true);

/** Starts adding up the page's layout shifts (Chromium's Layout Instability API) in `window.shifts`. */
const countLayoutShifts = (page: Page) =>
  page.evaluate(`(() => {
    window.shifts = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.shifts += entry.value;
    }).observe({ type: "layout-shift" });
  })()`);

describe.skipIf(!hasChromium)("the client console in a browser", () => {
  it("signs in, creates an image and sees it, runs a batch to 100%, and is signed out when its key is revoked", async () => {
    const { apiKey } = await stack.createAccount(1_000);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(8_000);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().includes("401")) errors.push(m.text());
    });

    await signIn(page, apiKey);
    await page.locator("main .empty").first().waitFor();

    // A generation: priced before it is sent, then followed live until its image is there.
    await go(page, "Create");
    await page.getByLabel("prompt *").fill("a lighthouse at dusk");
    await expect.poll(() => page.locator(".price").textContent()).toMatch(/Price: \d+ credits/);
    await page.getByRole("button", { name: "Generate" }).click();
    await imageLoaded(page, ".live img");
    await shot(page, "create");

    await go(page, "Generations");
    await imageLoaded(page, ".gallery img");
    await shot(page, "gallery");

    // Its page: the attempt and the status events.
    await page.locator(".gallery a.tile").first().click();
    await page.getByRole("heading", { name: "Attempts" }).waitFor();
    await expect.poll(() => page.locator("ol.events li").count()).toBeGreaterThanOrEqual(3);
    await imageLoaded(page, ".task-head img");
    await shot(page, "task");

    // A batch of three, its progress bar streaming to 100% without moving the page around.
    await go(page, "Batches");
    await page.locator("textarea[name=prompts]").fill("a red fox\na blue heron\na green frog");
    await expect.poll(() => page.locator(".price").textContent()).toMatch(/3 items · \d+ credits/);
    await countLayoutShifts(page);
    const streamed = page.waitForResponse((r) => /\/v1\/batches\/[^/]+\/events$/.test(r.url()));
    await page.getByRole("button", { name: "Submit batch" }).click();
    // Live from the batch's event stream (not a fallback re-read).
    expect((await streamed).status()).toBe(200);
    const row = page.locator("tr[data-batch]").first();
    await row.locator(".pct", { hasText: "100%" }).waitFor({ timeout: 20_000 });
    await expect(row.textContent()).resolves.toContain("3 ok");
    await shot(page, "batches");
    const shifts = (await page.evaluate("window.shifts")) as number;
    expect(shifts).toBeLessThan(0.1);

    // A phone's width: nothing wider than the screen, the gallery still two columns of pictures.
    await page.setViewportSize(PHONE);
    await go(page, "Generations");
    await imageLoaded(page, ".gallery img");
    const overflow = (await page.evaluate("document.documentElement.scrollWidth")) as number;
    expect(overflow).toBeLessThanOrEqual(PHONE.width);
    await shot(page, "phone-gallery");
    await go(page, "Batches");
    await row.locator(".pct", { hasText: "100%" }).waitFor();
    await shot(page, "phone-batches");
    await go(page, "Credits");
    await page.locator(".chart svg rect").first().waitFor();
    await shot(page, "phone-credits");
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, "credits");

    // Revoking the key in use: the next call is refused, and the console says so.
    await go(page, "Schedules");
    await page.locator("main .card").nth(1).waitFor();
    await shot(page, "schedules");
    await go(page, "API keys");
    await page.getByRole("button", { name: "Revoke" }).waitFor();
    await shot(page, "keys");
    await page.getByRole("button", { name: "Revoke" }).click();
    const notice = page.getByRole("alert");
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/signed out/i);
    await expect(page.getByLabel("API key", { exact: true }).isVisible()).resolves.toBe(true);
    await shot(page, "signed-out");
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("says so when a create needs more credits than the account has", async () => {
    const { apiKey } = await stack.createAccount(0);
    const page = await browser.newPage({ viewport: PHONE });
    page.setDefaultTimeout(8_000);
    await signIn(page, apiKey, true);
    await go(page, "Create");
    // By keyboard: the prompt, then Tab through the parameters to the button, and Enter.
    const prompt = page.getByLabel("prompt *");
    await prompt.fill("a lighthouse at dusk");
    const generate = page.getByRole("button", { name: "Generate" });
    const focused = () => generate.evaluate((b) => b === b.ownerDocument.activeElement);
    for (let i = 0; i < 10 && !(await focused()); i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe(true);
    await page.keyboard.press("Enter");
    const error = page.locator("form .error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/credit/i);
    // Focus comes back to the button the key pressed, so the keyboard user is not lost.
    await expect.poll(focused).toBe(true);
    await shot(page, "phone-out-of-credits");
    await page.close();
  });
});
