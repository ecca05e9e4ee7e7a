//! `hello`: the smallest useful tatsu app. It greets the other apps when it starts, logs every greeting event it
//! sees, and answers `hello.whoami` requests with what it has counted.
//!
//! Configure it in the host's config file:
//! ```toml
//! [app.hello]
//! greeting = "hello from tatsu"
//! ```

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::{export_app, App, AppEvent, AppRequest, BoxError, Context, Handlers};

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

/// The `greeting` event: an app says hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    /// The app that greets.
    pub from: String,
    /// What it says.
    pub text: String,
}

impl AppEvent for Greeting {
    const NAME: &'static str = "greeting";
}

/// The `hello.whoami` request.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WhoAmI {}

/// The answer to [`WhoAmI`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The app's name.
    pub app: String,
    /// How many greetings it has seen.
    pub greetings_seen: u64,
}

impl AppRequest for WhoAmI {
    const NAME: &'static str = "hello.whoami";
    type Reply = Identity;
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

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers.on_event(Self::on_greeting).on_request(Self::whoami);
    }

    fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        log::info!("{}", self.config.greeting);
        ctx.publish(&Greeting { from: ctx.app_name().to_owned(), text: self.config.greeting.clone() })?;
        Ok(())
    }

    fn stop(&mut self, _ctx: &Context) {
        log::info!("goodbye after {} greetings", self.greetings_seen);
    }
}

impl Hello {
    fn on_greeting(&mut self, _ctx: &Context, greeting: Greeting) {
        self.greetings_seen += 1;
        log::info!("greeting from `{}`: {}", greeting.from, greeting.text);
    }

    fn whoami(&mut self, ctx: &Context, _request: WhoAmI) -> Result<Identity, String> {
        Ok(Identity { app: ctx.app_name().to_owned(), greetings_seen: self.greetings_seen })
    }
}

export_app!(Hello);

#[cfg(test)]
mod tests {
    use super::*;
    use tatsu_plugin_api::testing::TestKit;

    fn greeting(from: &str, text: &str) -> Greeting {
        Greeting { from: from.to_owned(), text: text.to_owned() }
    }

    #[test]
    fn it_greets_with_the_configured_text_when_it_starts() {
        let mut kit = TestKit::<Hello>::with_config(serde_json::json!({"greeting": "hi there"})).unwrap();
        assert_eq!(kit.take_published::<Greeting>(), [greeting("hello", "hi there")]);
        assert!(TestKit::<Hello>::with_config(serde_json::json!({"greting": "typo"})).is_err());
    }

    #[test]
    fn whoami_counts_the_greetings_seen() {
        let mut kit = TestKit::<Hello>::new().unwrap();
        let identity = kit.request(&WhoAmI {}).unwrap();
        assert_eq!(identity, Identity { app: "hello".to_owned(), greetings_seen: 0 });
        kit.publish(&greeting("other", "hey"));
        kit.publish(&greeting("third", "yo"));
        assert_eq!(kit.request(&WhoAmI {}).unwrap().greetings_seen, 2);
        assert!(kit.faults().is_empty(), "{:?}", kit.faults());
    }

    /// Another app's greeting of another shape is a fault of the handler, and is not counted.
    #[test]
    fn a_greeting_of_the_wrong_shape_is_a_fault() {
        #[derive(Serialize, Deserialize)]
        struct Malformed {
            from: u32,
        }
        impl AppEvent for Malformed {
            const NAME: &'static str = "greeting";
        }
        let mut kit = TestKit::<Hello>::new().unwrap();
        kit.publish(&Malformed { from: 3 });
        assert_eq!(kit.faults().len(), 1, "{:?}", kit.faults());
        assert_eq!(kit.request(&WhoAmI {}).unwrap().greetings_seen, 0);
    }
}
