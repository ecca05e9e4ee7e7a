//! Bundles: a group of flow, group and port changes a switch applies all together or not at all, on every
//! version that has them (OpenFlow 1.4 and 1.5, and 1.3 through Open vSwitch's extension).
//!
//! [`Datapath::bundle`] starts one; [`Bundle::add`] encodes each message for the datapath's version at once (so
//! what the version cannot express fails there, with nothing sent); [`Bundle::commit`] or [`Bundle::discard`]
//! talks to the switch, parking the calling green thread, never the scheduler:
//!
//! 1. open, every add and a close go out together; the close's reply says the switch has checked every message.
//!    If it refused any (an error under that message's xid), the bundle is discarded and the commit fails with
//!    those errors: a switch that refuses a message as it is added still commits the others (Open vSwitch does),
//!    so committing then would not be all or nothing.
//! 2. commit (or discard). A switch that fails a message while committing reports that message's error under
//!    the message's own xid, then fails the commit (`OFPBFC_MSG_FAILED`); it applied none of the bundle.
//!
//! ```no_run
//! # use tatsu_plugin_api::{Action, Datapath, FlowMod, Match, BoxError};
//! # fn f(dp: &Datapath) -> Result<(), BoxError> {
//! let mut bundle = dp.bundle()?;                  // atomic and ordered; 1.0 and 1.2: an error
//! bundle.add(FlowMod::add(Match::new().in_port(1)).actions([Action::output(2)]))?;
//! bundle.add(FlowMod::add(Match::new().in_port(2)).actions([Action::output(1)]))?;
//! match bundle.commit() {
//!     Ok(committed) => log::info!("bundle {} committed", committed.bundle_id),
//!     Err(failed) => log::warn!("nothing applied: {failed}"),    // per message: failed.rejection()
//! }
//! # Ok(()) }
//! ```

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use abi_stable::std_types::{RResult, RSlice};
use tatsu_ofproto::bundle::{bundle_ctrl_type, bundle_failure, bundle_flags};
use tatsu_ofproto::portable::{BundleAdd, BundleControl, Encode};
use tatsu_ofproto::{v1_3, v1_4, v1_5, EncodeError, ErrorMsg, Message};

use crate::green;
use crate::openflow::{of_error, Datapath, OfError, OfErrorKind};

/// How long each of a bundle's two exchanges with the switch may take, unless [`Bundle::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The app's own xid for the open request; the added messages follow it, then the close.
const OPEN_XID: u32 = 1;

/// A bundle being put together for one datapath. Nothing is sent before [`Bundle::commit`] or
/// [`Bundle::discard`]; dropping it sends nothing.
#[derive(Debug)]
pub struct Bundle {
    datapath: Datapath,
    bundle_id: u32,
    flags: u16,
    timeout: Duration,
    /// The added messages, each a whole bundle add under its app xid (`OPEN_XID + 1 + index`).
    adds: Vec<Vec<u8>>,
}

/// A bundle the switch committed (or, for [`Bundle::discard`], threw away).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The bundle id.
    pub bundle_id: u32,
    /// How many messages it held.
    pub messages: usize,
    /// The switch's reply (`OFPBCT_COMMIT_REPLY`, or `OFPBCT_DISCARD_REPLY`).
    pub reply: BundleControl,
}

/// The step of a bundle the switch refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleStage {
    /// Opening it.
    Open,
    /// Adding messages: the switch refused one or more of them; the bundle was discarded.
    Add,
    /// Closing it.
    Close,
    /// Committing it: the switch applied none of it.
    Commit,
    /// Discarding it.
    Discard,
}

/// The switch's error for one added message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError {
    /// The message's position in the bundle (0 for the first [`Bundle::add`]).
    pub index: usize,
    /// The xid the message went under (the error's xid).
    pub xid: u32,
    /// The error.
    pub error: ErrorMsg,
}

/// What the switch said when it refused a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRejection {
    /// The bundle id.
    pub bundle_id: u32,
    /// The step that failed.
    pub stage: BundleStage,
    /// The errors for added messages, in the order they came.
    pub message_errors: Vec<MessageError>,
    /// The error answering the bundle's own request (open, close, commit or discard), such as
    /// `OFPBFC_MSG_FAILED` after a message failed in a commit.
    pub control_error: Option<ErrorMsg>,
}

/// Why a bundle was not committed (or discarded).
#[derive(Debug, Clone, PartialEq)]
pub enum BundleError {
    /// A message cannot be expressed in the datapath's version (1.0 and 1.2 have no bundles at all:
    /// [`EncodeError::NotInVersion`]). Nothing was sent.
    Encode(EncodeError),
    /// Talking to the switch failed: not connected, its send queue full, disconnected, no answer in time, or an
    /// answer that does not decode.
    Of(OfError),
    /// The switch refused the bundle, saying why.
    Rejected(BundleRejection),
}

