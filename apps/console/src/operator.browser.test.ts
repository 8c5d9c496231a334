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

/** A figure as the console writes it ("1,250") as a number. */
const figure = async (text: Promise<string | null>) => Number((await text)?.replace(/,/g, ""));

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
    await expect.poll(() => available.textContent()).toMatch(/^[\d,]+$/);
    const before = await figure(available.textContent());
    await page.getByLabel("Amount (credits)").fill("250");
    await page.getByLabel("Reason").fill("console test");
    await page.getByRole("button", { name: "Grant" }).click();
    await expect.poll(() => figure(available.textContent())).toBe(before + 250);
    await expect
      .poll(() => page.getByRole("status").first().textContent())
      .toContain("Granted 250");
    await shot(page, "account");

    // Providers: every provider of the stack with its circuit, refreshed in place.
    await go(page, "Providers");
    for (const provider of stack.providers.list) {
      await expect
        .poll(() => page.locator(`tr[data-provider="${provider.id}"]`).textContent())
        .toContain("closed");
    }
    await shot(page, "providers");
    // Ripen failing a refresh (Postgres down): the reason is shown, the last figures stay put.
    await page.route("**/admin/v1/providers", (route) =>
      route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ code: 503, msg: "The service is temporarily unavailable." }),
      }),
    );
    await expect
      .poll(() => page.locator(".op-live-stale").textContent())
      .toContain("temporarily unavailable");
    expect(await page.locator("tr[data-provider]").count()).toBe(stack.providers.list.length);
    await page.unroute("**/admin/v1/providers");

    // Queues: the task queue, and the board opening in a new tab on the session cookie.
    await go(page, "Queues");
    await page.locator('tr[data-queue="tasks"]').waitFor();
    const [board] = await Promise.all([
      context.waitForEvent("page"),
      page.getByRole("button", { name: "Open queue board" }).click(),
    ]);
    await board.waitForURL(/\/admin\/queues/);
    // A fresh load, so the status is the board's own answer to the cookie alone.
    const boardResponse = await board.reload();
    expect(boardResponse?.status()).toBe(200);
    expect(await boardResponse?.text()).not.toMatch(/invalid_api_key|Missing admin credential/);
    await shot(page, "queues");
    await board.close();

    // Usage and margin: a row for the provider and model the task ran on.
    await go(page, "Usage & margin");
    await expect.poll(() => page.locator("tr[data-usage]").count()).toBeGreaterThan(0);
    expect(await page.locator("tr[data-usage]").first().textContent()).toContain("nano-banana-2");
    await page.locator(".op-chart svg").waitFor();
    await shot(page, "usage");

    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    const fits = () => page.evaluate("document.documentElement.scrollWidth <= innerWidth");
    for (const [section, name] of [
      ["Providers", "providers-phone"],
      ["Queues", "queues-phone"],
      ["Usage & margin", "usage-phone"],
      ["Accounts", "accounts-phone"],
    ] as const) {
      await go(page, section);
      await page.locator("main table, main .empty").first().waitFor();
      expect(await fits(), section).toBe(true);
      await shot(page, name);
    }

    // A credential the API stops accepting signs the operator out, saying why.
    await page.route("**/admin/v1/queues", (route) =>
      route.fulfill({
        status: 401,
        contentType: "application/json",
        body: JSON.stringify({ code: 401, msg: "Admin credential is invalid." }),
      }),
    );
    await go(page, "Queues");
    await expect.poll(() => page.locator(".notice").textContent()).toContain("signed out");
    expect(errors).toEqual([]);
    await context.close();
  });
});
