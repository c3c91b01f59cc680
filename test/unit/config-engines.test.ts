import { describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/layers.ts';
import { ConfigError } from '../../src/config/meta.ts';
import { runtimeOf } from '../../src/config/runtime.ts';
import type { DiscoveryInput } from '../../src/docker/discovery.ts';
import { configuredEngines, EngineSettingsError, settingsOf } from '../../src/docker/engines.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpd-engines-'));
let n = 0;
const configFile = (doc: unknown) => {
  const file = join(dir, `c${n++}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
};
const engines = (argv: string[], env: Record<string, string> = {}) => loadConfig(argv, env).config.engines;
const refusal = (argv: string[], env: Record<string, string> = {}) => {
  try {
    loadConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};
const tlsDir = (files: string[]) => {
  const d = join(dir, `tls${n++}`);
  mkdirSync(d);
  for (const f of files) writeFileSync(join(d, f), 'x');
  return d;
};

describe('--engine', () => {
  it('accumulates: every --engine adds one engine, in order', () => {
    expect(
      engines([
        '--engine',
        'local=unix:///var/run/docker.sock',
        '--engine=prod=ssh://deploy@prod.example:2222',
      ]),
    ).toEqual([
      { name: 'local', url: 'unix:///var/run/docker.sock', source: 'flag --engine' },
      { name: 'prod', url: 'ssh://deploy@prod.example:2222', source: 'flag --engine' },
    ]);
  });

  it('leaves engines unset when none is configured (one engine, discovered as before)', () => {
    const loaded = loadConfig([], { DOCKER_HOST: 'unix:///x.sock' });
    expect(loaded.config.engines).toBeUndefined();
    expect(runtimeOf(loaded.config, loaded.host).engines).toEqual([]);
    const reg = configuredEngines([], runtimeOf(loaded.config, loaded.host).engineSettings);
    expect(reg.names()).toEqual(['default']);
    expect(reg.resolve().socketPaths()).toEqual(['/x.sock']);
  });

  it('refuses a name given twice', () => {
    expect(refusal(['--engine', 'a=unix:///x', '--engine', 'a=unix:///y'])).toContain(
      "engine 'a' is given twice",
    );
  });

  it.each([
    ['Prod=unix:///x', "invalid engine name 'Prod'"],
    ['-a=unix:///x', "invalid engine name '-a'"],
    [`${'a'.repeat(64)}=unix:///x`, 'invalid engine name'],
    ['unix:///x', 'expected NAME=URL'],
    ['a=', 'expected NAME=URL'],
    ['a=http://h:2375', "unsupported engine URL 'http://h:2375'"],
    ['a=unix://relative.sock', 'absolute socket path'],
    ['a=context:', 'needs a Docker context name'],
    ['a=ssh://u@h/path', 'has a path'],
  ])('refuses --engine %s naming the flag and the fix', (value, why) => {
    const msg = refusal(['--engine', value]);
    expect(msg).toContain("option '--engine'");
    expect(msg).toContain(why);
  });

  it('accepts names up to 63 characters of [a-z0-9_.-]', () => {
    expect(engines(['--engine', `a${'_.-9'.repeat(15)}xx=unix:///x`])?.[0]?.name).toHaveLength(63);
  });
});

describe('MCP_DOCKER_ENGINES', () => {
  it('takes NAME=URL pairs separated by commas', () => {
    expect(engines([], { MCP_DOCKER_ENGINES: 'a=unix:///x.sock, b=ssh://u@h' })).toEqual([
      { name: 'a', url: 'unix:///x.sock', source: 'env MCP_DOCKER_ENGINES' },
      { name: 'b', url: 'ssh://u@h', source: 'env MCP_DOCKER_ENGINES' },
    ]);
  });

  it('takes a JSON object of URLs or settings', () => {
    const env = { MCP_DOCKER_ENGINES: '{"a":"unix:///x.sock","b":{"url":"ssh://u@h","readOnly":true}}' };
    expect(engines([], env)).toEqual([
      { name: 'a', url: 'unix:///x.sock', source: 'env MCP_DOCKER_ENGINES' },
      { name: 'b', url: 'ssh://u@h', readOnly: true, source: 'env MCP_DOCKER_ENGINES' },
    ]);
  });

  it('is replaced by --engine (flags win over env)', () => {
    expect(
      engines(['--engine', 'c=unix:///c'], { MCP_DOCKER_ENGINES: 'a=unix:///a' })?.map((e) => e.name),
    ).toEqual(['c']);
  });

  it('refuses bad JSON, a missing url and a bad value type, naming the env var', () => {
    expect(refusal([], { MCP_DOCKER_ENGINES: '{"a":' })).toContain('env MCP_DOCKER_ENGINES: not valid JSON');
    expect(refusal([], { MCP_DOCKER_ENGINES: '{"a":{"readOnly":true}}' })).toContain(
      "engine 'a': 'url' is missing",
    );
    expect(refusal([], { MCP_DOCKER_ENGINES: '{"a":{"url":"unix:///x","readOnly":"yes"}}' })).toContain(
      "'readOnly' must be true or false",
    );
    expect(refusal([], { MCP_DOCKER_ENGINES: 'a=unix:///x,a=unix:///y' })).toContain(
      "engine 'a' is given twice",
    );
  });
});

