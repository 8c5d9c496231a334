import type { ProviderDeclaration, ProviderHealth } from "@ripen/providers";
import type { Queue } from "bullmq";
import type { Request, Router } from "express";
import type { DoorDeps } from "../../doors/deps";

/** Who is making an admin change: recorded as the `actor` of what it writes. */
export interface AdminCaller {
  /** `admin-token`, or the id of the admin-scope API key. */
  actor: string;
}

/** What the operator's live views read: the providers' shared health and the BullMQ queues. */
export interface AdminOperations {
  health: Pick<ProviderHealth, "states" | "loads">;
  providers: readonly ProviderDeclaration[];
  queues: readonly Queue[];
}

/** What the admin routes are built from: the doors' deps and the operator's token. */
export interface AdminDeps extends DoorDeps {
  /** `ADMIN_TOKEN`; unset, only API keys with the `admin` scope reach the admin API. */
  adminToken?: string;
  /** Providers' health and the queues, for the operator's live views; absent, they read empty. */
  operations?: AdminOperations;
}

/** The signature of every admin route file's registration. */
export type RegisterAdminRoutes = (
  router: Router,
  callerOf: (req: Request) => AdminCaller,
  deps: AdminDeps,
) => void;
