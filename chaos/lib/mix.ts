/**
 * What the clients create: every door, every provider's models (veo-3.1-fast and seedream4, which
 * only nanobanana serves, included), batches, client callbacks. Each create carries its own key,
 * sent as `Idempotency-Key` and written into its prompt, so the checks can count the tasks a key
 * made from the tasks themselves rather than from Ripen's own idempotency records.
 */

export type Door = "native" | "nanobanana" | "kie" | "revid" | "batch";

/** One HTTP create as a client sends it (and sends again, unchanged, when unanswered). */
export interface CreateRequest {
  index: number;
  key: string;
  door: Door;
  /** What the create is, for the report: `native nano-banana-2`, `kie google/nano-banana`, … */
  label: string;
  path: string;
  body: Record<string, unknown>;
  /** The Ripen model of each task it makes (one for a single create). */
  models: string[];
  /** Whether its tasks (or the batch) asked for a client callback. */
  callbacks: boolean;
}

interface Kind {
  door: Door;
  label: string;
  /** Share of all tasks, in parts (tasks, not requests: a batch's items count). */
  weight: number;
  /** Share of these creates that ask for a client callback. */
  callbackShare: number;
  build(args: BuildArgs): Omit<CreateRequest, "index" | "key" | "door" | "label" | "callbacks">;
}

interface BuildArgs {
  prompt: string;
  callbackUrl: string | undefined;
  timeoutSeconds: number;
  batchSize: number;
}

const native = (model: string, weight: number, video = false): Kind => ({
  door: "native",
  label: `native ${model}`,
  weight,
  callbackShare: 0.6,
  build: ({ prompt, callbackUrl, timeoutSeconds }) => ({
    path: video ? "/v1/videos/generations" : "/v1/images/generations",
    body: {
      model,
      input: video ? { prompt, duration: 4 } : { prompt },
      ...(callbackUrl ? { callback_url: callbackUrl } : {}),
      timeout_seconds: timeoutSeconds,
    },
    models: [model],
  }),
});

/** Document 001 has no callbacks and no per-request timeout. */
const nanobananaImage = (model: string, weight: number): Kind => ({
  door: "nanobanana",
  label: `nanobanana ${model}`,
  weight,
  callbackShare: 0,
  build: ({ prompt }) => ({
    path: "/api/v1/images/generate",
    body: { prompt, model },
    models: [model],
  }),
});

const kieFamily = (door: "kie" | "revid", model: string, ripenModel: string, weight: number) =>
  ({
    door,
    label: `${door} ${model}`,
    weight,
    callbackShare: 0.6,
    build: ({ prompt, callbackUrl }) => ({
      path: door === "kie" ? "/api/v1/jobs/createTask" : "/paid/nano/banana/create",
      body: { model, input: { prompt }, ...(callbackUrl ? { callBackUrl: callbackUrl } : {}) },
      models: [ripenModel],
    }),
  }) satisfies Kind;

/** Models a batch's items cycle through: one per provider family of the image models. */
const BATCH_MODELS = ["nano-banana-2", "nano-banana-2-lite", "nano-banana", "nano-banana-pro"];

const batch: Kind = {
  door: "batch",
  label: "batch (native items)",
  weight: 12,
  callbackShare: 1,
  build: ({ prompt, callbackUrl, timeoutSeconds, batchSize }) => {
    const models = Array.from({ length: batchSize }, (_, j) => BATCH_MODELS[j % 4]!);
    return {
      path: "/v1/batches",
      body: {
        requests: models.map((model, j) => ({
          model,
          input: { prompt: `${prompt}/${j}` },
          // Half the items call back on their own; the batch always does when it ends.
          ...(callbackUrl && j % 2 === 0 ? { callback_url: `${callbackUrl}/${j}` } : {}),
          timeout_seconds: timeoutSeconds,
        })),
        ...(callbackUrl ? { callback_url: callbackUrl } : {}),
      },
      models,
    };
  },
};

/** The mix, in parts of all tasks (they add up to about 80). */
const KINDS: Kind[] = [
  native("nano-banana-2", 14),
  native("nano-banana-2-lite", 8),
  native("nano-banana", 7),
  native("nano-banana-pro", 5),
  native("seedream4", 0.6),
  native("veo-3.1-fast", 0.6, true),
  nanobananaImage("nano-banana", 5),
  nanobananaImage("nano-banana-pro", 3),
  {
    door: "nanobanana",
    label: "nanobanana veo-3.1-fast",
    weight: 0.3,
    callbackShare: 0,
    build: ({ prompt }) => ({
      path: "/api/v1/videos/generate",
      body: { prompt, model_id: "veo-3.1-fast", duration: 4 },
      models: ["veo-3.1-fast"],
    }),
  },
  kieFamily("kie", "nano-banana-2-lite", "nano-banana-2-lite", 6),
  kieFamily("kie", "nano-banana-2", "nano-banana-2", 5),
  kieFamily("kie", "google/nano-banana", "nano-banana", 3),
  kieFamily("revid", "google/nano-banana", "nano-banana", 6),
  kieFamily("revid", "nano-banana-pro", "nano-banana-pro", 5),
  batch,
];

/**
 * Deterministic, evenly spread sequences in [0, 1): golden-ratio steps pick kinds, √2 steps
 * decide callbacks, so the two do not line up.
 */
const spread = (n: number, step = 0.618_033_988_75) => (n * step) % 1;
const CALLBACK_STEP = 0.414_213_562_37;

/**
 * The creates that make `tasks` tasks, in the order they are sent. Kinds are picked by an evenly
 * spread sequence over their weights, so every run of the same size sends the same requests.
 */
export function planCreates(args: {
  tasks: number;
  runId: string;
  callbackBase: string;
  timeoutSeconds: number;
  batchSize: number;
  /** Creates through the doors without `timeout_seconds` go first (see ChaosPlan). */
  doorsFirst: boolean;
}): CreateRequest[] {
  const sizeOf = (kind: Kind) => (kind.door === "batch" ? args.batchSize : 1);
  // A batch makes batchSize tasks per request: it is picked that much less often.
  const picks = KINDS.map((kind) => kind.weight / sizeOf(kind));
  const totalPicks = picks.reduce((a, b) => a + b, 0);
  const creates: CreateRequest[] = [];
  for (let index = 0, made = 0; made < args.tasks; index++) {
    let target = spread(index) * totalPicks;
    let kindIndex = 0;
    while (kindIndex < KINDS.length - 1 && target >= picks[kindIndex]!) {
      target -= picks[kindIndex]!;
      kindIndex++;
    }
    const kind = KINDS[kindIndex]!;
    const key = `${args.runId}-${index}`;
    const callbacks = spread(index, CALLBACK_STEP) < kind.callbackShare;
    const built = kind.build({
      prompt: `chaos ${key}`,
      callbackUrl: callbacks ? `${args.callbackBase}/hook/${key}` : undefined,
      timeoutSeconds: args.timeoutSeconds,
      batchSize: Math.min(args.batchSize, args.tasks - made),
    });
    creates.push({ index, key, door: kind.door, label: kind.label, callbacks, ...built });
    made += built.models.length;
  }
  if (!args.doorsFirst) return creates;
  const withoutTimeout = (create: CreateRequest) =>
    create.door === "nanobanana" || create.door === "kie" || create.door === "revid";
  return [...creates.filter(withoutTimeout), ...creates.filter((c) => !withoutTimeout(c))];
}

/** Whether the create's tasks carry the client's `timeout_seconds`. */
export const hasTimeout = (create: CreateRequest) =>
  create.door === "native" || create.door === "batch";
