//! Readings of a process from `/proc`: CPU time (utime + stime) and memory (VmRSS,
//! VmHWM), and the machine's load average.

use std::time::Instant;

/// Clock ticks per second of `/proc/PID/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds (user + system) used so far by process `pid`.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`, which may contain spaces: field 3 is the first.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// A value in kB from `/proc/PID/status`, e.g. `VmRSS` or `VmHWM`, in MB.
pub fn status_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        let kb: f64 = value.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb / 1024.0)
    })
}

/// `/proc/loadavg`, trimmed.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// CPU use of a process over an interval, in cores.
pub struct CpuMeter {
    pid: u32,
    start: Instant,
    cpu: f64,
}

impl CpuMeter {
    /// Starts measuring process `pid`.
    pub fn start(pid: u32) -> CpuMeter {
        CpuMeter {
            pid,
            start: Instant::now(),
            cpu: cpu_seconds(pid).unwrap_or(0.0),
        }
    }

    /// Average cores used since the start.
    pub fn cores(&self) -> f64 {
        let wall = self.start.elapsed().as_secs_f64();
        let cpu = cpu_seconds(self.pid).unwrap_or(self.cpu) - self.cpu;
        if wall > 0.0 {
            cpu / wall
        } else {
            0.0
        }
    }
}
