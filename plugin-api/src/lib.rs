//! # tatsu-plugin-api
//!
//! The one crate a tatsu app depends on. An app is a type implementing [`App`], exported from a `cdylib` with
//! [`export_app!`]; the `tatsu` host loads the library from its plugins directory and drives the app:
//!
//! ```no_run
//! use tatsu_plugin_api::{export_app, App, AppEvent, BoxError, Context, Handlers};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Greeting { text: String }
//! impl AppEvent for Greeting { const NAME: &'static str = "hello.greeting"; }
//!
//! #[derive(Default)]
//! struct Hello { seen: u64 }
//!
//! impl App for Hello {
//!     const NAME: &'static str = "hello";
//!     type Config = ();
//!
//!     fn new(_ctx: &Context, _config: ()) -> Result<Self, BoxError> {
//!         Ok(Hello::default())
//!     }
//!
//!     fn register(&self, handlers: &mut Handlers<Self>) {
//!         handlers.on_event(Self::on_greeting);
//!     }
//! }
//!
//! impl Hello {
//!     fn on_greeting(&mut self, _ctx: &Context, greeting: Greeting) {
//!         self.seen += 1;
//!         log::info!("greeting: {}", greeting.text);
//!     }
//! }
//!
//! export_app!(Hello);
//! ```
//!
//! Switches: [`Handlers::on_datapath_enter`], [`Handlers::on_message`] with a message type (`PacketIn`,
//! `PortStatus`, `ErrorMsg`, or a version's own decoded types), and [`Datapath::send`] with the portable builders
//! in [`ofproto::portable`], which encode for each datapath's negotiated version. Apps are unit-tested without a
//! host with the test kit (`testing`, the `test-kit` feature).
//!
//! Several hosts as one controller: [`Handlers::on_role`] (this host's role for each datapath) and the replicated
//! key-value store [`Context::kv`]; see [`cluster`].
//!
//! Periodic work: [`Handlers::on_timer`], a handler that runs every period on the app's event loop like any other
//! (the test kit fires it from a virtual clock, `TestKit::advance`).
//!
//! What crosses into the host is defined in the `tatsu-abi` crate ([`abi`]); app authors never need it.
//! Everything an app does with the host goes through [`Context`] and the green-thread kit in [`green`], which run
//! on the host's scheduler: apps must not block a scheduler thread with blocking `std` I/O, `std::thread::sleep`
//! or long-held `std::sync` locks.

/// The stable interface to the host (the `tatsu-abi` crate).
pub use tatsu_abi as abi;

mod adapter;
mod app;
pub mod bundle;
pub mod cluster;
mod context;
mod fast_map;
pub mod green;
pub mod http;
mod link;
mod logging;
pub mod openflow;
mod panic;
#[cfg(feature = "test-kit")]
pub mod testing;
pub mod websocket;

pub use app::{App, BoxError, HandlerOutcome, Handlers, MessageHandler};
pub use bundle::{Bundle, BundleError};
pub use cluster::{Kv, KvChange, KvEntry, KvError, KvErrorKind, KvListing, KvWatch, Role, RoleChange};
pub use context::{AppEvent, AppRequest, Context, RequestError, RequestErrorKind};
pub use fast_map::{FastHasher, FastMap};
pub use http::{HttpRequest, HttpResponse};
pub use openflow::{Datapath, DatapathInfo, DatapathStates, Incoming, OfError, OfErrorKind, OfMessage, SwitchMessage};
/// The OpenFlow codec: messages, matches, actions, instructions, builders; [`ofproto::portable`] for messages
/// written once for every version.
pub use tatsu_ofproto as ofproto;
pub use tatsu_ofproto::portable::{Action, FlowMod, Match, PacketIn, PacketOut, Port, PortStatus};
pub use tatsu_ofproto::{ErrorMsg, MacAddr};
/// Packets inside OpenFlow messages: parse packet-in data, build packet-out data (Ryu's `ryu.lib.packet`).
pub use tatsu_packet as packet;

/// Re-exports for the [`export_app!`] macro only.
#[doc(hidden)]
pub mod __private {
    pub use crate::adapter::root_module;
    pub use abi_stable::library::{__call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult};
}

/// Exports an [`App`] type as the root module of this library, so the `tatsu` host can load it.
///
/// Use it once, in the app crate's `lib.rs`, with the crate built as a `cdylib`.
#[macro_export]
macro_rules! export_app {
    ($app:ty) => {
        // The symbol abi_stable looks for (abi_stable's `ROOT_MODULE_LOADER_NAME`; a plugin-api test checks it).
        #[doc(hidden)]
        #[export_name = "_1as_0lib_1header_0root_bmodule_bloader"]
        pub static __TATSU_APP_LIB_HEADER: $crate::__private::LibHeader = {
            extern "C" fn __tatsu_root_module() -> $crate::__private::RootModuleResult {
                $crate::__private::__call_root_module_loader($crate::__private::root_module::<$app>)
            }
            // SAFETY: the constructor returns the root module type named here, and layout checking is on.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::abi::AppModuleRef>(
                    __tatsu_root_module,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_symbol_matches_abi_stable() {
        assert_eq!(abi_stable::library::ROOT_MODULE_LOADER_NAME, "_1as_0lib_1header_0root_bmodule_bloader");
    }
}
