//! The chat example with real TCP clients on loopback: lines fan out to every other client, a client that leaves
//! is dropped quietly, and shutdown stops threads parked in socket reads.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{install, lib_path, temp_dir, Host};

struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to chat");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        Client { stream, reader }
    }

    fn say(&mut self, line: &str) {
        self.stream.write_all(format!("{line}\n").as_bytes()).expect("send line");
    }

    fn hear(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a line arrives");
        line
    }

    fn hears_nothing_for(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).expect("timeout");
        let mut byte = [0u8; 1];
        let silent = matches!(self.reader.get_mut().read(&mut byte), Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut));
        self.stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        silent
    }
}

#[test]
fn lines_fan_out_to_the_other_clients_and_leavers_are_dropped() {
    let dir = temp_dir("chat");
    install(&dir, &[(&lib_path("chat"), "libchat.so")]);
    let config = dir.join("tatsu.toml");
    std::fs::write(&config, "[app.chat]\nlisten = \"127.0.0.1:0\"\n").expect("config");
    let host = Host::start(
        &[
            "run",
            "--plugins-dir",
            &dir.display().to_string(),
            "--config",
            &config.display().to_string(),
            "--ofp-tcp-listen-port",
            "0",
        ],
        &[],
    );
    let line = host.wait_for(&["chat server listening on 127.0.0.1:"]);
    let port: u16 = line.rsplit(':').next().and_then(|p| p.trim().parse().ok()).expect("port");

    let mut clients: Vec<Client> = (0..4).map(|_| Client::connect(port)).collect();
    while host.log().iter().filter(|l| l.contains("participant joined chat")).count() < 4 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let first = clients[0].stream.local_addr().expect("addr");
    clients[0].say("hello, everyone");
    for client in &mut clients[1..] {
        assert_eq!(client.hear(), format!("{first}: hello, everyone\n"));
    }
    assert!(clients[0].hears_nothing_for(Duration::from_millis(200)), "the sender does not hear itself");

    // A client leaves; the rest carry on.
    let leaver = clients.remove(1);
    drop(leaver);
    host.wait_for(&["participant left chat"]);
    let third = clients[1].stream.local_addr().expect("addr");
    clients[1].say("still here");
    assert_eq!(clients[0].hear(), format!("{third}: still here\n"));
    assert_eq!(clients[2].hear(), format!("{third}: still here\n"));

    // Shutdown with clients connected: their reader threads are parked in socket reads and must stop.
    let log = host.stop().join("\n");
    assert!(log.contains("chat server stopping with 3 clients"), "{log}");
    assert!(!log.contains("did not stop in time"), "{log}");
}