describe('the config file engines map', () => {
  it('is the set when neither flag nor env gives one, with every per-engine key', () => {
    const tls = tlsDir(['ca.pem', 'cert.pem', 'key.pem']);
    const file = configFile({
      engines: {
        local: 'unix:///var/run/docker.sock',
        prod: {
          url: 'tcp://prod.example:2376',
          tlsDir: tls,
          tlsVerify: true,
          description: 'production, eu',
          readOnly: true,
          allowDestructive: false,
        },
        build: { url: 'ssh://ci@build:2222', identityFile: '/k/id', knownHostsFile: '/k/kh' },
      },
    });
    const src = `file ${file}: engines`;
    expect(engines(['--config', file])).toEqual([
      { name: 'local', url: 'unix:///var/run/docker.sock', source: src },
      {
        name: 'prod',
        url: 'tcp://prod.example:2376',
        tlsDir: tls,
        tlsVerify: true,
        description: 'production, eu',
        readOnly: true,
        allowDestructive: false,
        source: src,
      },
      {
        name: 'build',
        url: 'ssh://ci@build:2222',
        identityFile: '/k/id',
        knownHostsFile: '/k/kh',
        source: src,
      },
    ]);
  });

  it('is replaced by --engine, whose engines take the file entry of the same name as their other settings', () => {
    const file = configFile({
      engines: {
        prod: { url: 'ssh://old@prod', description: 'production', readOnly: true },
        staging: { url: 'ssh://u@staging' },
      },
    });
    expect(
      engines(['--config', file, '--engine', 'prod=ssh://deploy@prod2', '--engine', 'dev=unix:///d']),
    ).toEqual([
      {
        name: 'prod',
        url: 'ssh://deploy@prod2',
        description: 'production',
        readOnly: true,
        source: `flag --engine; other settings from file ${file}: engines`,
      },
      { name: 'dev', url: 'unix:///d', source: 'flag --engine' },
    ]);
  });

  it('is replaced by MCP_DOCKER_ENGINES the same way', () => {
    const file = configFile({ engines: { a: { url: 'unix:///a', readOnly: true }, b: 'unix:///b' } });
    expect(engines(['--config', file], { MCP_DOCKER_ENGINES: 'a=unix:///a2' })).toEqual([
      {
        name: 'a',
        url: 'unix:///a2',
        readOnly: true,
        source: `env MCP_DOCKER_ENGINES; other settings from file ${file}: engines`,
      },
    ]);
  });

  it('refuses an unknown per-engine key, naming it and the known ones', () => {
    const file = configFile({ engines: { a: { url: 'unix:///a', read_only: true } } });
    const msg = refusal(['--config', file]);
    expect(msg).toContain(`config file '${file}': engines, engine 'a': unknown key 'read_only'`);
    expect(msg).toContain('readOnly');
  });

  it('refuses a file entry without url when no flag supplies it', () => {
    const file = configFile({ engines: { a: { readOnly: true } } });
    expect(refusal(['--config', file])).toContain("engine 'a': 'url' is missing");
  });
});

