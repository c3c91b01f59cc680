import { describe, expect, it } from 'bun:test';
import type { ToolError } from '../../src/core/errors.ts';
import { checkImagePruneFilters } from '../../src/tools/images/prune.ts';
import { checkPruneFilters, labelsPass } from '../../src/tools/prune-filters.ts';

describe('labelsPass reads label and label! as the engine prune does', () => {
  const labels = { env: 'dev', keep: 'yes' };

  it('needs every label entry to match, by key or by key=value', () => {
    expect(labelsPass(labels, { label: ['env'] })).toBe(true);
    expect(labelsPass(labels, { label: ['env=dev', 'keep'] })).toBe(true);
    expect(labelsPass(labels, { label: ['env=prod'] })).toBe(false);
    expect(labelsPass(labels, { label: ['env', 'team'] })).toBe(false);
    expect(labelsPass(null, { label: ['env'] })).toBe(false);
  });

  it('spares an object only when every label! entry matches', () => {
    expect(labelsPass(labels, { 'label!': ['keep'] })).toBe(false);
    expect(labelsPass(labels, { 'label!': ['keep=no'] })).toBe(true);
    expect(labelsPass(labels, { 'label!': ['keep', 'team'] })).toBe(true);
    expect(labelsPass(labels, { 'label!': ['keep', 'env=dev'] })).toBe(false);
    expect(labelsPass(undefined, { 'label!': ['keep'] })).toBe(true);
  });

  it('passes everything without label filters, and ignores inherited keys', () => {
    expect(labelsPass({}, undefined)).toBe(true);
    expect(labelsPass({}, { label: ['constructor'] })).toBe(false);
  });
});

describe('checkPruneFilters', () => {
  const refusal = (f: () => void) => {
    try {
      f();
    } catch (e) {
      return e as ToolError;
    }
    throw new Error('not refused');
  };

  it('refuses a key the prune does not take, naming filters and the keys it takes', () => {
    const e = refusal(() => checkPruneFilters({ bogus: ['x'] }, ['until', 'label', 'label!']));
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toBe("invalid argument 'filters': this prune takes no 'bogus' filter");
    expect(e.hint).toContain('until, label, label!');
  });

  it('takes the accepted keys, and any key with no values', () => {
    expect(() =>
      checkPruneFilters({ label: ['a'], 'label!': ['b'], x: [] }, ['label', 'label!']),
    ).not.toThrow();
  });

  it('refuses filters.dangling on an image prune, pointing at all', () => {
    for (const v of ['true', 'false']) {
      const e = refusal(() => checkImagePruneFilters({ dangling: [v] }));
      expect(e.kind).toBe('invalid_argument');
      expect(e.hint).toContain('all: true');
    }
    expect(() => checkImagePruneFilters({ until: ['24h'], label: ['a'], 'label!': ['b'] })).not.toThrow();
  });
});
