import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../../../src/core/scripts/capped-output.js';
import { parseScriptOutput } from '../../../src/core/scripts/output.js';
import { bwrapArgs } from '../../../src/core/scripts/sandbox.js';

describe('the output contract of scripts (08 §6)', () => {
  it('accepts one JSON object of the documented shape', () => {
    expect(parseScriptOutput('{"notify":false}\n')).toEqual({ output: { notify: false }, error: null });
    const full = { notify: true, title: 'T', message: 'M', cooldown: '6h', data: { n: 1 } };
    expect(parseScriptOutput(JSON.stringify(full))).toEqual({ output: full, error: null });
  });

  it('calls anything that is not JSON not_json', () => {
    for (const stdout of ['', 'hello', '{"notify":true}\n{"notify":false}', '{"notify":tru'])
      expect(parseScriptOutput(stdout).error, stdout).toBe('not_json');
  });

  it('calls JSON of another shape invalid_shape', () => {
    for (const value of [
      [],
      'text',
      {},
      { notify: 'yes' },
      { notify: true },
      { notify: true, message: '  ' },
      { notify: false, cooldown: '2h' },
      { notify: true, message: 'm', title: 'x'.repeat(201) },
      { notify: true, message: 'x'.repeat(3501) },
      { notify: false, extra: 1 },
      { notify: false, data: [1] },
    ])
      expect(parseScriptOutput(JSON.stringify(value)).error, JSON.stringify(value)).toBe('invalid_shape');
  });
});

describe('capped output', () => {
  it('keeps the first bytes, marks the cut with a [truncated] line and drops the rest', () => {
    const output = new CappedOutput(5);
    output.push(Buffer.from('abc'));
    output.push(Buffer.from('defgh'));
    output.push(Buffer.from('ijk'));
    expect(output.truncated).toBe(true);
    expect(output.text()).toBe('abcde\n[truncated]');
  });

  it('is not truncated at exactly the cap', () => {
    const output = new CappedOutput(3);
    output.push(Buffer.from('ab\n'));
    expect(output.truncated).toBe(false);
    expect(output.text()).toBe('ab\n');
  });
});

describe('bwrap arguments', () => {
  it('binds real directories read-only, recreates symlinked ones, and runs in /scratch', () => {
    const args = bwrapArgs(
      {
        system: [
          { path: '/usr', kind: 'dir' },
          { path: '/bin', kind: 'symlink', target: 'usr/bin' },
          { path: '/etc/ssl', kind: 'dir' },
        ],
        hidePrivateKeys: true,
        scratchDir: '/data/tmp/scripts/r1',
        extractsDir: '/data/extracts',
        nodeModulesDir: '/app/node_modules',
        extraReadOnly: [],
      },
      ['node', 'script.mjs'],
    );
    expect(args.join(' ')).toBe(
      [
        '--unshare-all --die-with-parent --new-session',
        '--ro-bind /usr /usr --symlink usr/bin /bin --ro-bind /etc/ssl /etc/ssl --tmpfs /etc/ssl/private',
        '--proc /proc --dev /dev --tmpfs /tmp',
        '--bind /data/tmp/scripts/r1 /scratch --ro-bind /data/extracts /data/extracts',
        '--ro-bind /app/node_modules /opt/agnes/node_modules',
        '--remount-ro / --chdir /scratch -- /usr/bin/env -u PWD node script.mjs',
      ].join(' '),
    );
  });
});
