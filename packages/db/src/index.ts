export * from "./schema";
export {
  createDb,
  withTransaction,
  type Database,
  type DbHandle,
  type Executor,
  type Schema,
  type Transaction,
} from "./client";
export { ensureDatabase, migrateDatabase, migrationsFolder } from "./migrate";
