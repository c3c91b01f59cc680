/**
 * The runtime flags compiled into the binary (build.ts), and into the floor the bench measures it
 * against (bench/floor-gap.ts), so the two differ only in their code. --smol: the collector runs more
 * often, for ~15 MiB less peak RSS after many calls at no measurable start-up cost.
 */
export const EXEC_ARGV = ['--smol'];
