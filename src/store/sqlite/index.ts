// The SQLite implementation of the store, for its own tests; everything else uses ../index.ts.
export { openSqliteStore } from './open-sqlite-store.js';
export { migrate } from './migrate.js';
export { SQLITE_MIGRATIONS } from './migrations.js';
export { SqliteConnection, isBusy, type Exec } from './sqlite-connection.js';
export { ACCOUNT_LOGIN_SQL } from './accounts-repo.js';
export { APP_CODE_LOGIN_SQL, appCodeStatements } from './app-codes-repo.js';
export { testOnlyRawDatabase } from './raw-database.js';
