import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  AdHocScriptBody,
  DeployedScriptSchema,
  DeployScriptBody,
  type RunResult,
  RunResultSchema,
  ScriptListSchema,
} from '../../contract/index.js';
import {
  deleteScript,
  deployScript,
  listScripts,
  runAdHoc,
  runAuditParams,
  runScript,
} from '../../core/usecases/scripts.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors, Id } from '../schemas.js';

const ScriptParams = Type.Object({ script_id: Id });

function auditRun(request: FastifyRequest, result: RunResult): void {
  request.audit.params = { ...request.audit.params, ...runAuditParams(result) };
}

/**
 * Admin notification scripts (03 §15): list, deploy, run and delete; admin only, and a deployed
 * script's run also by the scheduler's service account with the admin role (08 §9). Every deploy,
 * run and delete is audited, never with the source itself.
 */
export async function scriptRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.get(
    '/api/scripts',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['scripts'],
        summary: 'Deployed scripts, ordered by name',
        response: { 200: ScriptListSchema, ...errors(401, 403) },
      },
    },
    async () => {
      const scripts = await listScripts(ctx);
      return { scripts, count: scripts.length };
    },
  );

  app.post(
    '/api/scripts/deploy',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['scripts'],
        summary: 'Deploy a script; deploying under an existing name replaces it',
        body: DeployScriptBody,
        response: { 200: DeployedScriptSchema, 201: DeployedScriptSchema, ...errors(401, 403, 422, 503) },
      },
    },
    async (request, reply) => {
      const { source, ...settings } = request.body;
      request.audit = {
        action: 'scripts.deploy',
        resource: settings.name,
        params: { ...settings, source_bytes: Buffer.byteLength(source) },
      };
      const { script, created } = await deployScript(ctx, request.auth!.principal, request.body);
      return reply.status(created ? 201 : 200).send(script);
    },
  );

  app.post(
    '/api/scripts/:script_id/run',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['scripts'],
        summary:
          'Run a deployed script now (admins, and the scheduler’s service account with the admin role)',
        params: ScriptParams,
        response: { 200: RunResultSchema, ...errors(401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      request.audit = { action: 'scripts.run', resource: request.params.script_id, params: {} };
      const result = await runScript(ctx, request.params.script_id);
      auditRun(request, result);
      return result;
    },
  );

  app.post(
    '/api/scripts/run',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['scripts'],
        summary: 'Run source that is not deployed; only the admin who ran it is notified',
        body: AdHocScriptBody,
        response: { 200: RunResultSchema, ...errors(400, 401, 403, 422, 429, 503) },
      },
    },
    async (request) => {
      const { source, ...settings } = request.body;
      request.audit = {
        action: 'scripts.run_adhoc',
        resource: settings.name ?? null,
        params: { ...settings, source_bytes: Buffer.byteLength(source) },
      };
      const result = await runAdHoc(ctx, request.auth!.principal, request.body);
      auditRun(request, result);
      return result;
    },
  );

  app.delete(
    '/api/scripts/:script_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['scripts'],
        summary: 'Delete a deployed script',
        params: ScriptParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      request.audit = { action: 'scripts.delete', resource: request.params.script_id };
      await deleteScript(ctx, request.params.script_id);
      return reply.status(204).send(null);
    },
  );
}
