//! Reporting bad input once, not once per packet.

use std::collections::HashSet;

/// Keys remembered at most: past that, new kinds of bad input go unreported (and that is said once).
const MAX_KEYS: usize = 4096;

/// What has been reported already, by key (a kind of bad input and where it came from).
#[derive(Debug, Default)]
pub struct Once {
    seen: HashSet<String>,
    full: bool,
}

impl Once {
    /// `true` the first time `key` comes, when the caller should log it; `false` afterwards.
    pub fn first(&mut self, key: String) -> bool {
        if self.seen.contains(&key) {
            return false;
        }
        if self.seen.len() >= MAX_KEYS {
            if !self.full {
                self.full = true;
                log::warn!("{MAX_KEYS} kinds of bad input reported; further ones are not logged");
            }
            return false;
        }
        self.seen.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_is_reported_once_and_the_keys_are_bounded() {
        let mut once = Once::default();
        assert!(once.first("a".into()));
        assert!(!once.first("a".into()));
        for i in 1..MAX_KEYS {
            assert!(once.first(i.to_string()));
        }
        assert!(!once.first("new".into()));
        assert!(once.full);
    }
}
