import { createHash } from "node:crypto";
import { encode as encodeJpeg } from "jpeg-js";
import { PNG } from "pngjs";

export type ImageFormat = "png" | "jpg";

export const contentTypes: Record<ImageFormat, string> = {
  png: "image/png",
  jpg: "image/jpeg",
};

/** Tiny stand-ins for 1K/2K/4K: large enough to be real images, small enough to be free. */
type Resolution = "1K" | "2K" | "4K";
const longestSide: Record<Resolution, number> = { "1K": 64, "2K": 96, "4K": 128 };

export function imageSize(
  resolution: Resolution,
  aspectRatio: string,
): { width: number; height: number } {
  const [w, h] = aspectRatio === "auto" ? [1, 1] : aspectRatio.split(":").map(Number);
  const side = longestSide[resolution];
  const ratioW = w ?? 1;
  const ratioH = h ?? 1;
  if (ratioW >= ratioH) {
    return { width: side, height: Math.max(1, Math.round((side * ratioH) / ratioW)) };
  }
  return { width: Math.max(1, Math.round((side * ratioW) / ratioH)), height: side };
}

/**
 * A diagonal gradient whose colours derive from `seed`, so each task has its own picture and
 * fetching the same URL twice gives the same bytes.
 */
export function renderImage(options: {
  seed: string;
  format: ImageFormat;
  resolution: Resolution;
  aspectRatio: string;
}): Buffer {
  const { width, height } = imageSize(options.resolution, options.aspectRatio);
  const digest = createHash("sha256").update(options.seed).digest();
  const from = [digest[0]!, digest[1]!, digest[2]!];
  const to = [digest[3]!, digest[4]!, digest[5]!];
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / Math.max(1, width - 1) + y / Math.max(1, height - 1)) / 2;
      const offset = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[offset + c] = Math.round(from[c]! + (to[c]! - from[c]!) * t);
      data[offset + 3] = 255;
    }
  }
  if (options.format === "jpg") return encodeJpeg({ width, height, data }, 85).data;
  const png = new PNG({ width, height });
  data.copy(png.data);
  return PNG.sync.write(png);
}
