/**
 * The names `up` puts into request paths (images, networks, volumes), refused by the engine's rules
 * before the engine is asked anything; and the list `docker_compose_config` shows of them. The engine
 * is a stub that fails on any use.
 */
import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import { loadProject } from '../../src/docker/compose/load.ts';
import { nameRefusals } from '../../src/docker/compose/names.ts';
import { up } from '../../src/docker/compose/project.ts';

const load = (content: string) =>
  loadProject({ content, project_name: 'p' }, { home: '/root', read: async () => undefined });

describe('up, given a name the engine would not take', () => {
  /** An engine that must not be asked anything: each property read is recorded and fails the call. */
  const untouched = () => {
    const asked: string[] = [];
    const docker = new Proxy(
      {},
      {
        get: (_, k) => {
          asked.push(String(k));
          throw new Error(`asked the engine (${String(k)})`);
        },
      },
    ) as Dockerode;
    return { docker, asked };
  };
  const upOf = async (content: string) => {
    const { docker, asked } = untouched();
    const p = await loadProject(
      { content, project_name: 'p' },
      { home: '/root', read: async () => undefined },
    );
    const err = await up(docker, {} as never, p, {
      apiVersion: '1.41',
      progress: () => {},
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);
    return { err: err as Error & { kind?: string; hint?: string }, asked };
  };

  it('refuses a name that would lead its requests elsewhere, naming the service, asking the engine nothing', async () => {
    for (const [content, message, hint] of [
      [
        'services:\n  a:\n    image: busybox\n    networks: [one, two]\nnetworks:\n  one: {}\n  two:\n    name: "x/../../containers/c/start#"\n',
        'service "a": network "two" is named "x/../../containers/c/start#", which is not a network name',
        'docker network create',
      ],
      [
        'services:\n  a:\n    image: busybox\n    volumes: ["data:/d"]\nvolumes:\n  data:\n    name: "../../containers/create"\n',
        'service "a": volume "data" is named "../../containers/create", which is not a volume name',
        'docker volume create',
      ],
      [
        'services:\n  web:\n    image: "../../containers/json?all=1#"\n',
        'service "web": image "../../containers/json?all=1#" is not an image reference',
        '[registry/]name[:tag][@digest]',
      ],
    ]) {
      const { err, asked } = await upOf(content as string);
      expect([err.kind, err.message]).toEqual(['invalid_argument', message as string]);
      expect(err.hint).toContain(hint as string);
      expect(asked).toEqual([]);
    }
  });

  it('goes on to the engine when every name is one it takes', async () => {
    const { err, asked } = await upOf(
      'services:\n  a:\n    image: 127.0.0.1:5000/team/app:1.2\n    networks: [one]\n    volumes: ["data:/d"]\nnetworks:\n  one:\n    name: shared.net-1\nvolumes:\n  data: {}\n',
    );
    expect(err.message).toStartWith('asked the engine');
    expect(asked.length).toBeGreaterThan(0);
  });
});

describe('the names a project would be refused for', () => {
  it('are listed by service, every one, and none for a service whose names the engine takes', async () => {
    const p = await load(
      'services:\n  a:\n    image: "Bad Image"\n    networks: [one]\n    volumes: ["data:/d", "/tmp:/t"]\n  b:\n    image: busybox\n    networks: [one]\n  c:\n    image: busybox\nnetworks:\n  one:\n    name: "a#b"\nvolumes:\n  data:\n    name: "../d"\n',
    );
    const refused = nameRefusals(p, Object.keys(p.services));
    expect(
      Object.fromEntries(Object.entries(refused).map(([s, es]) => [s, es.map((e) => e.message)])),
    ).toEqual({
      a: [
        'service "a": image "Bad Image" is not an image reference',
        'service "a": network "one" is named "a#b", which is not a network name',
        'service "a": volume "data" is named "../d", which is not a volume name',
      ],
      b: ['service "b": network "one" is named "a#b", which is not a network name'],
    });
  });
});
