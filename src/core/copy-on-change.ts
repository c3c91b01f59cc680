/**
 * One level of a copy-on-write walk over JSON data (redaction and screening of results the pipeline
 * owns): `change` is applied to each element or property; when it returns every one as it was, the
 * value itself comes back, else a copy that shares everything unchanged. Callers recurse through
 * `change`. Keys keep their order, and a key named __proto__ (JSON makes it an own key) stays a key.
 */
export function mapChanged(value: object, change: (v: unknown, key: string | undefined) => unknown): object {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const w = change(v, undefined);
      if (w !== v && !out) out = value.slice(0, i);
      out?.push(w);
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = record[k];
    const w = change(v, k);
    if (w !== v && !out) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j] as string, record[keys[j] as string]);
    }
    if (out) setOwn(out, k, w);
  }
  return out ?? value;
}

/** out[k] = v, except that a key named __proto__ stays an own key rather than setting the prototype. */
export function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}
