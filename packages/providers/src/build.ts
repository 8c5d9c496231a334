import type { DialectClient, DialectClientOptions, DocumentedCost } from "@ripen/core";
import type { DialectName } from "@ripen/db";
import * as aivideoapi from "@ripen/dialect-aivideoapi";
import * as kie from "@ripen/dialect-kie";
import * as nanobanana from "@ripen/dialect-nanobanana";
import * as revid from "@ripen/dialect-revid";
import { callsRealUpstream } from "./env";
import { measuredClient } from "./measured-client";
import {
  declareProviders,
  type ProviderDeclaration,
  providerVariables,
  sandboxMountOf,
} from "./registry";

/** What Ripen needs of each dialect package; a dialect without an entry does not compile. */
interface DialectModule {
  createClient(options: DialectClientOptions): DialectClient;
  documentedCost: DocumentedCost;
  /** A key the sandbox's simulator of the dialect accepts. */
  sandboxKey: string;
}

export const dialects: Record<DialectName, DialectModule> = {
  aivideoapi: {
    createClient: aivideoapi.createAivideoapiClient,
    documentedCost: aivideoapi.documentedCost,
    sandboxKey: "sk-ripen-sandbox",
  },
  nanobanana: {
    createClient: nanobanana.createNanobananaClient,
    documentedCost: nanobanana.documentedCost,
    sandboxKey: "nb_sk_ripen_sandbox",
  },
  kie: {
    createClient: kie.createKieClient,
    documentedCost: kie.documentedCost,
    sandboxKey: "kie-ripen-sandbox",
  },
  revid: {
    createClient: revid.createRevidClient,
    documentedCost: revid.documentedCost,
    sandboxKey: "revid-ripen-sandbox",
  },
};

/** A provider ready to call: its declaration, where it is, and its client. */
export interface Provider extends ProviderDeclaration {
  baseUrl: string;
  /** True when it points at the sandbox (no URL and key configured). */
  sandbox: boolean;
  client: DialectClient;
  /** What it charges for a request in its own fields, in its credits. */
  documentedCost: DocumentedCost;
}

export interface Providers {
  readonly list: readonly Provider[];
  get(id: string): Provider | undefined;
}

type Source = Record<string, string | undefined>;

/**
 * Builds every declared provider. Each goes to its real base URL when both `{PREFIX}_BASE_URL`
 * and `{PREFIX}_API_KEY` are set, else to its mount on the sandbox at `sandboxUrl`.
 */
export function buildProviders(
  source: Source,
  sandboxUrl: string,
  options: {
    declarations?: readonly ProviderDeclaration[];
    fetch?: typeof fetch;
    timeoutMs?: number;
  } = {},
): Providers {
  const declarations = options.declarations ?? declareProviders(source.RIPEN_PROVIDERS);
  const sandbox = sandboxUrl.replace(/\/+$/, "");
  const list = declarations.map((declaration): Provider => {
    const names = providerVariables(declaration.id);
    const real = callsRealUpstream(declaration.id, source);
    const dialect = dialects[declaration.dialect];
    const baseUrl = real ? source[names.baseUrl]! : `${sandbox}${sandboxMountOf(declaration.id)}`;
    return {
      ...declaration,
      baseUrl,
      sandbox: !real,
      documentedCost: dialect.documentedCost,
      client: measuredClient(
        declaration.id,
        dialect.createClient({
          baseUrl,
          apiKey: real ? source[names.apiKey]! : dialect.sandboxKey,
          fetch: options.fetch,
          timeoutMs: options.timeoutMs,
        }),
      ),
    };
  });
  const byId = new Map(list.map((p) => [p.id, p]));
  return { list, get: (id) => byId.get(id) };
}
