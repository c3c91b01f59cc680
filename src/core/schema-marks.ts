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

/**
 * Marks an output string (or a list or map of them) whose text whoever made the object chose freely,
 * e.g. a network's name (the engine takes any text, newlines included). The tool must screen it: its
 * path is in the tool's `screened` (or `untrusted`) declaration, which a catalogue test holds to these
 * marks. Not listed (tool-listing.ts drops it).
 */
export const CHOSEN_TEXT = { 'x-chosen-text': true } as const;
