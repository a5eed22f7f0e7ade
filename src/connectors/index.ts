import { type Connector, registerConnector } from '../core/extract/connector.js';
import { localConnector } from './local/index.js';

/**
 * Every connector the app can run, by type. Built-in connectors are registered here exactly as a
 * third-party one would be, in this map and in the process-wide registry the app looks them up in.
 */
export const CONNECTORS: ReadonlyMap<string, Connector> = new Map([[localConnector.type, localConnector]]);

for (const connector of CONNECTORS.values()) registerConnector(connector);

export function connectorFor(type: string): Connector {
  const connector = CONNECTORS.get(type);
  if (!connector) throw new Error(`no connector of type ${type}`);
  return connector;
}