describe('TLS settings', () => {
  it('refuses a tlsDir that lacks a file, naming the path', () => {
    const tls = tlsDir(['cert.pem', 'key.pem']);
    const file = configFile({ engines: { a: { url: 'tcp://h:2376', tlsDir: tls } } });
    expect(refusal(['--config', file])).toContain(`${join(tls, 'ca.pem')} not found`);
  });

  it('needs no ca.pem when tlsVerify is false', () => {
    const tls = tlsDir(['cert.pem', 'key.pem']);
    const file = configFile({ engines: { a: { url: 'tcp://h:2376', tlsDir: tls, tlsVerify: false } } });
    expect(engines(['--config', file])?.[0]?.tlsVerify).toBe(false);
  });

  it('refuses plain tcp:// off loopback, allows it on loopback', () => {
    expect(refusal(['--engine', 'a=tcp://10.0.0.1:2375'])).toContain('plain tcp:// to');
    expect(refusal(['--engine', 'a=tcp://10.0.0.1:2375'])).toContain("Set 'tlsDir'");
    expect(engines(['--engine', 'a=tcp://127.0.0.1:2375'])?.[0]?.url).toBe('tcp://127.0.0.1:2375');
    expect(engines(['--engine', 'a=tcp://localhost:2375'])?.[0]?.url).toBe('tcp://localhost:2375');
  });

  it('refuses tlsDir on a non-tcp engine and tlsVerify without tlsDir', () => {
    const tls = tlsDir(['ca.pem', 'cert.pem', 'key.pem']);
    expect(
      refusal(['--config', configFile({ engines: { a: { url: 'ssh://u@h', tlsDir: tls } } })]),
    ).toContain("'tlsDir' applies to tcp:// engines only");
    expect(
      refusal(['--config', configFile({ engines: { a: { url: 'tcp://127.0.0.1:1', tlsVerify: true } } })]),
    ).toContain("'tlsVerify' needs 'tlsDir'");
  });
});

describe('credentials and SSH files where they cannot be used', () => {
  it('refuses a password in an ssh:// URL, naming the engine and the fix, never repeating it', () => {
    for (const msg of [
      refusal(['--engine', 'box=ssh://root:S3cretPassw0rd@h:2222']),
      refusal([], { MCP_DOCKER_ENGINES: '{"box":{"url":"ssh://root:S3cretPassw0rd@h"}}' }),
      refusal(['--config', configFile({ engines: { box: 'ssh://root:S3cretPassw0rd@h' } })]),
    ]) {
      expect(msg).toContain("engine 'box'");
      expect(msg).toContain('holds a password, which is never used');
      expect(msg).toContain("'identityFile'");
      expect(msg).toContain('ssh-agent');
      expect(msg).not.toContain('S3cretPassw0rd');
    }
    expect(engines(['--engine', 'box=ssh://root@h'])?.[0]?.url).toBe('ssh://root@h');
  });

  it('refuses user info in a tcp:// URL: the engine authenticates by TLS certificate', () => {
    const msg = refusal(['--engine', 'a=tcp://admin:TcpPassw0rd@127.0.0.1:1']);
    expect(msg).toContain("engine 'a'");
    expect(msg).toContain("'tcp://admin:***@127.0.0.1:1' holds a user and password");
    expect(msg).toContain("'tlsDir'");
    expect(msg).not.toContain('TcpPassw0rd');
    expect(refusal(['--engine', 'a=tcp://admin@127.0.0.1:1'])).toContain('holds a user, which');
  });

  it('refuses identityFile and knownHostsFile on an engine that is not ssh://, naming the key', () => {
    for (const [url, key] of [
      ['unix:///x.sock', 'identityFile'],
      ['tcp://127.0.0.1:2375', 'knownHostsFile'],
    ] as const) {
      const msg = refusal(['--config', configFile({ engines: { a: { url, [key]: '/k' } } })]);
      expect(msg).toContain(`engine 'a'`);
      expect(msg).toContain(`'${key}' applies to ssh:// engines only, but the URL is '${url}'`);
    }
    const ok = configFile({
      engines: { a: { url: 'ssh://u@h', identityFile: '/k', knownHostsFile: '/kh' } },
    });
    expect(engines(['--config', ok])?.[0]?.identityFile).toBe('/k');
  });

  it('refuses a name given twice in the JSON form of MCP_DOCKER_ENGINES, as the comma form does', () => {
    expect(
      refusal([], {
        MCP_DOCKER_ENGINES: '{"a":"unix:///x", "b":{"url":"unix:///y","description":"a"},"a":"unix:///y"}',
      }),
    ).toContain("env MCP_DOCKER_ENGINES: engine 'a' is given twice");
    // Keys of nested objects and strings that look like keys are not the map's names.
    expect(
      engines([], {
        MCP_DOCKER_ENGINES: '{"a":{"url":"unix:///x","description":"b: \\"a\\":"},"b":"unix:///y"}',
      })?.map((e) => e.name),
    ).toEqual(['a', 'b']);
  });
});

