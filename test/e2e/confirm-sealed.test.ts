/**
 * The state a confirmation question carries is sealed, through the compiled binary: a 2026-era client
 * in manual mode holds the question's requestState, and every way of misusing it is refused with
 * nothing changed on the engine — forged (the seal altered), expired (past --confirm-timeout),
 * replayed (a second use), and swapped (a state given for one container, sent with another's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { type CallToolResult, Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { errorOf, SERVER_BIN, structured } from '../helpers/client.ts';
import { cleanupContainers, containerExists, makeContainer, testDocker } from '../helpers/engine.ts';

const docker = testDocker();
const ACCEPT = { confirm: { action: 'accept', content: { confirm: true } } };
const MANUAL = { allowInputRequired: true, timeout: 30_000 } as never;

interface Asked {
  resultType?: string;
  requestState?: string;
  inputRequests?: Record<string, { params: { message: string } }>;
}

let client: Client;
beforeAll(async () => {
  client = new Client(
    { name: 'mcp-docker-sealed-tests', version: '0' },
    {
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: { mode: 'auto' },
      inputRequired: { autoFulfill: false },
    },
  );
  await client.connect(
    new StdioClientTransport({
      command: SERVER_BIN,
      args: ['--confirm-timeout', '1'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DOCKER_HOST: process.env.DOCKER_HOST ?? '',
        SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true',
      },
    }),
  );
});
afterAll(async () => {
  await client.close();
  await cleanupContainers();
});

/** The first round: the question and its sealed state. */
async function ask(container: string): Promise<Asked> {
  const r = (await client.callTool(
    { name: 'docker_remove_container', arguments: { container_id: container } },
    MANUAL,
  )) as Asked;
  expect(r.resultType).toBe('input_required');
  expect(r.requestState).toBeString();
  return r;
}

/** The answer round, with whatever state the test sends. */
const answer = async (container: string, requestState: string) =>
  (await client.callTool(
    {
      name: 'docker_remove_container',
      arguments: { container_id: container },
      inputResponses: ACCEPT,
      requestState,
    } as never,
    MANUAL,
  )) as CallToolResult;

describe('a sealed confirmation', () => {
  it('names the container in the question and runs once accepted with its own state', async () => {
    const c = await makeContainer({ start: false });
    const q = await ask(c.name);
    expect(q.inputRequests?.confirm?.params.message).toContain(`remove container '${c.name}'`);
    expect(structured<{ removed: boolean }>(await answer(c.name, q.requestState as string)).removed).toBe(
      true,
    );
    expect(await containerExists(c.id)).toBe(false);
  });

  it('refuses a forged state (its seal altered)', async () => {
    const c = await makeContainer({ start: false });
    const state = (await ask(c.name)).requestState as string;
    const forged = `${state.slice(0, -4)}${state.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const err = errorOf(await answer(c.name, forged));
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('does not carry this server’s seal');
    expect(await containerExists(c.id)).toBe(true);
  });

  it('refuses a state made up by the client', async () => {
    const c = await makeContainer({ start: false });
    const err = errorOf(await answer(c.name, 'the user said yes'));
    expect(err.kind).toBe('policy_denied');
    expect(await containerExists(c.id)).toBe(true);
  });

  it('refuses a replayed state', async () => {
    const c = await makeContainer({ start: false });
    const d = await makeContainer({ start: false, name: c.name.replace('mcpt-', 'mcpt-r-') });
    const state = (await ask(c.name)).requestState as string;
    structured(await answer(c.name, state));
    // The same name again, now another container: the old yes does not carry over.
    await docker.getContainer(d.id).rename({ name: c.name });
    const err = errorOf(await answer(c.name, state));
    expect(err.message).toContain('was already used');
    expect(await containerExists(d.id)).toBe(true);
  });

  it('refuses a state given for other arguments', async () => {
    const a = await makeContainer({ start: false });
    const b = await makeContainer({ start: false });
    const state = (await ask(a.name)).requestState as string;
    const err = errorOf(await answer(b.name, state));
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toContain('was given for another call');
    expect(await containerExists(a.id)).toBe(true);
    expect(await containerExists(b.id)).toBe(true);
  });

  it('refuses an expired state (--confirm-timeout 1)', async () => {
    const c = await makeContainer({ start: false });
    const state = (await ask(c.name)).requestState as string;
    await Bun.sleep(1300);
    const err = errorOf(await answer(c.name, state));
    expect(err.message).toContain('has expired');
    expect(await containerExists(c.id)).toBe(true);
  });
});
