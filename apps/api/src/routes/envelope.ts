import { z } from "zod";

/** The native API's success envelope, `{code: 200, msg: "success", data}`, as a schema. */
export const nativeEnvelope = <T extends z.ZodType>(data: T) =>
  z.object({ code: z.number().int(), msg: z.string(), data });

/** Unix seconds, as every time in the native API. */
export const unixTime = z.int().meta({ description: "Unix seconds" });
