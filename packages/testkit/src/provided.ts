/** Values the global setup hands to every test file. */
declare module "vitest" {
  export interface ProvidedContext {
    /** Connection URL of the server's maintenance database (`postgres`). */
    pgAdminUrl: string;
    /** Migrated database every test file clones. */
    pgTemplate: string;
    redisUrl: string;
  }
}

export {};
