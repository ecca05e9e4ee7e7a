//! `tatsu ofp-print`: decodes OpenFlow messages from a file (several back to back) or from hex on stdin, and
//! prints each one, as text or as the JSON form of Ryu's test corpus (`--json`).
//!
//! A pcap file (what `tatsu run --capture` writes, or `tcpdump -w` of an OpenFlow port) is recognised by its
//! magic number: each OpenFlow connection in it is printed in turn, each message with its time and direction,
//! from the TCP streams put back together ([`tatsu_ofproto::capture`]). A message that does not decode is
//! printed as an error line and the rest still are; the exit status then says so.

use std::io::{Read, Write};
use std::path::PathBuf;

use tatsu_ofproto::{decode, split_frame, to_json, Message};

/// What to read and how to print it.
pub struct Options {
    /// The binary file to read; stdin (hex) when `None`.
    pub file: Option<PathBuf>,
    /// Read the file (or stdin) as hex text instead of binary.
    pub hex: bool,
    /// Print Ryu's JSON form.
    pub json: bool,
    /// Fail unless every message re-encodes byte for byte.
    pub check: bool,
}

/// Runs the command; `Err` carries the message for the user (and a non-zero exit).
pub fn run(options: &Options) -> Result<(), String> {
    let bytes = read_input(options)?;
    if bytes.is_empty() {
        return Err("no input: give a file of OpenFlow messages, or hex on stdin".to_owned());
    }
    if !options.hex && tatsu_packet::pcap::looks_like_pcap(&bytes) {
        return print_capture(&bytes, options);
    }
    let mut offset = 0;
    let mut count = 0;
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        let (message, tail) = match split_frame(rest) {
            Ok(Some(split)) => split,
            Ok(None) => {
                return Err(format!(
                    "offset {offset}: truncated message: {} byte(s) left, but its header needs {}",
                    rest.len(),
                    declared_length(rest).map_or_else(|| "at least 8".to_owned(), |n| n.to_string())
                ))
            }
            Err(e) => return Err(format!("offset {}: {}: {}", offset + e.offset, e.msg_type, e.what)),
        };
        let (header, decoded) = decode(message)
            .map_err(|e| format!("offset {} (message {}): {}: {}", offset + e.offset, count + 1, e.msg_type, e.what))?;
        if !print(&decoded, header.xid, message.len(), options.json) {
            return Ok(()); // the reader went away (e.g. `| head`)
        }
        if options.check {
            let encoded = decoded.to_vec(header.xid).map_err(|e| {
                format!("offset {offset} (message {}): {} does not re-encode: {e}", count + 1, decoded.type_name())
            })?;
            if encoded != message {
                let at =
                    encoded.iter().zip(message).position(|(a, b)| a != b).unwrap_or(encoded.len().min(message.len()));
                return Err(format!(
                    "offset {offset} (message {}): {} does not re-encode byte for byte (first difference at byte {at})",
                    count + 1,
                    decoded.type_name()
                ));
            }
        }
        offset += message.len();
        count += 1;
        rest = tail;
    }
    Ok(())
}

