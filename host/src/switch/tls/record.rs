//! The TLS 1.3 record layer (RFC 8446 §5), run by the host itself once rustls has finished the handshake, so that a
//! hot restart can hand a connection's keys, IVs, sequence numbers and partial record to the successor with its
//! socket (see the module doc of [`super`]).
//!
//! No sockets here: [`Sealer::seal`] turns plaintext into records, [`Opener::open`] turns received bytes into
//! plaintext and keeps a partial record for the next call. AEAD is ring's (the provider rustls itself runs on).
//! Per record: nonce = IV XOR the 64-bit sequence number (left-padded), additional data = the 5-byte record
//! header, plaintext = content || content type || zero padding.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305};

/// Content types (RFC 8446 §5.1).
pub const ALERT: u8 = 21;
/// A handshake message (after the handshake: NewSessionTicket or KeyUpdate).
pub const HANDSHAKE: u8 = 22;
/// What OpenFlow travels in; also the outer type of every protected record.
pub const APPLICATION_DATA: u8 = 23;

/// Most plaintext bytes one record carries.
const MAX_PLAINTEXT: usize = 1 << 14;
/// Most bytes of a protected record's body (RFC 8446 §5.2: 2^14 + 256).
const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 256;
/// The AEAD tag of every suite here.
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 5;
/// Most bytes of post-handshake handshake messages held while they arrive in pieces.
const MAX_HANDSHAKE_BYTES: usize = 64 * 1024;

/// Where opened plaintext goes.
pub trait Plaintext {
    /// Appends `bytes`.
    fn append(&mut self, bytes: &[u8]);
}

impl Plaintext for Vec<u8> {
    fn append(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Plaintext for bytes::BytesMut {
    fn append(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// The TLS 1.3 cipher suites the host runs (every one rustls's ring provider offers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// TLS_AES_128_GCM_SHA256.
    Aes128Gcm,
    /// TLS_AES_256_GCM_SHA384.
    Aes256Gcm,
    /// TLS_CHACHA20_POLY1305_SHA256.
    Chacha20Poly1305,
}

impl Suite {
    /// The name a hand-over record carries.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Aes128Gcm => "aes128gcm",
            Suite::Aes256Gcm => "aes256gcm",
            Suite::Chacha20Poly1305 => "chacha20poly1305",
        }
    }

    /// The suite of [`Suite::name`].
    pub fn from_name(name: &str) -> Option<Suite> {
        [Suite::Aes128Gcm, Suite::Aes256Gcm, Suite::Chacha20Poly1305].into_iter().find(|suite| suite.name() == name)
    }

    fn algorithm(self) -> &'static ring::aead::Algorithm {
        match self {
            Suite::Aes128Gcm => &AES_128_GCM,
            Suite::Aes256Gcm => &AES_256_GCM,
            Suite::Chacha20Poly1305 => &CHACHA20_POLY1305,
        }
    }
}

/// One direction's key material and where it is in the sequence: what a hand-over carries.
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    /// The cipher suite.
    pub suite: Suite,
    /// The AEAD key.
    pub key: Vec<u8>,
    /// The 12-byte IV.
    pub iv: [u8; 12],
    /// The sequence number of the next record.
    pub seq: u64,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "Secrets({}, seq {})", self.suite.name(), self.seq)
    }
}

/// One direction's AEAD, ready to use.
struct Keys {
    secrets: Secrets,
    aead: LessSafeKey,
}

impl Keys {
    fn new(secrets: Secrets) -> Result<Keys, String> {
        let unbound = UnboundKey::new(secrets.suite.algorithm(), &secrets.key)
            .map_err(|_| format!("a {} key is not {} bytes", secrets.suite.name(), secrets.key.len()))?;
        Ok(Keys { secrets, aead: LessSafeKey::new(unbound) })
    }

    /// The next record's nonce; advances the sequence number.
    fn next_nonce(&mut self) -> Result<Nonce, RecordError> {
        let seq = self.secrets.seq;
        // RFC 8446 §5.3: the sequence number must not wrap.
        self.secrets.seq = seq.checked_add(1).ok_or(RecordError::Protocol("the record sequence number wrapped"))?;
        let mut nonce = self.secrets.iv;
        for (byte, seq_byte) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *byte ^= seq_byte;
        }
        Ok(Nonce::assume_unique_for_key(nonce))
    }
}

