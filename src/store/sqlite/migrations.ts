import { checkedMigrations, type Migration } from '../migrations.js';

/**
 * The SQLite schema history (see ../migrations.ts for the rules). Never edit an entry once
 * released; append a new one. The applied version is PRAGMA user_version. Times are unix
 * milliseconds (INTEGER).
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = checkedMigrations('sqlite', [
  {
    version: 1,
    sql: `
CREATE TABLE accounts (
  id              INTEGER PRIMARY KEY,
  username        TEXT    NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) > 0),
  admin_policy    TEXT    NOT NULL CHECK (admin_policy IN ('allowed', 'required', 'disallowed')),
  twofa_state     TEXT    NOT NULL DEFAULT 'off' CHECK (twofa_state IN ('off', 'pending', 'on')),
  totp_secret_enc BLOB,
  totp_last_step  INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

CREATE TABLE app_codes (
  id                 INTEGER PRIMARY KEY,
  account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name               TEXT    NOT NULL,
  lookup             TEXT    NOT NULL UNIQUE,
  hash               TEXT    NOT NULL,
  created_at         INTEGER NOT NULL,
  last_used_at       INTEGER,
  last_used_ip       TEXT,
  last_used_protocol TEXT,
  last_used_client   TEXT,
  revoked_at         INTEGER
);
-- A name is unique among a user's active codes; a revoked name may be reused.
CREATE UNIQUE INDEX app_codes_active_name ON app_codes(account_id, name) WHERE revoked_at IS NULL;
CREATE INDEX app_codes_account ON app_codes(account_id);

-- lookup = HMAC-SHA256(key derived from the master key, code) is the verifier. No argon2 hash:
-- an 8-digit code hashed with argon2 could be brute-forced offline from a stolen database
-- (10^8 guesses), while the keyed HMAC cannot without the key; and whoever has the key can
-- decrypt secret_enc (kept so the user can view unused codes) anyway.
-- lookup is unique per account, not globally: 8-digit codes would collide across many users.
CREATE TABLE one_time_codes (
  id         INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  lookup     TEXT    NOT NULL,
  secret_enc BLOB    NOT NULL,
  created_at INTEGER NOT NULL,
  used_at    INTEGER,
  UNIQUE (account_id, lookup)
);

CREATE TABLE trusted_devices (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  token_hash   TEXT    NOT NULL UNIQUE,
  label        TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX trusted_devices_account ON trusted_devices(account_id);

CREATE TABLE audit_events (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  username TEXT,
  event    TEXT    NOT NULL,
  protocol TEXT,
  ip       TEXT,
  detail   TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_username ON audit_events(username, at);
`,
  },
  {
    version: 2,
    sql: `
-- Web portal sign-ins. Only the SHA-256 of the cookie's token is stored: a copy of the database
-- does not give live sessions. kind 'user' = a mail user (subject = user name), 'admin' = an
-- admin account (subject = admin name). stage 'second-factor' = password checked, code still due.
CREATE TABLE web_sessions (
  id             INTEGER PRIMARY KEY,
  token_hash     TEXT    NOT NULL UNIQUE,
  kind           TEXT    NOT NULL CHECK (kind IN ('user', 'admin')),
  subject        TEXT    NOT NULL,
  stage          TEXT    NOT NULL CHECK (stage IN ('second-factor', 'signed-in')),
  csrf_secret    TEXT    NOT NULL,
  reauth_at      INTEGER,
  created_at     INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL
);
CREATE INDEX web_sessions_subject ON web_sessions(kind, subject);
CREATE INDEX web_sessions_expires ON web_sessions(expires_at);

-- Admin console accounts, separate from mail users. password_hash is argon2id; the TOTP key is
-- encrypted like the users' (context "admin-totp:<id>").
CREATE TABLE admins (
  id              INTEGER PRIMARY KEY,
  name            TEXT    NOT NULL UNIQUE CHECK (name = lower(name) AND length(name) > 0),
  password_hash   TEXT    NOT NULL,
  totp_secret_enc BLOB    NOT NULL,
  totp_last_step  INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
`,
  },
  {
    version: 3,
    sql: `
-- The guessing bounds (src/policy/attempt-guard.ts): failures, and reservations of checks under
-- way, per key. A pending row (expires_at set) counts until it expires or is settled: settled as
-- a failure it loses attempt and expires_at; settled as no failure it is deleted.
CREATE TABLE auth_attempts (
  id         INTEGER PRIMARY KEY,
  key        TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  attempt    TEXT,
  expires_at INTEGER
);
CREATE INDEX auth_attempts_key ON auth_attempts(key, at);
CREATE INDEX auth_attempts_attempt ON auth_attempts(attempt) WHERE attempt IS NOT NULL;

-- Where each user signed in from before: "net:<network>" or "browser:<hash>".
CREATE TABLE known_sources (
  username TEXT    NOT NULL,
  source   TEXT    NOT NULL,
  first_at INTEGER NOT NULL,
  last_at  INTEGER NOT NULL,
  PRIMARY KEY (username, source)
) WITHOUT ROWID;

-- The trusted device whose trust opened a portal session (revoking the device ends the session).
ALTER TABLE web_sessions ADD COLUMN device_id INTEGER;
CREATE INDEX web_sessions_device ON web_sessions(device_id) WHERE device_id IS NOT NULL;
`,
  },
  {
    version: 4,
    sql: `
-- Codes that can do less: scopes NULL = every protocol, else a comma list of 'imap', 'pop3',
-- 'smtp' (never empty); expires_at NULL = never. expiry_notice_at: when the "expires in a week"
-- mail was queued (once per code).
ALTER TABLE app_codes ADD COLUMN scopes TEXT CHECK (scopes IS NULL OR length(scopes) > 0);
ALTER TABLE app_codes ADD COLUMN expires_at INTEGER;
ALTER TABLE app_codes ADD COLUMN expiry_notice_at INTEGER;
CREATE INDEX app_codes_expiring ON app_codes(expires_at)
  WHERE expires_at IS NOT NULL AND revoked_at IS NULL AND expiry_notice_at IS NULL;

-- Mails to users about their account, queued by any process and sent by serve (never on the
-- login path). due: next_at; a sender holds a row until claimed_until; then sent_at, or
-- next_at later (attempts + 1), or failed_at when given up. detail holds no secret.
CREATE TABLE mail_notices (
  id            INTEGER PRIMARY KEY,
  username      TEXT    NOT NULL,
  kind          TEXT    NOT NULL,
  detail        TEXT    NOT NULL DEFAULT '{}',
  created_at    INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_at       INTEGER NOT NULL,
  claimed_until INTEGER,
  sent_at       INTEGER,
  failed_at     INTEGER,
  last_error    TEXT
);
CREATE INDEX mail_notices_due ON mail_notices(next_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_notices_user ON mail_notices(username, kind, created_at);
CREATE INDEX mail_notices_created ON mail_notices(created_at);
`,
  },
  {
    version: 5,
    sql: `
-- Domain defaults: a user with no setting of their own follows the policy of their domain.
CREATE TABLE domain_policies (
  domain     TEXT    PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) > 0),
  policy     TEXT    NOT NULL CHECK (policy IN ('allowed', 'required', 'disallowed')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- own_policy 1: admin_policy is the user's own setting; 0: the account follows its domain, and
-- admin_policy is kept equal to what applies (the domain's policy, or the default without one).
ALTER TABLE accounts ADD COLUMN own_policy INTEGER NOT NULL DEFAULT 1 CHECK (own_policy IN (0, 1));
-- The part of the name after its first '@' ('' when it has none), as Dovecot's %d.
ALTER TABLE accounts ADD COLUMN domain TEXT GENERATED ALWAYS AS
  (CASE WHEN instr(username, '@') > 0 THEN substr(username, instr(username, '@') + 1) ELSE '' END) VIRTUAL;
-- The admin console's user list: pages by name within a domain or a policy, and the rollout
-- counts per domain read from an index alone. (No index leads with twofa_state: the login path's
-- "still valid" join would start from it and read every account with two-step on.)
CREATE INDEX accounts_domain ON accounts(domain, username);
CREATE INDEX accounts_policy ON accounts(admin_policy, username);
CREATE INDEX accounts_rollout ON accounts(domain, admin_policy, twofa_state);
-- The accounts that follow their domain, found by domain when its policy changes.
CREATE INDEX accounts_followers ON accounts(domain, admin_policy) WHERE own_policy = 0;

-- An admin's TOTP key counts as proven once a console sign-in confirmed a code of it; a new key
-- (admin add, admin reset-totp) is unproven. Admins who signed in before were proven then.
ALTER TABLE admins ADD COLUMN totp_confirmed_at INTEGER;
UPDATE admins SET totp_confirmed_at = updated_at WHERE totp_last_step IS NOT NULL;

-- The console's audit filters page through the newest events of one event, address or protocol
-- (or event and protocol together: a common event over a protocol it is rare on).
CREATE INDEX audit_events_event ON audit_events(event, at);
CREATE INDEX audit_events_event_protocol ON audit_events(event, protocol, at);
CREATE INDEX audit_events_ip ON audit_events(ip, at);
CREATE INDEX audit_events_protocol ON audit_events(protocol, at);

-- Events per UTC day (at / 86400000), event, protocol and the detail's "via" and "why" (strings,
-- '' when absent): the overview's 30-day chart reads a few hundred rows, not a million events.
-- Every insert into audit_events adds one here (the repository does, in the same transaction);
-- pruning old events leaves these counts.
CREATE TABLE audit_daily (
  day      INTEGER NOT NULL,
  event    TEXT    NOT NULL,
  protocol TEXT    NOT NULL,
  via      TEXT    NOT NULL,
  why      TEXT    NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (day, event, protocol, via, why)
) WITHOUT ROWID;
INSERT INTO audit_daily (day, event, protocol, via, why, n)
SELECT at / 86400000, event, COALESCE(protocol, ''),
  CASE WHEN json_valid(detail) AND json_type(detail, '$.via') = 'text' THEN substr(json_extract(detail, '$.via'), 1, 64) ELSE '' END,
  CASE WHEN json_valid(detail) AND json_type(detail, '$.why') = 'text' THEN substr(json_extract(detail, '$.why'), 1, 64) ELSE '' END,
  count(*)
FROM audit_events GROUP BY 1, 2, 3, 4, 5;
`,
  },
]);
