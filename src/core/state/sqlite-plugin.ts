import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import { BOOLEAN_COLUMNS, JSON_COLUMNS } from './column-values.js';

const toSqliteValue = (value: unknown): unknown => (typeof value === 'boolean' ? (value ? 1 : 0) : value);

class BooleanParameters extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return { ...super.transformValue(node), value: toSqliteValue(node.value) };
  }

  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return { ...super.transformPrimitiveValueList(node), values: node.values.map(toSqliteValue) };
  }
}

/**
 * Gives repositories the portable types on SQLite: booleans are bound as 0/1 and read back as
 * booleans, JSON columns are parsed. A Postgres dialect has native types and needs no such plugin.
 */
export class SqlitePortabilityPlugin implements KyselyPlugin {
  readonly #parameters = new BooleanParameters();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#parameters.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const rows = args.result.rows.map((row) => {
      const out: UnknownRow = { ...row };
      for (const [key, value] of Object.entries(row)) {
        if (BOOLEAN_COLUMNS.has(key) && (value === 0 || value === 1)) out[key] = value === 1;
        else if (JSON_COLUMNS.has(key) && typeof value === 'string') out[key] = JSON.parse(value);
      }
      return out;
    });
    return { ...args.result, rows };
  }
}
