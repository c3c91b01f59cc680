/**
 * `--transport http`: turns the loaded config and the server dependencies into a running HTTP server
 * with the configured authentication (each credential's profile capped by the server-wide one), and
 * wires SIGINT/SIGTERM to a graceful shutdown.
 */
import type { Config } from '../../config/schema.ts';
import type { ServerFacts } from '../../core/tool.ts';
import type { Log } from '../../log.ts';
import type { SafetyProfile } from '../../pipeline/gate.ts';
import { serverFacts } from '../../pipeline/run.ts';
import { buildServer, type ServerDeps } from '../../server.ts';
import { StartupError, startHttp } from '../http.ts';
import { closeVerifiers } from './auth.ts';
import { createOAuthVerifier, ownResourceUrls, protectedResourceMetadata } from './auth-oauth.ts';
import { createSshVerifier } from './auth-ssh.ts';
import { callerKey, type Principal, type ProfileResolver, type Verifier } from './auth-types.ts';
import { isLoopbackHost } from './bind.ts';
import { Credentials, CredentialsError } from './credentials.ts';
import { callObserver, createGuards, type Guards } from './limits.ts';
import { tokenVerifier } from './token.ts';

interface AuthSetup {
  verifiers: Verifier[];
  credentials?: Credentials;
  protectedResource?: (request: Request) => Response;
}

/** Verifiers in order: bearer token → SSH signature → OAuth JWT (the token verifier leaves JWTs alone). */
function setUpAuth(
  config: Config,
  ceiling: SafetyProfile,
  resourceUrls: () => readonly string[],
  log: Log,
  engines: readonly string[],
  tools?: readonly string[],
): AuthSetup {
  const credentials = config.authFile
    ? new Credentials(config.authFile, ceiling, log, engines, tools).watch()
    : undefined;
  // Without an auth file, SSH and OAuth callers get the server-wide profile.
  const resolve: ProfileResolver = credentials?.resolve ?? (() => ceiling);
  const verifiers: Verifier[] = [];
  if (credentials) {
    verifiers.push(tokenVerifier({ credentials, oauthEnabled: config.oauthEnabled }));
    if (credentials.current().tokens.length === 0 && !config.sshAuthorizedKeysFile && !config.oauthEnabled)
      log.warn(`auth file '${config.authFile}' has no tokens: every request is refused until one is added`);
  }
  if (config.sshAuthorizedKeysFile)
    verifiers.push(
      createSshVerifier({
        keysFile: config.sshAuthorizedKeysFile,
        maxAgeSeconds: config.sshSignatureMaxAgeSeconds,
        resolve,
        log,
      }),
    );
  let protectedResource: AuthSetup['protectedResource'];
  if (config.oauthEnabled) {
    if (!config.oauthIssuer)
      throw new StartupError(
        '--oauth needs --oauth-issuer (SECURITY_OAUTH_ISSUER): the issuer whose JWTs to accept',
      );
    verifiers.push(
      createOAuthVerifier({
        issuer: config.oauthIssuer,
        audience: config.oauthAudience,
        jwksUrl: config.oauthJwksUrl,
        jwksFile: config.oauthJwksFile,
        requiredScopes: config.oauthRequiredScopes,
        clockSkewSeconds: config.oauthClockSkewSeconds,
        resolve,
        log,
        resourceUrls,
      }),
    );
    protectedResource = protectedResourceMetadata({
      issuer: config.oauthIssuer,
      resourceUrls,
      // A function, so scopes added to a reloaded auth file show up.
      scopesSupported: () => credentials?.current().scopes.map(([s]) => s) ?? [],
    });
  }
  return { verifiers, credentials, protectedResource };
}

export async function serve(config: Config, deps: ServerDeps, log: Log): Promise<void> {
  const { profile } = deps.env;
  let guards: Guards | undefined;
  // Callers are on other hosts: errors name no engine address or path; the log keeps them (remote-errors.ts).
  const remote = { log: (message: string) => log.warn(message) };
  // Aborted once the shutdown grace is over: every caller's running calls end `cancelled`, answered.
  const stopping = new AbortController();
  // What the tools report as the safety mode is the caller's, not the server's (one per profile object).
  const facts = new WeakMap<SafetyProfile, ServerFacts>([[profile, deps.env.server]]);
  const factsFor = (p: SafetyProfile) => {
    const known = facts.get(p);
    if (known) return known;
    const made = serverFacts(deps.version, p);
    facts.set(p, made);
    return made;
  };
  // Each caller's server runs with its profile; the observer counts its calls and audits them.
  const serverFor = (request: Request, principal: Principal) =>
    buildServer({
      ...deps,
      env: {
        ...deps.env,
        profile: principal.profile,
        server: factsFor(principal.profile),
        stopping: stopping.signal,
        remote,
        // A confirmation is bound to the credential that was asked (pipeline/seal.ts).
        confirm: { ...deps.env.confirm, caller: `http:${callerKey(principal)}` },
        ...(guards && { observe: callObserver(guards, request) }),
      },
    });
  const healthDetails = async () => {
    let engine = 'unreachable';
    try {
      const signal = AbortSignal.timeout(2000);
      const docker = await deps.env.engines.resolve().client(signal);
      await Promise.race([
        docker.ping(),
        new Promise((_, reject) => signal.addEventListener('abort', reject)),
      ]);
      engine = 'reachable';
    } catch {}
    return { version: deps.version, engine };
  };
  let url = '';
  let http: ReturnType<typeof startHttp> | undefined;
  // Installed before the port opens: a signal right after "serving" must still shut down cleanly.
  const stop = (signal: string) => {
    log.info(`${signal}: shutting down`);
    void (http?.shutdown() ?? Promise.resolve()).then(() => {
      auth?.credentials?.close();
      closeVerifiers(auth?.verifiers ?? []);
      guards?.audit.close();
      process.exit(0);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  let auth: AuthSetup | undefined;
  // An auth file's tool lists are checked against every tool's name.
  const tools = config.authFile && deps.prelisted ? (await deps.prelisted()).map((t) => t.name) : undefined;
  try {
    guards = createGuards(config, log);
    let own: string[] | undefined;
    // Known once the port is bound (kept from then on; asked earlier, the bound path alone).
    const resourceUrls = () => {
      if (!url) return [`${url}/mcp`];
      own ??= ownResourceUrls(`${url}/mcp`, isLoopbackHost(config.host), config.allowedHosts);
      return own;
    };
    auth = setUpAuth(config, profile, resourceUrls, log, deps.env.engines.names(), tools);
    http = startHttp({
      ...config,
      guards,
      auth: { verifiers: auth.verifiers, serverProfile: profile, protectedResource: auth.protectedResource },
      serverFor,
      healthDetails,
      cancelCalls: () => stopping.abort(),
      log,
    });
    url = http.url;
  } catch (e) {
    if (!(e instanceof StartupError) && !(e instanceof CredentialsError)) throw e;
    // A setting the server cannot start with: exit 2, as for every other bad setting.
    process.stderr.write(`mcp-docker: ${e.message}\n`);
    process.exit(2);
  }
}
