export {
  createDb,
  type Database,
  type DbHandle,
  type Executor,
  isTransaction,
  type PreparedStatementMode,
  pgClientOf,
  type Schema,
  type Transaction,
  withTransaction,
} from "./client";
export { ensureDatabase, migrateDatabase, migrationsFolder } from "./migrate";
export * from "./schema";
