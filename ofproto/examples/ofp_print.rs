//! Prints the Ryu-style JSON of each OpenFlow message file given on the command line.
fn main() {
    for p in std::env::args().skip(1) {
        let b = std::fs::read(&p).expect("read file");
        match tatsu_ofproto::decode(&b) {
            Ok((_, m)) => println!("{}", serde_json::to_string(&tatsu_ofproto::to_json(&m)).unwrap_or_default()),
            Err(e) => println!("{}: {}", p, e),
        }
    }
}
