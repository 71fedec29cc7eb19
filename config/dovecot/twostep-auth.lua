-- twostep: Dovecot asks twostep about every password login (every door: IMAP, POP3,
-- ManageSieve, submission, Postfix SASL, webmail signing in over IMAP). Dovecot 2.3 with
-- Debian's dovecot-auth-lua and lua-socket. Install as /etc/dovecot/twostep-auth.lua
-- (root:root 0644) and include 10-twostep-passdb.conf; see config/dovecot/README.md.
--
-- Per login it sends user, password, service, client address, TLS flag and IMAP ID to
-- twostep's verify service (`twostep serve` with a [dovecot] section) and answers Dovecot:
--   OK    an active application code of a two-step account          -> PASSDB_RESULT_OK
--   FAIL  a two-step account with anything else (the main password)  -> PASSWORD_MISMATCH
--         (final: the passdb has result_failure = return-fail)
--   NEXT  no two-step authentication for this user                    -> PASSDB_RESULT_NEXT:
--         the next passdb judges the password, exactly as without twostep
--   twostep unreachable, slow or in doubt                             -> INTERNAL_FAILURE:
--         "temporary failure", never an accept (result_internalfail = return-fail)
--
-- Where: TWOSTEP_VERIFY from Dovecot's import_environment (10-twostep-passdb.conf): a unix
-- socket path, or host:port of twostep's loopback listener ([dovecot] verify_listen); several,
-- comma-separated, are tried in that order (two twostep instances for availability).

local socket = require("socket")
local have_unix, unix = pcall(require, "socket.unix")

local TARGET = os.getenv("TWOSTEP_VERIFY") or "/run/twostep/verify.sock"
local TARGETS = {}
for t in string.gmatch(TARGET, "[^,%s]+") do TARGETS[#TARGETS + 1] = t end
-- Seconds to wait for twostep. It answers within 10 s (TEMPFAIL past that); this is the
-- backstop for a twostep that hangs.
local TIMEOUT = 15

-- One connection per auth-worker process, kept between logins.
local conn = nil

local function connect_to(target)
  local c, err
  if string.sub(target, 1, 1) == "/" then
    if not have_unix then
      return nil, "lua-socket's socket.unix is not installed"
    end
    c, err = unix.stream()
    if not c then return nil, err end
    c:settimeout(TIMEOUT)
    local ok, cerr = c:connect(target)
    if not ok then c:close() return nil, cerr end
    return c
  end
  local host, port = string.match(target, "^%[?([^%]]+)%]?:(%d+)$")
  if not host then return nil, "not a socket path nor host:port" end
  c, err = socket.tcp()
  if not c then return nil, err end
  c:settimeout(TIMEOUT)
  local ok, cerr = c:connect(host, tonumber(port))
  if not ok then c:close() return nil, cerr end
  return c
end

-- The first target that accepts the connection.
local function connect()
  local errors = {}
  for _, target in ipairs(TARGETS) do
    local c, err = connect_to(target)
    if c then return c end
    errors[#errors + 1] = target .. ": " .. tostring(err)
  end
  return nil, table.concat(errors, "; ")
end

-- One request line, one answer line. A kept connection that twostep has closed meanwhile
-- (idle timeout, restart) is replaced once; a timeout is not retried.
local function exchange(line)
  for _ = 1, 2 do
    local reused = conn ~= nil
    if not conn then
      local c, err = connect()
      if not c then return nil, err end
      conn = c
    end
    local answer
    local ok, err = conn:send(line)
    if ok then answer, err = conn:receive("*l") end
    if answer then return answer end
    conn:close()
    conn = nil
    if not (reused and err == "closed") then return nil, err end
  end
  return nil, "closed"
end

-- Percent-encoding: a password may hold any byte.
local function enc(s)
  return (string.gsub(s, "[^%w%-%._~]", function(ch)
    return string.format("%%%02X", string.byte(ch))
  end))
end

local function field(key, value)
  if value == nil or value == "" then return "" end
  return "\t" .. key .. "=" .. enc(tostring(value))
end

-- Longer passwords are cut here (twostep refuses more than 1024 characters anyway, and an
-- application code is 16): the request line stays within twostep's limit whatever a client sends.
local MAX_PASSWORD_BYTES = 4096
local MAX_CLIENT_ID_BYTES = 1024

local function ask(req, pass)
  local line = "VERIFY"
    .. field("user", req.user)
    .. "\tpassword=" .. enc(string.sub(pass, 1, MAX_PASSWORD_BYTES))
    .. field("service", req.service)
    .. field("rip", req.remote_ip)
    .. field("rport", req.remote_port)
    .. field("lip", req.local_ip)
    .. field("secured", req.secured)
    .. field("client_id", req.client_id and string.sub(req.client_id, 1, MAX_CLIENT_ID_BYTES))
    .. field("mech", req.mechanism)
    .. field("session", req.session)
    .. "\n"
  local answer, err = exchange(line)
  if not answer then
    req:log_error("twostep: verify service unreachable (" .. tostring(err) .. "): temporary failure")
    return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "twostep unreachable"
  end
  local verb, reason = string.match(answer, "^(%u+)\t?(.*)$")
  if verb == "OK" then
    -- The field keeps Dovecot's auth cache from ever answering for twostep: the cache key
    -- (cache_key=%u%{passdb:twostep} in 10-twostep-passdb.conf) is "user" when Dovecot looks
    -- an entry up and "user accepted" when it stores one, so a stored accept is never found
    -- and a revoked code is refused at its next login.
    return dovecot.auth.PASSDB_RESULT_OK, { twostep = "accepted" }
  elseif verb == "NEXT" then
    return dovecot.auth.PASSDB_RESULT_NEXT, ""
  elseif verb == "FAIL" then
    -- Dovecot 2.3 passes no reason to the client for a failed Lua passdb; the log has it.
    req:log_info("twostep: refused (" .. reason .. ")")
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
  end
  req:log_warning("twostep: " .. string.sub(answer, 1, 200) .. ": temporary failure")
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "twostep: " .. tostring(verb)
end

-- Plaintext mechanisms (PLAIN, LOGIN): every password login.
function auth_password_verify(req, pass)
  -- Set after a master login (twostep's proxy logging in for an application code): the
  -- password was checked by the master passdb; the next passdb only looks the user up.
  if req.skip_password_check then
    return dovecot.auth.PASSDB_RESULT_NEXT, ""
  end
  return ask(req, pass)
end

-- Lookups: mechanisms that need the stored password (CRAM-MD5, SCRAM, ...) and lookups
-- without a login. twostep stores no such password: it is asked with an empty one, so a
-- two-step account is refused and any other is left to the next passdb.
function auth_passdb_lookup(req)
  if req.skip_password_check then
    return dovecot.auth.PASSDB_RESULT_NEXT, ""
  end
  return ask(req, "")
end
