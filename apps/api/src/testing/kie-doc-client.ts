/**
 * A client of the kie jobs API written from document 003 alone (plus the Kie family's
 * `callBackUrl`), as a customer would write one: a base URL and a key, `createTask`, then
 * `recordInfo` until `data.state` says the task ended, reading `JSON.parse(data.resultJson)
 * .resultUrls`. It never looks at the envelope's `code`, as real Kie clients do not, so a server
 * that answers in any other shape breaks it. Tests drive it unchanged against Ripen.
 */
export interface KieDocClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Pause between two recordInfo calls (default 1 s, as a polite client would). */
  pollIntervalMs?: number;
  /** How long to wait for a task to end (default 10 minutes). */
  timeoutMs?: number;
}

export interface KieDocRecord {
  taskId: string;
  model: string;
  state: string;
  param: string;
  resultJson: string | null;
  failCode: string | null;
  failMsg: string | null;
  costTime: number | null;
  completeTime: number | null;
  createTime: number;
}

export class KieTaskFailed extends Error {
  constructor(readonly record: KieDocRecord) {
    super(`kie task ${record.taskId} failed: ${record.failCode} ${record.failMsg}`);
  }
}

export function createKieDocClient(options: KieDocClientOptions) {
  const headers = {
    Authorization: `Bearer ${options.apiKey}`,
    "Content-Type": "application/json",
  };
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 600_000;

  async function createTask(
    model: string,
    input: Record<string, unknown>,
    callBackUrl?: string,
  ): Promise<string> {
    const response = await fetch(`${options.baseUrl}/api/v1/jobs/createTask`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model, input, ...(callBackUrl ? { callBackUrl } : {}) }),
    });
    const json = (await response.json()) as { msg?: string; data?: { taskId?: string } | null };
    // "Save data.taskId; you need it to query the result."
    const taskId = json.data?.taskId;
    if (!taskId) throw new Error(`createTask refused: ${json.msg ?? response.status}`);
    return taskId;
  }

  async function recordInfo(taskId: string): Promise<KieDocRecord> {
    const response = await fetch(
      `${options.baseUrl}/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`,
      { headers: { Authorization: headers.Authorization } },
    );
    const json = (await response.json()) as { msg?: string; data?: KieDocRecord | null };
    if (!json.data) throw new Error(`recordInfo refused: ${json.msg ?? response.status}`);
    return json.data;
  }

  /** "When data.state is success, parse data.resultJson as JSON and read resultUrls." */
  async function waitForResult(taskId: string): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = await recordInfo(taskId);
      if (record.state === "success") {
        return (JSON.parse(record.resultJson ?? "{}") as { resultUrls: string[] }).resultUrls;
      }
      if (record.state === "fail") throw new KieTaskFailed(record);
      if (Date.now() > deadline) throw new Error(`kie task ${taskId} did not end in time`);
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  }

  return { createTask, recordInfo, waitForResult };
}
