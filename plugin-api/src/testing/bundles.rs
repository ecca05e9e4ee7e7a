//! The test kit's side of [`crate::Bundle`]: the `of_transaction` service, and switches that keep bundles the way
//! Open vSwitch does (open, add, close, commit or discard; a message that fails in a commit is reported under its
//! own xid, then the commit fails with `OFPBFC_MSG_FAILED` and nothing is applied).

use std::collections::HashMap;

use abi_stable::std_types::{RResult, RSlice};
use tatsu_ofproto::bundle::{bundle_ctrl_type, bundle_failed_code, ONF_EXPERIMENTER_ID};
use tatsu_ofproto::portable::{BundleControl, Encode};
use tatsu_ofproto::{v1_3, v1_4, v1_5, ErrorMsg, Message, OFP_VERSION_1_3};

use super::{request_error, test_host, Sent, TestHost};
use crate::abi::{AppHandle, OfTransaction, RequestError, RequestFailure};

/// Decides whether a kit switch fails a message when it commits a bundle: the error it reports for it.
pub(super) type Refusal = Box<dyn FnMut(u64, &Message) -> Option<ErrorMsg> + Send>;

/// A bundle a kit switch was sent, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleRecord {
    /// The datapath.
    pub dpid: u64,
    /// The bundle id.
    pub bundle_id: u32,
    /// Its `OFPBF_*` flags.
    pub flags: u16,
    /// The messages added to it, in order.
    pub messages: Vec<Message>,
    /// Committed, discarded, or failed in its commit (then nothing of it was applied).
    pub fate: BundleFate,
}

/// What became of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFate {
    /// Committed: every message applied.
    Committed,
    /// Discarded by the app.
    Discarded,
    /// Its commit failed: none applied.
    Failed,
}

/// The bundles the kit's switches hold.
#[derive(Default)]
pub(super) struct KitBundles {
    /// Open bundles by datapath and id.
    open: HashMap<(u64, u32), OpenBundle>,
    /// Bundles that were committed, discarded or failed, oldest first.
    pub(super) records: Vec<BundleRecord>,
    pub(super) refusal: Option<Refusal>,
}

/// An open bundle: its flags and the added messages with their xids.
type OpenBundle = (u16, Vec<(u32, Message)>);

/// A bundle message of any version, as the kit switch reads it.
enum BundleMessage {
    Control { bundle_id: u32, ctrl_type: u16, flags: u16 },
    Add { bundle_id: u32, message: Message },
}

fn bundle_message(message: &Message) -> Option<BundleMessage> {
    let control = |b: &tatsu_ofproto::bundle::BundleCtrl| BundleMessage::Control {
        bundle_id: b.bundle_id,
        ctrl_type: b.ctrl_type,
        flags: b.flags,
    };
    Some(match message {
        Message::V1_3(v1_3::Message::BundleControl(b)) => control(b),
        Message::V1_4(v1_4::Message::BundleControl(b)) => control(b),
        Message::V1_5(v1_5::Message::BundleControl(b)) => control(b),
        Message::V1_3(v1_3::Message::BundleAdd(a)) => {
            BundleMessage::Add { bundle_id: a.bundle_id, message: Message::V1_3((*a.message).clone()) }
        }
        Message::V1_4(v1_4::Message::BundleAdd(a)) => {
            BundleMessage::Add { bundle_id: a.bundle_id, message: Message::V1_4((*a.message).clone()) }
        }
        Message::V1_5(v1_5::Message::BundleAdd(a)) => {
            BundleMessage::Add { bundle_id: a.bundle_id, message: Message::V1_5((*a.message).clone()) }
        }
        _ => return None,
    })
}

/// A bundle failure (`OFPBFC_*` `code`) as the version reports it: Open vSwitch's ONF experimenter error on 1.3.
fn bundle_error(version: u8, code: u16, request: &[u8]) -> ErrorMsg {
    let data = request.get(..request.len().min(64)).unwrap_or_default();
    if version == OFP_VERSION_1_3 {
        ErrorMsg { err_type: 0xffff, code: 2300 + code, experimenter: Some(ONF_EXPERIMENTER_ID), data: data.to_vec() }
    } else {
        ErrorMsg::new(tatsu_ofproto::common::error_codes::OFPET_BUNDLE_FAILED, code, data)
    }
}

