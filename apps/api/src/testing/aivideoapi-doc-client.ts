/**
 * A client of the aivideoapi documents (000 and 002) as their reader would write it, from the
 * documents alone: Bearer key, create with `POST /v1/images/generations`, poll
 * `GET /v1/tasks/{taskId}` until `completed` or `failed`, read `GET /v1/credits`. It knows nothing
 * of Ripen; pointing its base URL at Ripen is the whole switch.
 */
export interface AivideoapiTask {
  id: string;
  status: "pending" | "processing" | "completed" | "failed";
  model: string;
  output?: { urls: string[]; metadata: Record<string, unknown> };
  error?: { code: string; message: string };
}

export function createAivideoapiDocClient(options: {
  baseUrl: string;
  apiKey: string;
  pollIntervalMs?: number;
}) {
  const headers = {
    authorization: `Bearer ${options.apiKey}`,
    "content-type": "application/json",
  };
  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${options.baseUrl}${path}`, { ...init, headers });
    const body = (await response.json()) as T & { error?: { code: string; message: string } };
    if (!response.ok)
      throw new Error(`${response.status} ${body.error?.code}: ${body.error?.message}`);
    return body;
  }
  return {
    async generate(body: {
      model: string;
      input: Record<string, unknown>;
      callback_url?: string;
    }): Promise<string> {
      const answer = await call<{ data: { taskId: string } }>("/v1/images/generations", {
        method: "POST",
        body: JSON.stringify(body),
      });
      return answer.data.taskId;
    },
    task: (taskId: string) => call<AivideoapiTask>(`/v1/tasks/${taskId}`),
    async waitFor(taskId: string): Promise<AivideoapiTask> {
      for (;;) {
        const task = await call<AivideoapiTask>(`/v1/tasks/${taskId}`);
        if (task.status === "completed" || task.status === "failed") return task;
        await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 1000));
      }
    },
    credits: async () => (await call<{ data: { credits: number } }>("/v1/credits")).data.credits,
  };
}
