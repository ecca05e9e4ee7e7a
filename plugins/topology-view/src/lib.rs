//! `topology-view`: the network in the browser (Ryu's `gui_topology`). `GET /` on the REST port serves one page
//! (HTML, CSS and JavaScript in this library, nothing fetched from elsewhere) that draws the switches, links and
//! hosts the `topology` app knows as an SVG graph, and follows every change live over the WebSocket
//! [`WS_PATH`]: a client gets the whole topology when it connects (`snapshot`), then each change as the topology
//! app publishes it (`mirror.rs` lists the messages).
//!
//! In the drawing every switch is an element with `data-dpid` (16 hex digits, as the REST topology gives them),
//! every link one element per direction with `data-link="SRC_DPID:SRC_PORT-DST_DPID:DST_PORT"` (ports in decimal),
//! every host an element with `data-mac`. Clicking a switch shows its ports and flows (ofctl-rest's
//! `/stats/portdesc/DPID` and `/stats/flow/DPID`), clicking a link its load in bytes per second from port
//! statistics (`/stats/port/DPID/PORT`, polled each second).
//!
//! With a bearer token (`--wsapi-token`), open the page as `/?access_token=TOKEN`: the host takes the token from
//! that query parameter on `GET`s (RFC 6750, section 2.3), and the page sends it on as `Authorization` on its
//! fetches and in the WebSocket's URL.
//!
//! The snapshot is one message, about 370 bytes a switch with four links (372 KB for a 1,000-switch grid). A
//! client's send queue (`wsapi_websocket_queue_bytes`, 1 MiB) must hold it: past about 2,500 such switches, raise
//! that setting, or pages are refused the snapshot (logged).

mod mirror;

use std::time::Duration;

use tatsu_plugin_api::http::{HttpRequest, HttpResponse};
use tatsu_plugin_api::websocket::WebSocketEvent;
use tatsu_plugin_api::{export_app, App, BoxError, Context, Handlers};
use tatsu_topology_api::{
    GetHosts, GetLinks, GetSwitches, HostAdd, HostDelete, HostMove, LinkAdd, LinkDelete, PortAdd, PortDelete,
    PortModify, SwitchEnter, SwitchLeave,
};

use mirror::{Change, Mirror};

/// The WebSocket path the page follows the topology on.
pub const WS_PATH: &str = "/topology-view/ws";

/// The page: one document, its style and script inside, so that it needs nothing but itself and the REST port.
const PAGE: &str = concat!(
    include_str!("../assets/head.html"),
    "<style>\n",
    include_str!("../assets/view.css"),
    "</style>\n",
    include_str!("../assets/body.html"),
    "<script>\n",
    include_str!("../assets/view.js"),
    "</script>\n</body>\n</html>\n",
);

/// How long the topology app may take to answer the requests for its state.
const SYNC_TIMEOUT: Duration = Duration::from_secs(5);

/// The app: a mirror of the topology, and whether it is complete.
pub struct TopologyView {
    mirror: Mirror,
    /// The mirror was filled from the topology app's replies (if not, it is asked again when a client connects).
    synced: bool,
    /// Connected WebSocket clients (no message is built while there are none).
    clients: usize,
}

impl App for TopologyView {
    const NAME: &'static str = "topology-view";
    const DESCRIPTION: &'static str = "the topology in the browser: GET / on the REST port, live over a WebSocket";
    const REQUIRES: &'static [&'static str] = &[tatsu_topology_api::APP_NAME];
    type Config = ();

    fn new(_ctx: &Context, _config: ()) -> Result<Self, BoxError> {
        Ok(TopologyView { mirror: Mirror::default(), synced: false, clients: 0 })
    }

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers
            .on_http("GET", "/", |_: &mut Self, _: &Context, _: &HttpRequest<'_>| {
                HttpResponse::new(200, "text/html; charset=utf-8", PAGE)
            })
            .on_websocket(WS_PATH, Self::websocket)
            .on_event(|app: &mut Self, ctx: &Context, e: SwitchEnter| app.change(ctx, Change::SwitchAdd(e.switch)))
            .on_event(|app: &mut Self, ctx: &Context, e: SwitchLeave| {
                app.change(ctx, Change::SwitchDelete(e.switch.dpid))
            })
            .on_event(|app: &mut Self, ctx: &Context, e: PortAdd| app.change(ctx, Change::PortAdd(e.port)))
            .on_event(|app: &mut Self, ctx: &Context, e: PortModify| app.change(ctx, Change::PortModify(e.port)))
            .on_event(|app: &mut Self, ctx: &Context, e: PortDelete| app.change(ctx, Change::PortDelete(e.port.at())))
            .on_event(|app: &mut Self, ctx: &Context, e: LinkAdd| app.change(ctx, Change::LinkAdd(e.link)))
            .on_event(|app: &mut Self, ctx: &Context, e: LinkDelete| app.change(ctx, Change::LinkDelete(e.link)))
            .on_event(|app: &mut Self, ctx: &Context, e: HostAdd| app.change(ctx, Change::HostAdd(e.host)))
            .on_event(|app: &mut Self, ctx: &Context, e: HostMove| {
                app.change(ctx, Change::HostMove { host: e.host, from: e.from })
            })
            .on_event(|app: &mut Self, ctx: &Context, e: HostDelete| app.change(ctx, Change::HostDelete(e.host.mac)));
    }

    fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.sync(ctx);
        Ok(())
    }
}

impl TopologyView {
    /// Fills the mirror from the topology app's state. Its events since this app subscribed are queued behind
    /// the replies and applied after them; applying a change the replies already hold changes nothing.
    fn sync(&mut self, ctx: &Context) {
        let state = ctx.request(&GetSwitches::default(), SYNC_TIMEOUT).and_then(|switches| {
            let links = ctx.request(&GetLinks::default(), SYNC_TIMEOUT)?;
            Ok((switches, links, ctx.request(&GetHosts::default(), SYNC_TIMEOUT)?))
        });
        match state {
            Ok((switches, links, hosts)) => {
                self.mirror = Mirror::new(switches, links, hosts);
                self.synced = true;
                let (switches, links, hosts) = self.mirror.counts();
                log::info!("following the topology: {switches} switches, {links} links, {hosts} hosts so far");
            }
            Err(e) => {
                log::warn!("the topology app did not give its state ({e}); asking again when a page connects");
            }
        }
    }

    /// Applies a change and pushes it to every connected page.
    fn change(&mut self, ctx: &Context, change: Change) {
        let message = self.mirror.apply(change);
        if self.clients > 0 {
            if let Err(e) = ctx.websocket_broadcast(WS_PATH, &message) {
                log::warn!("a topology change was not pushed: {e}");
            }
        }
    }

    /// A page connects (it gets the snapshot) or leaves; what pages send is ignored.
    fn websocket(&mut self, ctx: &Context, event: &WebSocketEvent<'_>) {
        match *event {
            WebSocketEvent::Open { client } => {
                self.clients += 1;
                if !self.synced {
                    self.sync(ctx);
                }
                if let Err(e) = ctx.websocket_send(WS_PATH, client, &self.mirror.snapshot()) {
                    log::warn!("the topology was not sent to page {client}: {e}");
                }
            }
            WebSocketEvent::Close { .. } => self.clients = self.clients.saturating_sub(1),
            WebSocketEvent::Text { .. } | WebSocketEvent::Binary { .. } => {}
        }
    }
}

export_app!(TopologyView);

#[cfg(test)]
mod kit_tests;
