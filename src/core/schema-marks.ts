/**
 * Marks a tool's input schema may carry for its listing (lean-schema.ts reads them): part of the tool
 * contract, so tools set them without knowing how the list is built.
 */

/**
 * Marks a property whose description already shows its value shape by example ('{"K":"v"} or ["K=v"]'):
 * the listed copy keeps its type and description and drops the nested schema (items, additionalProperties,
 * properties) a model would otherwise read twice. validate.ts checks the full shape and names the field.
 */
export const SHAPE_IN_EXAMPLE = { 'x-shape-in-example': true } as const;
/** Marks a property accepted for the seed's sake but not listed (it changes nothing, e.g. stats' `stream`). */
export const UNLISTED = { 'x-unlisted': true } as const;
