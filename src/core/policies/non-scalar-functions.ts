/**
 * Functions a policy filter may not call although an analyst may (12 §2: no aggregate, no window
 * function): a filter is evaluated one row at a time, and an aggregate or a row generator in it
 * would depend on rows other than the one being decided. The parser cannot tell an aggregate from
 * a scalar function (it resolves names only when binding), so the names are listed here from
 * `duckdb_functions()` of the pinned DuckDB; `test/core/policies/non-scalar-functions.test.ts`
 * fails when an upgrade adds one.
 */

const words = (text: string): readonly string[] => text.trim().toLowerCase().split(/\s+/);

export const NON_SCALAR_FUNCTIONS: ReadonlySet<string> = new Set(
  words(`
any_value approx_count_distinct approx_quantile approx_top_k arbitrary arg_max arg_max_null
arg_max_nulls_last arg_min arg_min_null arg_min_nulls_last argmax argmin array_agg avg bit_and
bit_or bit_xor bitstring_agg bool_and bool_or corr count count_if count_star countif covar_pop
covar_samp cume_dist dense_rank entropy favg fill first first_value fsum group_concat histogram
histogram_exact kahan_sum kurtosis kurtosis_pop lag last last_value lead list listagg mad max
max_by mean median min min_by mode nth_value ntile percent_rank product quantile quantile_cont
quantile_disc rank rank_dense regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope
regr_sxx regr_sxy regr_syy reservoir_quantile row_number sem skewness stddev stddev_pop
stddev_samp string_agg sum sum_no_overflow sumkahan var_pop var_samp variance
geomean geometric_mean json_group_array json_group_object json_group_structure wavg weighted_avg
unnest generate_subscripts regexp_split_to_table
`),
);

/** Names whose call aggregates rows (aggregates, window functions, macros over them) or generates rows (`unnest`). */
export function isNonScalarFunction(name: string): boolean {
  return NON_SCALAR_FUNCTIONS.has(name.toLowerCase());
}

/**
 * Functions whose result changes between runs (the time, chance, sequences, the session): a
 * filter is bound into a slice built once per table version (12 §3), so `order_date >= today() - 30`
 * would keep the first day's rows. Listed from `duckdb_functions()` (stability other than
 * CONSISTENT, and macros over them) and checked by the same test.
 */
export const UNSTABLE_FUNCTIONS: ReadonlySet<string> = new Set(
  words(`
current_connection_id current_database current_date current_query current_query_id
current_schema current_schemas current_transaction_id currval error gen_random_uuid
get_current_time get_current_timestamp in_search_path nextval now random setseed sleep_ms stats
today transaction_timestamp txid_current uuid uuidv4 uuidv7 write_log json_group_object
`),
);

export function isUnstableFunction(name: string): boolean {
  return UNSTABLE_FUNCTIONS.has(name.toLowerCase());
}
