//! Parse throughput, std-only harness: `cargo bench -p tatsu-packet`.

use std::hint::black_box;
use std::time::Instant;

use tatsu_packet::build::{self, EthHeader, TcpSegment};
use tatsu_packet::lldp::{ChassisId, Lldpdu, PortId};
use tatsu_packet::{eth_dst, eth_src, parse, MacAddr};

fn run(name: &str, iters: u32, mut f: impl FnMut()) {
    for _ in 0..iters / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    let ns = t.elapsed().as_nanos() as f64 / f64::from(iters);
    println!("{name:<40} {ns:>8.1} ns/iter");
}

fn main() {
    let eth = EthHeader::new(MacAddr::new(2, 0, 0, 0, 0, 1), MacAddr::new(2, 0, 0, 0, 0, 2));
    let seg = TcpSegment { seq: 1, ack: 1, flags: build::tcp_flags::ACK, window: 65535 };
    let tcp =
        build::tcp(&eth, "10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap(), &seg, &[0u8; 64]).unwrap();
    let tagged = build::tcp(
        &eth.with_vlan(10),
        "10.0.0.1:40000".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
        &seg,
        &[0u8; 64],
    )
    .unwrap();
    let n = 5_000_000;
    run("parse tcp/ipv4 (118 B)", n, || {
        let p = parse(black_box(&tcp)).unwrap();
        black_box(p.ports());
    });
    run("parse tcp/ipv4 in 802.1Q", n, || {
        let p = parse(black_box(&tagged)).unwrap();
        black_box(p.ports());
    });
    run("eth_src + eth_dst (raw)", n, || {
        black_box((eth_src(black_box(&tcp)), eth_dst(black_box(&tcp))));
    });
    let (src, dst) = ("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
    run("build tcp/ipv4 (64 B payload)", n / 5, || {
        black_box(build::tcp(&eth, src, dst, &seg, black_box(&[0u8; 64])).unwrap());
    });
    let pdu = Lldpdu::new(ChassisId::local("dpid:0000000000000001"), PortId::port_component(1), 120);
    let lldp = build::lldp(eth.src, &pdu).unwrap();
    run("parse lldp (ryu-style)", n, || {
        let p = parse(black_box(&lldp)).unwrap();
        black_box(p.lldp().map(|l| l.ttl()));
    });
}
