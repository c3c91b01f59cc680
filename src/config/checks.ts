/**
 * Each config field's TypeBox check. From source: Value.Check. The binary's build replaces this module
 * with each field's check written as code (packaging/input-checks.ts), so a start that sets options
 * checks them without loading TypeBox's validator.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

export const fieldCheck =
  (_key: string, schema: TSchema): ((value: unknown) => boolean) =>
  (value) =>
    Value.Check(schema, value);