/// Why received records cannot be read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// The peer ended the session with close_notify.
    CloseNotify,
    /// The peer sent an alert (its description).
    Alert(u8),
    /// The peer asked for a KeyUpdate, which keys alone cannot follow (the traffic secrets stayed in rustls).
    KeyUpdate,
    /// A record that does not decrypt (tampered, or out of sequence).
    BadRecord,
    /// Anything else the protocol does not allow.
    Protocol(&'static str),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::CloseNotify => write!(f, "the switch ended the TLS session (close_notify)"),
            RecordError::Alert(description) => write!(f, "the switch sent TLS alert {description}"),
            RecordError::KeyUpdate => {
                write!(f, "the switch asked for a TLS key update, which the host does not follow; it will reconnect")
            }
            RecordError::BadRecord => write!(f, "a TLS record did not authenticate (tampered or out of sequence)"),
            RecordError::Protocol(what) => write!(f, "TLS protocol violation: {what}"),
        }
    }
}

/// The sending direction.
pub struct Sealer {
    keys: Keys,
}

impl Sealer {
    /// A sealer starting at `secrets.seq`.
    pub fn new(secrets: Secrets) -> Result<Sealer, String> {
        Ok(Sealer { keys: Keys::new(secrets)? })
    }

    /// Where the sealer is (for a hand-over).
    pub fn secrets(&self) -> &Secrets {
        &self.keys.secrets
    }

    /// Appends `plaintext` to `out` as records of `content_type`, at most [`MAX_PLAINTEXT`] bytes each.
    pub fn seal(&mut self, content_type: u8, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
        out.reserve(plaintext.len() + plaintext.len().div_ceil(MAX_PLAINTEXT) * (HEADER_LEN + 1 + TAG_LEN));
        for chunk in plaintext.chunks(MAX_PLAINTEXT) {
            let body_len = chunk.len() + 1 + TAG_LEN;
            let header = [APPLICATION_DATA, 3, 3, (body_len >> 8) as u8, body_len as u8];
            out.extend_from_slice(&header);
            let start = out.len();
            out.extend_from_slice(chunk);
            out.push(content_type);
            let nonce = self.keys.next_nonce()?;
            let tag = self
                .keys
                .aead
                .seal_in_place_separate_tag(nonce, Aad::from(header), &mut out[start..])
                .map_err(|_| RecordError::Protocol("a record could not be sealed"))?;
            out.extend_from_slice(tag.as_ref());
        }
        Ok(())
    }
}

/// The receiving direction, with the bytes of a record not yet whole.
pub struct Opener {
    keys: Keys,
    /// Received bytes not yet a whole record.
    partial: Vec<u8>,
    /// Post-handshake handshake messages not yet whole.
    handshake: Vec<u8>,
}

impl Opener {
    /// An opener starting at `secrets.seq`, with `partial` bytes already received (and `handshake` bytes of a
    /// post-handshake message begun).
    pub fn new(secrets: Secrets, partial: Vec<u8>, handshake: Vec<u8>) -> Result<Opener, String> {
        Ok(Opener { keys: Keys::new(secrets)?, partial, handshake })
    }

    /// Where the opener is, the bytes of a partial record, and of a partial post-handshake message (for a
    /// hand-over).
    pub fn state(&self) -> (&Secrets, &[u8], &[u8]) {
        (&self.keys.secrets, &self.partial, &self.handshake)
    }

    /// The buffer received bytes go to before [`Opener::open_received`].
    pub fn receive_buffer(&mut self) -> &mut Vec<u8> {
        &mut self.partial
    }

    /// Appends `bytes` and opens every whole record (see [`Opener::open_received`]).
    #[cfg(test)]
    pub fn open(&mut self, bytes: &[u8], out: &mut impl Plaintext) -> Result<usize, RecordError> {
        self.partial.extend_from_slice(bytes);
        self.open_received(out)
    }

