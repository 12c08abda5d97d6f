/**
 * CPU time spent by the processes of a benchmark, read from /proc: where the machine's cores went during a run,
 * so an overhead can be put on the process that causes it (the Temporal server, the worker, PostgreSQL...).
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux everywhere). */
const TICKS = 100;

/** Names a process by its process group, its command or its pid; null leaves it out. */
export type Classify = (process: { pid: number; pgrp: number; comm: string }) => string | null;

/** CPU seconds (user + system) of each thread of a process, summed by thread name (`MainThread`, `V8Worker`...). */
function threadSeconds(pid: string, into: Map<string, number>, prefix: string): void {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const name = `${prefix}${stat.slice(stat.indexOf('(') + 1, close)}`;
      into.set(name, (into.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS);
    } catch {
      // the thread ended between listing and reading
    }
  }
}

/**
 * CPU seconds (user + system) per class of the processes alive now; for the classes in `byThread`, also per thread
 * name as `class/thread`.
 */
export function cpuSeconds(classify: Classify, byThread: ReadonlySet<string> = new Set()): Map<string, number> {
  const totals = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone between listing and reading
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    // Fields after the command: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) cutime(16) cstime(17). A
    // process's children that ended count in its cutime/cstime: PostgreSQL backends of a closed pool, say.
    const fields = stat.slice(close + 2).split(' ');
    const name = classify({ pid: Number(entry), pgrp: Number(fields[2]), comm });
    if (!name) continue;
    const seconds = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS;
    totals.set(name, (totals.get(name) ?? 0) + seconds);
    if (byThread.has(name)) threadSeconds(entry, totals, `${name}/`);
  }
  return totals;
}

/** Starts counting; the function returned answers the CPU seconds each class spent since. */
export function cpuMeter(classify: Classify, byThread: ReadonlySet<string> = new Set()): () => Map<string, number> {
  const before = cpuSeconds(classify, byThread);
  return () => {
    const spent = new Map<string, number>();
    for (const [name, seconds] of cpuSeconds(classify, byThread)) spent.set(name, Math.max(0, seconds - (before.get(name) ?? 0)));
    return spent;
  };
}
