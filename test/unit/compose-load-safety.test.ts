/** Loading a Compose project from an untrusted caller: bounded interpolation, no secret in what is shown, no server paths. */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose interpolation, not templates.
import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import {
  interpolate,
  MAX_TOTAL_CHARS,
  MAX_VALUE_CHARS,
  maskSecrets,
  parseEnvFile,
} from '../../src/docker/compose/interpolate.ts';
import { type LoadInput, loadProject, projectNameOf } from '../../src/docker/compose/load.ts';
import { serviceSpec } from '../../src/docker/compose/spec.ts';
import { checkJoinedNetwork, type RuleContext } from '../../src/docker/policy/rules.ts';

const load = (files: Record<string, string>, input: LoadInput, processEnv?: Record<string, string>) =>
  loadProject(input, { read: async (p) => files[p], home: '/home/u', processEnv });

/** `A0=xxxxxxxxxx`, `A1=$A0$A0` … : each line twice the one before. */
const doubling = (lines: number) =>
  ['A0=xxxxxxxxxx', ...Array.from({ length: lines }, (_, i) => `A${i + 1}=$A${i}$A${i}`)].join('\n');

const refusal = async (p: Promise<unknown>): Promise<ToolError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('interpolation is bounded', () => {
  it('refuses a .env whose lines double each other, naming the file, the variable and the limit, at once', async () => {
    const started = performance.now();
    const e = await refusal(
      load(
        {
          '/p/.env': doubling(40),
          '/p/compose.yaml': 'services:\n  a:\n    image: x\n    command: ["${A40}"]\n',
        },
        { project_dir: '/p' },
      ),
    );
    expect(performance.now() - started).toBeLessThan(2000);
    expect(e.kind).toBe('invalid_argument');
    // 10 × 2^19 characters is the first value over 4 MiB.
    expect(e.message).toBe(
      '/p/.env: A19: interpolating A18 makes a value over 4 MiB, the most one value may hold',
    );
  });

  it('refuses an env_file or label_file that doubles the same way, naming the service', async () => {
    for (const key of ['env_file', 'label_file']) {
      const e = await refusal(
        load(
          {
            '/p/x.env': doubling(30),
            '/p/compose.yaml': `services:\n  web:\n    image: x\n    ${key}: x.env\n`,
          },
          { project_dir: '/p' },
        ),
      );
      expect(e.message).toMatch(
        /^\/p\/compose\.yaml: service "web": \/p\/x\.env: A19: interpolating A18 makes a value over 4 MiB/,
      );
    }
  });

  it('caps what one load makes in all, each value under the per-value cap', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const refs = Array.from({ length: 6 }, (_, i) => `      L${i}: "\${BIG}"`).join('\n');
    const e = await refusal(
      load(
        {},
        {
          content: `services:\n  a:\n    image: x\n    labels:\n${refs}\n`,
          project_name: 'p',
          env: { BIG: big },
        },
      ),
    );
    expect(e.message).toMatch(/interpolating BIG takes the project past 16 MiB of interpolated text/);
    expect(MAX_TOTAL_CHARS).toBe(4 * MAX_VALUE_CHARS);
  });

  it('reads real .env files and values as before, and leaves strings without a variable as they are', () => {
    expect(parseEnvFile(doubling(10), {}, '/p/.env').A10).toHaveLength(10 * 1024);
    const s = 'no variable here';
    expect(interpolate(s, {}, 'f')).toBe(s);
    expect(interpolate('${A:-${B:-$C}}-$$', { C: 'c' }, 'f')).toBe('c-$');
  });
});

