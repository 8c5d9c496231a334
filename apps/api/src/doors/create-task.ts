import {
  type AnyModelSpec,
  type CreatedTask,
  createTaskOnce,
  findKeyedTask,
  IDEMPOTENCY_KEY_TTL_MS,
  idempotencyRequestHash,
  type Principal,
  parseIdempotencyKey,
  prepareTask,
  taskFields,
} from "@ripen/core";
import type { DoorName } from "@ripen/db";
import { tasksCreated } from "@ripen/metrics";
import { capacityRefusal } from "@ripen/providers";
import { inTaskRootSpan } from "@ripen/telemetry";
import type { DoorDeps } from "./deps";
import { checkCreateUrls } from "./user-urls";

/** A create as any door hands it to Ripen: its model, its native input and its own price. */
export interface DoorCreate {
  door: DoorName;
  model: AnyModelSpec;
  /** The model's input in Ripen's (native) fields; checked again by the model's schema. */
  input: unknown;
  /** The door's price for the request; unset for the native price list. */
  price?: number;
  /** The request as the door received it, when the door echoes it back. */
  doorRequest?: Record<string, unknown>;
  callbackUrl?: string | null;
  /** What the door calls the callback URL, for errors (default `callback_url`). */
  callbackField?: string;
  timeoutSeconds?: number;
  /** The `Idempotency-Key` header as sent, unchecked. */
  idempotencyKey?: string;
  /** What the idempotency key's request hash covers: the endpoint and the body as sent. */
  idempotencyScope: { endpoint: string; body: unknown };
}

/**
 * Every door's create: checks the user URLs, writes the task and its hold (group-committed, or
 * claiming the idempotency key in the same statement), logs `task.created` and adds its job.
 * The client gets its task even when Redis does not take the job: the sweep enqueues it.
 */
export async function createTaskThroughDoor(
  deps: DoorDeps,
  principal: Principal,
  create: DoorCreate,
): Promise<CreatedTask> {
  checkCreateUrls(create.callbackUrl, create.input, deps.userUrls, create.callbackField);
  const idempotencyKey = parseIdempotencyKey(create.idempotencyKey);
  const args = {
    accountId: principal.accountId,
    apiKeyId: principal.keyId,
    model: create.model,
    input: create.input,
    callbackUrl: create.callbackUrl ?? null,
    timeoutSeconds: create.timeoutSeconds,
    door: create.door,
    doorRequest: create.doorRequest ?? null,
    price: create.price,
    now: deps.clock.now(),
  };
  const prepared = prepareTask(args);
  // The create is the root of the task's trace (see @ripen/telemetry): the log lines below, and
  // every later step in any process, carry its trace id.
  return inTaskRootSpan(
    "task.create",
    prepared.id,
    { "ripen.model": create.model.id, "ripen.door": create.door },
    async () => {
      const requestHash =
        idempotencyKey === undefined
          ? ""
          : idempotencyRequestHash(create.idempotencyScope.endpoint, create.idempotencyScope.body);
      // Redis away: nothing to judge by, and a create is answered whatever Redis does.
      const decision = await deps.capacity
        ?.decide(create.model, prepared.input, prepared.deadlineAt, args.now)
        .catch((error) => {
          deps.logger.warn({ err: error }, "admission control skipped (redis)");
          return undefined;
        });
      if (decision && !decision.admitted) {
        // A retry of a create its key already made is answered with that task, whatever the load.
        if (idempotencyKey !== undefined) {
          const made = await findKeyedTask(deps.db, principal.accountId, {
            key: idempotencyKey,
            requestHash,
            expiredBefore: new Date(args.now.getTime() - IDEMPOTENCY_KEY_TTL_MS),
          });
          if (made) return replayed(deps, made, idempotencyKey);
        }
        throw capacityRefusal(deps.logger, {
          accountId: principal.accountId,
          model: create.model.id,
          door: create.door,
          providers: decision.providers,
          startInMs: decision.startInMs,
          retryAfterMs: decision.retryAfterMs,
        });
      }
      let task: CreatedTask;
      if (idempotencyKey === undefined) {
        task = await deps.tasks.write(prepared);
      } else {
        // Keyed creates bypass group commit: each is one statement that claims the key with the
        // task (see createTaskOnce). Invalid requests fail before the key is looked at.
        const once = await createTaskOnce(deps.db, prepared, {
          key: idempotencyKey,
          requestHash,
          now: args.now,
        });
        task = once.task;
        if (once.replayed) return replayed(deps, task, idempotencyKey);
      }
      if (decision) {
        await deps.capacity
          ?.admitted(decision, task)
          .catch((error) =>
            deps.logger.warn({ err: error, taskId: task.id }, "backlog not recorded (redis)"),
          );
      }
      tasksCreated.inc({ model: task.model, door: create.door });
      deps.logger.info(
        {
          event: "task.created",
          ...taskFields(task),
          door: create.door,
          kind: create.model.kind,
          price: task.price,
        },
        "task created",
      );
      try {
        await deps.enqueue(task);
      } catch (error) {
        deps.logger.warn({ err: error, taskId: task.id }, "enqueue failed; left to the sweep");
      }
      return task;
    },
  );
}

function replayed(deps: DoorDeps, task: CreatedTask, idempotencyKey: string): CreatedTask {
  deps.logger.info(
    { event: "task.replayed", ...taskFields(task), idempotencyKey },
    "idempotent create answered with the task its key made",
  );
  return task;
}
