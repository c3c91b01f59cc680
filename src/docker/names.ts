/** How engine objects are named back to people: short IDs and names without the engine's leading '/'. */

/** The 12-hex-digit form the docker CLI shows (a `sha256:` prefix dropped). */
export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** A container's name as people write it (the engine reports '/name'). */
export const nameOf = (info: { Name: string }) => info.Name.replace(/^\//, '');

/** A listed container's first name, without the leading '/' ('' when it has none). */
export const listedName = (c: { Names?: string[] }) => (c.Names?.[0] ?? '').replace(/^\//, '');
