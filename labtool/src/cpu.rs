//! CPU accounting: the CPU time a test process used (its rusage, collected when it is
//! reaped), how busy the whole machine was while it ran (`/proc/stat`), and, in a
//! container with a CPU quota (Gradescope gives half a core), how much of the run its
//! cgroup spent throttled (`cpu.stat`): there `/proc/stat` shows the host, not the quota.
//!
//! The suites are sleep-bound: a correct Raft uses a small fraction of a core per test,
//! so many runs fit on one machine at once. A run that finds the machine saturated may
//! fail for want of CPU rather than for a bug; grade and stress say which runs those were.

use std::io;
use std::process::{Child, ExitStatus};

/// The machine counts as saturated during a run when its cores were at least this busy,
/// averaged over the run.
pub const SATURATED: f64 = 0.90;

/// A CPU quota counts as exhausted during a run when the cgroup was throttled for at
/// least this share of the run's wall time (the test's threads got no CPU meanwhile).
pub const THROTTLED: f64 = 0.10;

/// Waits for `child` without blocking (`block == false`) or until it exits, and returns
/// its exit status and the user + system CPU seconds it (all its threads, and any
/// children it waited for) used. `Ok(None)`: still running.
///
/// The child is reaped here, so `child.wait()` must not be called after a `Some`.
#[cfg(unix)]
pub fn reap(child: &Child, block: bool) -> io::Result<Option<(ExitStatus, f64)>> {
    use std::os::unix::process::ExitStatusExt;
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if block { 0 } else { libc::WNOHANG };
    loop {
        // SAFETY: pid is our own unreaped child; status and usage are valid for writes.
        let got = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        match got {
            0 => return Ok(None),
            -1 => {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            _ => {
                let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
                let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
                return Ok(Some((ExitStatus::from_raw(status), cpu)));
            }
        }
    }
}

/// Cumulative CPU time of the whole machine, from the first line of `/proc/stat`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineTicks {
    busy: u64,
    total: u64,
}

impl MachineTicks {
    /// Now; `None` where `/proc/stat` cannot be read (not Linux).
    pub fn now() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The `cpu` line: user nice system idle iowait irq softirq steal ... (in ticks).
    /// Idle and iowait are idle; guest time is already in user and nice.
    fn parse(stat: &str) -> Option<Self> {
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let fields: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        if fields.len() < 5 {
            return None;
        }
        let total: u64 = fields.iter().sum();
        let idle = fields[3] + fields[4];
        Some(Self {
            busy: total - idle,
            total,
        })
    }

    /// How busy the machine's cores were between `earlier` and `self`, 0 to 1; `None`
    /// when no tick passed (too short to tell).
    pub fn busy_since(&self, earlier: &Self) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total)?;
        let busy = self.busy.checked_sub(earlier.busy)?;
        (total > 0).then(|| (busy as f64 / total as f64).min(1.0))
    }
}

/// How long this process's CPU cgroup has been throttled by its quota, from the cgroup's
/// `cpu.stat` (v2 `throttled_usec`, v1 `throttled_time` in ns).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Throttling {
    throttled_ns: u64,
    at: std::time::Instant,
}

impl Throttling {
    /// Now; `None` where no cgroup CPU statistics can be read (or none has a quota).
    pub fn now() -> Option<Self> {
        let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let throttled_ns = cpu_stat_files(&cgroups)
            .iter()
            .find_map(|f| Self::parse(&std::fs::read_to_string(f).ok()?))?;
        Some(Self {
            throttled_ns,
            at: std::time::Instant::now(),
        })
    }

    fn parse(stat: &str) -> Option<u64> {
        stat.lines().find_map(|l| {
            let (key, value) = l.split_once(' ')?;
            let value: u64 = value.trim().parse().ok()?;
            match key {
                "throttled_usec" => Some(value * 1000),
                "throttled_time" => Some(value),
                _ => None,
            }
        })
    }

    /// The share of the wall time between `earlier` and `self` that the cgroup spent
    /// throttled, 0 to 1; `None` when no time passed.
    pub fn share_since(&self, earlier: &Self) -> Option<f64> {
        let wall = self.at.checked_duration_since(earlier.at)?.as_nanos() as f64;
        let throttled = self.throttled_ns.checked_sub(earlier.throttled_ns)? as f64;
        (wall > 0.0).then(|| (throttled / wall).min(1.0))
    }
}

/// Where the `cpu.stat` of the cgroup named in `/proc/self/cgroup` may be: under the
/// unified (v2) hierarchy, or v1's `cpu` controller, mounted the usual ways.
fn cpu_stat_files(cgroups: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let path = path.trim_start_matches('/');
        let roots: &[&str] = if controllers.is_empty() {
            &["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        } else if controllers.split(',').any(|c| c == "cpu") {
            &["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]
        } else {
            continue;
        };
        for root in roots {
            files.push(std::path::Path::new(root).join(path).join("cpu.stat"));
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_busy_is_the_share_of_non_idle_ticks() {
        let a = MachineTicks::parse("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5\n").unwrap();
        let b = MachineTicks::parse("cpu  190 0 60 820 50 0 0 0 0 0\n").unwrap();
        // 100 more busy ticks out of 120.
        assert!((b.busy_since(&a).unwrap() - 100.0 / 120.0).abs() < 1e-9);
        assert_eq!(a.busy_since(&a), None);
        assert_eq!(a.busy_since(&b), None, "counters do not go backwards");
        assert_eq!(MachineTicks::parse("intr 1 2 3"), None);
        assert_eq!(MachineTicks::parse("cpu  1 2 x 4 5"), None);
    }

    #[test]
    fn throttling_is_read_from_either_cgroup_version() {
        let v2 = "usage_usec 100\nnr_periods 10\nnr_throttled 3\nthrottled_usec 2500\n";
        assert_eq!(Throttling::parse(v2), Some(2_500_000));
        let v1 = "nr_periods 10\nnr_throttled 3\nthrottled_time 7000\n";
        assert_eq!(Throttling::parse(v1), Some(7000));
        assert_eq!(Throttling::parse("usage_usec 1\n"), None);
        let at = std::time::Instant::now();
        let a = Throttling {
            throttled_ns: 0,
            at,
        };
        let b = Throttling {
            throttled_ns: 250_000_000,
            at: at + std::time::Duration::from_secs(1),
        };
        assert!((b.share_since(&a).unwrap() - 0.25).abs() < 1e-9);
        let files = cpu_stat_files("0::/a/b\n4:memory:/m\n1:cpu,cpuacct:/half\n");
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "/sys/fs/cgroup/a/b/cpu.stat",
                "/sys/fs/cgroup/unified/a/b/cpu.stat",
                "/sys/fs/cgroup/cpu/half/cpu.stat",
                "/sys/fs/cgroup/cpu,cpuacct/half/cpu.stat",
            ]
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    // reap() is the wait: it reaps the child with wait4, which clippy cannot see.
    #[allow(clippy::zombie_processes)]
    fn the_machine_and_a_child_are_measured() {
        assert!(MachineTicks::now().is_some());
        // A child that burns about 0.3 s of CPU.
        let child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .spawn()
            .unwrap();
        let (status, cpu) = reap(&child, true).unwrap().unwrap();
        assert!(status.success());
        assert!(cpu > 0.01, "a busy child used {cpu} s of CPU");
    }
}
