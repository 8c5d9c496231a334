import { once } from "node:events";
import { InvalidRequest } from "@ripen/core";
import { stringify } from "csv-stringify";
import type { Request, Response } from "express";

/** `?format=csv` or `Accept: text/csv` (over JSON); any other `format` is a 400. */
export function wantsCsv(req: Request): boolean {
  const format = req.query.format;
  if (format === undefined) return req.accepts(["application/json", "text/csv"]) === "text/csv";
  if (format === "csv") return true;
  if (format === "json") return false;
  throw new InvalidRequest("'format' must be 'json' or 'csv'.", "format");
}

/**
 * Streams rows as a CSV download, a batch at a time: `batches` yields each batch once the
 * previous one is written, so a long export holds one batch in memory and follows the client's
 * pace. The first batch is read before anything is sent, so a failure to start is still an
 * error answer; a failure later ends the download short.
 */
export async function sendCsv<Row extends Record<string, unknown>>(
  res: Response,
  filename: string,
  columns: readonly string[],
  batches: AsyncIterable<readonly Row[]>,
): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  let batch = await iterator.next();
  res.status(200).type("text/csv").set("content-disposition", `attachment; filename="${filename}"`);
  const csv = stringify({ header: true, columns: [...columns] });
  // A client gone mid-download stops the export (its drain would never come).
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  csv.pipe(res);
  try {
    while (!batch.done) {
      for (const row of batch.value) {
        if (!csv.write(row)) await once(csv, "drain", { signal: gone.signal });
      }
      batch = await iterator.next();
    }
    csv.end();
  } catch (error) {
    csv.destroy();
    res.destroy(error as Error);
  }
}