/// An error message in `version` under `xid`.
fn encode_error(version: u8, error: ErrorMsg, xid: u32, out: &mut Vec<u8>) {
    let message: Message = match version {
        OFP_VERSION_1_3 => v1_3::Message::Error(error).into(),
        tatsu_ofproto::OFP_VERSION_1_4 => v1_4::Message::Error(error).into(),
        _ => v1_5::Message::Error(error).into(),
    };
    // An error of at most 64 bytes of data always encodes.
    let _ = message.encode(xid, out);
}

impl KitBundles {
    /// What the switch of `dpid` answers to bundle message `message` (whose bytes are `bytes`, under `xid`),
    /// appended to `out`.
    fn answer(&mut self, dpid: u64, xid: u32, bytes: &[u8], message: BundleMessage, out: &mut Vec<u8>) {
        let version = bytes.first().copied().unwrap_or(OFP_VERSION_1_3);
        let reply = |bundle_id: u32, ctrl_type: u16, flags: u16, out: &mut Vec<u8>| {
            let _ = BundleControl::new(bundle_id, ctrl_type + 1, flags).encode_for(version, xid, out);
        };
        match message {
            BundleMessage::Add { bundle_id, message } => match self.open.get_mut(&(dpid, bundle_id)) {
                Some((_, messages)) => messages.push((xid, message)),
                None => encode_error(version, bundle_error(version, bundle_failed_code::BAD_ID, bytes), xid, out),
            },
            BundleMessage::Control { bundle_id, ctrl_type, flags } => match ctrl_type {
                bundle_ctrl_type::OPEN_REQUEST if self.open.contains_key(&(dpid, bundle_id)) => {
                    encode_error(version, bundle_error(version, bundle_failed_code::BUNDLE_EXIST, bytes), xid, out);
                }
                bundle_ctrl_type::OPEN_REQUEST => {
                    self.open.insert((dpid, bundle_id), (flags, Vec::new()));
                    reply(bundle_id, ctrl_type, flags, out);
                }
                bundle_ctrl_type::CLOSE_REQUEST if self.open.contains_key(&(dpid, bundle_id)) => {
                    reply(bundle_id, ctrl_type, flags, out);
                }
                bundle_ctrl_type::COMMIT_REQUEST | bundle_ctrl_type::DISCARD_REQUEST => {
                    let Some((flags, messages)) = self.open.remove(&(dpid, bundle_id)) else {
                        encode_error(version, bundle_error(version, bundle_failed_code::BAD_ID, bytes), xid, out);
                        return;
                    };
                    let mut fate = BundleFate::Discarded;
                    if ctrl_type == bundle_ctrl_type::COMMIT_REQUEST {
                        fate = BundleFate::Committed;
                        for (message_xid, message) in &messages {
                            let refused = self.refusal.as_mut().and_then(|refuse| refuse(dpid, message));
                            if let Some(error) = refused {
                                encode_error(version, error, *message_xid, out);
                                let failed = bundle_error(version, bundle_failed_code::MSG_FAILED, bytes);
                                encode_error(version, failed, xid, out);
                                fate = BundleFate::Failed;
                                break;
                            }
                        }
                    }
                    if fate != BundleFate::Failed {
                        reply(bundle_id, ctrl_type, flags, out);
                    }
                    let messages = messages.into_iter().map(|(_, message)| message).collect();
                    self.records.push(BundleRecord { dpid, bundle_id, flags, messages, fate });
                }
                _ => encode_error(version, bundle_error(version, bundle_failed_code::BAD_TYPE, bytes), xid, out),
            },
        }
    }
}

