import { Type } from '@sinclair/typebox';
import { AgnesError } from '../../core/errors.js';
import type { Repositories } from '../../core/state/repositories/index.js';

const BUCKET_WILDCARD = /^[A-Za-z0-9_.-]{1,200}\.\*$/;

/** The `dataset` of a grant as the schema takes it; the rules are checked by `checkGrantDataset`. */
export const GrantDataset = Type.String({ minLength: 1, maxLength: 300 });

/**
 * A grant names a registered table id or a whole bucket as `<bucket>.*` (03 §10 user permissions); anything else
 * is 422 `invalid_dataset` (the original accepted free text).
 */
export async function checkGrantDataset(repos: Repositories, dataset: string): Promise<void> {
  if (BUCKET_WILDCARD.test(dataset)) return;
  if (await repos.registry.get(dataset)) return;
  throw new AgnesError('invalid_dataset', 'dataset must be a registered table id or <bucket>.*');
}
