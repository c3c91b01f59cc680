/** The HTTP transport's settings: listening, authentication, and per-client limits and filtering. */
import Type from 'typebox';
import { LIST_HELP, meta } from './meta.ts';

const { http, auth, clients } = meta;

export const httpFields = {
  host: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    ...http('Address to listen on', '--host', ['MCP_DOCKER_HTTP_HOST', 'MCP_HOST']),
  }),
  port: Type.Integer({
    default: 8000,
    minimum: 0,
    maximum: 65_535,
    ...http('Port to listen on (0 = any free port)', '--port', ['MCP_DOCKER_HTTP_PORT', 'MCP_PORT']),
  }),
  tlsEnabled: Type.Boolean({
    default: false,
    ...http('Serve HTTPS with --tls-cert and --tls-key', '--tls', ['MCP_TLS_ENABLED']),
  }),
  tlsCertFile: Type.Optional(
    Type.String(http('PEM certificate (chain) file', '--tls-cert', ['MCP_TLS_CERT_FILE'])),
  ),
  tlsKeyFile: Type.Optional(Type.String(http('PEM private key file', '--tls-key', ['MCP_TLS_KEY_FILE']))),
  allowedHosts: Type.Array(Type.String(), {
    default: [],
    ...http(
      `Host header values accepted besides loopback names on a loopback bind (${LIST_HELP})`,
      '--allowed-hosts',
      ['MCP_DOCKER_ALLOWED_HOSTS'],
    ),
  }),
  allowedOrigins: Type.Array(Type.String(), {
    default: [],
    ...http(
      `Browser origins accepted and answered with CORS, e.g. https://app.example.com (${LIST_HELP})`,
      '--allowed-origins',
      ['MCP_DOCKER_ALLOWED_ORIGINS'],
    ),
  }),
  allowInsecureBind: Type.Boolean({
    default: false,
    ...http(
      'Listen off loopback without TLS or authentication (logged as INSECURE)',
      '--allow-insecure-bind',
      ['MCP_DOCKER_ALLOW_INSECURE_BIND'],
    ),
  }),
  maxBodyBytes: Type.Integer({
    default: 4_194_304,
    minimum: 1024,
    ...http('Largest request body, in bytes', '--max-body-bytes', ['MCP_DOCKER_MAX_BODY_BYTES']),
  }),
  shutdownGraceSeconds: Type.Integer({
    default: 10,
    minimum: 0,
    maximum: 600,
    // Server-wide: stdio drains on end of input with it too.
    ...meta.server(
      'Seconds calls in flight get to finish, on SIGINT/SIGTERM (HTTP) or when stdin closes (stdio), before they are answered cancelled',
      '--shutdown-grace',
      ['MCP_DOCKER_SHUTDOWN_GRACE'],
    ),
  }),
  sessionIdleSeconds: Type.Integer({
    default: 900,
    minimum: 10,
    maximum: 86_400,
    ...http(
      'Close sessions (initialize-era /mcp, legacy /sse) with no call for this long, in seconds',
      '--session-idle',
      ['MCP_DOCKER_SESSION_IDLE'],
    ),
  }),

  authFile: Type.Optional(
    Type.String(
      auth('Clients file (JSON or YAML): ids, token hashes, profiles; see docs/SECURITY.md', '--auth-file', [
        'SECURITY_AUTH_FILE',
      ]),
    ),
  ),
  sshAuthorizedKeysFile: Type.Optional(
    Type.String(
      auth(
        'Authorized_keys file for SSH-signed requests (key comment = client id)',
        '--ssh-authorized-keys',
        ['SECURITY_SSH_AUTHORIZED_KEYS_FILE'],
      ),
    ),
  ),
  sshSignatureMaxAgeSeconds: Type.Integer({
    default: 300,
    minimum: 1,
    maximum: 3600,
    ...auth('How old an SSH-signed timestamp may be, in seconds', '--ssh-max-age', [
      'SECURITY_SSH_SIGNATURE_MAX_AGE',
    ]),
  }),
  oauthEnabled: Type.Boolean({
    default: false,
    ...auth('Accept OAuth 2.1 bearer JWTs from --oauth-issuer', '--oauth', ['SECURITY_OAUTH_ENABLED']),
  }),
  oauthIssuer: Type.Optional(
    Type.String(auth('OAuth issuer URL (the JWT iss)', '--oauth-issuer', ['SECURITY_OAUTH_ISSUER'])),
  ),
  oauthAudience: Type.Array(Type.String(), {
    default: [],
    ...auth(`Accepted JWT audiences (${LIST_HELP}; default: this server's URL)`, '--oauth-audience', [
      'SECURITY_OAUTH_AUDIENCE',
    ]),
  }),
  oauthJwksUrl: Type.Optional(
    Type.String(auth('Issuer JWKS URL', '--oauth-jwks-url', ['SECURITY_OAUTH_JWKS_URL'])),
  ),
  oauthJwksFile: Type.Optional(
    Type.String(
      auth('Issuer JWKS file (air-gapped hosts)', '--oauth-jwks-file', ['SECURITY_OAUTH_JWKS_FILE']),
    ),
  ),
  oauthRequiredScopes: Type.Array(Type.String(), {
    default: [],
    ...auth(`Scopes every JWT must carry (${LIST_HELP})`, '--oauth-required-scopes', [
      'SECURITY_OAUTH_REQUIRED_SCOPES',
    ]),
  }),
  oauthClockSkewSeconds: Type.Integer({
    default: 60,
    minimum: 0,
    maximum: 600,
    ...auth('Clock skew allowed on JWT times, in seconds', '--oauth-clock-skew', [
      'SECURITY_OAUTH_CLOCK_SKEW_SECONDS',
    ]),
  }),

  rateLimitEnabled: Type.Boolean({
    default: true,
    ...clients('Per-client rate and concurrency limits', '--rate-limit', ['SECURITY_RATE_LIMIT_ENABLED']),
  }),
  rateLimitRpm: Type.Integer({
    default: 60,
    minimum: 1,
    ...clients('Tool calls per minute per client', '--rate-limit-rpm', ['SECURITY_RATE_LIMIT_RPM']),
  }),
  rateLimitConcurrent: Type.Integer({
    default: 3,
    minimum: 1,
    ...clients('Tool calls running at once per client', '--rate-limit-concurrent', [
      'SECURITY_RATE_LIMIT_CONCURRENT',
    ]),
  }),
  rateLimitStreams: Type.Integer({
    default: 32,
    minimum: 1,
    ...clients('Event streams (GET /sse, GET /mcp) open at once per client', '--rate-limit-streams', [
      'SECURITY_RATE_LIMIT_STREAMS',
    ]),
  }),
  rateLimitSessions: Type.Integer({
    default: 64,
    minimum: 1,
    ...clients(
      'Sessions (initialize-era /mcp, legacy /sse) open at once per client; the server holds 1000 in all',
      '--rate-limit-sessions',
      ['SECURITY_RATE_LIMIT_SESSIONS'],
    ),
  }),
  authFailuresPerMinute: Type.Integer({
    default: 10,
    minimum: 1,
    ...clients('Failed authentications per minute per IP before 429', '--auth-failures-per-minute', [
      'SECURITY_AUTH_FAILURES_PER_MINUTE',
    ]),
  }),
  allowedClientIps: Type.Array(Type.String(), {
    default: [],
    ...clients(`Client IPs or CIDRs allowed (${LIST_HELP}; empty = all)`, '--allowed-client-ips', [
      'SECURITY_ALLOWED_CLIENT_IPS',
    ]),
  }),
  trustedProxies: Type.Array(Type.String(), {
    default: [],
    ...clients(`Proxy IPs or CIDRs whose X-Forwarded-For is believed (${LIST_HELP})`, '--trusted-proxies', [
      'SECURITY_TRUSTED_PROXIES',
    ]),
  }),
};
