// What a conversion's promise failed with, checked to be a ConversionError: the converters' tests
// read its reason and message.
import assert from 'node:assert/strict';
import { ConversionError } from '../../app/src/convert/types.js';

export async function conversionFailure(promise: Promise<unknown>): Promise<ConversionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ConversionError, `expected a ConversionError, got ${String(error)}`);
  return error;
}
