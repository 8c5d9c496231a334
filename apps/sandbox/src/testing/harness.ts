import { EventEmitter } from "node:events";
import { ProviderError } from "@ripen/core";
import type { DialectName } from "@ripen/db";
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from "vitest";
import type { ProviderFaults } from "../faults";
import { createKit, type SimulatorKit } from "../kit";
import type { DialectSettings, Sandbox, SandboxOptions } from "../sandbox";
import { type StartedSandbox, startSandbox } from "../server";

/**
 * What the dialects' contract tests share: the real sandbox, simulating one provider, listening
 * on 127.0.0.1 (so result URLs are served by its own /files route), callbacks caught without a
 * receiver, and a way to read the failure a client call ended with.
 */

export interface SandboxUnderTest<D extends DialectName> {
  readonly sandbox: Sandbox;
  /** Where the sandbox listens, e.g. http://127.0.0.1:40123; result files are under /files. */
  readonly baseUrl: string;
  /** The provider's mount, `${baseUrl}/${dialect}`. */
  readonly apiUrl: string;
  /** The simulator's own switches, changed in place by tests; back to their defaults before each. */
  readonly settings: DialectSettings[D];
  /** Replaces the provider's faults (as SANDBOX_FAULTS would set them); none before each test. */
  setFaults(faults: ProviderFaults): void;
}

/**
 * Registers the file's hooks: a sandbox simulating `dialect` (mounted at `/{dialect}`) starts
 * before the tests and closes after them. Before each test its dialect settings, faults and
 * initial credits are back to what they started as; after each, its tasks are forgotten (as an
 * upstream restart does), so no callback of one test lands in the next.
 */
export function sandboxForTests<D extends DialectName>(
  dialect: D,
  options: Omit<SandboxOptions, "providers" | "faults"> & { initialCredits: number },
): SandboxUnderTest<D> {
  let started: StartedSandbox | undefined;
  let defaults: DialectSettings[D] | undefined;
  const running = (): StartedSandbox => {
    if (!started) throw new Error("the sandbox is started in beforeAll");
    return started;
  };
  const settingsOf = () => running().sandbox.dialectSettings<D>(dialect);

  beforeAll(async () => {
    started = await startSandbox({
      ...options,
      providers: [{ id: dialect, dialect }],
      port: 0,
      host: "127.0.0.1",
    });
    defaults = structuredClone(settingsOf());
  });
  afterAll(async () => {
    await started?.close();
  });
  beforeEach(() => {
    Object.assign(settingsOf(), structuredClone(defaults));
    running().sandbox.setFaults(dialect, {});
    running().sandbox.configure({ initialCredits: options.initialCredits });
  });
  afterEach(() => {
    running().sandbox.forgetTasks();
  });

  return {
    get sandbox() {
      return running().sandbox;
    },
    get baseUrl() {
      return running().url;
    },
    get apiUrl() {
      return `${running().url}/${dialect}`;
    },
    get settings() {
      return settingsOf();
    },
    setFaults: (faults) => running().sandbox.setFaults(dialect, faults),
  };
}

/**
 * The kit the sandbox built for `provider`, for what a dialect's wire format cannot show (kie and
 * revid have no balance endpoint). Needs the test file to spy on the kit factory:
 *
 *     vi.mock("../kit", async (importOriginal) => {
 *       const kit = await importOriginal<typeof import("../kit")>();
 *       return { ...kit, createKit: vi.fn(kit.createKit) };
 *     });
 */
export function kitOf(provider: string): SimulatorKit {
  if (!vi.isMockFunction(createKit)) {
    throw new Error("kitOf() needs the test file to spy on createKit (see its comment)");
  }
  const kit = vi
    .mocked(createKit)
    .mock.results.map((result) => result.value as SimulatorKit | undefined)
    .findLast((built) => built?.provider === provider);
  if (!kit) throw new Error(`no kit was built for '${provider}'`);
  return kit;
}

export interface CaughtCallbacks {
  /** The sandbox's `fetch`: each callback is recorded here instead of leaving the process. */
  readonly fetch: typeof fetch;
  /** Every callback so far, in the order they were posted. */
  readonly list: { url: string; body: unknown }[];
  /** Resolves once `count` callbacks in all have arrived. */
  arrived(count: number): Promise<void>;
  clear(): void;
}

export function catchCallbacks(): CaughtCallbacks {
  const list: { url: string; body: unknown }[] = [];
  const posted = new EventEmitter<{ callback: [] }>();
  return {
    list,
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      list.push({ url: String(url), body: JSON.parse(String(init?.body)) });
      posted.emit("callback");
      return new Response("ok");
    }) as typeof fetch,
    arrived: (count) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (list.length < count) return;
          posted.off("callback", check);
          resolve();
        };
        posted.on("callback", check);
        check();
      }),
    clear() {
      list.length = 0;
    },
  };
}

/** The ProviderError a client call was rejected with (the test fails if it resolved). */
export async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}