/// The kit's `of_transaction`: each message under a fresh xid (a bundle add's carried message too), recorded as
/// sent; bundle messages answered by the kit's bundle switch, the others by [`super::TestKit::answer_switch_requests`].
pub(super) extern "C" fn of_transaction(
    app: AppHandle,
    dpid: u64,
    messages: RSlice<'_, u8>,
    _also_gather: RSlice<'_, u32>,
    _timeout_ns: u64,
) -> RResult<OfTransaction, RequestError> {
    let host = test_host(app);
    if !host.lock().datapaths.contains_key(&dpid) {
        let detail = format!("no datapath {dpid:016x} is connected");
        return RResult::RErr(request_error(RequestFailure::UnknownDatapath, detail));
    }
    let mut decoded = Vec::new();
    let mut rest: &[u8] = &messages;
    while !rest.is_empty() {
        let Ok(Some((one, tail))) = tatsu_ofproto::split_frame(rest) else {
            return RResult::RErr(request_error(RequestFailure::Failed, "the messages are not whole".to_owned()));
        };
        match tatsu_ofproto::decode(one) {
            Ok((_, message)) => decoded.push(message),
            Err(e) => return RResult::RErr(request_error(RequestFailure::Failed, format!("a message: {e}"))),
        }
        rest = tail;
    }
    let mut xids = Vec::new();
    let mut replies = Vec::new();
    for mut message in decoded {
        let xid = host.fresh_xid();
        set_carried_xid(&mut message, xid);
        let Ok(bytes) = message.to_vec(xid) else {
            return RResult::RErr(request_error(RequestFailure::Failed, "a message does not re-encode".to_owned()));
        };
        answer(host, dpid, xid, &bytes, &message, &mut replies);
        host.lock().sent.push(Sent { dpid, bytes, message: Some(message) });
        xids.push(xid);
    }
    RResult::ROk(OfTransaction { xids: xids.into(), replies: replies.into() })
}

/// Gives the message a bundle add carries the add's new xid, as the host does.
fn set_carried_xid(message: &mut Message, xid: u32) {
    match message {
        Message::V1_3(v1_3::Message::BundleAdd(a)) => a.xid = xid,
        Message::V1_4(v1_4::Message::BundleAdd(a)) => a.xid = xid,
        Message::V1_5(v1_5::Message::BundleAdd(a)) => a.xid = xid,
        _ => {}
    }
}

