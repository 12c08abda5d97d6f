/**
 * CPU time spent by the processes of a benchmark, read from /proc: where the machine's cores went during a run,
 * so an overhead can be put on the process that causes it (the Temporal server, the worker, PostgreSQL...).
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux everywhere). */
const TICKS = 100;

/** What a /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) says, or null when the process or thread is gone. */
export function procStat(path: string): { comm: string; pgrp: number; seconds: number; childSeconds: number } | null {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return null; // gone between listing and reading
  }
  const close = stat.lastIndexOf(')');
  // Fields after the command: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) cutime(16) cstime(17).
  const fields = stat.slice(close + 2).split(' ').map(Number);
  return {
    comm: stat.slice(stat.indexOf('(') + 1, close),
    pgrp: fields[2]!,
    seconds: (fields[11]! + fields[12]!) / TICKS,
    childSeconds: (fields[13]! + fields[14]!) / TICKS,
  };
}

/** The pids of the processes alive now. */
export function processIds(): string[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
}

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
    const thread = procStat(`/proc/${pid}/task/${tid}/stat`);
    if (thread) into.set(`${prefix}${thread.comm}`, (into.get(`${prefix}${thread.comm}`) ?? 0) + thread.seconds);
  }
}

/**
 * CPU seconds (user + system) per class of the processes alive now; for the classes in `byThread`, also per thread
 * name as `class/thread`. A process's children that ended count in it (PostgreSQL backends of a closed pool, say).
 */
export function cpuSeconds(classify: Classify, byThread: ReadonlySet<string> = new Set()): Map<string, number> {
  const totals = new Map<string, number>();
  for (const entry of processIds()) {
    const stat = procStat(`/proc/${entry}/stat`);
    if (!stat) continue;
    const name = classify({ pid: Number(entry), pgrp: stat.pgrp, comm: stat.comm });
    if (!name) continue;
    totals.set(name, (totals.get(name) ?? 0) + stat.seconds + stat.childSeconds);
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
