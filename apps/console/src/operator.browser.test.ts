import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { terminalTaskStatuses } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The operator's console in a real browser, against the whole stack: accounts and a grant,
// providers and queues (and the queue board behind the admin credential), usage and margin.

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const ADMIN = "operator-console-admin-token-0123456789";
const screenshots = join(process.cwd(), ".data", "screenshots");

let stack: TestStack;
let browser: Browser;
let accountId: string;

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(screenshots, { recursive: true });
  [stack, browser] = await Promise.all([
    startTestStack({ adminToken: ADMIN }),
    chromium.launch({
      executablePath: CHROMIUM,
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
  // One task through the stack, so providers, usage and margin have something to show.
  const account = await stack.createAccount(500);
  accountId = account.accountId;
  const res = await stack.request("POST", "/v1/images/generations", {
    key: account.apiKey,
    body: { model: "nano-banana-2", input: { prompt: "for the operator" } },
  });
  await stack.waitForTask(res.body.data.taskId, [...terminalTaskStatuses], 30_000);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshots, `console-operator-${name}.png`), fullPage: true });
const go = (page: Page, section: string) =>
  page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: section }).click();

describe.skipIf(!hasChromium)("the operator's console in a browser", () => {
  it("accounts and a grant, providers, queues and their board, usage and margin", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    await page.goto(`${stack.apiUrl}/console`);
    await page.getByLabel("the operator, with the admin credential").check();
    await page.getByLabel("Admin token (or an admin-scope key)").fill(ADMIN);
    await page.getByRole("button", { name: "Sign in" }).click();

    // Accounts: the seeded one is listed; a grant from its page changes its balance.
    await page.getByRole("link", { name: accountId }).click();
    const available = page.getByTestId("account-available");
    await expect.poll(() => available.textContent()).toMatch(/^\d+$/);
    const before = Number(await available.textContent());
    await page.getByLabel("Credits").fill("250");
    await page.getByLabel("Reason").fill("console test");
    await page.getByRole("button", { name: "Grant" }).click();
    await expect.poll(async () => Number(await available.textContent())).toBe(before + 250);
    await shot(page, "account");

    // Providers: every provider of the stack with its circuit; queues with the board's link.
    await go(page, "Providers & queues");
    for (const provider of stack.providers.list) {
      await expect
        .poll(() => page.locator(`tr[data-provider="${provider.id}"]`).textContent())
        .toContain("closed");
    }
    await page.locator('tr[data-queue="tasks"]').waitFor();
    const [board] = await Promise.all([
      context.waitForEvent("page"),
      page.getByRole("button", { name: "Open queue board" }).click(),
    ]);
    const boardResponse = await board.waitForLoadState().then(() => board.reload());
    expect(boardResponse?.status()).toBe(200);
    await shot(page, "providers");
    await board.close();

    // Usage and margin: a row for the provider and model the task ran on.
    await go(page, "Usage & margin");
    await expect.poll(() => page.locator("tr[data-usage]").count()).toBeGreaterThan(0);
    expect(await page.locator("tr[data-usage]").first().textContent()).toContain("nano-banana-2");
    await shot(page, "usage");

    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await go(page, "Providers & queues");
    await page.locator('tr[data-queue="tasks"]').waitFor();
    await shot(page, "providers-phone");
    expect(errors).toEqual([]);
    await context.close();
  });
});
