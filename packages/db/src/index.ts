export {
  createDb,
  type Database,
  type DbHandle,
  type Executor,
  isTransaction,
  type PreparedStatementMode,
  pgClientOf,
  planByIndexes,
  type Schema,
  statementName,
  type Transaction,
  withTransaction,
} from "./client";
export { ensureDatabase, migrateDatabase, migrationsFolder } from "./migrate";
export * from "./schema";
