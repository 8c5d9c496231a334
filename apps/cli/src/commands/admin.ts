/**
 * The operator's commands over the admin API (`/admin/v1`): accounts, credits, plans,
 * subscriptions and any account's keys. The credential is ADMIN_TOKEN (or --admin-token), or an
 * API key with the `admin` scope; the API at RIPEN_API_URL (or --api-url).
 */
import { ApiClient, DEFAULT_API_URL } from "./http";
import { allowOnly, positionalsOf, UsageError, type Values } from "./options";

export const ADMIN_USAGE = `Operator commands, over the admin API (ADMIN_TOKEN or --admin-token; RIPEN_API_URL):
  npm run -s ripen -- account create --name NAME [--credits N] [--max-active-tasks N] [--vip true] [--json]
  npm run -s ripen -- account list [--limit N] [--cursor C] [--json]
  npm run -s ripen -- account show ACCOUNT_ID [--json]
  npm run -s ripen -- account update ACCOUNT_ID [--name N] [--vip true|false] [--max-active-tasks N|none]
  npm run -s ripen -- account disable ACCOUNT_ID | enable ACCOUNT_ID
  npm run -s ripen -- credits grant ACCOUNT_ID N --reason R [--idempotency-key K] [--json]
  npm run -s ripen -- credits adjust ACCOUNT_ID ±N --reason R [--idempotency-key K] [--json]
      a negative adjustment never takes the account's available credits below 0
  npm run -s ripen -- plan create --name NAME --monthly-credits N [--json]
  npm run -s ripen -- plan list [--json]
  npm run -s ripen -- subscription start ACCOUNT_ID --plan PLAN (--months N | --ends-at ISO) [--json]
  npm run -s ripen -- subscription cancel ACCOUNT_ID SUBSCRIPTION_ID [--json]
  npm run -s ripen -- key create ACCOUNT_ID [--name N] [--scopes read,write,admin] [--expires-at ISO] [--json]
  npm run -s ripen -- key list ACCOUNT_ID [--json]
  npm run -s ripen -- key revoke ACCOUNT_ID KEY_ID | rotate ACCOUNT_ID KEY_ID [--overlap-seconds S]`;

type Json = Record<string, unknown>;

/** The admin API's client: the admin token (or an admin-scope key) as the bearer. */
export function adminClientOf(values: Values, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const token = values["admin-token"] ?? env.ADMIN_TOKEN;
  if (!token?.trim()) {
    throw new UsageError("No admin credential: set ADMIN_TOKEN or pass --admin-token.");
  }
  const baseUrl = values["api-url"] ?? (env.RIPEN_API_URL?.trim() || DEFAULT_API_URL);
  try {
    new URL(baseUrl);
  } catch {
    throw new UsageError(`The API URL must be a URL, got '${baseUrl}'.`);
  }
  return new ApiClient({ baseUrl: `${baseUrl.replace(/\/+$/, "")}/admin/v1`, key: token.trim() });
}

