export { PROFILER_VERSION, type ProfileInput, type ProfileOptions, profileTable } from './profile-table.js';
export type { MetricFile, RelatedCandidate } from './relations.js';
