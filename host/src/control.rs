//! The control socket: a unix socket, readable and writable only by its owner, on which `tatsu restart` and
//! `tatsu load` talk to the running host. One command per line; one reply line, `ok ...` or `error ...`.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default control socket: `$TATSU_CONTROL_SOCKET`, else `/run/tatsu/control.sock` for root, else
/// `$XDG_RUNTIME_DIR/tatsu.sock`, else `/tmp/tatsu-UID.sock`.
pub fn default_path() -> PathBuf {
    if let Some(path) = std::env::var_os("TATSU_CONTROL_SOCKET") {
        return PathBuf::from(path);
    }
    // SAFETY: getuid cannot fail and has no preconditions.
    let uid = unsafe { nix::libc::getuid() };
    if uid == 0 {
        return PathBuf::from("/run/tatsu/control.sock");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("tatsu.sock"),
        None => PathBuf::from(format!("/tmp/tatsu-{uid}.sock")),
    }
}

/// Binds the control socket at `path` (owner-only permissions). A stale socket file is replaced; a live one
/// (another host answers on it) is an error.
pub fn bind(path: &Path) -> Result<UnixListener, String> {
    if UnixStream::connect(path).is_ok() {
        return Err(format!("another tatsu host is running with control socket {}", path.display()));
    }
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let listener =
        UnixListener::bind(path).map_err(|e| format!("cannot bind control socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict control socket {}: {e}", path.display()))?;
    Ok(listener)
}

/// A control socket inherited from the predecessor host.
pub fn inherit(fd: RawFd) -> UnixListener {
    // SAFETY: the predecessor passed this listening unix socket; nothing else here owns it.
    unsafe { UnixListener::from_raw_fd(fd) }
}

/// Serves the control socket on its own thread: each client sends one command line, `answer` gives the reply line
/// and whether the host has handed over to a successor; then `on_restarted` runs and the thread ends (the socket
/// stays open, the successor has it too, until the process exits).
pub fn serve(
    listener: UnixListener,
    answer: impl Fn(&str) -> (String, bool) + Send + 'static,
    on_restarted: impl FnOnce() + Send + 'static,
) {
    let spawned = std::thread::Builder::new().name("tatsu-control".to_owned()).spawn(move || {
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => {
                    if handle(stream, &answer) {
                        on_restarted();
                        let _ = listener.into_raw_fd();
                        return;
                    }
                }
                Err(e) => log::warn!(target: "tatsu::control", "control socket: {e}"),
            }
        }
    });
    if let Err(e) = spawned {
        log::error!(target: "tatsu::control", "cannot start the control socket thread: {e}");
    }
}

/// Handles one client; `true` if a restart handed the host over.
fn handle(stream: UnixStream, answer: &impl Fn(&str) -> (String, bool)) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    if BufReader::new(&stream).read_line(&mut line).is_err() {
        return false;
    }
    let (reply, restarted) = answer(line.trim());
    let _ = (&stream).write_all(format!("{reply}\n").as_bytes());
    restarted
}

/// Sends one command to the host at `path` and returns its reply line.
pub fn request(path: &Path, command: &str, timeout: Duration) -> Result<String, String> {
    let stream = UnixStream::connect(path)
        .map_err(|e| format!("cannot reach the tatsu host at {}: {e} (is it running?)", path.display()))?;
    let _ = stream.set_read_timeout(Some(timeout));
    (&stream).write_all(format!("{command}\n").as_bytes()).map_err(|e| format!("control socket: {e}"))?;
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply).map_err(|e| format!("no reply from the host: {e}"))?;
    if reply.is_empty() {
        return Err("the host closed the control socket without replying".to_owned());
    }
    Ok(reply.trim_end().to_owned())
}