/// Appends the kit switch's answer to one message of a transaction.
fn answer(host: &TestHost, dpid: u64, xid: u32, bytes: &[u8], message: &Message, out: &mut Vec<u8>) {
    if let Some(bundle) = bundle_message(message) {
        host.lock().bundles.answer(dpid, xid, bytes, bundle, out);
        return;
    }
    let responder = host.lock().switch_responder.take();
    if let Some(mut responder) = responder {
        for reply in responder(dpid, message) {
            let _ = reply.encode(xid, out);
        }
        host.lock().switch_responder = Some(responder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BundleError, BundleStage, Committed};
    use crate::testing::TestKit;
    use crate::{Action, App, BoxError, Context, DatapathInfo, FlowMod, Handlers, Match};
    use tatsu_ofproto::bundle::bundle_failure;
    use tatsu_ofproto::EncodeError;

    /// Commits (or, configured so, discards) a bundle of three flows when a datapath joins.
    #[derive(Default)]
    struct Committer {
        discard: bool,
        outcome: Option<Result<Committed, BundleError>>,
    }

    fn flow(port: u32) -> FlowMod {
        FlowMod::add(Match::new().in_port(port)).priority(10 + port as u16).actions([Action::output(port + 1)])
    }

    impl App for Committer {
        const NAME: &'static str = "committer";
        type Config = bool;

        fn new(_: &Context, discard: bool) -> Result<Self, BoxError> {
            Ok(Committer { discard, outcome: None })
        }

        fn register(&self, handlers: &mut Handlers<Self>) {
            handlers.on_datapath_enter(|app: &mut Committer, _: &Context, info: &DatapathInfo| {
                let outcome = info.datapath().bundle().and_then(|mut bundle| {
                    for port in 1..=3 {
                        bundle.add(flow(port))?;
                    }
                    if app.discard {
                        bundle.discard()
                    } else {
                        bundle.commit()
                    }
                });
                app.outcome = Some(outcome);
            });
        }
    }

    fn kit(discard: bool) -> TestKit<Committer> {
        TestKit::<Committer>::with_config(serde_json::json!(discard)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_committed_bundle_holds_every_message_in_order_on_every_version_with_bundles() {
        for version in [4u8, 5, 6] {
            let mut kit = kit(false);
            kit.connect(1, version, &[1, 2, 3, 4]);
            let outcome = kit.app_mut().outcome.take();
            let Some(Ok(committed)) = outcome else { panic!("version {version}: {outcome:?}") };
            assert_eq!((committed.messages, committed.reply.ctrl_type), (3, bundle_ctrl_type::COMMIT_REPLY));
            let bundles = kit.take_bundles();
            assert_eq!(bundles.len(), 1, "{bundles:?}");
            assert_eq!(
                (bundles[0].fate, bundles[0].bundle_id, bundles[0].flags),
                (BundleFate::Committed, committed.bundle_id, 3)
            );
            let expected: Vec<Message> = (1..=3)
                .map(|port| {
                    let bytes = {
                        let mut out = Vec::new();
                        flow(port).encode_for(version, 1, &mut out).expect("encodes");
                        out
                    };
                    tatsu_ofproto::decode(&bytes).expect("decodes").1
                })
                .collect();
            assert_eq!(bundles[0].messages, expected, "version {version}");
            // Open, three adds and close, then the commit.
            assert_eq!(kit.take_sent().len(), 6);
        }
    }

    #[test]
    fn a_message_the_switch_fails_is_named_and_nothing_is_applied() {
        for version in [4u8, 5, 6] {
            let mut kit = kit(false);
            kit.refuse_in_bundles(|_, message| {
                let text = format!("{message:?}");
                text.contains("priority: 12").then(|| ErrorMsg::new(5, 0, vec![]))
            });
            kit.connect(1, version, &[1, 2, 3, 4]);
            let outcome = kit.app_mut().outcome.take();
            let Some(Err(BundleError::Rejected(rejection))) = outcome else { panic!("version {version}: {outcome:?}") };
            assert_eq!(rejection.stage, BundleStage::Commit);
            assert_eq!(rejection.message_errors.len(), 1, "{rejection:?}");
            assert_eq!(rejection.message_errors[0].index, 1, "the second flow");
            assert_eq!((rejection.message_errors[0].error.err_type, rejection.message_errors[0].error.code), (5, 0));
            let control = rejection.control_error.as_ref().expect("the commit's own error");
            assert_eq!(bundle_failure(control), Some(bundle_failed_code::MSG_FAILED), "version {version}");
            assert_eq!(kit.take_bundles()[0].fate, BundleFate::Failed);
        }
    }

    #[test]
    fn a_discarded_bundle_is_applied_nowhere() {
        let mut kit = kit(true);
        kit.connect(1, 5, &[1, 2]);
        let outcome = kit.app_mut().outcome.take();
        let Some(Ok(discarded)) = outcome else { panic!("{outcome:?}") };
        assert_eq!(discarded.reply.ctrl_type, bundle_ctrl_type::DISCARD_REPLY);
        let bundles = kit.take_bundles();
        assert_eq!((bundles.len(), bundles[0].fate, bundles[0].messages.len()), (1, BundleFate::Discarded, 3));
    }

    #[test]
    fn versions_without_bundles_say_so_and_send_nothing() {
        for version in [1u8, 3] {
            let mut kit = kit(false);
            kit.connect(1, version, &[1, 2]);
            let outcome = kit.app_mut().outcome.take();
            let Some(Err(BundleError::Encode(EncodeError::NotInVersion { version: v, .. }))) = outcome else {
                panic!("version {version}: {outcome:?}")
            };
            assert_eq!(v, version);
            assert!(kit.take_sent().is_empty() && kit.take_bundles().is_empty());
        }
    }
}