describe('engines from settings', () => {
  const home = mkdtempSync(join(tmpdir(), 'mcpd-home-'));
  const dockerConfigDir = join(home, '.docker');
  const base: DiscoveryInput = { dockerConfigDir, tlsVerify: false, home, platform: 'linux' };
  const context = (name: string, host: string, tls = false, skipVerify = false) => {
    const id = createHash('sha256').update(name).digest('hex');
    mkdirSync(join(dockerConfigDir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(
      join(dockerConfigDir, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: skipVerify } } }),
    );
    if (tls) {
      const t = join(dockerConfigDir, 'contexts', 'tls', id, 'docker');
      mkdirSync(t, { recursive: true });
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(t, f), 'x');
    }
    return id;
  };

  it('reads context:NAME from ~/.docker/contexts, with its TLS material', () => {
    const id = context('remote-tls', 'tcp://10.1.2.3:2376', true);
    const [s] = settingsOf([{ name: 'r', url: 'context:remote-tls', source: 'flag --engine' }], base);
    const tls = join(dockerConfigDir, 'contexts', 'tls', id, 'docker');
    expect(s?.discovery.endpoint).toEqual({
      url: 'tcp://10.1.2.3:2376',
      source: "flag --engine, Docker context 'remote-tls'",
      tls: { ca: join(tls, 'ca.pem'), cert: join(tls, 'cert.pem'), key: join(tls, 'key.pem'), verify: true },
      exclusive: true,
      ssh: undefined,
    });
  });

  it('refuses a context that points at plain tcp:// off loopback', () => {
    context('plain', 'tcp://10.1.2.3:2375');
    expect(() => settingsOf([{ name: 'p', url: 'context:plain', source: 'flag --engine' }], base)).toThrow(
      "engine 'p' (flag --engine): Docker context 'plain' points at plain tcp:// tcp://10.1.2.3:2375, which is refused",
    );
    context('plain-local', 'tcp://127.0.0.1:2375');
    const [s] = settingsOf([{ name: 'l', url: 'context:plain-local', source: 'flag --engine' }], base);
    expect(s?.discovery.endpoint?.url).toBe('tcp://127.0.0.1:2375');
  });

  it('refuses a context that does not exist, naming the engine', () => {
    expect(() => settingsOf([{ name: 'x', url: 'context:nope', source: 'flag --engine' }], base)).toThrow(
      EngineSettingsError,
    );
    expect(() => settingsOf([{ name: 'x', url: 'context:nope', source: 'flag --engine' }], base)).toThrow(
      "engine 'x' (flag --engine): Docker context 'nope' was selected but its metadata is missing",
    );
  });

  it('gives each engine its endpoint, TLS files, SSH files, description and ceiling; the default is "default", else the first', () => {
    const tls = tlsDir(['ca.pem', 'cert.pem', 'key.pem']);
    const reg = configuredEngines(
      [
        { name: 'a', url: 'tcp://h:2376', source: 's', tlsDir: tls, description: 'A', readOnly: true },
        { name: 'default', url: 'unix:///d.sock', source: 's', allowDestructive: false },
        { name: 'c', url: 'ssh://u@h:2222', source: 's', identityFile: '/id', knownHostsFile: '/kh' },
      ],
      base,
      // A server on the engine's host, wherever the tests run (--shares-filesystem).
      { localSharesFilesystem: true },
    );
    expect(reg.names()).toEqual(['a', 'default', 'c']);
    expect(reg.defaultName).toBe('default');
    expect(reg.resolve('a').ceiling).toEqual({ readOnly: true, allowDestructive: true });
    expect(reg.resolve('a').description).toBe('A');
    expect(reg.resolve().ceiling).toEqual({ readOnly: false, allowDestructive: false });
    expect(reg.resolve('a').facts.sharesFilesystem).toBe(false);
    expect(reg.resolve().facts.sharesFilesystem).toBe(true);
    expect(reg.resolve().socketPaths()).toEqual(['/d.sock']);
    const first = configuredEngines(
      [
        { name: 'x', url: 'unix:///x', source: 's' },
        { name: 'y', url: 'unix:///y', source: 's' },
      ],
      base,
    );
    expect(first.defaultName).toBe('x');
    const [, , c] = settingsOf(
      [
        { name: 'a', url: 'unix:///a', source: 's' },
        { name: 'b', url: 'unix:///b', source: 's' },
        { name: 'c', url: 'ssh://u@h:2222', source: 's', identityFile: '/id', knownHostsFile: '/kh' },
      ],
      base,
    );
    expect(c?.discovery.endpoint?.ssh).toEqual({ identityFile: '/id', knownHostsFile: '/kh' });
  });

  it('ignores DOCKER_HOST and --context once engines are configured', () => {
    context('other', 'unix:///other.sock');
    const loaded = loadConfig(['--engine', 'a=unix:///a.sock', '--context', 'other'], {
      DOCKER_HOST: 'unix:///host.sock',
      HOME: home,
    });
    const rt = runtimeOf(loaded.config, loaded.host);
    const reg = configuredEngines(rt.engines, rt.engineSettings);
    expect(reg.names()).toEqual(['a']);
    expect(reg.resolve().socketPaths()).toEqual(['/a.sock']);
  });
});

