import { InvalidRequest } from "@ripen/core";

/**
 * The opaque cursors of Ripen's list endpoints: base64url of `[position, id]`, the position of the
 * last row of the page it came with. Each endpoint says what a valid pair is.
 */
export function encodeCursor(position: string, id: string): string {
  return Buffer.from(JSON.stringify([position, id])).toString("base64url");
}

/** The `[position, id]` a cursor holds; a 400 naming `cursor` when it is not one `valid` accepts. */
export function decodeCursor(
  cursor: string,
  valid: (position: string, id: string) => boolean,
): [position: string, id: string] {
  const invalid = () =>
    new InvalidRequest(
      "'cursor' is not a cursor this endpoint gave (pass next_cursor exactly as received).",
      "cursor",
    );
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    typeof decoded[0] !== "string" ||
    typeof decoded[1] !== "string" ||
    !valid(decoded[0], decoded[1])
  ) {
    throw invalid();
  }
  return [decoded[0], decoded[1]];
}
