import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, apiFetch, type Credential } from "../api";

export interface Live<T> {
  /** The last answer; kept through a failed refresh, so the table does not vanish or jump. */
  data?: T;
  /** The last refresh's error, cleared by the next success. */
  error?: ApiError;
  /** When `data` was read (ms since the epoch). */
  at?: number;
}

/**
 * Reads `path` now and again `everyMs` after each answer (never two at once), while the tab is
 * visible. A 401 signs out through apiFetch; any other error is shown beside the stale figures.
 */
export function useLive<T>(credential: Credential, path: string, everyMs = 3000): Live<T> {
  const [state, setState] = useState<Live<T>>({});
  const timer = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      if (document.visibilityState !== "hidden") {
        try {
          const data = await apiFetch<T>(path, { credential });
          if (!stopped) setState({ data, at: Date.now() });
        } catch (error) {
          if (!stopped) setState((s) => ({ ...s, error: error as ApiError }));
        }
      }
      if (!stopped) timer.current = setTimeout(tick, everyMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer.current);
    };
  }, [credential, path, everyMs]);
  return state;
}
