//! The trivial responder: a controller that only frames messages. It says HELLO, asks for features (and 1.3
//! port descriptions), answers echoes, and answers every packet-in with a buffered flooding packet-out. One
//! thread, one epoll loop: the machine's limit for this load, to compare controllers against.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

use crate::proto::{self, V1_3};

/// Stop reading from a connection while this much is unsent (backpressure).
const OUT_LIMIT: usize = 1 << 20;
const LISTENER: u64 = u64::MAX;

struct Peer {
    stream: TcpStream,
    partial: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    featured: bool,
    interest: EpollFlags,
    dead: bool,
}

impl Peer {
    fn handle(&mut self, msg: &[u8]) {
        let (Some(&version), Some(&msg_type)) = (msg.first(), msg.get(1)) else { return };
        match msg_type {
            proto::PACKET_IN => {
                proto::packet_out_for(msg, &mut self.out);
            }
            proto::ECHO_REQUEST => proto::mirror_reply(msg, proto::ECHO_REPLY, &mut self.out),
            proto::HELLO if !self.featured => {
                self.featured = true;
                let start = proto::begin(&mut self.out, version, proto::FEATURES_REQUEST, 2);
                proto::finish(&mut self.out, start);
                if version == V1_3 {
                    let start = proto::begin(&mut self.out, version, proto::stats_request(version), 3);
                    self.out.extend_from_slice(&[0, 13, 0, 0, 0, 0, 0, 0]);
                    proto::finish(&mut self.out, start);
                }
            }
            _ => {}
        }
    }

    fn consume(&mut self, data: &[u8]) {
        let mut partial = std::mem::take(&mut self.partial);
        let buf: &[u8] = if partial.is_empty() {
            data
        } else {
            partial.extend_from_slice(data);
            &partial
        };
        let mut at = 0;
        while let Some(rest) = buf.get(at..) {
            match tatsu_ofproto::split_frame(rest) {
                Ok(Some(split)) => {
                    let len = split.0.len();
                    self.handle(split.0);
                    at += len;
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!("tatsu-loadgen respond: unframeable stream, closing: {e}");
                    self.dead = true;
                    return;
                }
            }
        }
        let keep = buf.get(at..).unwrap_or(&[]).to_vec();
        partial.clear();
        partial.extend_from_slice(&keep);
        self.partial = partial;
    }

    fn flush(&mut self) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "the socket took nothing")),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(())
    }
}

/// Serves switches on `listen` until killed.
pub fn serve(listen: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(listener.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, LISTENER))?;
    eprintln!("tatsu-loadgen respond: listening on {listen}");
    let mut peers: Vec<Option<Peer>> = Vec::new();
    let mut events = vec![EpollEvent::empty(); 1024];
    let mut scratch = vec![0u8; 256 * 1024];
    loop {
        let n = match epoll.wait(&mut events, EpollTimeout::NONE) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        for event in &events[..n] {
            if event.data() == LISTENER {
                accept_all(&listener, &epoll, &mut peers);
                continue;
            }
            let Ok(slot) = usize::try_from(event.data()) else { continue };
            let Some(Some(peer)) = peers.get_mut(slot) else { continue };
            if event.events().intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR)
                && peer.out.len() - peer.out_pos < OUT_LIMIT
            {
                for _ in 0..4 {
                    match peer.stream.read(&mut scratch) {
                        Ok(0) => peer.dead = true,
                        Ok(n) => peer.consume(&scratch[..n]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => peer.dead = true,
                    }
                    if peer.dead || peer.out.len() - peer.out_pos >= OUT_LIMIT {
                        break;
                    }
                }
            }
            if !peer.dead && peer.flush().is_err() {
                peer.dead = true;
            }
            if peer.dead {
                let _ = epoll.delete(peer.stream.as_fd());
                peers[slot] = None;
                continue;
            }
            let unsent = peer.out.len() - peer.out_pos;
            let mut interest = EpollFlags::empty();
            if unsent < OUT_LIMIT {
                interest |= EpollFlags::EPOLLIN;
            }
            if unsent > 0 {
                interest |= EpollFlags::EPOLLOUT;
            }
            if interest != peer.interest {
                let mut event = EpollEvent::new(interest, slot as u64);
                if epoll.modify(peer.stream.as_fd(), &mut event).is_err() {
                    peers[slot] = None;
                    continue;
                }
                peer.interest = interest;
            }
        }
    }
}

fn accept_all(listener: &TcpListener, epoll: &Epoll, peers: &mut Vec<Option<Peer>>) {
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                eprintln!("tatsu-loadgen respond: accept failed: {e}");
                return;
            }
        };
        if stream.set_nonblocking(true).is_err() || stream.set_nodelay(true).is_err() {
            continue;
        }
        let mut peer = Peer {
            stream,
            partial: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            featured: false,
            interest: EpollFlags::EPOLLIN | EpollFlags::EPOLLOUT,
            dead: false,
        };
        proto::controller_hello(&mut peer.out);
        let slot = peers.iter().position(Option::is_none).unwrap_or(peers.len());
        if epoll.add(peer.stream.as_fd(), EpollEvent::new(peer.interest, slot as u64)).is_err() {
            continue;
        }
        if slot == peers.len() {
            peers.push(Some(peer));
        } else {
            peers[slot] = Some(peer);
        }
    }
}