    /// Opens every whole record in the receive buffer, appending application data to `out`; keeps a partial
    /// record. Returns how many plaintext bytes were added. Post-handshake NewSessionTickets are dropped (the host
    /// never resumes sessions).
    pub fn open_received(&mut self, out: &mut impl Plaintext) -> Result<usize, RecordError> {
        let mut offset = 0;
        let mut added = 0;
        let result = loop {
            let rest = &mut self.partial[offset..];
            if rest.len() < HEADER_LEN {
                break Ok(added);
            }
            let header: [u8; HEADER_LEN] = [rest[0], rest[1], rest[2], rest[3], rest[4]];
            let body_len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if header[0] != APPLICATION_DATA {
                break Err(RecordError::Protocol("an unprotected record after the handshake"));
            }
            if !(TAG_LEN + 1..=MAX_CIPHERTEXT).contains(&body_len) {
                break Err(RecordError::Protocol("a record of impossible length"));
            }
            if rest.len() < HEADER_LEN + body_len {
                break Ok(added);
            }
            let nonce = match self.keys.next_nonce() {
                Ok(nonce) => nonce,
                Err(e) => break Err(e),
            };
            let body = &mut rest[HEADER_LEN..HEADER_LEN + body_len];
            let Ok(plain) = self.keys.aead.open_in_place(nonce, Aad::from(header), body) else {
                break Err(RecordError::BadRecord);
            };
            offset += HEADER_LEN + body_len;
            // The content type is the last non-zero byte; zeros after it are padding.
            let Some(type_at) = plain.iter().rposition(|&byte| byte != 0) else {
                break Err(RecordError::Protocol("a record without a content type"));
            };
            let (content, content_type) = (&plain[..type_at], plain[type_at]);
            match content_type {
                APPLICATION_DATA => {
                    out.append(content);
                    added += content.len();
                }
                ALERT => {
                    break Err(match content {
                        [_, 0] => RecordError::CloseNotify,
                        [_, description] => RecordError::Alert(*description),
                        _ => RecordError::Protocol("a malformed alert"),
                    })
                }
                HANDSHAKE => {
                    if self.handshake.len() + content.len() > MAX_HANDSHAKE_BYTES {
                        break Err(RecordError::Protocol("an endless post-handshake message"));
                    }
                    self.handshake.extend_from_slice(content);
                    if let Err(e) = self.post_handshake() {
                        break Err(e);
                    }
                }
                _ => break Err(RecordError::Protocol("a record of an unknown content type")),
            }
        };
        self.partial.drain(..offset);
        result
    }

