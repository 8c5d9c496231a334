/** What the admin API answers, as the operator views read it (snake_case, as on the wire). */

export interface AccountRow {
  id: string;
  name: string;
  balance: number;
  held: number;
  available: number;
  is_vip: boolean;
  disabled_at: number | null;
  created_at: number;
}

export interface AccountPage {
  accounts: AccountRow[];
  next_cursor: string | null;
}

export interface Subscription {
  id: string;
  account_id: string;
  plan: string;
  plan_id: string;
  monthly_credits: number;
  starts_at: number;
  ends_at: number;
  canceled_at: number | null;
}

export interface Account extends AccountRow {
  total_granted: number;
  active_tasks: number;
  max_active_tasks: number | null;
  subscription: Subscription | null;
  keys: number;
}

export interface ApiKey {
  id: string;
  name: string | null;
  prefix: string;
  scopes: string[];
  status: string;
  expires_at: number | null;
  ip_allowlist: string[] | null;
  rate_limit_per_minute: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface CreditMovement {
  account_id: string;
  amount: number;
  applied: boolean;
  balance: number;
  held: number;
  available: number;
}

export interface Plan {
  id: string;
  name: string;
  monthly_credits: number;
  created_at: number;
}

export type Circuit = "closed" | "open" | "half_open";

export interface ProviderHealth {
  id: string;
  models: string[];
  circuit: Circuit;
  paused_until: string | null;
  limits: { requests_per_minute: number | null; max_concurrent: number | null };
  in_flight: number;
  window_minutes: number;
  attempts: number;
  failed: number;
  error_rate: number;
  latency_ms: { p50: number | null; p95: number | null };
  traffic_share: number;
}

export interface QueueDepth {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  failed: number;
  completed: number;
  oldest_waiting_age_ms: number | null;
}

export interface UsageRow {
  provider?: string | null;
  model?: string;
  day?: string;
  tasks: number;
  charged_credits: number;
  charged_usd: number;
  upstream_usd: number;
  margin_usd: number;
}

export interface LedgerCheck {
  accounts: number;
  entries: number;
  drift: { rule: string; row: Record<string, unknown> }[];
}
