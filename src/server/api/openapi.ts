import type { AgnesApp } from '../app.js';

/** The OpenAPI document itself (03 §0.5). */
export async function openApiRoutes(app: AgnesApp): Promise<void> {
  app.get('/openapi.json', { config: { auth: 'anon' }, schema: { hide: true } }, async () => app.swagger());
}
