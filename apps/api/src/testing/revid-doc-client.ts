/**
 * A revid client written from document 004 alone, as a customer would write it: no Ripen code,
 * no dialect package. It sends `x-api-key`, creates at the documented path, polls
 * `POST /paid/get/taskid?taskId=` until `state` is success or fail, and reads `resultJson`.
 * Tests drive it unchanged against Ripen's revid door.
 */

export interface RevidDocClientOptions {
  /** e.g. "https://api.revidapi.com". */
  baseUrl: string;
  apiKey: string;
  /** Wait between polls (default 1 s). */
  pollIntervalMs?: number;
  /** Give up polling after this long (default 10 min). */
  timeoutMs?: number;
}

/** "Create Generation Task" request parameters. */
export interface CreateRequest {
  model: string;
  input: Record<string, unknown>;
  callBackUrl?: string;
}

/** "Query Task Status" response `data`. */
export interface TaskInfo {
  taskId: string;
  model: string;
  state: "waiting" | "success" | "fail";
  param: string;
  resultJson: string | null;
  failCode: string | null;
  failMsg: string | null;
  costTime: number | null;
  completeTime: number | null;
  createTime: number;
}

/** Any answer whose `code` is not 200 ("Error Codes"). */
export class RevidApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export class RevidTaskFailed extends Error {
  constructor(readonly task: TaskInfo) {
    super(`task ${task.taskId} failed: ${task.failCode} ${task.failMsg}`);
  }
}

export function createRevidDocClient(options: RevidDocClientOptions) {
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 600_000;

  async function post<T>(path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${options.baseUrl}${path}`, {
      method: "POST",
      headers: { "x-api-key": options.apiKey, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as { code: number; msg: string; data: T };
    if (answer.code !== 200) throw new RevidApiError(answer.code, answer.msg);
    return answer.data;
  }

  const client = {
    /** Step 1: returns the taskId. */
    async createTask(request: CreateRequest): Promise<string> {
      const data = await post<{ taskId: string }>("/paid/nano/banana/create", request);
      return data.taskId;
    },

    /** Step 2: the task's status and results. */
    queryTask(taskId: string): Promise<TaskInfo> {
      return post<TaskInfo>(`/paid/get/taskid?taskId=${encodeURIComponent(taskId)}`);
    },

    /** Polls until the task succeeds (its result URLs) or fails (throws RevidTaskFailed). */
    async waitForResult(taskId: string): Promise<{ task: TaskInfo; resultUrls: string[] }> {
      const giveUpAt = Date.now() + timeoutMs;
      for (;;) {
        const task = await client.queryTask(taskId);
        if (task.state === "success") {
          const result = JSON.parse(task.resultJson ?? "{}") as { resultUrls?: string[] };
          return { task, resultUrls: result.resultUrls ?? [] };
        }
        if (task.state === "fail") throw new RevidTaskFailed(task);
        if (Date.now() > giveUpAt) throw new Error(`task ${taskId} still ${task.state}`);
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
    },

    /** Create, then wait for the result. */
    async generate(request: CreateRequest) {
      return client.waitForResult(await client.createTask(request));
    },
  };
  return client;
}
