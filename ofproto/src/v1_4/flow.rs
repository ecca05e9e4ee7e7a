//! `OFPT_FLOW_MOD` of OpenFlow 1.4 and 1.5: 1.3's, with an `importance` where 1.3 has padding.

use crate::error::{DecodeError, EncodeError};
use crate::v1_3;
use crate::wire::Reader;

/// `OFPT_FLOW_MOD` body: the 1.3 flow-mod (same fields, match and instructions) and its importance.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowMod {
    /// Everything but the importance (build it with 1.3's builders: `v1_3::FlowMod::add(m).priority(1)...`).
    pub flow: v1_3::FlowMod,
    /// Eviction precedence (higher is evicted later).
    pub importance: u16,
}

impl From<v1_3::FlowMod> for FlowMod {
    fn from(flow: v1_3::FlowMod) -> Self {
        FlowMod { flow, importance: 0 }
    }
}

impl FlowMod {
    /// Sets the importance.
    pub fn importance(mut self, importance: u16) -> Self {
        self.importance = importance;
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowMod, DecodeError> {
        let (flow, importance) = v1_3::FlowMod::parse_with_importance(r)?;
        Ok(FlowMod { flow, importance })
    }
    /// Appends the body; fails if the match or an instruction is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.flow.emit_with_importance(self.importance, out)
    }
}

/// JSON of `OFPFlowMod` (1.3's and `importance`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::FlowMod;
    use crate::json::{cls_ext, Obj, R};
    use crate::v1_3;
    use serde_json::{json, Value};

    impl FlowMod {
        pub(crate) fn to_json(&self) -> Value {
            cls_ext(self.flow.to_json(), json!({ "importance": self.importance }))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowMod> {
            Ok(FlowMod { flow: v1_3::FlowMod::from_json(o)?, importance: o.u16("importance")? })
        }
    }
}
