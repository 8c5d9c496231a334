/**
 * A client of the Nano Banana API written from its document (shared/seeds/001) alone, with
 * nothing of Ripen in it: a base URL and a key, Bearer auth, the `{success, data}` envelope, poll
 * the status endpoint until the task ends. The door's tests drive it unchanged against Ripen.
 */

export class NanoBananaApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export interface ImageGenerateBody {
  prompt: string;
  mode?: "text" | "image";
  model?: string;
  image_url?: string;
  aspect_ratio?: string;
  resolution?: string;
  num_images?: number;
  quality?: "standard" | "hd";
  output_format?: "png" | "jpeg";
}

export interface VideoGenerateBody {
  prompt: string;
  model_id?: string;
  aspect_ratio?: string;
  duration?: number;
  resolution?: string;
  image_url?: string;
  generate_audio?: boolean;
  negative_prompt?: string;
}

export interface Generated {
  task_id: string;
  status: string;
  credits_used: number;
  credits_remaining: number;
  provider?: string;
}

export interface TaskStatus {
  task_id: string;
  status: string;
  progress?: number;
  image_url?: string;
  video_url?: string;
  completed_at?: string;
}

export interface AccountCredits {
  credits: number;
  total_credits: number;
  subscription: { plan: string; end_date: string } | null;
  is_vip: boolean;
}

export class NanoBananaClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    /** How long to wait between status polls. */
    private readonly pollIntervalMs = 200,
  ) {}

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = (await response.json()) as
      | { success: true; data: T }
      | { success: false; error: { code: string; message: string } };
    if (!envelope.success) {
      throw new NanoBananaApiError(response.status, envelope.error.code, envelope.error.message);
    }
    return envelope.data;
  }

  generateImage(body: ImageGenerateBody): Promise<Generated> {
    return this.call("POST", "/api/v1/images/generate", body);
  }

  imageStatus(taskId: string): Promise<TaskStatus> {
    return this.call("GET", `/api/v1/images/status?task_id=${encodeURIComponent(taskId)}`);
  }

  generateVideo(body: VideoGenerateBody): Promise<Generated> {
    return this.call("POST", "/api/v1/videos/generate", body);
  }

  videoStatus(taskId: string): Promise<TaskStatus> {
    return this.call("GET", `/api/v1/videos/status?task_id=${encodeURIComponent(taskId)}`);
  }

  credits(): Promise<AccountCredits> {
    return this.call("GET", "/api/v1/account/credits");
  }

  calculateCost(body: Record<string, unknown>): Promise<{ type: string; credits_needed: number }> {
    return this.call("POST", "/api/v1/account/calculate-cost", body);
  }

  models(): Promise<{ image_models: { id: string }[]; video_models: { id: string }[] }> {
    return this.call("GET", "/api/v1/models");
  }

  /** "Poll this endpoint until status is 'completed' or 'failed'" (videos end 'succeeded'). */
  async waitForImage(taskId: string, timeoutMs = 20_000): Promise<TaskStatus> {
    return this.poll(() => this.imageStatus(taskId), ["completed", "failed"], timeoutMs);
  }

  async waitForVideo(taskId: string, timeoutMs = 20_000): Promise<TaskStatus> {
    return this.poll(() => this.videoStatus(taskId), ["succeeded", "failed"], timeoutMs);
  }

  private async poll(
    read: () => Promise<TaskStatus>,
    ends: string[],
    timeoutMs: number,
  ): Promise<TaskStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await read();
      if (ends.includes(status.status)) return status;
      if (Date.now() > deadline)
        throw new Error(`task still ${status.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs));
    }
  }
}
