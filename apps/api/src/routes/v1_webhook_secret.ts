import type { WebhookSecretView } from "@ripen/core";
import { type Clock, getWebhookSecret, type Principal, rotateWebhookSecret } from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { Request, Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { nativeEnvelope, unixTime } from "./envelope";

const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

function secretData(view: WebhookSecretView) {
  return {
    secret: view.secret,
    ...(view.previous
      ? {
          previous: {
            secret: view.previous.secret,
            expires_at: unixSeconds(view.previous.expiresAt),
          },
        }
      : {}),
  };
}

/**
 * The account's client-callback signing secret (Standard Webhooks, `whsec_…`).
 *
 * `GET /v1/webhook-secret` answers `{code, msg, data: {secret, previous?: {secret, expires_at}}}`,
 * creating the secret on first use. `POST /v1/webhook-secret/rotate` makes a new one and answers
 * the same way: the one it replaces keeps signing for 24 h (`previous.expires_at`, unix seconds),
 * so during the overlap every callback carries both signatures and a client verifying with either
 * accepts it. A second rotation within the overlap stops the older secret at once.
 */
export function registerV1WebhookSecret(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor; clock: Clock; logger: Logger },
): void {
  router.get("/v1/webhook-secret", async (req, res) => {
    const { accountId } = principalOf(req);
    const view = await orUnavailable(() => getWebhookSecret(deps.db, accountId, deps.clock.now()));
    res.json({ code: 200, msg: "success", data: secretData(view) } satisfies WebhookSecretBody);
  });

  router.post("/v1/webhook-secret/rotate", async (req, res) => {
    const { accountId } = principalOf(req);
    const view = await orUnavailable(() =>
      rotateWebhookSecret(deps.db, accountId, deps.clock.now()),
    );
    deps.logger.info(
      {
        event: "webhook_secret.rotated",
        accountId,
        previousExpiresAt: view.previous?.expiresAt.toISOString(),
      },
      "webhook secret rotated",
    );
    res.json({ code: 200, msg: "success", data: secretData(view) } satisfies WebhookSecretBody);
  });
}

/** What both endpoints answer; the route is typed by it. */
export const webhookSecretResponse = nativeEnvelope(
  z.object({
    secret: z.string().meta({ description: "Standard Webhooks signing secret, `whsec_…`" }),
    previous: z.object({ secret: z.string(), expires_at: unixTime }).optional(),
  }),
).meta({ id: "WebhookSecret" });
type WebhookSecretBody = z.input<typeof webhookSecretResponse>;
