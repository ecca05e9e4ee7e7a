//! `chat`: the eventlet chat server. Every line a client sends goes to every other client, prefixed with the
//! sender's address; clients that leave or break the pipe are dropped quietly.
//!
//! Each client has a reader green thread (lines in) and a writer green thread (its own queue of lines out), so a
//! slow client never holds up the others: when its queue is full, lines for it are dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use tatsu_plugin_api::green::{self, Queue, TcpListener, TcpStream};
use tatsu_plugin_api::{export_app, App, BoxError, Context, Handlers};

/// Settings from `[app.chat]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where to listen (eventlet's example uses port 3001 on every address; this binds loopback unless told).
    pub listen: String,
    /// Lines queued for one client before lines for it are dropped.
    pub queue_lines: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { listen: "127.0.0.1:3001".to_owned(), queue_lines: 1024 }
    }
}

/// A line on its way to a client, or the end of its writer.
type Outgoing = Queue<Option<Arc<str>>>;

/// The connected clients' outgoing queues, by client number.
#[derive(Clone, Default)]
struct Clients(Arc<Mutex<HashMap<u64, Outgoing>>>);

impl Clients {
    fn add(&self, id: u64, queue: Outgoing) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(id, queue);
    }

    /// Removes a client and ends its writer.
    fn remove(&self, id: u64) {
        if let Some(queue) = self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(&id) {
            let _ = queue.try_put(None);
        }
    }

    /// Queues `line` for every client but `from` (never blocks).
    fn broadcast(&self, from: u64, line: &Arc<str>) {
        for (id, queue) in self.0.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            if *id != from {
                let _ = queue.try_put(Some(Arc::clone(line)));
            }
        }
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// The chat server.
pub struct Chat {
    config: Config,
    clients: Clients,
}

impl App for Chat {
    const NAME: &'static str = "chat";
    const DESCRIPTION: &'static str = "the eventlet chat server";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        Ok(Chat { config, clients: Clients::default() })
    }

    fn register(&self, _handlers: &mut Handlers<Self>) {}

    fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        let listener = TcpListener::bind(&self.config.listen)?;
        log::info!("chat server listening on {}", listener.local_addr()?);
        let clients = self.clients.clone();
        let queue_lines = self.config.queue_lines;
        green::spawn_n(move || accept_loop(&listener, &clients, queue_lines));
        Ok(())
    }

    fn stop(&mut self, _ctx: &Context) {
        log::info!("chat server stopping with {} clients", self.clients.count());
    }
}

fn accept_loop(listener: &TcpListener, clients: &Clients, queue_lines: usize) {
    let next_id = AtomicU64::new(1);
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                let queue = Queue::bounded(queue_lines.max(1));
                clients.add(id, queue.clone());
                log::info!("participant joined chat: {peer}");
                let writer = stream.try_clone();
                green::spawn_n(move || write_lines(writer, &queue));
                let clients = clients.clone();
                green::spawn_n(move || read_lines(stream, peer, id, &clients));
            }
            Err(e) => log::warn!("accept failed: {e}"),
        }
    }
}

fn read_lines(stream: TcpStream, peer: SocketAddr, id: u64, clients: &Clients) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let line: Arc<str> = Arc::from(format!("{peer}: {line}\n"));
        clients.broadcast(id, &line);
    }
    clients.remove(id);
    log::info!("participant left chat: {peer}");
}

fn write_lines(mut stream: TcpStream, queue: &Outgoing) {
    while let Some(line) = queue.get() {
        if stream.write_all(line.as_bytes()).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

export_app!(Chat);
