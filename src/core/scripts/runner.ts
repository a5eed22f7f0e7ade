import { randomUUID } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { InstanceConfig } from '../config/index.js';
import { AgnesError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-info.js';
import { type BoundedOutcome, runBounded } from './bounded-process.js';
import {
  bwrapArgs,
  hasPrlimit,
  type Isolation,
  NODE_MODULES,
  PRIVATE_KEYS,
  PRLIMIT,
  probeBwrap,
  SCRATCH,
  SCRIPT_ENV,
  type SystemPath,
  systemPaths,
} from './sandbox.js';

export type ScriptRuntime = 'node' | 'python';

export interface ScriptRunRequest {
  source: string;
  runtime: ScriptRuntime;
  timeoutSeconds: number;
  /** Aborting kills the run (a scheduler shutting down). */
  signal?: AbortSignal;
}

export interface ScriptRunOutcome extends BoundedOutcome {
  isolation: 'bwrap' | 'none';
}

export interface ScriptRunnerOptions {
  settings: InstanceConfig['scripts'];
  dataDir: string;
  /** This replica's temp directory (`DATA_DIR/tmp/<instance_id>`); runs get scratch under `scripts/`. */
  tempDir: string;
  log: Logger;
  /** The node that runs node scripts: the app's own binary. */
  nodePath?: string;
  /** The package's node_modules, shown read-only to scripts. */
  nodeModulesDir?: string | null;
}

/** What the machine offers, found out once. */
interface Environment {
  isolation: Isolation;
  system: SystemPath[];
  prlimit: boolean;
  hidePrivateKeys: boolean;
}

/** Node reserves virtual memory far beyond its heap (about 0.7 GiB at start); the heap itself is capped by V8. */
const NODE_ADDRESS_SPACE_HEADROOM_MB = 1024;

const MIB = 1024 * 1024;

/** Node 20.15 and later; an older node runs wasm-using scripts out of address space. */
const WASM_WITHOUT_GUARDS = process.allowedNodeEnvironmentFlags.has('--disable-wasm-trap-handler');

const SCRIPT_FILE: Record<ScriptRuntime, string> = { node: 'script.mjs', python: 'script.py' };

/** node_modules beside the package, or the one it was installed into. */
export function packageNodeModules(root = PACKAGE_ROOT): string | null {
  const own = join(root, 'node_modules');
  if (existsSync(own)) return own;
  const parent = dirname(root);
  return basename(parent) === 'node_modules' ? parent : null;
}

/**
 * Runs admin scripts (08 §6): one scratch directory per run, the bubblewrap sandbox (or, when the
 * operator allowed it, the stripped environment and limits alone), at most
 * `scripts.max_concurrent` at once. Refusals are typed errors; a run that happened, however it
 * ended, is an outcome.
 */
export class ScriptRunner {
  readonly #options: ScriptRunnerOptions;
  readonly #settings: InstanceConfig['scripts'];
  readonly #nodePath: string;
  readonly #nodeModulesDir: string | null;
  readonly #stopping = new AbortController();
  readonly #active = new Set<Promise<unknown>>();
  #environment: Promise<Environment> | null = null;
  #running = 0;

  constructor(options: ScriptRunnerOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#nodePath = options.nodePath ?? process.execPath;
    this.#nodeModulesDir =
      options.nodeModulesDir === undefined ? packageNodeModules() : options.nodeModulesDir;
  }

  /** Probes bwrap and prlimit once (at startup, or at the first run); later calls share the answer. */
  async probe(): Promise<Isolation> {
    return (await this.#machine()).isolation;
  }

  #machine(): Promise<Environment> {
    this.#environment ??= (async () => {
      const system = await systemPaths();
      const [isolation, prlimit, hidePrivateKeys] = await Promise.all([
        probeBwrap(this.#settings.bwrap_path, system),
        hasPrlimit(),
        stat(PRIVATE_KEYS).then(
          (found) => found.isDirectory(),
          () => false,
        ),
      ]);
      if (!isolation.available)
        this.#options.log.warn(
          { reason: isolation.reason, allow_unisolated: this.#settings.allow_unisolated },
          'script isolation unavailable',
        );
      return { isolation, system, prlimit, hidePrivateKeys };
    })();
    return this.#environment;
  }

  async run(request: ScriptRunRequest): Promise<ScriptRunOutcome> {
    if (!this.#settings.enabled)
      throw new AgnesError('scripts_disabled', 'scripts are disabled on this instance');
    const environment = await this.#machine();
    const interpreter = request.runtime === 'node' ? this.#nodePath : this.#settings.python_path;
    const runnable = await access(interpreter, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (!runnable)
      throw new AgnesError(
        'runtime_unavailable',
        `the ${request.runtime} runtime is not available on this server`,
      );
    const isolated = environment.isolation.available;
    if (!isolated && !this.#settings.allow_unisolated)
      throw new AgnesError(
        'isolation_unavailable',
        'script isolation (bubblewrap) is not available on this server',
      );
    // Checked and taken with no await in between, so two requests never both take the last slot.
    if (this.#running >= this.#settings.max_concurrent)
      throw Object.assign(
        new AgnesError(
          'too_many_runs',
          `at most ${this.#settings.max_concurrent} scripts may run at once; try again when one has finished`,
        ),
        { retryAfter: 1 },
      );
    this.#running += 1;
    const run = this.#execute(request, environment, interpreter, isolated);
    this.#active.add(run);
    try {
      return await run;
    } finally {
      this.#active.delete(run);
      this.#running -= 1;
    }
  }

  /** Kills the runs under way and waits until their scratch directories are gone. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.allSettled([...this.#active]);
  }

  async #execute(
    request: ScriptRunRequest,
    environment: Environment,
    interpreter: string,
    isolated: boolean,
  ): Promise<ScriptRunOutcome> {
    const scratchDir = join(this.#options.tempDir, 'scripts', randomUUID());
    const extractsDir = join(this.#options.dataDir, 'extracts');
    await mkdir(extractsDir, { recursive: true });
    await mkdir(scratchDir, { recursive: true, mode: 0o700 });
    try {
      const file = SCRIPT_FILE[request.runtime];
      await writeFile(join(scratchDir, file), request.source, { mode: 0o600 });
      // ES modules ignore NODE_PATH: a node_modules link beside the script lets `import` find the packages.
      if (this.#nodeModulesDir)
        await symlink(isolated ? NODE_MODULES : this.#nodeModulesDir, join(scratchDir, 'node_modules'));
      const scriptPath = isolated ? `${SCRATCH}/${file}` : join(scratchDir, file);
      const command = this.#command(request.runtime, interpreter, scriptPath, environment.prlimit);
      const [program, ...args] = isolated
        ? [
            this.#settings.bwrap_path,
            ...bwrapArgs(
              {
                system: environment.system,
                hidePrivateKeys: environment.hidePrivateKeys,
                scratchDir,
                extractsDir,
                nodeModulesDir: this.#nodeModulesDir,
                extraReadOnly: this.#outsideSystem(interpreter, environment.system),
              },
              command,
            ),
          ]
        : command;
      const signal = request.signal
        ? AbortSignal.any([request.signal, this.#stopping.signal])
        : this.#stopping.signal;
      const outcome = await runBounded(program!, args, {
        cwd: scratchDir,
        env: isolated ? SCRIPT_ENV : this.#unisolatedEnv(scratchDir, extractsDir),
        timeoutMs: request.timeoutSeconds * 1000,
        maxOutputBytes: this.#settings.max_output_bytes,
        signal,
      });
      return { ...outcome, isolation: isolated ? 'bwrap' : 'none' };
    } finally {
      await rm(scratchDir, { recursive: true, force: true });
    }
  }

  /** The sandbox's environment with the host paths its names stand for. */
  #unisolatedEnv(scratchDir: string, extractsDir: string): Record<string, string> {
    return {
      ...SCRIPT_ENV,
      HOME: scratchDir,
      NODE_PATH: this.#nodeModulesDir ?? '',
      AGNES_DATA: extractsDir,
    };
  }

  /** The interpreter with its memory caps: address space through prlimit when present, the heap through V8. */
  #command(runtime: ScriptRuntime, interpreter: string, scriptPath: string, prlimit: boolean): string[] {
    const limitMb = this.#settings.memory_limit_mb;
    if (runtime === 'python')
      return prlimit
        ? [PRLIMIT, `--as=${limitMb * MIB}`, '--', interpreter, scriptPath]
        : [interpreter, scriptPath];
    const heap = `--max-old-space-size=${limitMb}`;
    if (!prlimit) return [interpreter, heap, scriptPath];
    // WebAssembly (which node's fetch uses) reserves 10 GiB of guard regions per instance under
    // the trap handler; without it, it reserves what it uses, so the cap does not break it.
    const wasm = WASM_WITHOUT_GUARDS ? ['--disable-wasm-trap-handler'] : [];
    const addressSpace = (limitMb + NODE_ADDRESS_SPACE_HEADROOM_MB) * MIB;
    return [PRLIMIT, `--as=${addressSpace}`, '--', interpreter, ...wasm, heap, scriptPath];
  }

  /** An interpreter outside the system directories (a node installed under /opt) is bound read-only too. */
  #outsideSystem(interpreter: string, system: readonly SystemPath[]): string[] {
    const inside = system.some((entry) => interpreter.startsWith(`${entry.path}/`));
    return inside ? [] : [interpreter];
  }
}
