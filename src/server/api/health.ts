import { Type } from '@sinclair/typebox';
import type { AgnesApp } from '../app.js';
import type { HealthMonitor } from '../health-monitor.js';

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unhealthy')]),
  version: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
});

/** Minimal public health (03 §3): no counts or names anonymously; 503 when unusable. */
export async function healthRoutes(
  app: AgnesApp,
  deps: { monitor: HealthMonitor; version: string },
): Promise<void> {
  app.get(
    '/api/health',
    {
      config: { auth: 'anon' },
      schema: {
        tags: ['health'],
        summary: 'Instance health',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (_request, reply) => {
      const snapshot = await deps.monitor.snapshot();
      const body = { status: snapshot.status, version: deps.version, timestamp: new Date().toISOString() };
      return reply.status(snapshot.status === 'unhealthy' ? 503 : 200).send(body);
    },
  );
}
