import cliProgress from 'cli-progress';

/** Byte progress for downloads: a multi-bar on a TTY (overall plus one line per active file), else nothing. */
export interface Progress {
  start(file: string, size: number): (bytes: number) => void;
  finish(file: string): void;
  stop(): void;
}

const silent: Progress = { start: () => () => undefined, finish: () => undefined, stop: () => undefined };

function mb(value: number): string {
  return (value / 1024 ** 2).toFixed(1);
}

export function createProgress(enabled: boolean, totalBytes: number): Progress {
  if (!enabled || !process.stderr.isTTY || totalBytes === 0) return silent;
  const bars = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
      format: '{label} [{bar}] {percentage}% {done}/{size} MB {speed}',
      formatValue: (value) => String(value),
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let done = 0;
  const overall = bars.create(totalBytes, 0, {
    label: 'total'.padEnd(24),
    done: '0.0',
    size: mb(totalBytes),
    speed: '',
  });
  const files = new Map<string, cliProgress.SingleBar>();
  return {
    start(file, size) {
      const bar = bars.create(size, 0, {
        label: file.slice(-24).padEnd(24),
        done: '0.0',
        size: mb(size),
        speed: '',
      });
      files.set(file, bar);
      let fileDone = 0;
      return (bytes) => {
        done += bytes;
        fileDone += bytes;
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        bar.update(fileDone, { done: mb(fileDone) });
        overall.update(done, { done: mb(done), speed: `${mb(done / seconds)} MB/s` });
      };
    },
    finish(file) {
      const bar = files.get(file);
      if (bar) bars.remove(bar);
      files.delete(file);
    },
    stop() {
      bars.stop();
    },
  };
}
