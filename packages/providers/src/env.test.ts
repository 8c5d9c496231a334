import { ConfigError, loadEnv, workerEnv } from "@ripen/config";
import { describe, expect, it } from "vitest";
import { providerEnvChecks, providerEnvShape } from "./env";
import { declareProviders, defaultProviders } from "./registry";

/** The issues a worker's configuration reports, with the providers' variables as it loads them. */
function issuesOf(source: Record<string, string>, declarations = defaultProviders) {
  try {
    loadEnv(
      workerEnv.extend(providerEnvShape(declarations)),
      source,
      providerEnvChecks(declarations),
    );
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

const production = { NODE_ENV: "production", CALLBACK_SECRET: "a-production-secret-0123456789" };
const realKie = { KIE_BASE_URL: "https://api.kie.example", KIE_API_KEY: "kie-live" };

describe("each provider's variables, derived from the registry", () => {
  it("wants both of a provider's variables or neither", () => {
    expect(issuesOf({ AIVIDEOAPI_BASE_URL: "https://api.aivideoapi.example" })).toEqual([
      { variable: "AIVIDEOAPI_API_KEY", message: expect.stringContaining("AIVIDEOAPI_BASE_URL") },
    ]);
    expect(issuesOf({ REVID_API_KEY: "x" })).toEqual([
      { variable: "REVID_BASE_URL", message: expect.stringContaining("REVID_API_KEY") },
    ]);
    expect(issuesOf(realKie)).toEqual([]);
  });

  it("checks the URL's scheme", () => {
    expect(issuesOf({ ...realKie, KIE_BASE_URL: "api.kie.example" })).toEqual([
      { variable: "KIE_BASE_URL", message: expect.stringContaining("http:// or https://") },
    ]);
  });

  it("covers an instance added by RIPEN_PROVIDERS, under its own prefix", () => {
    const declarations = declareProviders('[{"id":"kie-eu","dialect":"kie"}]');
    expect(issuesOf({ KIE_EU_BASE_URL: "https://eu.kie.example" }, declarations)).toEqual([
      { variable: "KIE_EU_API_KEY", message: expect.stringContaining("KIE_EU_BASE_URL") },
    ]);
  });

  it("wants an explicit, reachable PUBLIC_CALLBACK_URL when a real provider is configured", () => {
    expect(issuesOf({ ...production, ...realKie })).toEqual([
      { variable: "PUBLIC_CALLBACK_URL", message: expect.stringContaining("must be set") },
    ]);
    for (const loopback of [
      "http://127.0.0.1:3001",
      "http://localhost:3001",
      "http://[::1]:3001",
    ]) {
      expect(issuesOf({ ...production, ...realKie, PUBLIC_CALLBACK_URL: loopback })).toEqual([
        { variable: "PUBLIC_CALLBACK_URL", message: expect.stringContaining("loopback") },
      ]);
    }
    expect(
      issuesOf({ ...production, ...realKie, PUBLIC_CALLBACK_URL: "https://hooks.example.com" }),
    ).toEqual([]);
    // With the sandbox, or outside production, loopback is what local setups use.
    expect(issuesOf(production)).toEqual([]);
    expect(issuesOf(realKie)).toEqual([]);
  });
});

describe("RIPEN_PROVIDERS", () => {
  it("ships the four providers of the documents", () => {
    expect(declareProviders(undefined).map((p) => [p.id, p.dialect])).toEqual([
      ["aivideoapi", "aivideoapi"],
      ["nanobanana", "nanobanana"],
      ["kie", "kie"],
      ["revid", "revid"],
    ]);
  });

  it("adds a second instance of a dialect, changes a default, removes one", () => {
    const declared = declareProviders(
      JSON.stringify([
        { id: "kie-eu", dialect: "kie", priority: 50, limits: { maxConcurrent: 5 } },
        { id: "nanobanana", limits: { requestsPerMinute: 30 } },
        { id: "revid", enabled: false },
      ]),
    );
    expect(declared.map((p) => p.id)).toEqual(["aivideoapi", "nanobanana", "kie", "kie-eu"]);
    expect(declared.find((p) => p.id === "kie-eu")).toMatchObject({
      dialect: "kie",
      priority: 50,
      limits: { maxConcurrent: 5 },
    });
    expect(declared.find((p) => p.id === "nanobanana")?.limits).toEqual({ requestsPerMinute: 30 });
  });

  it.each([
    ["not json", "not valid JSON"],
    ['[{"id":"kie-eu"}]', "needs its dialect"],
    ['[{"id":"kie","dialect":"revid"}]', "speaks kie"],
    ['[{"id":"Bad Id","dialect":"kie"}]', "lowercase"],
    ['[{"id":"x","dialect":"sora"}]', "RIPEN_PROVIDERS 0.dialect"],
    ['[{"id":"x","dialect":"kie","colour":1}]', "RIPEN_PROVIDERS 0"],
  ])("refuses %s", (json, message) => {
    expect(() => declareProviders(json)).toThrow(message);
  });
});
