//! The host side of the replicated key-value service for apps: each app keeps state that survives a failover
//! under its own prefix, `/<cluster>/apps/<app>/`, with get, put, delete, compare-and-swap and watch.
//!
//! Not reachable from apps yet: the `HostServices` fields and the plugin-api wrappers that call it come with the
//! app-facing part of issue 17 (role events, the key-value service). Until then only the tests use it.
#![cfg_attr(not(test), allow(dead_code))]

use std::sync::Arc;

use super::etcd::{Compare, Etcd, EtcdError, Op, Watch};
use super::Cluster;

/// A value and the revision of its last change (to compare against, or to watch from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The value.
    pub value: Vec<u8>,
    /// The revision of its last change.
    pub revision: i64,
}

/// One app's keys.
pub struct AppStore {
    etcd: Arc<Etcd>,
    prefix: String,
}

impl AppStore {
    /// The store of `app` in `cluster`.
    pub fn new(cluster: &Cluster, app: &str) -> AppStore {
        AppStore { etcd: Arc::clone(&cluster.etcd), prefix: format!("/{}/apps/{app}/", cluster.keys.cluster) }
    }

    fn key(&self, key: &str) -> Vec<u8> {
        format!("{}{key}", self.prefix).into_bytes()
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Versioned>, EtcdError> {
        let found = self.etcd.get(&self.key(key))?;
        Ok(found.map(|kv| Versioned { value: kv.value, revision: kv.mod_revision }))
    }

    /// Every key of the app (without the prefix) and its value.
    pub fn list(&self) -> Result<Vec<(String, Versioned)>, EtcdError> {
        let found = self.etcd.get_prefix(self.prefix.as_bytes())?;
        Ok(found
            .into_iter()
            .map(|kv| {
                let key = String::from_utf8_lossy(&kv.key[self.prefix.len().min(kv.key.len())..]).into_owned();
                (key, Versioned { value: kv.value, revision: kv.mod_revision })
            })
            .collect())
    }

    /// Sets `key`; returns the revision of the change.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<i64, EtcdError> {
        self.etcd.put(&self.key(key), value, 0)
    }

    /// Deletes `key`; `true` if it existed.
    pub fn delete(&self, key: &str) -> Result<bool, EtcdError> {
        Ok(self.etcd.delete(&self.key(key))? > 0)
    }

    /// Sets `key` to `new` only if it holds `expected` now (`None`: only if it does not exist); `true` if it did.
    pub fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, EtcdError> {
        let key = self.key(key);
        let compare = match expected {
            Some(value) => Compare::Value(key.clone(), value.to_vec()),
            None => Compare::CreateRevision(key.clone(), 0),
        };
        let put = Op::Put { key, value: new.to_vec(), lease: 0 };
        Ok(self.etcd.txn(&[compare], &[put], &[])?.succeeded)
    }

    /// Watches `key` for changes after `revision` (0: from now).
    pub fn watch(&self, key: &str, revision: i64) -> Result<Watch, EtcdError> {
        self.etcd.watch(&self.key(key), if revision > 0 { revision + 1 } else { 0 })
    }
}