/** A whole number as the user typed it; `signed` allows a leading minus. */
function wholeNumber(raw: string | undefined, what: string, { signed = false } = {}): number {
  const value = Number(raw);
  const pattern = signed ? /^[+-]?\d+$/ : /^\d+$/;
  if (raw === undefined || !pattern.test(raw.trim()) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${what} must be a whole number${signed ? " (±)" : ""}, got '${raw}'.`);
  }
  return value;
}

const optionalNumber = (raw: string | undefined, what: string) =>
  raw === undefined ? undefined : wholeNumber(raw, what);

/** A time as ISO 8601 (or Unix seconds), sent as Unix seconds. */
function unixOf(raw: string, what: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new UsageError(`${what} must be an ISO 8601 time, got '${raw}'.`);
  return Math.floor(ms / 1000);
}

function booleanOf(raw: string | undefined, what: string): boolean | undefined {
  if (raw === undefined) return undefined;
  if (raw === "true" || raw === "false") return raw === "true";
  throw new UsageError(`${what} must be true or false, got '${raw}'.`);
}

const reasonOf = (values: Values, command: string) => {
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError(`${command} needs --reason (it is kept in the ledger).`);
  return reason;
};

const iso = (unix: unknown) =>
  typeof unix === "number" ? new Date(unix * 1000).toISOString() : "—";

function printAccount(a: Json): void {
  const subscription = a.subscription as Json | null;
  console.log(`${a.id}  ${a.name}${a.disabled_at ? "  (disabled)" : ""}${a.is_vip ? "  VIP" : ""}`);
  console.log(
    `  credits: balance ${a.balance}, held ${a.held}, available ${a.available}, granted in all ${a.total_granted}`,
  );
  console.log(
    `  active tasks: ${a.active_tasks}${a.max_active_tasks == null ? "" : ` of ${a.max_active_tasks}`}; keys: ${a.keys}`,
  );
  console.log(
    subscription
      ? `  subscription: ${subscription.plan} until ${iso(subscription.ends_at)} (${subscription.id})`
      : "  subscription: none",
  );
}

/** Prints the answer: JSON with --json, else a line or a few for a person. */
function output(values: Values, data: unknown, human: (data: Json) => void): number {
  if (values.json) console.log(JSON.stringify(data));
  else human(data as Json);
  return 0;
}

const ALWAYS = ["admin-token"] as const;
const accountPath = (id: string) => `/accounts/${encodeURIComponent(id)}`;

export async function runAccount(command: string | undefined, rest: string[], values: Values) {
  const api = adminClientOf(values);
  switch (command) {
    case "create": {
      allowOnly("account create", values, [
        ...ALWAYS,
        "name",
        "credits",
        "max-active-tasks",
        "vip",
      ]);
      positionalsOf("account create", rest, []);
      const name = values.name?.trim();
      if (!name) throw new UsageError("--name is required.");
      const data = await api.json("POST", "/accounts", {
        name,
        credits: optionalNumber(values.credits, "--credits"),
        max_active_tasks: optionalNumber(values["max-active-tasks"], "--max-active-tasks"),
        is_vip: booleanOf(values.vip, "--vip"),
      });
      return output(values, data, (a) => {
        console.log(`Created account ${a.id} (${a.name}) with ${a.balance} credits.`);
        console.log(`Make it a key: npm run -s ripen -- key create ${a.id}`);
      });
    }
    case "list": {
      allowOnly("account list", values, [...ALWAYS, "limit", "cursor"]);
      positionalsOf("account list", rest, []);
      const query = new URLSearchParams();
      if (values.limit) query.set("limit", values.limit);
      if (values.cursor) query.set("cursor", values.cursor);
      const data = await api.json<Json>("GET", `/accounts${query.size ? `?${query}` : ""}`);
      return output(values, data, (page) => {
        for (const a of page.accounts as Json[]) {
          console.log(
            `${a.id}  ${String(a.name).padEnd(20)} available ${String(a.available).padStart(10)}${a.disabled_at ? "  disabled" : ""}${a.is_vip ? "  VIP" : ""}`,
          );
        }
        if (page.next_cursor) console.log(`next page: --cursor ${page.next_cursor}`);
      });
    }
    case "show": {
      allowOnly("account show", values, [...ALWAYS]);
      const [id] = positionalsOf("account show", rest, ["ACCOUNT_ID"]);
      return output(values, await api.json("GET", accountPath(id!)), printAccount);
    }
    case "update": {
      allowOnly("account update", values, [...ALWAYS, "name", "vip", "max-active-tasks"]);
      const [id] = positionalsOf("account update", rest, ["ACCOUNT_ID"]);
      const limit = values["max-active-tasks"];
      const data = await api.json("PATCH", accountPath(id!), {
        name: values.name?.trim(),
        is_vip: booleanOf(values.vip, "--vip"),
        max_active_tasks:
          limit === undefined
            ? undefined
            : limit === "none"
              ? null
              : wholeNumber(limit, "--max-active-tasks"),
      });
      return output(values, data, printAccount);
    }
    case "disable":
    case "enable": {
      allowOnly(`account ${command}`, values, [...ALWAYS]);
      const [id] = positionalsOf(`account ${command}`, rest, ["ACCOUNT_ID"]);
      const data = await api.json("POST", `${accountPath(id!)}/${command}`);
      return output(values, data, (a) =>
        console.log(
          `${a.id} ${a.disabled_at ? "disabled: its keys are refused" : "enabled: its keys work again"}.`,
        ),
      );
    }
  }
  throw new UsageError(`Unknown command: account ${command ?? ""}`.trim());
}

export async function runCredits(command: string | undefined, rest: string[], values: Values) {
  if (command !== "grant" && command !== "adjust") {
    throw new UsageError(`Unknown command: credits ${command ?? ""}`.trim());
  }
  allowOnly(`credits ${command}`, values, [...ALWAYS, "reason", "idempotency-key"]);
  const [id, raw] = positionalsOf(`credits ${command}`, rest, ["ACCOUNT_ID", "N"]);
  const amount = wholeNumber(raw, "N", { signed: command === "adjust" });
  const reason = reasonOf(values, `credits ${command}`);
  const path = `${accountPath(id!)}/${command === "grant" ? "grants" : "adjustments"}`;
  const data = await adminClientOf(values).json("POST", path, {
    amount,
    reason,
    idempotency_key: values["idempotency-key"],
  });
  return output(values, data, (d) =>
    console.log(
      `${d.applied ? (command === "grant" ? "Granted" : "Adjusted by") : "Already done (idempotency key):"} ${d.amount} credits on ${d.account_id}: balance ${d.balance}, held ${d.held}, available ${d.available}.`,
    ),
  );
}

export async function runPlan(command: string | undefined, rest: string[], values: Values) {
  const api = adminClientOf(values);
  const printPlan = (p: Json) => console.log(`${p.id}  ${p.name}  ${p.monthly_credits}/month`);
  if (command === "create") {
    allowOnly("plan create", values, [...ALWAYS, "name", "monthly-credits"]);
    positionalsOf("plan create", rest, []);
    const name = values.name?.trim();
    if (!name) throw new UsageError("--name is required.");
    const data = await api.json("POST", "/plans", {
      name,
      monthly_credits: wholeNumber(values["monthly-credits"], "--monthly-credits"),
    });
    return output(values, data, printPlan);
  }
  if (command === "list") {
    allowOnly("plan list", values, [...ALWAYS]);
    positionalsOf("plan list", rest, []);
    const data = await api.json<Json>("GET", "/plans");
    return output(values, data, (d) => {
      for (const p of d.plans as Json[]) printPlan(p);
    });
  }
  throw new UsageError(`Unknown command: plan ${command ?? ""}`.trim());
}

export async function runSubscription(command: string | undefined, rest: string[], values: Values) {
  const api = adminClientOf(values);
  const printSubscription = (s: Json) =>
    console.log(
      `${s.id}  plan ${s.plan} on ${s.account_id}, ${iso(s.starts_at)} → ${iso(s.ends_at)}${s.canceled_at ? `, canceled ${iso(s.canceled_at)}` : ""}`,
    );
  if (command === "start") {
    allowOnly("subscription start", values, [...ALWAYS, "plan", "months", "ends-at"]);
    const [id] = positionalsOf("subscription start", rest, ["ACCOUNT_ID"]);
    if (!values.plan) throw new UsageError("--plan is required.");
    const data = await api.json("POST", `${accountPath(id!)}/subscriptions`, {
      plan: values.plan,
      months: optionalNumber(values.months, "--months"),
      ends_at: values["ends-at"] === undefined ? undefined : unixOf(values["ends-at"], "--ends-at"),
    });
    return output(values, data, printSubscription);
  }
  if (command === "cancel") {
    allowOnly("subscription cancel", values, [...ALWAYS]);
    const [id, sub] = positionalsOf("subscription cancel", rest, ["ACCOUNT_ID", "SUBSCRIPTION_ID"]);
    const data = await api.json(
      "POST",
      `${accountPath(id!)}/subscriptions/${encodeURIComponent(sub!)}/cancel`,
    );
    return output(values, data, printSubscription);
  }
  throw new UsageError(`Unknown command: subscription ${command ?? ""}`.trim());
}

export async function runKey(command: string | undefined, rest: string[], values: Values) {
  const api = adminClientOf(values);
  const printKey = (k: Json) =>
    console.log(
      `${k.id}  ${k.prefix}…  ${String(k.name).padEnd(12)} ${(k.scopes as string[]).join(",")}  ${k.status}${k.expires_at ? `, expires ${iso(k.expires_at)}` : ""}`,
    );
  const printCreated = (k: Json) => {
    printKey(k);
    console.log(`API key (shown once): ${k.key}`);
  };
  switch (command) {
    case "create": {
      allowOnly("key create", values, [...ALWAYS, "name", "scopes", "expires-at"]);
      const [id] = positionalsOf("key create", rest, ["ACCOUNT_ID"]);
      const data = await api.json("POST", `${accountPath(id!)}/keys`, {
        name: values.name?.trim(),
        scopes: values.scopes?.split(",").map((s) => s.trim()),
        expires_at:
          values["expires-at"] === undefined
            ? undefined
            : unixOf(values["expires-at"], "--expires-at"),
      });
      return output(values, data, printCreated);
    }
    case "list": {
      allowOnly("key list", values, [...ALWAYS]);
      const [id] = positionalsOf("key list", rest, ["ACCOUNT_ID"]);
      const data = await api.json<Json>("GET", `${accountPath(id!)}/keys`);
      return output(values, data, (d) => {
        for (const k of d.keys as Json[]) printKey(k);
      });
    }
    case "revoke":
    case "rotate": {
      allowOnly(`key ${command}`, values, [
        ...ALWAYS,
        ...(command === "rotate" ? (["overlap-seconds"] as const) : []),
      ]);
      const [id, key] = positionalsOf(`key ${command}`, rest, ["ACCOUNT_ID", "KEY_ID"]);
      const data = await api.json(
        "POST",
        `${accountPath(id!)}/keys/${encodeURIComponent(key!)}/${command}`,
        command === "rotate"
          ? { overlap_seconds: optionalNumber(values["overlap-seconds"], "--overlap-seconds") }
          : undefined,
      );
      return output(values, data, command === "rotate" ? printCreated : printKey);
    }
  }
  throw new UsageError(`Unknown command: key ${command ?? ""}`.trim());
}