impl BundleError {
    /// The switch's errors, if it refused the bundle.
    pub fn rejection(&self) -> Option<&BundleRejection> {
        match self {
            BundleError::Rejected(rejection) => Some(rejection),
            _ => None,
        }
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Encode(e) => write!(f, "bundle: {e}"),
            BundleError::Of(e) => write!(f, "bundle: {e}"),
            BundleError::Rejected(r) => {
                write!(f, "bundle {:#x}: the switch refused it at {:?}", r.bundle_id, r.stage)?;
                for m in &r.message_errors {
                    write!(f, "; message {} (xid {}): {}", m.index, m.xid, describe(&m.error))?;
                }
                if let Some(e) = &r.control_error {
                    write!(f, "; then: {}", describe(e))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for BundleError {}

impl From<EncodeError> for BundleError {
    fn from(e: EncodeError) -> Self {
        BundleError::Encode(e)
    }
}

impl From<OfError> for BundleError {
    fn from(e: OfError) -> Self {
        BundleError::Of(e)
    }
}

/// An error's type and code, and its bundle failure code by name where it has one.
fn describe(error: &ErrorMsg) -> String {
    let code = match bundle_failure(error) {
        Some(13) => " (OFPBFC_MSG_FAILED)".to_owned(),
        Some(code) => format!(" (OFPBFC code {code})"),
        None => String::new(),
    };
    format!("error type {} code {}{code}", error.err_type, error.code)
}

/// A bundle id no other open bundle on the connection is likely to have (apps share the connection, and the
/// switch keys bundles by id per connection): random, from the standard library's per-process random keys.
fn fresh_bundle_id() -> u32 {
    RandomState::new().build_hasher().finish() as u32
}

impl Datapath {
    /// Starts an atomic, ordered bundle ([`Datapath::bundle_with_flags`] for others). On a datapath whose
    /// version has no bundles (1.0, 1.2) this is [`BundleError::Encode`] with [`EncodeError::NotInVersion`].
    pub fn bundle(&self) -> Result<Bundle, BundleError> {
        self.bundle_with_flags(bundle_flags::ATOMIC | bundle_flags::ORDERED)
    }

    /// Starts a bundle with `OFPBF_*` flags ([`tatsu_ofproto::bundle::bundle_flags`]). Open vSwitch applies port
    /// changes only in bundles that are not atomic.
    pub fn bundle_with_flags(&self, flags: u16) -> Result<Bundle, BundleError> {
        let bundle =
            Bundle { datapath: *self, bundle_id: fresh_bundle_id(), flags, timeout: DEFAULT_TIMEOUT, adds: vec![] };
        // Whether the version has bundles at all: encoding an open request says.
        bundle.control(bundle_ctrl_type::OPEN_REQUEST, OPEN_XID)?;
        Ok(bundle)
    }
}

impl Bundle {
    /// The bundle id.
    pub fn id(&self) -> u32 {
        self.bundle_id
    }

    /// How many messages were added.
    pub fn len(&self) -> usize {
        self.adds.len()
    }

    /// Whether no message was added.
    pub fn is_empty(&self) -> bool {
        self.adds.is_empty()
    }

    /// How long each exchange with the switch may take ([`DEFAULT_TIMEOUT`]).
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Adds a message: a portable [`tatsu_ofproto::portable::FlowMod`], or a version-specific group-mod,
    /// port-mod or packet-out of the datapath's own version. It is encoded now: a message the version cannot
    /// express (or of another version) is [`BundleError::Encode`], and the bundle stays as it was.
    pub fn add(&mut self, message: impl Encode) -> Result<&mut Self, BundleError> {
        let xid = self.add_xid(self.adds.len());
        let mut bytes = Vec::new();
        BundleAdd { bundle_id: self.bundle_id, flags: self.flags, message }.encode_for(
            self.datapath.version(),
            xid,
            &mut bytes,
        )?;
        self.adds.push(bytes);
        Ok(self)
    }

    /// Commits the bundle: every message applied, or (if the switch refuses any) none. Parks the calling green
    /// thread for two exchanges with the switch (see the module documentation).
    pub fn commit(self) -> Result<Committed, BundleError> {
        self.finish(bundle_ctrl_type::COMMIT_REQUEST, BundleStage::Commit)
    }

    /// Has the switch check every message and throw the bundle away: nothing is applied. A message it refuses is
    /// reported as by [`Bundle::commit`].
    pub fn discard(self) -> Result<Committed, BundleError> {
        self.finish(bundle_ctrl_type::DISCARD_REQUEST, BundleStage::Discard)
    }

    fn add_xid(&self, index: usize) -> u32 {
        OPEN_XID + 1 + index as u32
    }

    fn control(&self, ctrl_type: u16, xid: u32) -> Result<Vec<u8>, EncodeError> {
        let mut bytes = Vec::new();
        BundleControl::new(self.bundle_id, ctrl_type, self.flags).encode_for(
            self.datapath.version(),
            xid,
            &mut bytes,
        )?;
        Ok(bytes)
    }

    fn finish(self, ctrl_type: u16, stage: BundleStage) -> Result<Committed, BundleError> {
        // 1. Open, the adds and a close, together; the close's answer comes once every add was checked.
        let close_xid = self.add_xid(self.adds.len());
        let mut first = self.control(bundle_ctrl_type::OPEN_REQUEST, OPEN_XID)?;
        self.adds.iter().for_each(|add| first.extend_from_slice(add));
        first.extend_from_slice(&self.control(bundle_ctrl_type::CLOSE_REQUEST, close_xid)?);
        let checked = self.exchange(&first, &[])?;
        let (open_xid, add_xids, close_xid) = match checked.xids.as_slice() {
            [open, adds @ .., close] => (*open, adds.to_vec(), *close),
            _ => return Err(OfError::new(OfErrorKind::Other, "the host sent the bundle under no xids").into()),
        };
        let mut rejection = self.rejection(stage);
        for (xid, error) in checked.errors() {
            if xid == open_xid {
                rejection.stage = BundleStage::Open;
                rejection.control_error = Some(error);
            } else if xid == close_xid {
                if rejection.stage != BundleStage::Open {
                    rejection.stage = BundleStage::Close;
                }
                rejection.control_error.get_or_insert(error);
            } else if let Some(index) = add_xids.iter().position(|&add| add == xid) {
                rejection.stage = BundleStage::Add;
                rejection.message_errors.push(MessageError { index, xid, error });
            }
        }
        if rejection.stage != stage {
            if rejection.stage != BundleStage::Open {
                // Refused as it was put together: throw it away rather than leave it open on the switch. Its answer
                // changes nothing of what is reported.
                let _ = self.exchange(&self.control(bundle_ctrl_type::DISCARD_REQUEST, OPEN_XID)?, &[]);
            }
            return Err(BundleError::Rejected(rejection));
        }
        // 2. Commit (or discard), hearing also what the switch says about the added messages meanwhile.
        let done = self.exchange(&self.control(ctrl_type, OPEN_XID)?, &add_xids)?;
        let request_xid = done.xids.first().copied();
        let mut reply = None;
        for answer in done.replies {
            match answer.error {
                Some(error) if Some(answer.xid) == request_xid => rejection.control_error = Some(error),
                Some(error) => {
                    if let Some(index) = add_xids.iter().position(|&xid| xid == answer.xid) {
                        rejection.message_errors.push(MessageError { index, xid: answer.xid, error });
                    }
                }
                None if Some(answer.xid) == request_xid => reply = answer.control,
                None => {}
            }
        }
        match reply {
            Some(reply) if rejection.control_error.is_none() && rejection.message_errors.is_empty() => {
                Ok(Committed { bundle_id: self.bundle_id, messages: self.adds.len(), reply })
            }
            _ => Err(BundleError::Rejected(rejection)),
        }
    }

    /// A rejection at `stage` with nothing in it yet.
    fn rejection(&self, stage: BundleStage) -> BundleRejection {
        BundleRejection { bundle_id: self.bundle_id, stage, message_errors: Vec::new(), control_error: None }
    }

    /// One exchange: `messages` out together, the replies under their xids (and `also_gather`'s) back.
    fn exchange(&self, messages: &[u8], also_gather: &[u32]) -> Result<Exchange, BundleError> {
        let host = self.datapath.context().host();
        let call = host.services.of_transaction();
        let gathered = match call(
            host.app,
            self.datapath.dpid(),
            RSlice::from_slice(messages),
            RSlice::from_slice(also_gather),
            green::duration_ns(self.timeout),
        ) {
            RResult::ROk(gathered) => gathered,
            RResult::RErr(e) => return Err(of_error(e.failure, e.detail.into_string()).into()),
        };
        let mut replies = Vec::new();
        let mut rest: &[u8] = &gathered.replies;
        while let Ok(Some((one, tail))) = tatsu_ofproto::split_frame(rest) {
            let (header, message) = tatsu_ofproto::decode(one)
                .map_err(|e| OfError::new(OfErrorKind::Decode, format!("a bundle reply: {e}")))?;
            let error = match message {
                Message::V1_3(v1_3::Message::Error(e))
                | Message::V1_4(v1_4::Message::Error(e))
                | Message::V1_5(v1_5::Message::Error(e)) => Some(e),
                _ => None,
            };
            replies.push(Reply { xid: header.xid, error, control: BundleControl::parse(one).ok() });
            rest = tail;
        }
        Ok(Exchange { xids: gathered.xids.to_vec(), replies })
    }
}

/// What one exchange brought back.
struct Exchange {
    /// The xid each message went under.
    xids: Vec<u32>,
    replies: Vec<Reply>,
}

impl Exchange {
    /// The errors, with the xids they came under, in arrival order.
    fn errors(&self) -> impl Iterator<Item = (u32, ErrorMsg)> + '_ {
        self.replies.iter().filter_map(|reply| Some((reply.xid, reply.error.clone()?)))
    }
}

/// One message the switch sent back.
struct Reply {
    xid: u32,
    error: Option<ErrorMsg>,
    control: Option<BundleControl>,
}
