import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type Router } from "express";

const sources = path.dirname(fileURLToPath(import.meta.url));
/** Where `npm run build` writes the bundle (the production image serves it, without esbuild). */
export const builtConsoleDir = path.resolve(sources, "../../../dist/console");

/** The console's two files, as the browser gets them. */
export interface ConsoleBundle {
  script: string;
  styles: string;
}

/**
 * Bundles the console from its sources with esbuild. esbuild is a devDependency, so it is
 * imported only here: the production image never calls this (it has the prebuilt bundle).
 */
export async function bundleConsoleSources(): Promise<ConsoleBundle> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [path.join(sources, "main.tsx")],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    minify: true,
    jsx: "automatic",
    jsxImportSource: "preact",
    logLevel: "silent",
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error("esbuild produced no console bundle");
  return { script, styles: readFileSync(path.join(sources, "styles.css"), "utf8") };
}

/** The newest change to the console's sources (0 where they are not shipped, as in the image). */
function sourcesChangedAt(dir = sources): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, sourcesChangedAt(full));
    else if (!entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The prebuilt bundle when there is one at least as new as the sources (a stale one from an
 * earlier `npm run build` would hide edits under `npm start`), else one built in memory.
 */
async function loadConsoleBundle(): Promise<ConsoleBundle> {
  const script = path.join(builtConsoleDir, "app.js");
  const styles = path.join(builtConsoleDir, "app.css");
  if (existsSync(script) && existsSync(styles)) {
    if (statSync(script).mtimeMs >= sourcesChangedAt()) {
      return { script: readFileSync(script, "utf8"), styles: readFileSync(styles, "utf8") };
    }
  }
  return bundleConsoleSources();
}

let processBundle: Promise<ConsoleBundle> | undefined;

/**
 * The process's one bundle. `npm start` and the API's main call it at start, so it is ready
 * before the first visitor; elsewhere (the tests' stacks) the first request for /console starts it.
 */
export function consoleBundle(): Promise<ConsoleBundle> {
  if (!processBundle) {
    processBundle = loadConsoleBundle();
    // A failed build is answered per request (503), not an unhandled rejection at start.
    processBundle.catch(() => {});
  }
  return processBundle;
}

interface Asset {
  type: string;
  body: string;
}

/** The page and its assets by URL; asset names carry their content's hash, so they cache forever. */
function assetsOf(bundle: ConsoleBundle): { page: string; assets: Map<string, Asset> } {
  const named = (ext: string, body: string) =>
    `/console/app.${createHash("sha256").update(body).digest("hex").slice(0, 12)}.${ext}`;
  const script = named("js", bundle.script);
  const styles = named("css", bundle.styles);
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ripen console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${styles}">
<script type="module" src="${script}"></script>
</head>
<body>
<div id="app"><noscript>The Ripen console needs JavaScript.</noscript></div>
</body>
</html>
`;
  return {
    page,
    assets: new Map([
      [script, { type: "text/javascript", body: bundle.script }],
      [styles, { type: "text/css", body: bundle.styles }],
    ]),
  };
}

// Scripts, styles and API calls only from Ripen itself. Results (images, videos) live on the
// providers' or their CDNs' hosts, so media alone may come from any http(s) origin.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' http: https: data: blob:",
  "media-src 'self' http: https: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/** `/console`: the page and its hashed script and stylesheet; any other `/console/*` is a 404. */
export function consoleRouter(): Router {
  const router = express.Router();
  let built: Promise<ReturnType<typeof assetsOf>> | undefined;
  router.use("/console", async (req, res) => {
    res.set({
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.status(405).set("allow", "GET, HEAD").type("text/plain").send("Method not allowed.\n");
      return;
    }
    let site: ReturnType<typeof assetsOf>;
    try {
      built ??= consoleBundle().then(assetsOf);
      site = await built;
    } catch (error) {
      res
        .status(503)
        .set("cache-control", "no-store")
        .type("text/plain")
        .send(`The console could not be built: ${(error as Error).message}\n`);
      return;
    }
    const url = `/console${req.path === "/" ? "" : req.path}`;
    if (url === "/console") {
      // The page names the current assets, so it is revalidated on every visit.
      res.set("cache-control", "no-cache").type("html").send(site.page);
      return;
    }
    const asset = site.assets.get(url);
    if (!asset) {
      res.status(404).set("cache-control", "no-store").type("text/plain").send("Not found.\n");
      return;
    }
    res
      .set("cache-control", "public, max-age=31536000, immutable")
      .type(asset.type)
      .send(asset.body);
  });
  return router;
}
