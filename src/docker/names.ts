/**
 * How engine objects are named: the rules a name or image reference must follow to be put into a
 * request path, and how names are shown back to people (short IDs, no leading '/').
 */
import { ToolError } from '../core/errors.ts';

/** A container, network, volume, secret or service name as the engine's own rule writes it. */
export const NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$';
/** NAME_PATTERN in words, for the refusal (validate.ts reads `expects`; the listing leaves it out). */
export const NAME_EXPECTS = 'a name of letters, digits and _ . - (first a letter or digit)';
/** An image tag, in words: what the registry's rule allows. */
export const TAG_EXPECTS = 'a tag of letters, digits and _ . - (first not . or -), at most 128';

/**
 * Container names the engine could take for an ID our results show: lowercase hex, from the 12 digits
 * of a short ID to the 64 of a full one. The engine matches an exact name before an ID prefix, so a
 * container named 'afe413ac02cc' would receive every call made with that ID. Shorter hex names ('db',
 * 'cafe') stay allowed: nothing we show is a prefix that short. Upper case never matches an ID.
 */
export const ID_FORM = /^[0-9a-f]{12,64}$/;

/** The refusal of a container name of ID_FORM (`subject` says which, quoting it), or undefined. */
export function idFormRefusal(name: string | undefined, subject: string): ToolError | undefined {
  if (name === undefined || !ID_FORM.test(name)) return undefined;
  return new ToolError(
    'invalid_argument',
    `${subject} has the form of a container ID (12 to 64 hex digits); the engine matches a name before an ID, so calls meant for the container whose ID starts with it would reach this one`,
    { hint: `Choose a name with a letter after 'f' or a '-', '_' or '.', e.g. 'app-${name.slice(0, 6)}'.` },
  );
}

/** Refuses (invalid_argument naming `field`) a container name of ID_FORM. */
export function checkContainerName(name: string | undefined, field: string): void {
  const refusal = idFormRefusal(name, `invalid argument '${field}': '${name}'`);
  if (refusal) throw refusal;
}

/** A container name or ID, with the leading '/' the engine prints names with. */
export const CONTAINER_REF_PATTERN = '^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$';

const CONTAINER_REF = new RegExp(CONTAINER_REF_PATTERN);
/** The longest container reference the tools take (ContainerRef's maxLength). */
export const MAX_CONTAINER_REF = 256;

/**
 * `ref` if it can be a container name or ID, else the tools' refusal naming `field`: what goes into a
 * request path from outside the tools' schemas (prompt arguments, resource URIs) gets the same rule,
 * so a NUL, a newline or '..' never reaches the engine.
 */
export function containerRefOf(ref: string, field: string): string {
  if (ref.length <= MAX_CONTAINER_REF && CONTAINER_REF.test(ref)) return ref;
  const shown = JSON.stringify(ref.length > 60 ? `${ref.slice(0, 57)}...` : ref);
  throw new ToolError(
    'invalid_argument',
    `invalid argument '${field}': has characters or a shape not allowed here (expected: a container name or ID), got ${shown}`,
    { hint: 'Give a container name or ID as the container list shows it.' },
  );
}

/**
 * The reference goes into the request path as it is, so only what a reference can hold: printable
 * ASCII (a NUL, a lone surrogate or any non-ASCII letter made the HTTP client throw), no '?', '#',
 * '%' or backslash, no leading '/', no '..' and no component starting with '.' (the HTTP client would
 * resolve '../containers/x' into another endpoint, and '.' or 'a/./b' into a shorter path; no real
 * reference has a component starting with '.').
 */
export const IMAGE_REF_PATTERN = '^(?!/)(?!\\.)(?!.*/\\.)(?!.*\\.\\.)(?!.*[?#%\\\\])[!-~]+$';

/** The 12-hex-digit form the docker CLI shows (a `sha256:` prefix dropped). */
export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** A container's name as people write it (the engine reports '/name'). */
export const nameOf = (info: { Name: string }) => info.Name.replace(/^\//, '');

/** A listed container's first name, without the leading '/' ('' when it has none). */
export const listedName = (c: { Names?: string[] }) => (c.Names?.[0] ?? '').replace(/^\//, '');
