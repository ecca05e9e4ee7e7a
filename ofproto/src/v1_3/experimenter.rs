//! `OFPT_EXPERIMENTER`.

use crate::error::DecodeError;
use crate::wire::{Put, Reader};

/// `OFPT_EXPERIMENTER` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Experimenter {
    /// Experimenter id.
    pub experimenter: u32,
    /// Experimenter-defined type.
    pub exp_type: u32,
    /// Opaque body.
    pub data: Vec<u8>,
}

impl Experimenter {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<Experimenter, DecodeError> {
        Ok(Experimenter { experimenter: r.u32()?, exp_type: r.u32()?, data: r.rest().to_vec() })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.experimenter);
        out.put_u32(self.exp_type);
        out.extend_from_slice(&self.data);
    }
}

/// JSON of `OFPExperimenter`.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::Experimenter;
    use crate::json::{base64, cls, Obj, R};
    use serde_json::{json, Value};

    impl Experimenter {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPExperimenter",
                json!({"experimenter": self.experimenter, "exp_type": self.exp_type, "data": base64(&self.data)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<Experimenter> {
            Ok(Experimenter {
                experimenter: o.u32("experimenter")?,
                exp_type: o.u32("exp_type")?,
                data: o.bytes("data")?,
            })
        }
    }
}
