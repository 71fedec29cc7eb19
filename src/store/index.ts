export { openStore, type Store } from './open-store.js';
export { migrate, MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.js';
export { AccountsRepo } from './accounts-repo.js';
export { AppCodesRepo, type NewAppCode, type AppCodeUse } from './app-codes-repo.js';
export { OneTimeCodesRepo, type NewOneTimeCode } from './one-time-codes-repo.js';
export { TrustedDevicesRepo, type NewTrustedDevice } from './trusted-devices-repo.js';
export { AuditRepo, type NewAuditEvent } from './audit-repo.js';
export { WebSessionsRepo, type NewWebSession } from './web-sessions-repo.js';
export { AdminsRepo } from './admins-repo.js';
export type {
  WebSession,
  WebSessionKind,
  WebSessionStage,
  AdminAccount,
} from './types.js';
export type { Account, AdminPolicy, TwofaState, AppCode, OneTimeCode, TrustedDevice, AuditEvent } from './types.js';
