import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, lstat, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * The bubblewrap sandbox of admin scripts (08 §6): a fresh set of namespaces (no network, own PID
 * tree), the system directories read-only, the run's scratch directory as the only writable place,
 * the extracts read-only, and nothing else of the instance: no state store, uploads, secrets or
 * configuration.
 */

/** Where the sandbox shows the run's scratch directory, the extracts and the package's modules. */
export const SCRATCH = '/scratch';
export const EXTRACTS = '/data/extracts';
export const NODE_MODULES = '/opt/agnes/node_modules';

/** The whole environment a script sees, isolated or not (08 §6). */
export const SCRIPT_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/bin:/bin',
  HOME: SCRATCH,
  LANG: 'C.UTF-8',
  NODE_PATH: NODE_MODULES,
  AGNES_DATA: EXTRACTS,
};

const SYSTEM_DIRS = ['/usr', '/bin', '/lib', '/lib64'];
const CERTIFICATES = '/etc/ssl';
/** Private TLS keys live under /etc/ssl on Debian; the sandbox shows an empty directory there. */
export const PRIVATE_KEYS = '/etc/ssl/private';

/** A system path as this machine has it: a real directory, or a symlink (merged /usr: /bin → usr/bin). */
export type SystemPath = { path: string; kind: 'dir' } | { path: string; kind: 'symlink'; target: string };

/** How /usr, /bin, /lib, /lib64 and /etc/ssl exist here; absent ones are left out. */
export async function systemPaths(
  paths: readonly string[] = [...SYSTEM_DIRS, CERTIFICATES],
): Promise<SystemPath[]> {
  const found: SystemPath[] = [];
  for (const path of paths) {
    const stat = await lstat(path).catch(() => null);
    if (stat?.isSymbolicLink()) found.push({ path, kind: 'symlink', target: await readlink(path) });
    else if (stat?.isDirectory()) found.push({ path, kind: 'dir' });
  }
  return found;
}

export interface SandboxMounts {
  system: readonly SystemPath[];
  /** Whether /etc/ssl/private exists here (then it is hidden behind an empty tmpfs). */
  hidePrivateKeys: boolean;
  scratchDir: string;
  extractsDir: string;
  /** The package's node_modules, or null when it has none beside it. */
  nodeModulesDir: string | null;
  /** Files the command needs that are not under the system directories (a node outside /usr). */
  extraReadOnly: readonly string[];
}

/** New namespaces of every kind, the sandbox dies with us, and its own session (no terminal). */
function baseArgs(system: readonly SystemPath[]): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session'];
  for (const entry of system) {
    if (entry.kind === 'symlink') args.push('--symlink', entry.target, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  return args;
}

/** The bwrap arguments that run `command` in the sandbox (08 §6), in the order bwrap applies them. */
export function bwrapArgs(mounts: SandboxMounts, command: readonly string[]): string[] {
  const args = baseArgs(mounts.system);
  if (mounts.hidePrivateKeys) args.push('--tmpfs', PRIVATE_KEYS);
  for (const path of mounts.extraReadOnly) args.push('--ro-bind', path, path);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  args.push('--bind', mounts.scratchDir, SCRATCH, '--ro-bind', mounts.extractsDir, EXTRACTS);
  if (mounts.nodeModulesDir) args.push('--ro-bind', mounts.nodeModulesDir, NODE_MODULES);
  // The sandbox's own root (where /etc and /opt live) is read-only too: /scratch and /tmp are the
  // only writable places. bwrap sets PWD when it changes directory; `env -u` keeps the environment
  // to exactly SCRIPT_ENV.
  args.push('--remount-ro', '/', '--chdir', SCRATCH, '--', '/usr/bin/env', '-u', 'PWD', ...command);
  return args;
}

export type Isolation = { available: true } | { available: false; reason: string };

const run = promisify(execFile);

/**
 * Whether bwrap can build the sandbox on this machine: present, and able to create the namespaces
 * (a container may forbid them). Asked once at startup; a run is refused while it says no.
 */
export async function probeBwrap(bwrapPath: string, system: readonly SystemPath[]): Promise<Isolation> {
  try {
    await access(bwrapPath, constants.X_OK);
  } catch {
    return { available: false, reason: `bwrap not found at ${bwrapPath}` };
  }
  try {
    await run(bwrapPath, [...baseArgs(system), '--', 'true'], { timeout: 10_000, env: { ...SCRIPT_ENV } });
    return { available: true };
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    return { available: false, reason: `bwrap cannot create a sandbox: ${stderr || 'it failed'}` };
  }
}

export const PRLIMIT = '/usr/bin/prlimit';

/** Whether the address-space cap can be applied (util-linux's prlimit, visible in the sandbox too). */
export async function hasPrlimit(path = PRLIMIT): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}