/// Prints every OpenFlow message of a pcap capture, connection by connection.
fn print_capture(bytes: &[u8], options: &Options) -> Result<(), String> {
    let name = options.file.as_ref().map_or_else(|| "stdin".to_owned(), |path| path.display().to_string());
    let sessions = tatsu_ofproto::capture::sessions(bytes).map_err(|e| format!("{name}: {e}"))?;
    if sessions.is_empty() {
        return Err(format!("{name}: no OpenFlow connection in this capture"));
    }
    let mut failed = 0usize;
    let mut out = std::io::stdout().lock();
    for session in &sessions {
        let (switch, controller) = (session.switch, session.controller);
        let mut head =
            format!("# connection: switch {switch}, controller {controller}, {} messages", session.messages.len());
        if session.missing_bytes > 0 || session.skipped_bytes > 0 {
            head += &format!(
                " ({} bytes not captured, {} bytes skipped as unframeable)",
                session.missing_bytes, session.skipped_bytes
            );
        }
        if !options.json && writeln!(out, "{head}").is_err() {
            return Ok(());
        }
        for captured in &session.messages {
            let time = crate::capture::utc(captured.time);
            let direction = if captured.from_switch { "switch->controller" } else { "controller->switch" };
            let line = match decode(&captured.bytes) {
                Ok((header, message)) => {
                    if options.check && message.to_vec(header.xid).ok().as_deref() != Some(&captured.bytes[..]) {
                        failed += 1;
                        format!("{time} {direction} {} does not re-encode byte for byte", message.type_name())
                    } else if options.json {
                        let value =
                            serde_json::json!({"time": time, "direction": direction, "message": to_json(&message)});
                        value.to_string()
                    } else {
                        let version = tatsu_ofproto::version_name(message.version());
                        format!(
                            "{time} {direction} {} (OF{version}, xid=0x{:x}, {} bytes): {message:#?}",
                            message.type_name(),
                            header.xid,
                            captured.bytes.len()
                        )
                    }
                }
                Err(e) => {
                    failed += 1;
                    format!("{time} {direction} undecodable {} at byte {}: {}", e.msg_type, e.offset, e.what)
                }
            };
            if writeln!(out, "{line}").is_err() {
                return Ok(()); // the reader went away (e.g. `| head`)
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(format!("{name}: {n} message(s) did not decode{}", if options.check { " or re-encode" } else { "" })),
    }
}

fn declared_length(bytes: &[u8]) -> Option<usize> {
    bytes.get(2..4).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
}

/// Prints one message; `false` if stdout is gone.
fn print(message: &Message, xid: u32, length: usize, json: bool) -> bool {
    let mut out = std::io::stdout().lock();
    let written = if json {
        let value = to_json(message);
        writeln!(out, "{}", serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()))
    } else {
        let version = tatsu_ofproto::version_name(message.version());
        writeln!(out, "{} (OF{version}, xid=0x{xid:x}, {length} bytes): {message:#?}", message.type_name())
    };
    written.is_ok()
}

fn read_input(options: &Options) -> Result<Vec<u8>, String> {
    let raw = match &options.file {
        Some(path) => std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        None => {
            let mut input = Vec::new();
            std::io::stdin().read_to_end(&mut input).map_err(|e| format!("cannot read stdin: {e}"))?;
            input
        }
    };
    let looks_like_hex = raw.iter().all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace() || b"xX:,".contains(b));
    if options.hex || (options.file.is_none() && looks_like_hex) {
        parse_hex(&String::from_utf8_lossy(&raw))
    } else {
        Ok(raw)
    }
}

/// Hex digits, with any whitespace, `0x` prefixes, `:` or `,` between bytes.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let cleaned: String = text
        .split_whitespace()
        .flat_map(|word| word.split([':', ',']))
        .map(|word| word.trim_start_matches("0x").trim_start_matches("0X"))
        .collect();
    if let Some((i, c)) = cleaned.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!("hex input: `{c}` at digit {i} is not a hex digit"));
    }
    if !cleaned.len().is_multiple_of(2) {
        return Err(format!("hex input has an odd number of digits ({})", cleaned.len()));
    }
    let digits = cleaned.as_bytes();
    Ok(digits.chunks(2).map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1])).collect())
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_hex;

    #[test]
    fn hex_input_allows_separators_and_rejects_garbage() {
        assert_eq!(parse_hex("04 00 00 08\n0x00:00,00 01").expect("hex"), vec![4, 0, 0, 8, 0, 0, 0, 1]);
        assert!(parse_hex("0400000").expect_err("odd").contains("odd"));
        assert!(parse_hex("zz").expect_err("not hex").contains("not a hex digit"));
        assert!(parse_hex("0é").expect_err("not hex").contains("not a hex digit"));
    }
}
