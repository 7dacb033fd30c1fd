import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (getconf CLK_TCK; 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = ((): number => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time a process has used so far (user + system, all its threads, those already ended
 * included), in ms, from /proc/PID/stat. Only differences mean anything; resolution is one clock
 * tick (10 ms), so measurement windows are seconds long.
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (15) fields[12].
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Resident set size now and its peak (VmRSS, VmHWM), in bytes, from /proc/PID/status, and the
 * part of it that is the process's own (RssAnon: not the node binary's shared file pages).
 */
export function processMemory(pid: number): { rssBytes: number; peakRssBytes: number; anonRssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (match === null || match[1] === undefined) throw new Error(`no ${key} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM'), anonRssBytes: kib('RssAnon') };
}

/** A CPU meter over one window: `start()` then `stop()`, both cheap enough for an IPC handler. */
export class CpuWindow {
  private startCpuMs = Number.NaN;
  private startWallMs = Number.NaN;
  private readonly foreignWindow = new ForeignLoadWindow();
  cpuMs = Number.NaN;
  wallMs = Number.NaN;

  constructor(private readonly pid: number) {}

  start(): void {
    this.startCpuMs = processCpuMs(this.pid);
    this.startWallMs = performance.now();
    this.foreignWindow.start();
  }

  stop(): void {
    this.cpuMs = processCpuMs(this.pid) - this.startCpuMs;
    this.wallMs = performance.now() - this.startWallMs;
    this.foreignWindow.stop();
  }

  /** Other processes' CPU over the same window. */
  get foreign(): ForeignLoad {
    return this.foreignWindow.result;
  }

  /** Cores' worth of CPU used over the window (1.0 = one core busy all the time). */
  get vcpu(): number {
    return this.cpuMs / this.wallMs;
  }
}

/** Busy CPU of the whole machine so far (all cores; everything but idle and iowait), in ms. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  const total = ticks.slice(0, 8).reduce((sum, v) => sum + v, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return ((total - idle) * 1000) / CLOCK_TICKS_PER_SECOND;
}

interface ProcessSample {
  readonly ppid: number;
  readonly name: string;
  readonly cpuMs: number;
}

function allProcesses(): Map<number, ProcessSample> {
  const found = new Map<number, ProcessSample>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      found.set(Number(entry), {
        ppid: Number(fields[1]),
        name,
        cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND,
      });
    } catch {
      // the process ended between readdir and read
    }
  }
  return found;
}

/** CPU used during a window by processes that are not this one or its descendants. */
export interface ForeignLoad {
  /** Cores' worth of CPU used by other processes (other sessions' builds and tests, ...). */
  readonly vcpu: number;
  /** The busiest of them, "name (pid): vCPU". */
  readonly top: string[];
}

/**
 * Watches for other work on the machine during a window: these machines are shared and noisy,
 * and a figure taken while a compiler ran next to it says so in results.json.
 */
export class ForeignLoadWindow {
  private before = new Map<number, ProcessSample>();
  private startWallMs = Number.NaN;
  result: ForeignLoad = { vcpu: Number.NaN, top: [] };

  start(): void {
    this.before = allProcesses();
    this.startWallMs = performance.now();
  }

  /** `log: false` keeps this reading out of takeForeignLoadLog() (a probe, not a measured window). */
  stop(log = true): void {
    const after = allProcesses();
    const wallMs = performance.now() - this.startWallMs;
    const ours = (pid: number): boolean => {
      for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
        if (p === process.pid) return true;
        p = after.get(p)?.ppid ?? this.before.get(p)?.ppid;
      }
      return false;
    };
    const foreign: { label: string; vcpu: number }[] = [];
    for (const [pid, sample] of after) {
      if (ours(pid)) continue;
      const used = sample.cpuMs - (this.before.get(pid)?.cpuMs ?? 0);
      if (used > 0) foreign.push({ label: `${sample.name} (${pid})`, vcpu: used / wallMs });
    }
    foreign.sort((a, b) => b.vcpu - a.vcpu);
    this.result = {
      vcpu: foreign.reduce((sum, f) => sum + f.vcpu, 0),
      top: foreign.slice(0, 3).map((f) => `${f.label}: ${f.vcpu.toFixed(2)}`),
    };
    if (log) foreignLog.push(this.result);
  }
}

const foreignLog: ForeignLoad[] = [];

/** Every foreign-load reading since the last call, and forgets them. */
export function takeForeignLoadLog(): ForeignLoad[] {
  return foreignLog.splice(0, foreignLog.length);
}

/** What the kernel says about a process's threads that are alive now: CPU and wake-ups. */
export interface ThreadsSample {
  /** CPU time of the live threads (user + system), in ns, from /proc/PID/task/TID/schedstat. */
  readonly cpuNs: number;
  /** Times the main (JavaScript) thread went to sleep and was woken (voluntary context switches). */
  readonly mainWakeups: number;
  /** The same summed over every live thread (V8's platform workers, libuv's pool, ...). */
  readonly allWakeups: number;
  readonly threads: number;
}

/**
 * A finer reading than processCpuMs for an idle process: schedstat counts nanoseconds, where
 * /proc/PID/stat counts 10 ms ticks. Threads that ended are not counted (an idle process starts
 * none), so only differences between two readings of a long-lived process mean anything.
 */
export function threadsSample(pid: number): ThreadsSample {
  let cpuNs = 0;
  let mainWakeups = 0;
  let allWakeups = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const switches = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      cpuNs += Number(schedstat[0] ?? 0);
      allWakeups += switches;
      if (tid === String(pid)) mainWakeups = switches;
      threads += 1;
    } catch {
      // the thread ended between readdir and read
    }
  }
  return { cpuNs, mainWakeups, allWakeups, threads };
}
