export { type ProfileInput, type ProfileOptions, profileTable } from './profile-table.js';
export type { MetricFile, RelatedCandidate } from './relations.js';
export {
  type Alert,
  type ColumnProfile,
  PROFILER_VERSION,
  type Profile,
  ProfileSchema,
  type TypeCategory,
} from './types.js';
