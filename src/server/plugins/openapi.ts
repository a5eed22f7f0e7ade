import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AgnesApp } from '../app.js';

export const DOCS_PREFIX = '/docs';

/** OpenAPI 3.1 from the route schemas (03 §0.5): `/openapi.json` and Swagger UI at `/docs`. */
export async function registerOpenApi(
  app: AgnesApp,
  info: { title: string; version: string },
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `${info.title} API`,
        version: info.version,
        description: 'Agnes REST API. Every operation carries x-agnes-auth: who may call it.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'Session JWT or personal access token (agnes_pat_…)',
          },
          cookie: { type: 'apiKey', in: 'cookie', name: 'access_token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
}
