// A memory cgroup for one benchmark process, so the worker runs under a memory limit as a pod's
// container does. Node sizes its V8 heap from that limit (process.constrainedMemory()): its heap
// limit and young generation in a 2Gi pod are not those of this 24 GiB host, and both change the
// worker's RSS and its garbage collector's work.
//
// Written by hand: no npm package creates cgroups, and `systemd-run --scope -p MemoryMax=` needs
// systemd as PID 1, which containers and CI hosts often lack. Needs root (or a delegated subtree).
// cgroup v1 was checked on this host; the v2 branch follows the kernel's documented interface
// (memory.max, memory.events) and was not run here.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup';

export interface MemoryCgroup {
  /** The command, run in this cgroup: a shell joins it, then execs the command (same pid). */
  readonly wrap: (command: readonly string[]) => string[];
  /** How many times the kernel killed a process here for want of memory. */
  oomKills(): number;
  dispose(): void;
}

/** Where memory cgroups can be made here, or why not. */
function memoryCgroupSupport(): { version: 1 | 2 } | { reason: string } {
  if (existsSync(path.join(ROOT, 'cgroup.controllers'))) {
    const enabled = readFileSync(path.join(ROOT, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    return enabled.includes('memory') ? { version: 2 } : { reason: `cgroup v2 without the memory controller in ${ROOT}/cgroup.subtree_control` };
  }
  if (existsSync(path.join(ROOT, 'memory', 'memory.limit_in_bytes'))) return { version: 1 };
  return { reason: `no cgroup memory controller under ${ROOT}` };
}

export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const support = memoryCgroupSupport();
  if ('reason' in support) throw new Error(`memory limits need a cgroup: ${support.reason}`);
  const dir = support.version === 2 ? path.join(ROOT, name) : path.join(ROOT, 'memory', name);
  try {
    mkdirSync(dir, { recursive: true });
    if (support.version === 2) {
      writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
      // A pod has no swap by default; without this the limit would page out instead of killing.
      if (existsSync(path.join(dir, 'memory.swap.max'))) writeFileSync(path.join(dir, 'memory.swap.max'), '0');
    } else {
      writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    }
  } catch (error) {
    throw new Error(`could not make the memory cgroup ${dir} (root, or a delegated cgroup, is needed): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const eventsFile = support.version === 2 ? path.join(dir, 'memory.events') : path.join(dir, 'memory.oom_control');
  return {
    wrap: (command) => ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', path.join(dir, 'cgroup.procs'), ...command],
    oomKills: () => Number(/^oom_kill (\d+)$/m.exec(readFileSync(eventsFile, 'utf8'))?.[1] ?? 0),
    dispose: () => {
      try {
        rmdirSync(dir);
      } catch {
        // still holds a process that outlived its run: left for the kernel to report
      }
    },
  };
}

/** Kubernetes quantities as the chart's values write them: 2Gi, 512Mi, 1G. */
export function parseMemoryQuantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!match) throw new Error(`not a memory quantity: ${text} (e.g. 2Gi, 512Mi)`);
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
  return Math.round(Number(match[1]) * (match[2] ? units[match[2]]! : 1));
}