describe('sharesFilesystem', () => {
  it('is unset by default (found), and set server-wide by flag, env or file', () => {
    const shares = (argv: string[], env: Record<string, string> = {}) =>
      loadConfig(argv, env).config.sharesFilesystem;
    expect(shares([])).toBeUndefined();
    expect(shares(['--no-shares-filesystem'])).toBe(false);
    expect(shares(['--shares-filesystem'])).toBe(true);
    expect(shares([], { MCP_DOCKER_SHARES_FILESYSTEM: 'false' })).toBe(false);
    expect(shares(['--config', configFile({ sharesFilesystem: false })])).toBe(false);
    expect(refusal([], { MCP_DOCKER_SHARES_FILESYSTEM: 'maybe' })).toContain(
      'env MCP_DOCKER_SHARES_FILESYSTEM: expected true or false',
    );
  });

  it('is a per-engine key in the file and the JSON env, true or false only', () => {
    const file = configFile({ engines: { a: { url: 'unix:///a', sharesFilesystem: false } } });
    expect(engines(['--config', file])).toEqual([
      { name: 'a', url: 'unix:///a', sharesFilesystem: false, source: `file ${file}: engines` },
    ]);
    expect(
      engines([], { MCP_DOCKER_ENGINES: '{"b": {"url": "tcp://127.0.0.1:2375", "sharesFilesystem": true}}' }),
    ).toMatchObject([{ name: 'b', sharesFilesystem: true }]);
    expect(
      refusal(['--config', configFile({ engines: { a: { url: 'unix:///a', sharesFilesystem: 'no' } } })]),
    ).toContain("'sharesFilesystem' must be true or false");
  });

  it('reaches each engine: its own key wins, the server-wide one covers local engines, remote ones stay apart', () => {
    const loaded = loadConfig(['--no-shares-filesystem'], {
      MCP_DOCKER_ENGINES:
        '{"own": {"url": "unix:///own.sock", "sharesFilesystem": true}, "local": "unix:///l.sock", "far": "tcp://127.0.0.1:2375"}',
    });
    const rt = runtimeOf(loaded.config, loaded.host);
    const reg = configuredEngines(rt.engines, rt.engineSettings, {
      localSharesFilesystem: rt.sharesFilesystem,
    });
    expect(reg.resolve('own').facts.sharesFilesystem).toBe(true);
    expect(reg.resolve('local').facts.sharesFilesystem).toBe(false);
    expect(reg.resolve('far').facts.sharesFilesystem).toBe(false);
    const one = loadConfig(['--docker-host', 'unix:///d.sock', '--no-shares-filesystem'], {});
    const rt1 = runtimeOf(one.config, one.host);
    expect(
      configuredEngines(rt1.engines, rt1.engineSettings, {
        localSharesFilesystem: rt1.sharesFilesystem,
      }).resolve().facts.sharesFilesystem,
    ).toBe(false);
  });
});

describe('mcp-docker config <client>', () => {
  it('carries every --engine over, one flag per engine', async () => {
    const { flagArgs } = await import('../../src/cli/client-config.ts');
    const { args } = loadConfig(
      ['--engine', 'a=unix:///x.sock', '--engine', 'b=ssh://u@h:2222', '--read-only'],
      {},
    );
    expect(flagArgs(args.values)).toEqual([
      '--engine=a=unix:///x.sock',
      '--engine=b=ssh://u@h:2222',
      '--read-only',
    ]);
  });
});
