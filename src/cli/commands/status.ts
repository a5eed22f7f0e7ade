import type { Manifest } from '../../contract/index.js';
import { type CliContext, connect } from '../context.js';
import { EXIT } from '../errors.js';
import {
  filteredTables,
  type Health,
  localState,
  missingFiles,
  outOfDate,
  policyMarkText,
  probeHealth,
  remoteTables,
  type TablePolicyMark,
  whoIsSignedIn,
} from '../inspect.js';

export interface StatusDocument {
  server: {
    url: string;
    reachable: boolean | null;
    status: string | null;
    version: string | null;
    generation: number | null;
  };
  user: { email: string; role: string; expires_at: string | null } | null;
  local: {
    dir: string;
    tables: string[];
    last_sync: string | null;
    out_of_date: string[] | null;
    missing_files: string[];
    remote: string[] | null;
    /** Tables a row policy filters for this user (12 §5), from the manifest; null without one. */
    filtered: ({ table: string } & TablePolicyMark)[] | null;
  };
}

function statusText(doc: StatusDocument): string {
  const s = doc.server;
  const reach = s.reachable === null ? 'not checked (--local)' : s.reachable ? s.status : 'unreachable';
  const list = (ids: string[] | null) => (ids === null ? 'unknown' : ids.length ? ids.join(', ') : 'none');
  return [
    `Server      ${s.url} (${reach}${s.version ? `, version ${s.version}` : ''}${s.generation !== null ? `, generation ${s.generation}` : ''})`,
    `User        ${doc.user ? `${doc.user.email} (role ${doc.user.role}); token ${doc.user.expires_at ? `expires ${doc.user.expires_at.slice(0, 10)}` : 'does not expire'}` : 'not signed in'}`,
    `Local dir   ${doc.local.dir}`,
    `Synced      ${doc.local.tables.length} tables; last sync ${doc.local.last_sync ?? 'never'}`,
    `Out of date ${list(doc.local.out_of_date)}`,
    `Missing     ${list(doc.local.missing_files)}`,
    `Remote      ${list(doc.local.remote)}`,
    `Filtered    ${
      doc.local.filtered === null
        ? 'unknown'
        : doc.local.filtered.length > 0
          ? doc.local.filtered.map((f) => policyMarkText(f.table, f)).join(', ')
          : 'none'
    }`,
  ].join('\n');
}

/** `da status` (06 §5.2 data): exit 6 when the server cannot be reached, unless `--local`. */
export async function status(ctx: CliContext, options: { local?: boolean }): Promise<number> {
  const { server, client, credential } = await connect(ctx);
  const state = await localState(ctx, server);
  let health: Health | null = null;
  let user: StatusDocument['user'] = null;
  let manifest: Manifest | null = null;
  if (!options.local) {
    health = await probeHealth(client);
    if (health.reachable) {
      const me = await whoIsSignedIn(client, Boolean(ctx.env.DA_TOKEN || credential));
      if (me) {
        user = { email: me.email, role: me.role, expires_at: me.auth.expires_at };
        manifest = await client.json<Manifest>('GET', '/api/sync/manifest');
      }
    }
  }
  const doc: StatusDocument = {
    server: {
      url: server,
      reachable: health ? health.reachable : null,
      status: health?.status ?? null,
      version: health?.version ?? null,
      generation: manifest?.generation ?? null,
    },
    user,
    local: {
      dir: ctx.localDir,
      tables: Object.keys(state.tables).sort(),
      last_sync: state.last_sync,
      out_of_date: manifest ? outOfDate(manifest, state) : null,
      missing_files: await missingFiles(ctx, state),
      remote: manifest ? remoteTables(manifest) : null,
      filtered: manifest
        ? [...filteredTables(manifest)]
            .map(([table, mark]) => ({ table, ...mark }))
            .sort((a, b) => a.table.localeCompare(b.table))
        : null,
    },
  };
  ctx.out.result(doc, () => statusText(doc));
  if (health && !health.reachable) {
    ctx.out.warn(`${health.error}; check the URL and your network, or use --local`);
    return EXIT.unreachable;
  }
  return EXIT.ok;
}
