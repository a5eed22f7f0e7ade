import { Type } from '@sinclair/typebox';
import {
  PolicyPreviewInputSchema,
  PolicyPreviewSchema,
  RowPolicyInputSchema,
  RowPolicyListSchema,
  RowPolicyPatchSchema,
  RowPolicySchema,
  UserAttributesInputSchema,
  UserAttributesSchema,
} from '../../contract/index.js';
import {
  createPolicy,
  deletePolicy,
  listTablePolicies,
  previewPolicies,
  replaceUserAttributes,
  updatePolicy,
  userAttributes,
} from '../../core/usecases/policies.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors, Id } from '../schemas.js';

const TableParams = Type.Object({ table_id: Type.String({ minLength: 1, maxLength: 200 }) });
const PolicyParams = Type.Object({ policy_id: Id });
const UserParams = Type.Object({ user_id: Id });

/** Row and column policies of registered tables and the user attributes they bind (12 §4). */
export async function policyRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.get(
    '/api/admin/tables/:table_id/policies',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policies'],
        summary: "A table's row policies, enabled or not, each with why it fails to bind if it does",
        params: TableParams,
        response: { 200: RowPolicyListSchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => ({ policies: await listTablePolicies(ctx, request.params.table_id) }),
  );

  app.post(
    '/api/admin/tables/:table_id/policies',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policies'],
        summary: "Add a row policy; its filter and masks are checked against the table's current columns",
        params: TableParams,
        body: RowPolicyInputSchema,
        response: { 201: RowPolicySchema, ...errors(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const { table_id } = request.params;
      request.audit = { action: 'policy.create', resource: table_id };
      const change = await createPolicy(ctx, request.auth!.principal, table_id, request.body);
      request.audit.resource = change.after.id;
      request.audit.params = { ...change };
      return reply.status(201).send(change.after);
    },
  );

  app.put(
    '/api/admin/policies/:policy_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policies'],
        summary: 'Change a row policy: each given field replaces the stored value whole',
        params: PolicyParams,
        body: RowPolicyPatchSchema,
        response: { 200: RowPolicySchema, ...errors(401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const { policy_id } = request.params;
      request.audit = { action: 'policy.update', resource: policy_id };
      const change = await updatePolicy(ctx, request.auth!.principal, policy_id, request.body);
      request.audit.params = { ...change };
      return change.after;
    },
  );

  app.delete(
    '/api/admin/policies/:policy_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policies'],
        summary: "Delete a row policy; deleting a table's last one unbinds the table",
        params: PolicyParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { policy_id } = request.params;
      request.audit = { action: 'policy.delete', resource: policy_id };
      request.audit.params = { ...(await deletePolicy(ctx, policy_id)) };
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/policies/preview',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policies'],
        summary:
          'What a user would see of a table under its policies and an optional draft: the bound filter, masks, row count and up to 20 rows; nothing is stored',
        body: PolicyPreviewInputSchema,
        response: { 200: PolicyPreviewSchema, ...errors(400, 401, 403, 404, 422, 429, 503) },
      },
    },
    async (request) => {
      const { table_id, user_id } = request.body;
      request.audit = { action: 'policy.preview', resource: table_id, params: { user_id } };
      return previewPolicies(ctx, request.auth!.principal, request.body, String(request.id));
    },
  );

  app.get(
    '/api/admin/users/:user_id/attributes',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policies'],
        summary: "A user's stored attributes and the derived ones (email, user_id, group names)",
        params: UserParams,
        response: { 200: UserAttributesSchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => userAttributes(ctx, request.params.user_id),
  );

  app.put(
    '/api/admin/users/:user_id/attributes',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policies'],
        summary: 'Replace every stored attribute of a user; values are kept exactly as given',
        params: UserParams,
        body: UserAttributesInputSchema,
        response: { 200: UserAttributesSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { user_id } = request.params;
      request.audit = { action: 'user.attributes', resource: user_id };
      const { view, change } = await replaceUserAttributes(ctx, user_id, request.body.attributes);
      request.audit.params = { ...change };
      return view;
    },
  );
}
