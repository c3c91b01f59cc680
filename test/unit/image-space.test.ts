import { describe, expect, it } from 'bun:test';
import { deletedImages, type ImageSizes, spaceFreed } from '../../src/tools/images/prune.ts';

describe('spaceFreed', () => {
  const sizes: ImageSizes = new Map([
    ['sha256:a', { size: 1000, shared: 400 }],
    ['sha256:b', { size: 300, shared: 0 }],
  ]);

  it("sums each image's own layers, a floor when several share layers", () => {
    expect(spaceFreed(['sha256:a', 'sha256:b'], sizes)).toEqual({
      reclaims: 900,
      reclaimsAtLeast: 'more where the images share layers with each other',
    });
    expect(spaceFreed(['sha256:a'], sizes)).toEqual({ reclaims: 600 });
    expect(spaceFreed(['sha256:b'], sizes)).toEqual({ reclaims: 300 });
  });

  it('says nothing when a size is unknown', () => {
    expect(spaceFreed(['sha256:a', 'sha256:c'], sizes)).toEqual({});
  });
});

describe('deletedImages', () => {
  it("keeps the engine's deleted images and leaves out the layers it released", () => {
    const entries = [
      { Untagged: 'x:1' },
      { Deleted: 'sha256:76bdd8023e70aa' },
      { Deleted: 'sha256:421d459bc6e7bb' }, // a layer's chain ID
      { Deleted: 'sha256:636ca98609c9cc' },
    ];
    // As imageIds gives them: bare.
    const known = new Set(['76bdd8023e70aa', '636ca98609c9cc']);
    expect(deletedImages(entries, known)).toEqual(['76bdd8023e70', '636ca98609c9']);
  });

  it("reads Podman's bare IDs as the same images", () => {
    const known = new Set(['76bdd8023e70aa']);
    expect(deletedImages([{ Deleted: '76bdd8023e70aa' }, { Deleted: '421d459bc6e7bb' }], known)).toEqual([
      '76bdd8023e70',
    ]);
  });
});
