import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

/**
 * CPU time spent by each part of the system during a phase, read from Linux's /proc: the API
 * processes the bench started, HAProxy in front of them, PostgreSQL (every process named postgres), Redis, and the
 * machine as a whole (the bench's own share is LoadGeneratorUsage). Divided by the work done
 * it gives a cost per operation: where the time goes, and, compared within one hour, whether a
 * change made an operation cheaper (it still follows the machine's speed: 465 to 833 µs per
 * lock request for the same code on the same day).
 */
export interface CpuUsage {
  wall_s: number;
  /** Seconds of CPU per part; null where the part could not be read (no /proc, no pid). */
  api_s: number | null;
  /** HAProxy in front of several API instances (BENCH_LOAD_BALANCER); null without one. */
  balancer_s: number | null;
  /** PgBouncer (BENCH_PGBOUNCER_URL); null when none runs on this machine. */
  pgbouncer_s: number | null;
  postgres_s: number | null;
  redis_s: number | null;
  /** Busy time of every core together (not idle, not waiting for I/O). */
  machine_s: number | null;
  /** machine_s / (wall_s × cores). */
  machine_busy_percent: number | null;
  /**
   * Time the hypervisor gave our cores to someone else, as a share of wall_s × cores: when it
   * is high the figures of this phase measured a busy neighbour, not Evently.
   */
  machine_stolen_percent: number | null;
}

/** Clock ticks per second of /proc's CPU figures (USER_HZ, 100 on every Linux build we run). */
const TICKS_PER_S = 100;

/**
 * utime + stime of one process, plus cutime + cstime: the time of its children that have exited
 * (PostgreSQL's postmaster collects that of backends that ended during the phase). 0 for a
 * process that has gone.
 */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [11, 12, 13, 14].reduce((sum, field) => sum + Number(fields[field]), 0);
  } catch {
    // The process exited between listing and reading: its parent counts its time from now on.
    return 0;
  }
}

/** Ticks of every process whose command name is `name`; null when there is none. */
function ticksByName(name: string): number | null {
  let ticks: number | null = null;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
    } catch {
      continue;
    }
    if (comm === name) ticks = (ticks ?? 0) + processTicks(Number(entry));
  }
  return ticks;
}

/** Busy and stolen ticks of all cores together, from the first line of /proc/stat. */
function machineTicks(): { busy: number; stolen: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] as string;
  // cpu user nice system idle iowait irq softirq steal …
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    busy: [user, nice, system, irq, softirq].reduce((sum: number, ticks) => sum + (ticks ?? 0), 0),
    stolen: steal ?? 0,
  };
}

interface Snapshot {
  wall: number;
  api: number;
  balancer: number | null;
  pgbouncer: number | null;
  postgres: number | null;
  redis: number | null;
  machine: { busy: number; stolen: number };
}

const hasProc = process.platform === "linux";

function snapshot(apiPids: number[]): Snapshot {
  return {
    wall: performance.now(),
    api: hasProc ? apiPids.reduce((sum, pid) => sum + processTicks(pid), 0) : 0,
    balancer: hasProc ? ticksByName("haproxy") : null,
    pgbouncer: hasProc ? ticksByName("pgbouncer") : null,
    postgres: hasProc ? ticksByName("postgres") : null,
    redis: hasProc ? ticksByName("redis-server") : null,
    machine: hasProc ? machineTicks() : { busy: 0, stolen: 0 },
  };
}

const seconds = (ticks: number) => Math.round((ticks / TICKS_PER_S) * 100) / 100;

const difference = (start: number | null, end: number | null) =>
  start === null || end === null ? null : seconds(end - start);

/** Starts measuring; `apiPids` are the API processes (empty for a target started elsewhere). */
export function startCpuMeter(apiPids: number[]): { stop(): CpuUsage } {
  const cores = cpus().length;
  const start = snapshot(apiPids);
  return {
    stop() {
      const end = snapshot(apiPids);
      const wall = (end.wall - start.wall) / 1000;
      const capacity = wall * cores;
      const share = (ticks: number) =>
        hasProc && capacity > 0 ? Math.round((100 * seconds(ticks)) / capacity) : null;
      return {
        wall_s: Math.round(wall * 100) / 100,
        api_s: hasProc && apiPids.length > 0 ? seconds(end.api - start.api) : null,
        balancer_s: difference(start.balancer, end.balancer),
        pgbouncer_s: difference(start.pgbouncer, end.pgbouncer),
        postgres_s: difference(start.postgres, end.postgres),
        redis_s: difference(start.redis, end.redis),
        machine_s: hasProc ? seconds(end.machine.busy - start.machine.busy) : null,
        machine_busy_percent: share(end.machine.busy - start.machine.busy),
        machine_stolen_percent: share(end.machine.stolen - start.machine.stolen),
      };
    },
  };
}
