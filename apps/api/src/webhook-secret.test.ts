import { signingSecrets } from "@ripen/core";
import { webhookSecrets } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

const secretOf = (key: string) => stack.request("GET", "/v1/webhook-secret", { key });
const rotate = (key: string) => stack.request("POST", "/v1/webhook-secret/rotate", { key });
const rowsOf = (accountId: string) =>
  stack.db.db.select().from(webhookSecrets).where(eq(webhookSecrets.accountId, accountId));

describe("the webhook secret", () => {
  it("is created on first read, per Standard Webhooks, once however many reads race", async () => {
    const { apiKey, accountId } = await stack.createAccount(0);
    const answers = await Promise.all(Array.from({ length: 20 }, () => secretOf(apiKey)));
    for (const answer of answers) expect(answer.status).toBe(200);
    const secrets = new Set(answers.map((a) => a.body.data.secret));
    expect(secrets.size).toBe(1);
    expect(await rowsOf(accountId)).toHaveLength(1);

    const [first] = answers;
    expect(first!.body).toEqual({
      code: 200,
      msg: "success",
      data: { secret: expect.any(String) },
    });
    const secret = first!.body.data.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64")).toHaveLength(32);
    // The library takes it as is.
    const hook = new Webhook(secret);
    const at = new Date();
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": hook.sign("msg_1", at, "{}"),
    };
    expect(hook.verify("{}", headers)).toEqual({});

    expect((await secretOf(apiKey)).body.data.secret).toBe(secret);
    const other = await stack.createAccount(0);
    expect((await secretOf(other.apiKey)).body.data.secret).not.toBe(secret);
  });

  it("rotates: the new one is current, the previous one signs too for 24 hours", async () => {
    const { apiKey, accountId } = await stack.createAccount(0);
    const before = (await secretOf(apiKey)).body.data.secret;
    const now = Math.floor(stack.clock.now().getTime() / 1000);
    const rotated = await rotate(apiKey);
    expect(rotated.status).toBe(200);
    const data = rotated.body.data;
    expect(data.secret).toMatch(/^whsec_/);
    expect(data.secret).not.toBe(before);
    expect(data.previous.secret).toBe(before);
    expect(data.previous.expires_at - now).toBeGreaterThanOrEqual(24 * 3600 - 1);
    expect(data.previous.expires_at - now).toBeLessThanOrEqual(24 * 3600 + 1);
    expect((await secretOf(apiKey)).body).toEqual(rotated.body);
    expect(await signingSecrets(stack.db.db, accountId, stack.clock.now())).toEqual([
      data.secret,
      before,
    ]);

    // A second rotation within the overlap: the oldest stops signing at once (two at most).
    const again = (await rotate(apiKey)).body.data;
    expect(again.previous.secret).toBe(data.secret);
    expect(await signingSecrets(stack.db.db, accountId, stack.clock.now())).toEqual([
      again.secret,
      data.secret,
    ]);

    // After the overlap only the current one is left.
    stack.clock.advance(24 * 3600 * 1000 + 1_000);
    expect((await secretOf(apiKey)).body).toEqual({
      code: 200,
      msg: "success",
      data: { secret: again.secret },
    });
    expect(await signingSecrets(stack.db.db, accountId, stack.clock.now())).toEqual([again.secret]);
  });

  it("rotating an account that never read one gives it a secret and no previous", async () => {
    const { apiKey } = await stack.createAccount(0);
    const rotated = await rotate(apiKey);
    expect(rotated.body).toEqual({
      code: 200,
      msg: "success",
      data: { secret: expect.stringMatching(/^whsec_/) },
    });
  });

  it("needs an API key", async () => {
    expect((await stack.request("GET", "/v1/webhook-secret")).status).toBe(401);
    expect((await stack.request("POST", "/v1/webhook-secret/rotate")).status).toBe(401);
  });
});
