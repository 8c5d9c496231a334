/**
 * `npm run build`: each service compiled to one JavaScript file, `dist/<service>/main.mjs` (with
 * its source map), for running without tsx: `node --enable-source-maps dist/worker/main.mjs`.
 * Ripen's own packages are bundled in; every npm dependency stays an import, resolved from
 * node_modules at run time (BullMQ, for one, reads its Lua scripts from its own folder).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The services, by the name of their folder under `apps/`. */
export const services = ["api", "worker", "callbacks", "sandbox", "stack", "cli"] as const;
export type ServiceName = (typeof services)[number];

/** Where `apps/<service>/src/main.ts` is built to, relative to the repository root. */
export const builtEntryOf = (service: ServiceName): string =>
  path.join("dist", service, "main.mjs");

const ripenSources: Plugin = {
  name: "ripen-sources",
  setup(builder) {
    // Bare imports other than Ripen's own workspaces are left to node_modules.
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@ripen/") ? undefined : { path: args.path, external: true },
    );
    // A module that finds files beside itself (migrations, the sandbox's sample media, the
    // repository root) keeps finding them from the bundle: its own URL is written in.
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const own = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: source.replaceAll("import.meta.url", own), loader: "ts" };
    });
  },
};

/** Builds the given services (all by default) into `dist/`; resolves with the time it took. */
export async function buildServices(only: readonly ServiceName[] = services): Promise<number> {
  const started = performance.now();
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(
      only.map((service) => [`${service}/main`, `apps/${service}/src/main.ts`]),
    ),
    outdir: "dist",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    plugins: [ripenSources],
    logLevel: "warning",
  });
  return Math.round(performance.now() - started);
}

/**
 * The web console's bundle, `dist/console/app.js` and `app.css`: what the API serves at /console
 * where esbuild is not installed (the production image).
 */
export async function buildConsole(): Promise<string> {
  const { bundleConsoleSources, builtConsoleDir } = await import("../apps/console/src/serve");
  const bundle = await bundleConsoleSources();
  await mkdir(builtConsoleDir, { recursive: true });
  await writeFile(path.join(builtConsoleDir, "app.js"), bundle.script);
  await writeFile(path.join(builtConsoleDir, "app.css"), bundle.styles);
  return path.relative(root, builtConsoleDir);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ms = await buildServices();
  const consoleDir = await buildConsole();
  console.log(`built ${services.map(builtEntryOf).join(", ")} in ${ms} ms, and ${consoleDir}/`);
}
