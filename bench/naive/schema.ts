/**
 * The naive pipeline's tables: an account with a balance and what its open tasks hold, and tasks.
 * The bench creates them in the pipeline's own throwaway database before starting its processes.
 */
export const NAIVE_SCHEMA = `
create table accounts (
  id text primary key,
  api_key text not null unique,
  balance bigint not null,
  held bigint not null default 0,
  check (held <= balance)
);
create table tasks (
  id uuid primary key,
  account_id text not null references accounts (id),
  status text not null default 'queued',
  price integer not null,
  result_url text,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index tasks_account_status on tasks (account_id, status);
`;

/** What one image costs here; any fixed figure would do, the ledger work is the same. */
export const NAIVE_PRICE = 16;
export const NAIVE_QUEUE = "generate";
