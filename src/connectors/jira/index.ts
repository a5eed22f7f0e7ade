import type { Connector } from '../../core/extract/connector.js';
import { jiraConfig } from './config.js';
import { discoverJira } from './discover.js';
import { retransformJira } from './extractor.js';
import { type JiraOptions, openJira } from './push-source.js';

/** Jira Cloud, pushed by webhooks (07 §5); tests build one with short HTTP timings. */
export function createJiraConnector(options: JiraOptions = {}): Connector {
  return {
    type: 'jira',
    traits: { direction: 'push', queryModes: ['local'] },
    config: jiraConfig,
    extract: (input, context) => retransformJira(input, context),
    discover: (source) => discoverJira(source),
    openPush: (deps) => openJira(deps, options),
  };
}

export const jiraConnector: Connector = createJiraConnector();
