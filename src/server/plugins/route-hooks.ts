import type { RouteOptions } from 'fastify';

type HookName = 'onRequest' | 'preValidation' | 'preHandler' | 'onResponse';

/**
 * Adds a hook to one route while it is registered (from an `onRoute` hook). Hooks that only some
 * routes need are attached there instead of globally, so a cheap route such as the health check
 * runs none of them.
 */
export function addRouteHook(
  route: RouteOptions,
  name: HookName,
  hook: unknown,
  position: 'first' | 'last' = 'last',
): void {
  const current = route[name];
  const existing = current ? (Array.isArray(current) ? current : [current]) : [];
  (route as unknown as Record<HookName, unknown[]>)[name] =
    position === 'first' ? [hook, ...existing] : [...existing, hook];
}

export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutating(route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.some((m) => MUTATING_METHODS.has(m));
}
