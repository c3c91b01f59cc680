/**
 * Input checks made at build time. The binary's build replaces this module with each tool's TypeBox
 * check as code (packaging/input-checks.ts), loaded with the group of tools it belongs to; from source
 * there are none, and validate.ts compiles each schema on its first use.
 */
import type { Guard } from 'typebox/guard';

/** A prebuilt check: given TypeBox's Guard (the helper its code calls), the check itself. */
export type CheckFactory = (guard: typeof Guard) => (value: unknown) => boolean;

/**
 * The prebuilt check of tool `name`, or undefined when it has none. Rejects when it has one made from
 * another schema than `schema` (fingerprints compared): a build fault, which fails the call.
 */
export const prebuiltCheck:
  | ((name: string, schema: unknown) => Promise<CheckFactory | undefined>)
  | undefined = undefined;
