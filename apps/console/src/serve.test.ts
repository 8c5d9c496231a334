import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleRouter } from "./serve";

let server: ReturnType<ReturnType<typeof express>["listen"]>;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(consoleRouter());
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("consoleRouter", () => {
  it("serves the page with a strict policy, and its hashed assets to cache for good", async () => {
    const page = await fetch(`${base}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe");

    const html = await page.text();
    const script = html.match(/src="(\/console\/app\.[0-9a-f]+\.js)"/)?.[1];
    const styles = html.match(/href="(\/console\/app\.[0-9a-f]+\.css)"/)?.[1];
    expect(script && styles).toBeTruthy();
    const js = await fetch(`${base}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect((await js.text()).length).toBeGreaterThan(1000);
    const css = await fetch(`${base}${styles}`);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
  });

  it("answers 404 for an asset it does not have, and 405 for a write", async () => {
    const missing = await fetch(`${base}/console/app.0123456789ab.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-security-policy")).toBeTruthy();
    expect((await fetch(`${base}/console`, { method: "POST" })).status).toBe(405);
  });
});
