//! Codec throughput benchmark (`cargo bench -p tatsu-ofproto`).
//!
//! A small self-contained harness (no external bench framework): each case
//! runs for about one second and reports messages/s and MB/s. A counting
//! global allocator reports allocations per decoded packet-in. Then, per
//! version (1.0, 1.2, 1.3, 1.4, 1.5): the whole corpus of that version
//! (`tests/corpus/ofXY`) decoded and encoded again, the version-neutral
//! packet-in view, and the version-neutral flow-mod builder.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::path::Path;
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

fn run(name: &str, bytes_per_op: usize, f: impl FnMut()) {
    run_many(name, 1, bytes_per_op, f);
}

/// Like [`run`] for a call that handles `messages` messages of `bytes` bytes in all.
fn run_many(name: &str, messages: u64, bytes: usize, mut f: impl FnMut()) {
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
    let calls = n as f64 / s;
    let rate = calls * messages as f64;
    println!("{:<48} {:>12.0} msg/s {:>10.1} MB/s {:>8.1} ns/msg", name, rate, calls * bytes as f64 / 1e6, 1e9 / rate);
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

    per_version(&mut out);
}

/// The corpus captures of one version (`tests/corpus/ofXY/*.packet`) that decode and encode again (a few are
/// kept in the corpus to be refused).
fn corpus(version_dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus").join(version_dir);
    let mut captures: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus at {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "packet"))
        .filter_map(|path| Some((path.file_name()?.to_string_lossy().into_owned(), std::fs::read(&path).ok()?)))
        .filter(|(_, bytes)| tatsu_ofproto::decode(bytes).is_ok_and(|(_, m)| m.to_vec(1).is_ok()))
        .collect();
    captures.sort();
    captures
}

/// Decode and encode rates per version, over its corpus and over the version-neutral packet-in and flow-mod.
fn per_version(out: &mut Vec<u8>) {
    use tatsu_ofproto::portable::{self, Encode};
    let versions = [
        ("of10", tatsu_ofproto::OFP_VERSION_1_0),
        ("of12", tatsu_ofproto::OFP_VERSION_1_2),
        ("of13", tatsu_ofproto::OFP_VERSION_1_3),
        ("of14", tatsu_ofproto::OFP_VERSION_1_4),
        ("of15", tatsu_ofproto::OFP_VERSION_1_5),
    ];
    let flow_mod = portable::FlowMod::add(portable::Match::new().in_port(1).eth_dst([0, 0, 0, 0, 0, 2].into()))
        .priority(100)
        .actions([portable::Action::output(2)]);
    for (dir, version) in versions {
        let captures = corpus(dir);
        let bytes: usize = captures.iter().map(|(_, c)| c.len()).sum();
        let n = captures.len() as u64;
        let decoded: Vec<tatsu_ofproto::Message> =
            captures.iter().filter_map(|(_, c)| tatsu_ofproto::decode(c).ok()).map(|(_, m)| m).collect();
        run_many(&format!("{dir}: decode the corpus ({n} messages)"), n, bytes, || {
            for (_, capture) in &captures {
                black_box(tatsu_ofproto::decode(black_box(capture)).ok());
            }
        });
        run_many(&format!("{dir}: encode the corpus ({n} messages)"), n, bytes, || {
            out.clear();
            for message in &decoded {
                black_box(message.encode(1, out).ok());
            }
            black_box(&out);
        });
        if let Some((name, packet_in)) = captures.iter().find(|(name, _)| name.contains("packet_in")) {
            run(&format!("{dir}: portable PacketIn::parse ({name})"), packet_in.len(), || {
                black_box(portable::PacketIn::parse(black_box(packet_in)).ok().map(|p| (p.in_port, p.data.len())));
            });
        }
        out.clear();
        flow_mod.encode_for(version, 1, out).expect("the portable flow-mod encodes in every version");
        let flow_mod_len = out.len();
        run(&format!("{dir}: portable FlowMod::encode_for"), flow_mod_len, || {
            out.clear();
            black_box(black_box(&flow_mod).encode_for(version, 1, out).ok());
            black_box(&out);
        });
        // What simple-switch does per packet-in to a known destination: build the learned flow and encode it.
        let (src, dst) = ([0, 0, 0, 0, 0, 1].into(), [0, 0, 0, 0, 0, 2].into());
        run(&format!("{dir}: portable FlowMod built and encoded (learned flow)"), flow_mod_len, || {
            out.clear();
            let learned = portable::Match::new().in_port(black_box(1)).eth_dst(dst).eth_src(src);
            let flow = portable::FlowMod::add(learned).priority(1).idle_timeout(30).buffer_id(black_box(7));
            black_box(flow.actions([portable::Action::output(black_box(2))]).encode_for(version, 0, out).ok());
            black_box(&out);
        });
    }
}
