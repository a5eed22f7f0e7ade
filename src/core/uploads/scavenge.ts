import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps a streamed upload from growing the process by its own size in dead buffers. node:http
 * copies every body chunk (up to 64 KiB) out of its parser into a new Buffer, and the V8 of
 * Node 20 never starts a scavenge for young ArrayBuffer memory, so the copies of a 50 MiB upload
 * pile up until the external-memory limit forces a collection (RSS +31 MiB; a bare node:http
 * server that drops the body grows the same). A minor GC after every `SCAVENGE_BYTES` of received
 * body frees them at about that pace, for about a millisecond each.
 */
export const SCAVENGE_BYTES = 8 * 1024 * 1024;

type MinorGc = (options: { type: 'minor' }) => void;

let gc: MinorGc | undefined;
let since = 0;

/**
 * `--expose-gc` set after start-up only takes effect for contexts created afterwards: `gc` is
 * taken from one new context, and the flag is cleared again so no later context (script
 * sandboxes included) gets it.
 */
function minorGc(): MinorGc {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as MinorGc;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return gc;
}

/** Counts body bytes received by this process; every `SCAVENGE_BYTES` runs a minor GC. */
export function noteReceived(bytes: number): void {
  since += bytes;
  if (since < SCAVENGE_BYTES) return;
  since = 0;
  minorGc()({ type: 'minor' });
}
