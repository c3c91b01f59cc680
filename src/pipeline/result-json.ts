/**
 * The JSON a result was measured as by the cap (cap.ts), kept so a tool result's text content is made
 * once per call. Apart from the cap so the result's shape (call-result.ts) loads without it.
 */
const measured = new WeakMap<object, string>();

/** Records `json` as the JSON of `value` (the cap measured it and left it whole). */
export const measuredAs = (value: object, json: string): void => {
  measured.set(value, json);
};

/** JSON.stringify(value), taken from the cap's measure when it left `value` whole. */
export const jsonOf = (value: Record<string, unknown>): string =>
  measured.get(value) ?? JSON.stringify(value);
