/**
 * How engine objects are named: the rules a name or image reference must follow to be put into a
 * request path, and how names are shown back to people (short IDs, no leading '/').
 */

/** A container, network, volume, secret or service name as the engine's own rule writes it. */
export const NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$';

/** A container name or ID, with the leading '/' the engine prints names with. */
export const CONTAINER_REF_PATTERN = '^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$';

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
