//! Codec throughput benchmark (`cargo bench -p tatsu-ofproto`).
//!
//! A small self-contained harness (no external bench framework): each case
//! runs for about one second and reports messages/s and MB/s. A counting
//! global allocator reports allocations per decoded packet-in.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tatsu_ofproto::v1_3::multipart::{FlowStats, MultipartReplyBody};
use tatsu_ofproto::v1_3::{self, Action, FlowMod, Instruction, Match, MultipartReply, PacketIn, PacketInView};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method delegates to the system allocator unchanged; it only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn run(name: &str, bytes_per_op: usize, mut f: impl FnMut()) {
    // Warm up, then time batches for ~1 s.
    for _ in 0..1000 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..1000 {
            f();
        }
        n += 1000;
    }
    let s = start.elapsed().as_secs_f64();
    let rate = n as f64 / s;
    println!(
        "{:<40} {:>12.0} msg/s {:>10.1} MB/s {:>8.1} ns/msg",
        name,
        rate,
        rate * bytes_per_op as f64 / 1e6,
        1e9 / rate
    );
}

fn allocs_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.load(Ordering::Relaxed);
    f();
    ALLOCS.load(Ordering::Relaxed) - before
}

fn main() {
    // Packet-in: in_port match, 128-byte frame (default miss_send_len).
    let pi = v1_3::Message::PacketIn(PacketIn {
        buffer_id: 0xffff_ffff,
        total_len: 128,
        reason: 0,
        table_id: 0,
        cookie: 0,
        match_: Match::new().in_port(3),
        data: (0..128u8).collect(),
    });
    let pi_bytes = pi.to_vec(1).expect("a 128-byte packet-in encodes");

    // Flow-mod with a 5-field match and apply-actions output.
    let fm = v1_3::Message::FlowMod(
        FlowMod::add(
            Match::new().in_port(1).eth_type(0x0800).ip_proto(6).ipv4_dst(Ipv4Addr::new(10, 0, 0, 2)).tcp_dst(80),
        )
        .priority(100)
        .idle_timeout(30)
        .apply_actions([Action::output(2)]),
    );
    let fm_bytes = fm.to_vec(2).expect("a small flow-mod encodes");

    // Flow-stats reply with 100 entries.
    let entry = |i: u32| FlowStats {
        table_id: 0,
        duration_sec: i,
        duration_nsec: 0,
        priority: 100,
        idle_timeout: 0,
        hard_timeout: 0,
        flags: 0,
        cookie: i as u64,
        packet_count: 1000 + i as u64,
        byte_count: 64_000 + i as u64,
        match_: Match::new().in_port(i).eth_dst([0, 0, 0, 0, 0, i as u8].into()),
        instructions: vec![Instruction::ApplyActions(vec![Action::output(i + 1)])],
    };
    let fs = v1_3::Message::MultipartReply(MultipartReply {
        flags: 0,
        body: MultipartReplyBody::Flow((0..100).map(entry).collect()),
    });
    let fs_bytes = fs.to_vec(3).expect("100 flow stats entries fit in a message");

    println!(
        "message sizes: packet-in {} B, flow-mod {} B, flow-stats reply {} B",
        pi_bytes.len(),
        fm_bytes.len(),
        fs_bytes.len()
    );
    let mut out = Vec::with_capacity(8192);
    run("decode packet-in (owned Message)", pi_bytes.len(), || {
        black_box(tatsu_ofproto::decode(black_box(&pi_bytes)).ok());
    });
    run("decode packet-in (PacketInView)", pi_bytes.len(), || {
        let v = PacketInView::new(black_box(&pi_bytes)).ok();
        black_box(v.map(|v| (v.in_port(), v.data().len())));
    });
    run("encode packet-in", pi_bytes.len(), || {
        out.clear();
        black_box(black_box(&pi).encode(1, &mut out).ok());
        black_box(&out);
    });
    run("decode flow-mod (5-field match)", fm_bytes.len(), || {
        black_box(tatsu_ofproto::decode(black_box(&fm_bytes)).ok());
    });
    run("encode flow-mod (5-field match)", fm_bytes.len(), || {
        out.clear();
        black_box(black_box(&fm).encode(2, &mut out).ok());
        black_box(&out);
    });
    run("decode flow-stats reply (100 entries)", fs_bytes.len(), || {
        black_box(tatsu_ofproto::decode(black_box(&fs_bytes)).ok());
    });
    run("encode flow-stats reply (100 entries)", fs_bytes.len(), || {
        out.clear();
        black_box(black_box(&fs).encode(3, &mut out).ok());
        black_box(&out);
    });

    let a_owned = allocs_during(|| {
        black_box(tatsu_ofproto::decode(black_box(&pi_bytes)).ok());
    });
    let a_view = allocs_during(|| {
        let v = PacketInView::new(black_box(&pi_bytes)).ok();
        black_box(v.map(|v| (v.in_port(), v.data().len())));
    });
    println!("allocations per decoded packet-in: owned Message {}, PacketInView {}", a_owned, a_view);
}
