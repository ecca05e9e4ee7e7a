//! `tatsu-bench-chat-fanout HOST:PORT [CLIENTS] [LINES]`: connects CLIENTS (default 1,000) clients to a chat
//! server (tatsu's `examples/chat`, or eventlet's chat server), has one of them send LINES lines (default 200),
//! and measures how fast the server fans them out: every other client must receive every line. Prints the
//! deliveries per second.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let address = args.next().ok_or("usage: tatsu-bench-chat-fanout HOST:PORT [CLIENTS] [LINES]")?;
    let clients: usize = args.next().map_or(Ok(1000), |n| n.parse()).map_err(|e| format!("CLIENTS: {e}"))?;
    let lines: usize = args.next().map_or(Ok(200), |n| n.parse()).map_err(|e| format!("LINES: {e}"))?;
    let listeners = clients.saturating_sub(1);
    let received = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(listeners + 1));
    let mut threads = Vec::new();
    for index in 0..listeners {
        let stream = TcpStream::connect(&address).map_err(|e| format!("client {index}: {e}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
        let (received, ready) = (Arc::clone(&received), Arc::clone(&ready));
        let thread = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                ready.wait();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                for _ in 0..lines {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(n) if n > 0 => {
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => return,
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        threads.push(thread);
    }
    let mut sender = TcpStream::connect(&address).map_err(|e| format!("sender: {e}"))?;
    // Let the server register every client before the first line.
    std::thread::sleep(Duration::from_secs(2));
    ready.wait();
    let started = Instant::now();
    let mut batch = String::new();
    for n in 0..lines {
        batch.push_str(&format!("line {n} of the fan-out benchmark\n"));
    }
    sender.write_all(batch.as_bytes()).map_err(|e| e.to_string())?;
    for thread in threads {
        let _ = thread.join();
    }
    let elapsed = started.elapsed();
    let delivered = received.load(Ordering::Relaxed);
    println!(
        "clients={clients} lines={lines} delivered={delivered}/{} seconds={:.3} deliveries_per_second={:.0}",
        listeners * lines,
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
