/**
 * CPU and memory accounting from /proc: who used the cores during a phase, and
 * what one process (tree) used — so a number can be attributed to the process
 * that spent it on this shared machine. Off Linux every reading is "n/a".
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { fmt, table } from "./report.ts"
import { wallNow } from "./run.ts"

export const clockTicks = 100

export interface CpuSnapshot {
  readonly at: number
  readonly machineBusy: number
  readonly machineTotal: number
  readonly irq: number
  readonly steal: number
  readonly byPid: ReadonlyMap<number, { readonly comm: string; readonly ticks: number }>
}

/** utime + stime of one process (all its threads), in clock ticks; undefined once it is gone. */
export const processTicks = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return undefined
  }
}

export const cpuSnapshot = (): CpuSnapshot | undefined => {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0)
    const total = cpu.slice(0, 8).reduce((s, v) => s + v, 0)
    const byPid = new Map<number, { comm: string; ticks: number }>()
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
        const close = stat.lastIndexOf(")")
        const comm = stat.slice(stat.indexOf("(") + 1, close)
        const fields = stat.slice(close + 2).split(" ")
        byPid.set(Number(entry), { comm, ticks: Number(fields[11]) + Number(fields[12]) })
      } catch {
        // the process ended meanwhile
      }
    }
    return {
      at: wallNow(),
      machineBusy: total - idle,
      machineTotal: total,
      irq: (cpu[5] ?? 0) + (cpu[6] ?? 0),
      steal: cpu[7] ?? 0,
      byPid
    }
  } catch {
    return undefined
  }
}

/** CPU seconds the processes `include` picks spent between two snapshots (processes that exited meanwhile are lost). */
export const cpuSecondsOf = (
  before: CpuSnapshot | undefined,
  after: CpuSnapshot | undefined,
  include: (pid: number, comm: string) => boolean
): number => {
  if (!before || !after) return Number.NaN
  let ticks = 0
  for (const [pid, now] of after.byPid) {
    if (include(pid, now.comm)) ticks += Math.max(0, now.ticks - (before.byPid.get(pid)?.ticks ?? 0))
  }
  return ticks / clockTicks
}

/** Cores used per group between two snapshots. */
export const cpuUsage = (
  before: CpuSnapshot | undefined,
  after: CpuSnapshot | undefined,
  groupOf: (pid: number, comm: string) => string
): Array<[string, number]> => {
  if (!before || !after) return []
  const seconds = (after.at - before.at) / 1000
  const groups = new Map<string, number>()
  let accounted = 0
  for (const [pid, now] of after.byPid) {
    const ticks = now.ticks - (before.byPid.get(pid)?.ticks ?? 0)
    if (ticks <= 0) continue
    const group = groupOf(pid, now.comm)
    groups.set(group, (groups.get(group) ?? 0) + ticks)
    accounted += ticks
  }
  const machineTicks = after.machineBusy - before.machineBusy
  const cores = (ticks: number) => ticks / clockTicks / seconds
  const named = [...groups.entries()].filter(([name]) => !name.startsWith("other: "))
  const others = [...groups.entries()].filter(([name]) => name.startsWith("other: ")).sort((a, b) => b[1] - a[1])
  const out = named.map(([name, ticks]) => [name, cores(ticks)] as [string, number])
  // The noise: other processes on the box, the busiest by name.
  for (const [name, ticks] of others) if (cores(ticks) >= 0.05) out.push([name, cores(ticks)])
  const small = others.filter(([, ticks]) => cores(ticks) < 0.05).reduce((s, [, t]) => s + t, 0)
  const irq = after.irq - before.irq
  const steal = after.steal - before.steal
  out.push(["other: rest (exited processes, kernel)", cores(small + Math.max(0, machineTicks - accounted - irq - steal))])
  out.push(["irq + softirq (network stack)", cores(irq)])
  out.push(["steal (other VMs)", cores(steal)])
  out.push(["machine (all)", machineTicks / clockTicks / seconds])
  return out
}

export const readCpuCount = () => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => l.startsWith("processor")).length
  } catch {
    return Number.NaN
  }
}

export const cpuTable = (rows: Array<[string, number]>) =>
  table([`cpu (cores of ${readCpuCount()})`, "cores"], rows.map(([n, c]) => [n, fmt(c, 2)]))

/** The command line of a process, NUL separators as spaces ("" once it is gone). */
export const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim()
  } catch {
    return ""
  }
}

// ---------------------------------------------------------------------------
// Resident memory of one process

const statusKb = (pid: number, field: "VmRSS" | "VmHWM"): number | undefined => {
  try {
    const line = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return line ? Number(line[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * The peak resident set of a process over a phase: the kernel's high-water mark
 * (VmHWM, reset at the start through clear_refs) and, where that reset is not
 * allowed, the largest of samples taken every 100 ms.
 */
export const peakRss = (pid: number) => {
  let hwmReset = false
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5")
    hwmReset = true
  } catch {
    // not permitted here: the samples alone tell the peak
  }
  let sampledKb = statusKb(pid, "VmRSS") ?? 0
  const timer = setInterval(() => {
    sampledKb = Math.max(sampledKb, statusKb(pid, "VmRSS") ?? 0)
  }, 100)
  timer.unref()
  return {
    /** Peak RSS in MB since this call. */
    stop: (): number => {
      clearInterval(timer)
      const last = statusKb(pid, "VmRSS") ?? 0
      const hwm = hwmReset ? statusKb(pid, "VmHWM") ?? 0 : 0
      const kb = Math.max(sampledKb, last, hwm)
      return kb > 0 ? kb / 1024 : Number.NaN
    }
  }
}
