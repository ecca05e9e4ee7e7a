//! The process's resource budget: how many switch connections it can hold before the kernel refuses it descriptors
//! or memory mappings, so that the host refuses the connection past that instead of failing somewhere inside.
//!
//! Each switch connection costs one file descriptor and two coroutine stacks (its reader and writer), each stack a
//! mapping plus its guard page: four entries of the kernel's per-process mapping table (`vm.max_map_count`, 65,530
//! by default). Past that table's end every `mmap` fails, and with it every new stack and heap chunk.

use std::io::BufRead;

/// Memory mappings one switch connection needs (two stacks, each with its guard page).
pub const MAPPINGS_PER_CONNECTION: u64 = 4;
/// Mappings kept for everything else: apps' green threads (two each), heap arenas, libraries loaded later.
const RESERVED_MAPPINGS: u64 = 8_192;
/// Descriptors kept for everything else: libraries, the control socket, logs, apps' own sockets.
const RESERVED_FDS: u64 = 256;

/// What the kernel lets this process have, and what it uses already.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// The open-file limit (after [`Budget::probe`] raised the soft limit to the hard one).
    pub fds: u64,
    /// `vm.max_map_count`.
    pub max_mappings: u64,
    /// Mappings in use when probed.
    pub mappings_in_use: u64,
}

impl Budget {
    /// Raises the open-file soft limit to the hard limit (as servers do) and reads the mapping limit and use.
    pub fn probe() -> Budget {
        use nix::sys::resource::{getrlimit, setrlimit, Resource};
        let fds = match getrlimit(Resource::RLIMIT_NOFILE) {
            Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                Ok(()) => hard,
                Err(_) => soft,
            },
            Ok((soft, _)) => soft,
            Err(_) => 1024,
        };
        let max_mappings = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(65_530);
        let mappings_in_use = std::fs::File::open("/proc/self/maps")
            .map(|file| std::io::BufReader::new(file).lines().count() as u64)
            .unwrap_or(1_000);
        Budget { fds, max_mappings, mappings_in_use }
    }

    /// The most switch connections this process can hold, leaving `other_fds` descriptors (the REST server's
    /// connections) and a reserve for the rest.
    pub fn switch_connections(&self, other_fds: u64) -> u64 {
        let by_fds = self.fds.saturating_sub(RESERVED_FDS + other_fds);
        let by_mappings =
            self.max_mappings.saturating_sub(self.mappings_in_use + RESERVED_MAPPINGS) / MAPPINGS_PER_CONNECTION;
        by_fds.min(by_mappings).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scarcer_resource_sets_the_switch_budget() {
        let budget = Budget { fds: 20_000, max_mappings: 65_530, mappings_in_use: 338 };
        assert_eq!(budget.switch_connections(1_024), (65_530 - 338 - RESERVED_MAPPINGS) / 4);
        let few_fds = Budget { fds: 1_024, ..budget };
        assert_eq!(few_fds.switch_connections(512), 1_024 - 256 - 512);
        let nothing_left = Budget { fds: 100, ..budget };
        assert_eq!(nothing_left.switch_connections(512), 1, "never zero: one switch is always tried");
    }

    #[test]
    fn probing_reads_this_process() {
        let budget = Budget::probe();
        assert!(budget.fds >= 64 && budget.max_mappings > budget.mappings_in_use && budget.mappings_in_use > 10);
    }
}
