import autocannon from "autocannon";
import { CONNECTIONS, CREATE_BODY } from "./plan";

/** How a request carries its key: native and most doors send a Bearer token, revid `x-api-key`. */
export type KeyHeader = (key: string) => Record<string, string>;
export const bearer: KeyHeader = (key) => ({ authorization: `Bearer ${key}` });

export interface CannonOptions {
  /** Spread across requests in turn; none sends no key. */
  keys: string[];
  duration?: number;
  amount?: number;
  connections?: number;
  body?: string;
  keyHeader?: KeyHeader;
  /** Every answer's status and time, for figures that add up over several runs. */
  onResponse?: (status: number, ms: number) => void;
  /** Each answer outside 2xx, with its body: what a refused request was told. */
  onRejected?: (status: number, body: string) => void;
  /** Each request that got no answer (timed out, connection reset). */
  onError?: (error: Error) => void;
}

/** POST load with autocannon: the create body by default, 50 connections, 10 s request timeout. */
export function cannon(url: string, options: CannonOptions): Promise<autocannon.Result> {
  let next = 0;
  const { keys, onRejected } = options;
  const keyHeader = options.keyHeader ?? bearer;
  const request: autocannon.Request = {};
  if (keys.length > 0) {
    request.setupRequest = (req) => ({
      ...req,
      headers: { ...req.headers, ...keyHeader(keys[next++ % keys.length]!) },
    });
  }
  if (onRejected) {
    // autocannon keeps an answer's body only for a request that has onResponse.
    request.onResponse = (status, body) => {
      if (status < 200 || status >= 300) onRejected(status, body);
    };
  }
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: "POST",
        connections: options.connections ?? CONNECTIONS,
        // autocannon rejects a duration key that is present but undefined.
        ...(options.amount === undefined
          ? { duration: options.duration }
          : { amount: options.amount }),
        timeout: 10,
        headers: { "content-type": "application/json" },
        body: options.body ?? CREATE_BODY,
        requests: Object.keys(request).length > 0 ? [request] : undefined,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    const { onResponse, onError } = options;
    if (onResponse)
      instance.on("response", (_client, status, _bytes, ms) => onResponse(status, ms));
    if (onError) instance.on("reqError", onError);
  });
}

export const reqPerS = (r: autocannon.Result) => r.requests.total / r.duration;
