//! The keepalive: one green thread that, for every connection, sends an echo request after `echo_interval` of
//! silence, drops a switch that leaves `echo_max_misses` of them unanswered, and drops a switch that has not
//! finished its handshake within `handshake_timeout`. It also forgets requests whose time is up but that no
//! requester watches any more (see [`super::connection::Connection::expire_pending`]). For idle switches it ends
//! the writer ([`super::connection::Connection::retire_idle_writer`]) and has the reader give back its read buffer
//! ([`super::connection::Connection::trim_idle_reader`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Switches;
use crate::green;

/// Runs forever.
pub fn run(switches: &Arc<Switches>) {
    let settings = switches.settings();
    let tick = (settings.echo_interval / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        green::sleep(tick);
        let now = Instant::now();
        let now_ms = crate::timer::coarse_now_ms();
        for connection in switches.all() {
            if connection.in_handover() {
                continue;
            }
            connection.expire_pending(now);
            connection.retire_idle_writer(now_ms);
            connection.trim_idle_reader();
            if !connection.is_main() && connection.age() > settings.handshake_timeout {
                connection.close(&format!("the handshake did not finish within {:?}", settings.handshake_timeout));
                continue;
            }
            let unanswered = connection.echoes_unanswered();
            if connection.idle() < settings.echo_interval * (unanswered + 1) {
                continue;
            }
            if unanswered >= settings.echo_max_misses {
                connection
                    .close(&format!("no answer to {unanswered} echo requests ({:?} apart)", settings.echo_interval));
            } else {
                connection.send_echo();
            }
        }
    }
}
