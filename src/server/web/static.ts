import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { AgnesError } from '../../core/errors.js';
import { PACKAGE_ROOT } from '../../core/package-info.js';
import type { AgnesApp } from '../app.js';
import { APP_CSS } from './styles.js';

/** Browser modules compiled from `src/server/web/client` by `tsconfig.client.json`. */
const CLIENT_DIR = join(PACKAGE_ROOT, 'dist', 'server', 'web', 'client');
const CACHE = 'public, max-age=3600';
/** Any version is served the current file; the segment only makes each release's URLs new. */
const Version = Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' });

/** `/static/*` (09 §2 pages): the stylesheet and the browser modules, public and cached for an hour. */
export async function staticRoutes(app: AgnesApp): Promise<void> {
  const scripts = new Map<string, Buffer>();

  app.get(
    '/static/:version/css/app.css',
    { config: { auth: 'anon' }, schema: { hide: true, params: Type.Object({ version: Version }) } },
    async (_request, reply) =>
      reply.header('Cache-Control', CACHE).type('text/css; charset=utf-8').send(APP_CSS),
  );

  app.get(
    '/static/:version/js/:name',
    {
      config: { auth: 'anon' },
      schema: {
        hide: true,
        params: Type.Object({ version: Version, name: Type.String({ pattern: '^[a-z][a-z-]{0,40}\\.js$' }) }),
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      let body = scripts.get(name);
      if (!body) {
        // The name pattern admits no path separators, so the join cannot leave the directory.
        body = await readFile(join(CLIENT_DIR, name)).catch(() => undefined);
        if (!body) throw new AgnesError('not_found', 'not found');
        scripts.set(name, body);
      }
      return reply.header('Cache-Control', CACHE).type('text/javascript; charset=utf-8').send(body);
    },
  );
}
