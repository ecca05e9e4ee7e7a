//! A real etcd cluster for tests: Debian's `etcd-server`, members started on free loopback ports with their own
//! data directories, stopped (and their data removed) when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::temp_dir;

/// A free TCP port on loopback (free when asked).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Whether an `etcd` binary is installed (it says so when not: the caller skips its test).
pub fn etcd_installed() -> bool {
    let found = Command::new("etcd").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    if !found {
        eprintln!("etcd is not installed (apt-get install etcd-server): skipping");
    }
    found
}

/// An etcd cluster on loopback.
pub struct Etcd {
    members: Vec<Option<Child>>,
    args: Vec<Vec<String>>,
    urls: Vec<String>,
    dirs: Vec<PathBuf>,
}

impl Etcd {
    /// Starts `n` members named for test `name` and waits until they serve.
    pub fn start(name: &str, n: usize) -> Etcd {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let initial: Vec<String> =
            ports.iter().enumerate().map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}")).collect();
        let mut etcd = Etcd { members: Vec::new(), args: Vec::new(), urls: Vec::new(), dirs: Vec::new() };
        for (i, (client, peer)) in ports.iter().enumerate() {
            let dir = temp_dir(&format!("etcd-{name}-m{i}"));
            let url = format!("http://127.0.0.1:{client}");
            let peer = format!("http://127.0.0.1:{peer}");
            let args: Vec<String> = [
                "--name",
                &format!("m{i}"),
                "--data-dir",
                &dir.display().to_string(),
                "--listen-client-urls",
                &url,
                "--advertise-client-urls",
                &url,
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
                "--initial-cluster",
                &initial.join(","),
                "--initial-cluster-token",
                &format!("tatsu-{name}-{}", std::process::id()),
                "--heartbeat-interval",
                "50",
                "--election-timeout",
                "500",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            etcd.args.push(args);
            etcd.members.push(None);
            etcd.urls.push(url);
            etcd.dirs.push(dir);
            etcd.restart(i);
        }
        etcd.wait_healthy();
        etcd
    }

    /// Starts member `i` (again, with its data).
    pub fn restart(&mut self, i: usize) {
        let child = Command::new("etcd")
            .args(&self.args[i])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd starts");
        self.members[i] = Some(child);
    }

    /// Waits until every running member answers a read (which needs a quorum).
    pub fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let running = self.urls.iter().zip(&self.members).filter(|(_, m)| m.is_some());
            let healthy = running.map(|(url, _)| post(url, "/v3/kv/range", r#"{"key":"eA=="}"#)).all(|a| a.is_some());
            if healthy {
                return;
            }
            assert!(Instant::now() < deadline, "etcd at {:?} did not become healthy", self.urls);
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Kills member `i` (SIGKILL); its data stays for [`Etcd::restart`].
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The client URLs, comma-separated (what `--cluster-etcd` takes).
    pub fn endpoints(&self) -> String {
        self.urls.join(",")
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// POSTs `body` to etcd's JSON gateway at `url`; the response body if the status is 200.
pub fn post(url: &str, path: &str, body: &str) -> Option<String> {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}