describe('YAML aliases are bounded', () => {
  const aliased = (n: number, chars = 120_000) =>
    `x-big: &big "${'A'.repeat(chars)}"\nservices:\n  s:\n    image: x\n    command: [${Array(n).fill('*big').join(',')}]\n`;

  it('refuses content whose aliases expand past 8 MiB, naming the file and the limit, at once', async () => {
    const started = performance.now();
    const e = await refusal(load({}, { content: aliased(300), project_name: 'p' }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toBe('<content>: expands to more than 8 MiB once its YAML aliases are resolved');
  });

  it('refuses many aliases of a small mapping, counted per node', async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}: 1`).join(', ');
    const yaml = `x-e: &e {${keys}}\nservices:\n  s:\n    image: x\n    labels: [${Array(999).fill('*e').join(',')}]\n`;
    const e = await refusal(load({ '/p/compose.yaml': yaml }, { project_dir: '/p' }));
    expect(e.message).toContain('/p/compose.yaml: expands to more than 8 MiB');
  });

  it('refuses an alias inside the node it names', async () => {
    const e = await refusal(
      load({}, { content: 'x-a: &a [*a]\nservices:\n  s:\n    image: x\n', project_name: 'p' }),
    );
    expect(e.kind).toBe('invalid_argument');
  });

  it('loads a file whose aliases stay within the limit', async () => {
    const p = await load({}, { content: aliased(10), project_name: 'p' });
    expect(p.services.s?.command).toHaveLength(10);
  });
});

describe('secret values in what is shown', () => {
  const files = {
    '/p/.env': 'DB_PASSWORD=hunter2\nAPI_TOKEN=tok-abc\nTAG=1.2\n',
    '/p/compose.yaml':
      'services:\n  web:\n    image: "busybox:${TAG}"\n    command: ["${DB_PASSWORD}", "--token=$API_TOKEN"]\n    environment: { P: "${DB_PASSWORD}" }\n',
  };

  it('notes the values of secret-named variables interpolation used, and masks them wherever they appear', async () => {
    const p = await load(files, { project_dir: '/p' });
    expect(p.services.web?.command).toEqual(['hunter2', '--token=tok-abc']); // the model itself is whole
    expect([...p.secretValues].sort()).toEqual(['hunter2', 'tok-abc']);
    expect(
      maskSecrets({ command: p.services.web?.command, image: p.services.web?.image }, p.secretValues),
    ).toEqual({
      command: ['***', '--token=***'],
      image: 'busybox:1.2',
    });
  });

  it("masks the server's own secret-named variables used over stdio", async () => {
    const p = await load(
      {},
      { content: 'services:\n  a:\n    image: x\n    entrypoint: ["$GITHUB_TOKEN"]\n', project_name: 'p' },
      { GITHUB_TOKEN: 'ghp_real', HOME: '/home/u' },
    );
    expect(maskSecrets(p.services.a?.entrypoint, p.secretValues)).toEqual(['***']);
  });

  it('masks a secret value an error quotes', async () => {
    const e = await refusal(
      load(
        {
          '/p/.env': 'API_TOKEN=tok-abc\n',
          '/p/compose.yaml': 'services:\n  a:\n    image: x\n    ports: ["${API_TOKEN}"]\n',
        },
        { project_dir: '/p' },
      ),
    );
    expect(e.message).toContain('cannot read "***"');
    expect(e.message).not.toContain('tok-abc');
  });
});

describe('paths and names from inline content', () => {
  it('refuses a relative extends.file in content without project_dir, naming no server directory', async () => {
    const content = 'services:\n  a:\n    extends: { file: compose.yaml, service: b }\n';
    const e = await refusal(load({}, { content, project_name: 'p' }));
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toBe('<content>: service "a": relative extends.file "compose.yaml" needs project_dir');
    expect(e.message).not.toContain(process.cwd());
  });

  it('still resolves a relative extends.file against project_dir, and an absolute one anywhere', async () => {
    const files = { '/p/base.yml': 'services:\n  b:\n    image: from-base\n' };
    const rel = await load(files, {
      content: 'services:\n  a:\n    extends: { file: base.yml, service: b }\n',
      project_name: 'p',
      project_dir: '/p',
    });
    expect(rel.services.a?.image).toBe('from-base');
    const abs = await load(files, {
      content: 'services:\n  a:\n    extends: { file: /p/base.yml, service: b }\n',
      project_name: 'p',
    });
    expect(abs.services.a?.image).toBe('from-base');
  });

  it('refuses a project name Compose would refuse, naming the argument and the name it may mean', () => {
    expect(projectNameOf('my-app_2')).toBe('my-app_2');
    const rewritten = (() => {
      try {
        projectNameOf('AUD-INP.Proj');
      } catch (e) {
        return e as ToolError;
      }
    })();
    expect(rewritten?.kind).toBe('invalid_argument');
    expect(rewritten?.message).toStartWith(
      `invalid argument 'project_name': "AUD-INP.Proj" is not a Compose project name: it must consist only of lowercase`,
    );
    expect(rewritten?.hint).toBe("Pass 'aud-inpproj' if that is the project you mean.");
    // A NUL or newline is never rewritten away into another project's name.
    expect(() => projectNameOf('web\u0000x\nINJECTED: y')).toThrow(/invalid argument 'project_name'/);
    expect(() => projectNameOf('!!!')).toThrow(/"!!!" is not a Compose project name/);
    expect(() => projectNameOf('')).toThrow(/invalid argument 'project_name'/);
  });

  it("refuses a file's name: that is not a project name, and normalises a directory's as Compose does", async () => {
    const named = { '/srv/x/compose.yaml': 'name: My.App\nservices:\n  a:\n    image: x\n' };
    const e = await refusal(load(named, { project_dir: '/srv/x' }));
    expect(e.message).toStartWith(
      `invalid 'name' in /srv/x/compose.yaml: "My.App" is not a Compose project name`,
    );
    const plain = { '/srv/My.App/compose.yaml': 'services:\n  a:\n    image: x\n' };
    expect((await load(plain, { project_dir: '/srv/My.App' })).name).toBe('myapp');
  });
});

describe('an empty compose file', () => {
  for (const content of ['', '   ', '\n\t\n', '# only a comment\n'])
    it(`is refused as Compose refuses it, not taken as an empty project: ${JSON.stringify(content)}`, async () => {
      const e = await refusal(load({}, { content, project_name: 'p' }));
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toBe("'content' is an empty compose file");
    });

  it('is refused when read from a file, naming it', async () => {
    const e = await refusal(load({ '/p/compose.yaml': '\n' }, { project_dir: '/p' }));
    expect(e.message).toBe('/p/compose.yaml: empty compose file');
  });
});

describe('an empty host_ip is none', () => {
  it('publishes on 127.0.0.1 for an empty long-form host_ip and an empty short-form address', async () => {
    const p = await load(
      {},
      {
        content:
          'services:\n  a:\n    image: x\n    ports:\n      - { target: 84, host_ip: "${BIND_IP}", published: 18953 }\n      - "${BIND_IP}:18955:87"\n      - "0.0.0.0:18956:88"\n',
        project_name: 'p',
      },
    );
    expect(serviceSpec(p, 'a', 1).ports).toEqual([
      { container: '84', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: '18953' },
      { container: '87', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: '18955' },
      { container: '88', protocol: 'tcp', hostIp: '0.0.0.0', hostPort: '18956' },
    ]);
  });
});

describe('a network a container joins after it is made', () => {
  const ctx: RuleContext = {
    allowPrivileged: false,
    lifted: () => {},
    hostPath: (p) => p,
    resolve: (p) => p,
    hostNetworks: () => undefined,
  };
  it('may not be the host network by any name, nor on a host interface', () => {
    expect(() => checkJoinedNetwork('host', undefined, 'networks.hn', ctx)).toThrow(
      /networks\.hn: 'host' is refused/,
    );
    expect(() => checkJoinedNetwork('3f1c', { Name: 'host', Driver: 'host' }, 'a', ctx)).toThrow(
      /network '3f1c' is the host network, refused/,
    );
    expect(() => checkJoinedNetwork('lan', { Name: 'lan', Driver: 'macvlan' }, 'a', ctx)).toThrow(
      /network 'lan' \(driver macvlan\) is refused/,
    );
    expect(() => checkJoinedNetwork('web', { Name: 'web', Driver: 'bridge' }, 'a', ctx)).not.toThrow();
    expect(() => checkJoinedNetwork('web', undefined, 'a', ctx)).not.toThrow();
  });
});

describe('a secret in a name', () => {
  const svc = (extra: string) => `services:\n  s:\n    image: x\n${extra}`;
  it('refuses a secret-named variable in container_name, hostname, image, the project or a network name', async () => {
    const env = { DB_PASSWORD: 'Pw0rdXYZ99', TAG: 'v1' };
    for (const [content, where] of [
      [svc('    container_name: c-${DB_PASSWORD}\n'), 'service "s": container_name'],
      [svc('    hostname: ${DB_PASSWORD}\n'), 'service "s": hostname'],
      ['services:\n  s:\n    image: x:${DB_PASSWORD}\n', 'service "s": image'],
      [`name: p-\${DB_PASSWORD}\n${svc('')}`, 'the project name'],
      [`${svc('')}networks:\n  n:\n    name: n-\${DB_PASSWORD}\n`, 'networks.n.name'],
    ] as const) {
      const e = await refusal(load({ '/p/compose.yaml': content }, { project_dir: '/p', env }));
      expect(e.kind).toBe('invalid_argument');
      expect(e.message).toBe(
        `${where} holds the value of a secret-named variable, which would become a name anyone can list`,
      );
    }
  });

  it('takes other variables in names, and a secret elsewhere', async () => {
    const p = await load(
      {},
      {
        content: svc('    container_name: c-${TAG}\n    command: ["${DB_PASSWORD}"]\n'),
        env: { DB_PASSWORD: 'Pw0rdXYZ99', TAG: 'v1' },
        project_name: 'p',
      },
    );
    expect(p.services.s?.container_name).toBe('c-v1');
  });
});

describe('masking secret values', () => {
  it('masks a short secret only where it is the whole string, and never a key', () => {
    expect(maskSecrets({ x: ['x', 'xyz-x'], 'tok-abc': 'a tok-abc b' }, new Set(['x', 'tok-abc']))).toEqual({
      x: ['***', 'xyz-x'],
      'tok-abc': 'a *** b',
    });
  });

  it('masks each piece Compose splits a secret into at ":", "=", "," or a space, of 4 characters or more', () => {
    const secrets = new Set(['Zq9 sekr:et7', 'ab=cdefgh']);
    expect(
      maskSecrets(['volume "Zq9 sekr" is named "p_Zq9 sekr"', 'sekr', 'et7', 'x cdefgh', 'ab'], secrets),
    ).toEqual(['volume "***" is named "p_***"', '***', 'et7', 'x ***', 'ab']);
  });

  it('masks a secret a check upper-cased, and its JSON-quoted form', () => {
    const secrets = new Set(['dotenv-secret-pw', 'tok"en\\value']);
    expect(
      maskSecrets(['"DOTENV-SECRET-PW" is not a Linux capability', 'x "tok\\"en\\\\value"'], secrets),
    ).toEqual(['"***" is not a Linux capability', 'x "***"']);
  });
});
