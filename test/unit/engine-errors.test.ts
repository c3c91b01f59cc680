import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { ToolError } from '../../src/core/errors.ts';
import { engineError, isMissing } from '../../src/docker/errors.ts';
import { checkPath, type DialOptions, describeDial, guardRequests } from '../../src/docker/request.ts';
import { didYouMean, notFound } from '../../src/docker/resolve.ts';
import { listersOf, listHint, mapError } from '../../src/pipeline/map-errors.ts';
import { catalogue } from '../../src/tools/index.ts';

/** An engine refusal as docker-modem and the fetch transport throw it. */
const refusal = (statusCode: number, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) - ${message}`), { statusCode, json: { message } });

describe('engineError (the one status→error mapping)', () => {
  it.each([
    [404, 'No such container: web', 'not_found'],
    [409, 'Conflict. The container name "/web" is already in use', 'conflict'],
    [304, 'container already started', 'conflict'],
    [400, 'invalid reference format', 'invalid_argument'],
    [413, 'request entity too large', 'invalid_argument'],
    [414, 'URI too long', 'invalid_argument'],
    [431, 'headers too large', 'invalid_argument'],
    [401, 'unauthorized: authentication required', 'registry_auth'],
    [403, 'operation not permitted', 'policy_denied'],
    [500, 'exec: "nope": executable file not found in $PATH', 'invalid_argument'],
    [500, 'something broke', 'internal'],
  ] as const)('maps HTTP %i (%s) to %s', (status, message, kind) => {
    const e = engineError(refusal(status, message));
    expect(e?.kind).toBe(kind);
    expect(e?.message).toBe(message);
  });

  it('says a mount that failed is about the mounts, not the command', () => {
    const e = engineError(
      refusal(
        500,
        "error while mounting volume '/var/lib/docker/volumes/v/_data': failed to mount local volume: mount /tmp/gone:/var/lib/docker/volumes/v/_data, flags: 0x1000: no such file or directory",
      ),
    );
    expect(e?.kind).toBe('invalid_argument');
    expect(e?.hint).toStartWith('Check the mounts:');
    expect(e?.hint).not.toContain('command');
  });

  it.each([
    [
      'driver failed programming external connectivity on endpoint web (ab12): Bind for 127.0.0.1:18482 failed: port is already allocated',
      '127.0.0.1:18482',
    ],
    [
      'driver failed programming external connectivity on endpoint web (ab12): Error starting userland proxy: listen tcp4 127.0.0.1:18482: bind: address already in use',
      '127.0.0.1:18482',
    ],
    ['rootlessport listen tcp 127.0.0.1:18482: bind: address already in use', '127.0.0.1:18482'],
  ])('maps a taken host port (%s) to a conflict naming ports and the port', (message, port) => {
    const e = engineError(refusal(500, message));
    expect(e?.kind).toBe('conflict');
    expect(e?.message).toStartWith(`host port ${port} in ports is already in use (`);
    expect(e?.hint).toContain('another host port in ports');
  });

  it('leaves an address in use that is no published port to the general mapping', () => {
    const e = engineError(refusal(500, 'listen tcp 0.0.0.0:2377: bind: address already in use'));
    expect(e?.kind).toBe('internal');
  });

  it.each([
    [
      400,
      'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchbin": executable file not found in $PATH: unknown',
    ],
    [400, 'OCI runtime create failed: exec: "/no/such": stat /no/such: no such file or directory: unknown'],
    [500, 'exec: "nope": executable file not found in $PATH'],
    [
      500,
      'crun: executable file `nope` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found',
    ],
  ] as const)('names command when the image has no such program (HTTP %i)', (status, message) => {
    const e = engineError(refusal(status, message));
    expect(e?.kind).toBe('invalid_argument');
    expect(e?.hint).toStartWith('Check command (and entrypoint): the image has no such program.');
  });

  it.each([
    ['No such container: web', 'container'],
    ['No such image: nginx:nope', 'image'],
    ['network home not found', 'network'],
    ['get vol: no such volume', 'volume'],
  ] as const)('tags the not-found "%s" with its kind, %s, and names no tool', (message, subject) => {
    const e = engineError(refusal(404, message));
    expect(e?.subject).toBe(subject);
    expect(e?.hint).toBeUndefined();
  });

  it('leaves a 404 about something else untagged (a missing file, an exec)', () => {
    expect(engineError(refusal(404, 'Could not find the file /x in container web'))?.subject).toBeUndefined();
  });

  it('gives a conflict a next step that names no tool', () => {
    const running = engineError(refusal(409, 'You cannot remove a running container abc.'));
    expect(running?.hint).toBe('Stop it first, or pass force: true.');
    expect(engineError(refusal(409, 'Container abc is not running'))?.hint).toBe(
      'Start the container first.',
    );
    expect(
      engineError(refusal(409, 'Container abc is paused, unpause the container before exec'))?.hint,
    ).toBe('Unpause the container first.');
    expect(engineError(refusal(409, 'cannot start a paused container, try unpause instead'))?.hint).toBe(
      'Unpause the container first.',
    );
    expect(engineError(refusal(409, 'Container abc is not paused'))?.hint).toBe(
      'It is not paused: nothing to unpause.',
    );
    expect(
      engineError(
        refusal(
          409,
          'Cannot update container abc: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time',
        ),
      )?.hint,
    ).toContain('memory_swap');
  });

  it.each([
    [400, 'invalid reference format', 'Write the reference as'],
    [
      500,
      'Cannot kill container: a: Multiple IDs found with provided prefix: a',
      'more of the ID, or the name',
    ],
    [
      400,
      'json: cannot unmarshal number 1e+300 into Go struct field HostConfig.HostConfig.Memory of type int64',
      'out of the range',
    ],
    [500, 'unable to find user nobody2: no matching entries in passwd file', 'Check user'],
  ] as const)(
    'maps HTTP %i "%s" to invalid_argument with a hint saying what to change',
    (status, message, hint) => {
      const e = engineError(refusal(status, message));
      expect([e?.kind, e?.hint]).toEqual(['invalid_argument', expect.stringContaining(hint)]);
    },
  );

  it('reads the 500s of older engines that mean a bad argument as invalid_argument', () => {
    for (const m of [
      'invalid reference format: repository name must be lowercase',
      'failed to allocate gateway (10.213.8.1): Address out of range',
    ])
      expect([m, engineError(refusal(500, m))?.kind]).toEqual([m, 'invalid_argument']);
    expect(engineError(refusal(500, 'something broke'))?.kind).toBe('internal');
  });

  it('reports a lost connection as engine_unreachable, naming the endpoint, not the socket path', () => {
    const e = engineError(
      Object.assign(new Error('connect ECONNREFUSED /run/docker.sock'), { code: 'ECONNREFUSED' }),
      {
        endpoint: 'unix:///run/docker.sock',
      },
    );
    expect(e?.kind).toBe('engine_unreachable');
    expect(e?.retryable).toBe(true);
    expect(e?.message).toBe(
      'lost the connection to the Docker engine at unix:///run/docker.sock (ECONNREFUSED)',
    );
  });

  it('scrubs socket paths and clips a long engine message, keeping both ends', () => {
    const e = engineError(refusal(500, `at /tmp/d.sock: ${'x'.repeat(5000)} the reason`), {
      scrub: ['/tmp/d.sock'],
    });
    expect(e?.message).not.toContain('/tmp/d.sock');
    expect(e?.message).toContain('<engine>');
    expect(e?.message.length).toBeLessThan(1100);
    expect(e?.message.endsWith('the reason')).toBe(true);
  });

  it("starts a clipped message's end at a word, so a secret's name is not cut off its value", () => {
    // The end kept is the last 400 characters: they start inside DB_PASSWORD.
    const message = `exec: ${'x'.repeat(2000)} DB_PASSWORD=hunter2-secret ${'y'.repeat(370)} not found`;
    const e = engineError(refusal(500, message));
    expect(e?.message).not.toContain('hunter2');
    expect(e?.message.endsWith(` … ${'y'.repeat(370)} not found`)).toBe(true);
  });

  it("ends a clipped message's start at a word, so no prefix of a secret straddling the cut is kept", () => {
    // The start kept is the first 600 characters: they end inside the secret.
    const message = `unable to find user ${'a'.repeat(565)}envSecretPw12345${'b'.repeat(500)}: no matching entries`;
    const e = engineError(refusal(500, message));
    expect(e?.message).not.toContain('envSecret');
    expect(e?.message).toMatch(/^[^a]*unable to find user … /);
    // One word at the start and nothing else: none of it is kept.
    const one = engineError(refusal(500, `${'a'.repeat(590)}SECRETxyz${'b'.repeat(600)} end`));
    expect(one?.message).not.toContain('SECRET');
    expect(one?.message).toMatch(/^(?:\S+: )?… /);
  });

  it('reports an SSH transport refusal as engine_unreachable with its own fix; a host key is not retryable', async () => {
    const { SshSetupError } = await import('../../src/docker/ssh/transport.ts');
    const changed = engineError(
      new SshSetupError(
        "host key of [h]:22 CHANGED: kh line 1 holds a different key; … (ssh-keygen -R '[h]:22' -f kh)",
      ),
    );
    expect(changed?.kind).toBe('engine_unreachable');
    expect(changed?.message).toMatch(/^SSH: host key of \[h\]:22 CHANGED.*ssh-keygen -R/);
    expect(changed?.retryable).toBe(false);
    const dropped = mapError(new SshSetupError('the SSH connection to h dropped'));
    expect(dropped.kind).toBe('engine_unreachable');
    expect(dropped.retryable).toBe(true);
    expect(dropped.hint).not.toMatch(/likely a bug/);
  });

  it('is not an engine failure: a plain error, an abort', () => {
    expect(engineError(new Error('boom'))).toBeUndefined();
    expect(engineError(new DOMException('aborted', 'AbortError'))).toBeUndefined();
  });

  it('tells a missing object apart from other 404s', () => {
    expect(isMissing(refusal(404, 'No such container: x'), /no such container/i)).toBe(true);
    expect(isMissing(refusal(404, 'no such exec'), /no such container/i)).toBe(false);
    expect(isMissing(refusal(409, 'No such container: x'))).toBe(false);
  });
});

describe('mapError (the pipeline side)', () => {
  const listers = listersOf(catalogue);

  it('finds the list tool of each kind from the tools’ own declarations', () => {
    expect(listers).toEqual({
      container: 'docker_list_containers',
      image: 'docker_list_images',
      network: 'docker_list_networks',
      volume: 'docker_list_volumes',
    });
  });

  it('says where to look for a not-found of a listed kind, exactly as before', () => {
    expect(mapError(refusal(404, 'No such container: web'), { listers }).hint).toBe(
      'See what exists with docker_list_containers.',
    );
    expect(mapError(refusal(404, 'No such image: x:y'), { listers }).hint).toBe(
      'See what exists with docker_list_images.',
    );
    expect(listHint('volume', listers)).toBe('See what exists with docker_list_volumes.');
    expect(listHint('network', {})).toBeUndefined();
  });

  it('adds the list tool after a resolver’s suggestions, once', () => {
    const e = mapError(notFound('container', 'wbe', ['web']), { listers });
    expect(e.message).toBe("container 'wbe' not found");
    expect(e.hint).toBe("Did you mean 'web'? See what exists with docker_list_containers.");
    expect(mapError(e, { listers }).hint).toBe(e.hint);
  });

  it('leaves a not-found of no listed kind and other errors as they are', () => {
    const own = new ToolError('not_found', "file '/x' does not exist", { hint: 'Check the path.' });
    expect(mapError(own, { listers })).toBe(own);
    expect(mapError(refusal(404, 'Could not find the file /x'), { listers }).hint).toBeUndefined();
  });
});

describe('didYouMean', () => {
  const names = ['web', 'web-1', 'postgres', 'cache', 'worker', 'api'];

  it('suggests names containing the reference, contained in it, or within two edits', () => {
    expect(didYouMean('web', names)).toEqual(['web', 'web-1']);
    expect(didYouMean('wbe', names)).toEqual(['web']);
    expect(didYouMean('WORKERS', names)).toEqual(['worker']);
    expect(didYouMean('api-gateway', names)).toEqual(['api']);
  });

  it('suggests nothing for an unrelated or empty reference', () => {
    expect(didYouMean('zzzzzz', names)).toEqual([]);
    expect(didYouMean('', names)).toEqual([]);
  });

  it('names at most five, each once', () => {
    const many = Array.from({ length: 20 }, (_, i) => `app-${i}`);
    expect(didYouMean('app', [...many, ...many])).toEqual(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']);
  });

  it('compares what the key says: an image by its repository', () => {
    const repo = (r: string) => r.replace(/:[^/:]*$/, '').replace(/^[^/]*[.:][^/]*\//, '');
    expect(didYouMean('nginx', ['localhost:5000/nginx:1.25', 'redis:7'], repo)).toEqual([
      'localhost:5000/nginx:1.25',
    ]);
  });

  it('builds one not-found shape for every kind, tagged with the kind', () => {
    for (const kind of ['container', 'image', 'network', 'volume'] as const) {
      const e = notFound(kind, 'x', []);
      expect(e.kind).toBe('not_found');
      expect(e.subject).toBe(kind);
      expect(e.message).toBe(`${kind} 'x' not found`);
      expect(e.hint).toBeUndefined();
    }
  });
});

describe('describeDial (what a RequestGuard sees)', () => {
  const codes = { 200: true };

  it('shows query and body apart, without the signal or credentials', () => {
    const call = describeDial({
      path: '/containers/create?',
      method: 'POST',
      options: { _query: { name: 'web' }, _body: { Image: 'busybox' } },
      abortSignal: new AbortController().signal,
      authconfig: { key: 'secret' },
      statusCodes: codes,
    });
    expect(call).toEqual({
      method: 'POST',
      path: '/containers/create',
      query: { name: 'web' },
      body: { Image: 'busybox' },
      upload: false,
      stream: false,
    });
  });

  it("shows dockerode's flat options as both query and body, as dial sends them", () => {
    const call = describeDial({
      path: '/containers/abc/stop?',
      method: 'POST',
      options: { t: 5, abortSignal: new AbortController().signal, authconfig: { key: 'k' } },
      statusCodes: codes,
    });
    expect(call.query).toEqual({ t: 5 });
    expect(call.body).toEqual({ t: 5 });
  });

  it('shows no body for an empty one, a GET, or an upload', () => {
    expect(
      describeDial({ path: '/containers/a/start?', method: 'POST', options: {}, statusCodes: codes }).body,
    ).toBeUndefined();
    expect(describeDial({ path: '/info', method: 'GET', statusCodes: codes })).toEqual({
      method: 'GET',
      path: '/info',
      query: {},
      body: undefined,
      upload: false,
      stream: false,
    });
    const upload = describeDial({
      path: '/images/load?',
      method: 'POST',
      options: { quiet: true },
      file: Buffer.from('tar'),
      isStream: true,
      statusCodes: codes,
    });
    expect(upload).toMatchObject({ upload: true, stream: true, body: undefined, query: { quiet: true } });
  });
});

describe('a request whose path the HTTP client would rewrite', () => {
  const codes = { 200: true };
  /** A client whose dial records what reached it, guarded as every engine client is. */
  const guarded = () => {
    const sent: string[] = [];
    const modem = {
      dial: (o: DialOptions, cb: (err: unknown, data: unknown) => void) => {
        sent.push(o.path);
        cb(null, {});
      },
    };
    guardRequests({ modem } as never);
    const dial = (path: string, method = 'POST') =>
      new Promise<unknown>((resolve) =>
        modem.dial({ path, method, statusCodes: codes }, (err) => resolve(err ?? 'sent')),
      );
    return { sent, dial };
  };

  it('is refused before it is sent, naming the path', async () => {
    const { sent, dial } = guarded();
    for (const path of [
      '/networks/x/../../containers/c/start#/connect?',
      '/networks/x/%2e%2E/containers/c/start?',
      '/containers/c\\start?',
      '/containers/./create?',
      '/networks/a\tb?',
    ]) {
      const err = await dial(path);
      expect(err).toBeInstanceOf(ToolError);
      expect((err as ToolError).kind).toBe('invalid_argument');
      expect((err as ToolError).message).toContain(JSON.stringify(path.slice(0, path.indexOf('?'))));
      expect((err as ToolError).hint).toContain('Fix the name');
    }
    expect(sent).toEqual([]);
  });

  it('passes the paths real names make', async () => {
    const { sent, dial } = guarded();
    const paths = [
      '/containers/web.1_a-b/start?',
      '/images/127.0.0.1:5000/team/app:1.2@sha256:0123abcd/json?',
      '/networks/my.net?',
      '/volumes/v..2?',
      '/images/a%2Fb%3A1/json?',
    ];
    for (const path of paths) expect(await dial(path, 'GET')).toBe('sent');
    expect(sent).toEqual(paths);
  });

  it('passes only paths the URL parser leaves as they are', () => {
    const piece = fc.constantFrom(
      'a',
      '.',
      '..',
      '/',
      '#',
      '\\',
      '%2e',
      '%2E',
      '\t',
      '\n',
      ' ',
      '%20',
      'é',
      '\u0000',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const path = `/containers/${pieces.join('')}`;
        const passes = (() => {
          try {
            checkPath({ method: 'GET', path });
            return true;
          } catch {
            return false;
          }
        })();
        const sent = new URL(`http://localhost${path}`).pathname;
        // Percent-encoding is not a rewrite: the engine decodes it back.
        const kept = sent === path.replace(/ /g, '%20');
        if (passes) expect(kept).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