    /// Handles the whole post-handshake messages held (RFC 8446 §4.6).
    fn post_handshake(&mut self) -> Result<(), RecordError> {
        const NEW_SESSION_TICKET: u8 = 4;
        const KEY_UPDATE: u8 = 24;
        while self.handshake.len() >= 4 {
            let length = usize::from(self.handshake[1]) << 16
                | usize::from(self.handshake[2]) << 8
                | usize::from(self.handshake[3]);
            if self.handshake.len() < 4 + length {
                return Ok(());
            }
            match self.handshake[0] {
                NEW_SESSION_TICKET => {
                    self.handshake.drain(..4 + length);
                }
                KEY_UPDATE => return Err(RecordError::KeyUpdate),
                _ => return Err(RecordError::Protocol("an unexpected handshake message after the handshake")),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(suite: Suite, seq: u64) -> Secrets {
        let key_len = if suite == Suite::Aes128Gcm { 16 } else { 32 };
        Secrets { suite, key: (0..key_len).map(|i| i as u8 * 7 + 1).collect(), iv: [9; 12], seq }
    }

    fn pair(suite: Suite) -> (Sealer, Opener) {
        let sealer = Sealer::new(secrets(suite, 0)).expect("valid key");
        let opener = Opener::new(secrets(suite, 0), Vec::new(), Vec::new()).expect("valid key");
        (sealer, opener)
    }

    #[test]
    fn records_round_trip_in_every_suite_and_split_at_the_record_limit() {
        for suite in [Suite::Aes128Gcm, Suite::Aes256Gcm, Suite::Chacha20Poly1305] {
            let (mut sealer, mut opener) = pair(suite);
            let message: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
            let mut wire = Vec::new();
            sealer.seal(APPLICATION_DATA, &message, &mut wire).expect("seals");
            // 40,000 bytes make three records: 16,384 + 16,384 + 7,232, each with a header, a type and a tag.
            assert_eq!(wire.len(), 40_000 + 3 * (5 + 1 + 16));
            assert_eq!(sealer.secrets().seq, 3);
            assert_ne!(&wire[5..21], &message[..16], "the payload is encrypted");
            let mut plain = Vec::new();
            assert_eq!(opener.open(&wire, &mut plain), Ok(40_000));
            assert_eq!(plain, message, "{suite:?}");
            assert_eq!(opener.state().0.seq, 3);
        }
    }

    #[test]
    fn bytes_arriving_one_at_a_time_make_the_same_plaintext() {
        let (mut sealer, mut opener) = pair(Suite::Aes128Gcm);
        let mut wire = Vec::new();
        sealer.seal(APPLICATION_DATA, b"hello", &mut wire).expect("seals");
        sealer.seal(APPLICATION_DATA, b" world", &mut wire).expect("seals");
        let mut plain = Vec::new();
        for byte in &wire {
            opener.open(std::slice::from_ref(byte), &mut plain).expect("opens");
        }
        assert_eq!(plain, b"hello world");
        assert!(opener.state().1.is_empty());
    }

    #[test]
    fn a_tampered_or_replayed_record_is_rejected() {
        let (mut sealer, mut opener) = pair(Suite::Chacha20Poly1305);
        let mut wire = Vec::new();
        sealer.seal(APPLICATION_DATA, b"flow-mod", &mut wire).expect("seals");
        let mut tampered = wire.clone();
        tampered[7] ^= 1;
        assert_eq!(opener.open(&tampered, &mut Vec::new()), Err(RecordError::BadRecord));
        // A record replayed (so opened with the wrong sequence number) fails the same way.
        let (_, mut fresh) = pair(Suite::Chacha20Poly1305);
        fresh.open(&wire, &mut Vec::new()).expect("the first copy opens");
        assert_eq!(fresh.open(&wire, &mut Vec::new()), Err(RecordError::BadRecord));
        // A changed header is additional data: also rejected.
        let (_, mut third) = pair(Suite::Chacha20Poly1305);
        let mut header_changed = wire.clone();
        header_changed[1] = 1;
        assert_eq!(third.open(&header_changed, &mut Vec::new()), Err(RecordError::BadRecord));
    }

    #[test]
    fn a_handed_over_state_carries_on_where_its_predecessor_stopped() {
        let (mut sealer, mut opener) = pair(Suite::Aes256Gcm);
        let mut wire = Vec::new();
        for text in [&b"one"[..], b"two", b"three"] {
            sealer.seal(APPLICATION_DATA, text, &mut wire).expect("seals");
        }
        // The predecessor read the first record whole and 10 bytes of the second.
        let first_len = 5 + 3 + 1 + 16;
        let mut plain = Vec::new();
        opener.open(&wire[..first_len + 10], &mut plain).expect("opens");
        assert_eq!(plain, b"one");
        let (rx, partial, handshake) = opener.state();
        let (rx, partial, handshake) = (rx.clone(), partial.to_vec(), handshake.to_vec());
        let tx = sealer.secrets().clone();
        drop((sealer, opener));
        // The successor is built from what was handed over, and goes on in both directions.
        let mut successor = Opener::new(rx, partial, handshake).expect("valid");
        let mut plain = Vec::new();
        successor.open(&wire[first_len + 10..], &mut plain).expect("opens");
        assert_eq!(plain, b"twothree");
        let mut next_sealer = Sealer::new(tx).expect("valid");
        let mut more = Vec::new();
        next_sealer.seal(APPLICATION_DATA, b"four", &mut more).expect("seals");
        let mut peer = Opener::new(secrets(Suite::Aes256Gcm, 3), Vec::new(), Vec::new()).expect("valid");
        let mut plain = Vec::new();
        peer.open(&more, &mut plain).expect("the peer, at sequence 3, opens the successor's record");
        assert_eq!(plain, b"four");
    }

    #[test]
    fn alerts_tickets_and_key_updates() {
        let (mut sealer, mut opener) = pair(Suite::Aes128Gcm);
        let mut wire = Vec::new();
        // A NewSessionTicket split over two records, then data, then close_notify.
        let ticket = [4u8, 0, 0, 4, 1, 2, 3, 4];
        sealer.seal(HANDSHAKE, &ticket[..3], &mut wire).expect("seals");
        sealer.seal(HANDSHAKE, &ticket[3..], &mut wire).expect("seals");
        sealer.seal(APPLICATION_DATA, b"data", &mut wire).expect("seals");
        sealer.seal(ALERT, &[1, 0], &mut wire).expect("seals");
        let mut plain = Vec::new();
        assert_eq!(opener.open(&wire, &mut plain), Err(RecordError::CloseNotify));
        assert_eq!(plain, b"data", "what came before the close is kept");
        let (mut sealer, mut opener) = pair(Suite::Aes128Gcm);
        let mut wire = Vec::new();
        sealer.seal(HANDSHAKE, &[24, 0, 0, 1, 0], &mut wire).expect("seals");
        assert_eq!(opener.open(&wire, &mut Vec::new()), Err(RecordError::KeyUpdate));
        let (mut sealer, mut opener) = pair(Suite::Aes128Gcm);
        let mut wire = Vec::new();
        sealer.seal(ALERT, &[2, 42], &mut wire).expect("seals");
        assert_eq!(opener.open(&wire, &mut Vec::new()), Err(RecordError::Alert(42)));
    }

    #[test]
    fn impossible_records_are_refused_before_any_decryption() {
        let (_, mut opener) = pair(Suite::Aes128Gcm);
        assert!(matches!(
            opener.open(&[22, 3, 3, 0, 5, 0, 0, 0, 0, 0], &mut Vec::new()),
            Err(RecordError::Protocol(_))
        ));
        let (_, mut opener) = pair(Suite::Aes128Gcm);
        assert!(matches!(opener.open(&[23, 3, 3, 0xff, 0xff], &mut Vec::new()), Err(RecordError::Protocol(_))));
    }
}
