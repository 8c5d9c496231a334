import type { Response } from "express";

/** The comment line that keeps proxies from closing an idle event stream. */
const HEARTBEAT = ": heartbeat\n\n";

/** Starts a server-sent event stream on `res` (status 200, headers flushed). */
export function startEventStream(res: Response): void {
  res.status(200).set({
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    // nginx buffers responses unless told not to.
    "x-accel-buffering": "no",
  });
  // The connection ends with the stream, so shutting down never waits on an idle socket.
  res.shouldKeepAlive = false;
  res.flushHeaders();
  res.socket?.setNoDelay(true);
}

/** Whether the client is still there to be written to. */
export const isWritable = (res: Response): boolean =>
  !res.writableEnded && !res.destroyed && res.socket !== null && !res.socket.destroyed;

/**
 * Writes a heartbeat unless the client stopped reading: heartbeats must not pile up in the
 * buffer of a client that does not read them.
 */
export function writeHeartbeat(res: Response): void {
  if (!res.writableNeedDrain) res.write(HEARTBEAT);
}
