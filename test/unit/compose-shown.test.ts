import { describe, expect, it } from 'bun:test';
import { maskComposeText } from '../../src/docker/compose/shown.ts';

describe('maskComposeText', () => {
  it('masks environment values in flow and block style and keeps names, images and ports', () => {
    expect(
      maskComposeText("{services: {a: {environment: {MY_VAR: v1}, image: busybox, ports: ['80:80']}}}"),
    ).toBe(`{ services: { a: { environment: { MY_VAR: "***" }, image: busybox, ports: [ '80:80' ] } } }`);
    const out = maskComposeText(
      'services:\n  a:\n    image: busybox\n    environment:\n      - PLAIN=v2\n      - PASSED\n',
    );
    expect(out).toContain('image: busybox');
    expect(out).toContain('- PLAIN=***');
    expect(out).toContain('- PASSED');
    expect(out).not.toContain('v2');
  });

  it('masks build args, inline secret content, logging options and extensions where anchors live', () => {
    const out = maskComposeText(
      [
        'x-env: &e {K: anchored-v}',
        'services:',
        '  a:',
        '    image: busybox',
        '    build: {context: ., args: [TOKEN=arg-v]}',
        '    logging: {driver: splunk, options: {splunk-token: log-v}}',
        '    environment: *e',
        '    command: echo hi',
        'secrets:',
        '  s: {content: inline-v}',
        '  t: {environment: SOURCE_NAME}',
      ].join('\n'),
    );
    for (const v of ['anchored-v', 'arg-v', 'log-v', 'inline-v']) expect(out).not.toContain(v);
    for (const v of ['context: .', 'TOKEN=***', 'echo hi', 'SOURCE_NAME', '*e']) expect(out).toContain(v);
  });

  it('masks text that is not YAML whole', () => {
    expect(maskComposeText('services: {a: [')).toBe('***');
    expect(maskComposeText('a: *nowhere')).toBe('***');
  });
});
