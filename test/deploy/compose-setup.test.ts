import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { composeSchemaOf } from '../support/compose-setup.js';
import { MissingToolError } from '../support/system-tool.js';

describe('the Compose schema the deploy tests validate with', () => {
  it("is the Compose Specification inside docker-compose's own package", () => {
    const path = composeSchemaOf(inject('dockerComposePath'));
    expect(path).toBe(inject('composeSchemaPath'));
    expect(JSON.parse(readFileSync(path, 'utf8')).title).toBe('Compose Specification');
  });

  it('is refused, with the install command, for a program whose interpreter holds no compose package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agnes-compose-setup-'));
    try {
      const fake = join(dir, 'docker-compose');
      writeFileSync(fake, '#!/bin/sh\necho not compose\n', { mode: 0o755 });
      let error: unknown;
      try {
        composeSchemaOf(fake);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(MissingToolError);
      expect((error as Error).message).toContain('`sudo apt-get install -y docker-compose`');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
