/**
 * Wall time and the bench process's own CPU time over a phase, so a saturated load generator
 * shows up in the results instead of passing for a slow server.
 */
export interface LoadGeneratorUsage {
  wall_s: number;
  cpu_s: number;
  /** CPU time / wall time: 100 means one core fully busy with generating load. */
  percent_of_one_core: number;
}

/** Above this share of one core the bench's JavaScript thread is likely the limit. */
export const SATURATED_PERCENT = 85;

export function startMeter(): { stop(): LoadGeneratorUsage } {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  return {
    stop() {
      const wall = (performance.now() - wallStart) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      return {
        wall_s: Math.round(wall * 100) / 100,
        cpu_s: Math.round(cpuSeconds * 100) / 100,
        percent_of_one_core: wall > 0 ? Math.round((100 * cpuSeconds) / wall) : 0,
      };
    },
  };
}
