//! `hello`: the smallest useful tatsu app. It greets the other apps when it starts, logs every `greeting` event it
//! sees, and answers `hello.whoami` requests with what it has counted.
//!
//! Configure it in the host's config file:
//! ```toml
//! [app.hello]
//! greeting = "hello from tatsu"
//! ```

use serde::Deserialize;
use serde_json::{json, Value};
use tatsu_plugin_api::{export_app, App, AppEvent, BoxError, Context, Handlers, Request};

/// The app's settings (its `[app.hello]` section).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What it says when it starts.
    pub greeting: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { greeting: "hello".to_owned() }
    }
}

/// The app's state.
pub struct Hello {
    config: Config,
    greetings_seen: u64,
}

impl App for Hello {
    const NAME: &'static str = "hello";
    const DESCRIPTION: &'static str = "logs the events it sees";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        Ok(Hello { config, greetings_seen: 0 })
    }

    fn register(handlers: &mut Handlers<Self>) {
        handlers.on_app_event("greeting", Self::on_greeting).on_request("hello.whoami", Self::whoami);
    }

    fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        log::info!("{}", self.config.greeting);
        ctx.publish("greeting", &json!({ "from": ctx.app_name(), "text": self.config.greeting }))?;
        Ok(())
    }

    fn stop(&mut self, _ctx: &Context) {
        log::info!("goodbye after {} greetings", self.greetings_seen);
    }
}

impl Hello {
    fn on_greeting(&mut self, _ctx: &Context, event: &AppEvent<'_>) {
        self.greetings_seen += 1;
        log::info!("greeting from `{}`: {}", event.source(), event.payload_str());
    }

    fn whoami(&mut self, ctx: &Context, request: &Request<'_>) -> Result<Value, String> {
        log::debug!("`{}` asks who we are", request.source());
        Ok(json!({ "app": ctx.app_name(), "greetings_seen": self.greetings_seen }))
    }
}

export_app!(Hello);
