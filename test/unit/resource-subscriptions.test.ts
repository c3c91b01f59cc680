import { describe, expect, it } from 'bun:test';
import { InMemoryTransport, type JSONRPCMessage } from '@modelcontextprotocol/server';
import {
  ListenTap,
  MAX_WATCHERS,
  MIN_NOTIFY_INTERVAL_MS,
  Subscriptions,
} from '../../src/resources/subscriptions.ts';

/** A registry whose watchers are recorded: which URIs run, and a way to fire their "changed". */
function registry() {
  const running = new Map<string, () => void>();
  const started: string[] = [];
  const stopped: string[] = [];
  const notified: string[] = [];
  const subs = new Subscriptions(
    (uri, changed) => {
      if (uri.startsWith('nowatch:')) return undefined;
      started.push(uri);
      running.set(uri, changed);
      return () => {
        stopped.push(uri);
        running.delete(uri);
      };
    },
    (uri) => notified.push(uri),
  );
  return { subs, running, started, stopped, notified };
}

describe('Subscriptions', () => {
  it('runs one watcher per URI however many subscriptions name it, until the last one goes', () => {
    const r = registry();
    r.subs.subscribe('a://1');
    r.subs.listen('listen:0', ['a://1', 'a://2']);
    r.subs.listen('listen:1', ['a://2']);
    expect(r.started).toEqual(['a://1', 'a://2']);
    expect(r.subs.watching()).toEqual(['a://1', 'a://2']);

    r.subs.unlisten('listen:0');
    expect(r.stopped).toEqual([]);
    r.subs.unsubscribe('a://1');
    expect(r.stopped).toEqual(['a://1']);
    r.subs.unlisten('listen:1');
    expect(r.stopped).toEqual(['a://1', 'a://2']);
    expect(r.subs.watching()).toEqual([]);
  });

  it('ignores URIs nothing can watch', () => {
    const r = registry();
    r.subs.subscribe('nowatch:x');
    expect(r.subs.watching()).toEqual([]);
  });

  it('notifies at once, then at most once per interval, and never after the watcher stopped', async () => {
    const r = registry();
    r.subs.subscribe('a://1');
    const fire = () => r.running.get('a://1')?.();
    fire();
    fire();
    fire();
    expect(r.notified).toEqual(['a://1']);
    await Bun.sleep(MIN_NOTIFY_INTERVAL_MS + 100);
    expect(r.notified).toEqual(['a://1', 'a://1']);

    fire(); // within the interval again: deferred…
    r.subs.unsubscribe('a://1'); // …and dropped with the watcher
    await Bun.sleep(MIN_NOTIFY_INTERVAL_MS + 100);
    expect(r.notified).toEqual(['a://1', 'a://1']);
  });

  it(`watches at most ${MAX_WATCHERS} URIs per connection, refusing a direct subscription past that`, () => {
    const r = registry();
    r.subs.listen(
      'listen:0',
      Array.from({ length: MAX_WATCHERS + 5 }, (_, i) => `a://${i}`),
    );
    expect(r.subs.watching()).toHaveLength(MAX_WATCHERS);
    expect(() => r.subs.subscribe('b://1')).toThrow('too many resource subscriptions');
    r.subs.subscribe('a://0'); // already watched: fine
    r.subs.unlisten('listen:0');
    r.subs.subscribe('b://1');
    expect(r.subs.watching()).toEqual(['a://0', 'b://1']);
  });

  it('stops every watcher on close and starts none afterwards', () => {
    const r = registry();
    r.subs.subscribe('a://1');
    r.subs.listen(7, ['a://2']);
    r.subs.close();
    expect(r.stopped.sort()).toEqual(['a://1', 'a://2']);
    r.subs.subscribe('a://3');
    expect(r.subs.watching()).toEqual([]);
  });
});

describe('ListenTap', () => {
  const ack = (id: string, uris: string[]): JSONRPCMessage => ({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: {
      notifications: { resourceSubscriptions: uris },
      _meta: { 'io.modelcontextprotocol/subscriptionId': id },
    },
  });

  async function tapped() {
    const [client, server] = InMemoryTransport.createLinkedPair();
    const tap = new ListenTap(server);
    const seen: string[] = [];
    const received: JSONRPCMessage[] = [];
    tap.attach({
      listen: (id, uris) => seen.push(`listen ${id} ${uris.join(',')}`),
      unlisten: (id) => seen.push(`unlisten ${id}`),
    });
    tap.onmessage = (m) => void received.push(m);
    await tap.start();
    const clientGot: JSONRPCMessage[] = [];
    client.onmessage = (m) => void clientGot.push(m);
    await client.start();
    return { tap, client, seen, received, clientGot };
  }

  it('learns the honored filter from the acknowledgement and passes every message through unchanged', async () => {
    const t = await tapped();
    await t.tap.send(ack('listen:0', ['container://logs/web']));
    await t.client.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(t.seen).toEqual(['listen listen:0 container://logs/web']);
    expect(t.clientGot).toEqual([ack('listen:0', ['container://logs/web'])]);
    expect(t.received).toEqual([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]);
  });

  it('ends a subscription on the client cancel, on the graceful close result, and on transport close', async () => {
    const t = await tapped();
    await t.tap.send(ack('listen:0', ['a://1']));
    await t.tap.send(ack('listen:1', ['a://2']));
    await t.tap.send(ack('listen:2', ['a://3']));
    await t.client.send({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 'listen:0' },
    });
    await t.tap.send({
      jsonrpc: '2.0',
      id: 'listen:1',
      result: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen:1' } },
    });
    await t.client.close();
    expect(t.seen.slice(3)).toEqual(['unlisten listen:0', 'unlisten listen:1', 'unlisten listen:2']);
  });

  it('ignores a cancel of an ordinary request', async () => {
    const t = await tapped();
    await t.client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } });
    expect(t.seen).toEqual([]);
    expect(t.received).toHaveLength(1);
  });
});
