export { openStore, isPostgresUrl, type OpenStoreOptions, type StoreLocation } from './open-store.js';
export { redactedUrl } from './postgres/open-postgres-store.js';
export type {
  Store,
  StoreRepos,
  DeferredWrite,
  WriteBehindStats,
  AccountsRepo,
  AppCodesRepo,
  OneTimeCodesRepo,
  TrustedDevicesRepo,
  AuditRepo,
  WebSessionsRepo,
  AdminsRepo,
  RevocationNotice,
} from './store.js';
export { SCHEMA_VERSION, SCHEMA_VERSIONS, type Migration } from './migrations.js';
export type {
  Account,
  AdminPolicy,
  TwofaState,
  AppCode,
  AppCodeUse,
  OneTimeCode,
  TrustedDevice,
  AuditEvent,
  WebSession,
  WebSessionKind,
  WebSessionStage,
  AdminAccount,
  NewAppCode,
  NewOneTimeCode,
  NewTrustedDevice,
  NewAuditEvent,
  NewWebSession,
} from './types.js';
