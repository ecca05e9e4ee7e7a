use super::*;

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("an address")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tatsu-capture-unit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

/// Waits (5 s at most) for `condition`.
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_connection_captured_from_its_start_is_one_file_named_by_its_datapath_with_both_directions() {
    let dir = temp_dir("start");
    let captures = Captures::new(Some(CaptureSettings { dir: dir.clone(), all: true }));
    let tap = captures.tap(1, addr("[::ffff:127.0.0.1]:40000"), addr("[::ffff:127.0.0.1]:6653"), true);
    // Before the datapath id is known, records wait in the tap.
    tap.sent(&[4, 0, 0, 8, 0, 0, 0, 1]);
    tap.received_last(&[4, 0, 0, 8, 0, 0, 0, 1, 4, 6, 0, 8], usize::MAX);
    tap.received_last(&[0, 0, 0, 2], usize::MAX);
    tap.datapath_known(0xab);
    tap.sent(&[4, 14, 0, 8, 0, 0, 0, 9]);
    drop(tap);
    captures.flush(Duration::from_secs(5));
    let files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("the dir").flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().expect("a name").to_string_lossy().into_owned();
    assert!(name.starts_with("00000000000000ab_127.0.0.1_40000_") && name.ends_with("Z.pcap"), "{name}");
    let bytes = std::fs::read(&files[0]).expect("the file");
    let conversations = tatsu_packet::pcap::conversations(&bytes).expect("a pcap file");
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].initiator, Some(addr("127.0.0.1:40000")), "the switch's SYN opens it");
    let sessions = tatsu_ofproto::capture::sessions(&bytes).expect("a pcap file");
    let seen: Vec<(bool, u8)> = sessions[0].messages.iter().map(|m| (m.from_switch, m.bytes[1])).collect();
    assert_eq!(seen, [(false, 0), (true, 0), (true, 6), (false, 14)]);
    assert_eq!((sessions[0].missing_bytes, sessions[0].skipped_bytes), (0, 0));
    assert_eq!(captures.status()["written_bytes"], bytes.len() as u64 - 24);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_datapath_turned_on_later_starts_mid_stream_and_off_closes_its_file() {
    let dir = temp_dir("switch");
    let captures = Captures::new(Some(CaptureSettings { dir: dir.clone(), all: false }));
    let tap = captures.tap(2, addr("10.0.0.1:5000"), addr("10.0.0.2:6653"), true);
    tap.received_last(&[1, 0, 0, 8, 0, 0, 0, 1], usize::MAX);
    tap.datapath_known(5);
    tap.received_last(&[1, 10, 0, 8, 0, 0, 0, 2], usize::MAX);
    assert!(!tap.active.load(Ordering::Relaxed), "off: nothing is copied");
    let said = captures.set(Some(5), true).expect("a directory is set");
    assert!(said.contains("capturing datapath 0000000000000005"), "{said}");
    tap.received_last(&[1, 10, 0, 8, 0, 0, 0, 3], usize::MAX);
    assert!(captures.set(Some(5), false).expect("set").contains("not capturing"));
    tap.received_last(&[1, 10, 0, 8, 0, 0, 0, 4], usize::MAX);
    captures.flush(Duration::from_secs(5));
    let files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("the dir").flatten().map(|e| e.path()).collect();
    let bytes = std::fs::read(&files[0]).expect("the file");
    let sessions = tatsu_ofproto::capture::sessions(&bytes).expect("a pcap file");
    let xids: Vec<u8> = sessions[0].messages.iter().map(|m| m.bytes[7]).collect();
    assert_eq!(xids, [3], "only what came while it was on");
    let none = Captures::new(None);
    assert!(none.set(Some(5), true).is_err_and(|e| e.contains("--capture")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_disk_stops_every_capture_and_the_taps_go_quiet() {
    // /dev/full takes the open and fails every write with ENOSPC.
    let dir = temp_dir("full");
    let captures = Captures::new(Some(CaptureSettings { dir: dir.clone(), all: true }));
    let continued = Continued { file: Some(PathBuf::from("/dev/full")), seq_from_switch: 1, seq_to_switch: 1 };
    let full = captures.adopted_tap(3, 7, (addr("10.0.0.1:1"), addr("10.0.0.2:2")), Some(&continued), false);
    let other = captures.tap(4, addr("10.0.0.3:3"), addr("10.0.0.2:2"), true);
    full.received_last(&[4, 10, 0, 8, 0, 0, 0, 1], usize::MAX);
    eventually("the capture stops", || captures.status()["stopped"].is_string());
    let reason = captures.status()["stopped"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("/dev/full") && reason.contains("No space left"), "{reason}");
    assert!(!full.active.load(Ordering::Relaxed) && !other.active.load(Ordering::Relaxed));
    // Turned on again, it captures again.
    assert!(captures.set(None, true).is_ok());
    assert!(captures.status()["stopped"].is_null());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_queue_drops_and_counts() {
    let queue = Queue::new(10);
    let segment = |n: usize| Job::Segment {
        file: 1,
        time: now(),
        from_switch: true,
        seq: 0,
        ack: 0,
        flags: 0,
        payload: vec![0; n],
    };
    assert!(queue.push_bounded(segment(6), 6));
    assert!(!queue.push_bounded(segment(6), 6), "past the bound");
    queue.push_always(Job::Close { file: 1, done: None });
    assert_eq!(queue.take(Duration::ZERO).len(), 2);
    assert!(queue.push_bounded(segment(10), 10), "taken: room again");
}

#[test]
fn datapath_ids_and_times_read_and_print_as_the_user_writes_them() {
    assert_eq!(parse_dpid("0000000000000010"), Ok(16));
    assert_eq!(parse_dpid("0x1f"), Ok(31));
    assert_eq!(parse_dpid("42"), Ok(42));
    assert!(parse_dpid("zz").is_err() && parse_dpid("").is_err());
    assert_eq!(utc(Duration::ZERO), "1970-01-01T00:00:00.000000Z");
    assert_eq!(utc(Duration::from_micros(951_782_400_000_001)), "2000-02-29T00:00:00.000001Z");
    assert_eq!(
        file_name(None, addr("[2001:db8::1]:6000"), Duration::from_secs(1_796_148_557)),
        "unknown_2001-db8--1_6000_20261201T180917.000000Z.pcap"
    );
}
