//! Test fixture: a well-formed app whose plugin-api speaks another interface version; the host must refuse it.

use tatsu_plugin_api::{export_app, App, BoxError, Context, Handlers};

pub struct Foreign;

impl App for Foreign {
    const NAME: &'static str = "foreign";
    type Config = ();

    fn new(_ctx: &Context, _config: ()) -> Result<Self, BoxError> {
        Ok(Foreign)
    }

    fn register(&self, _handlers: &mut Handlers<Self>) {}
}

export_app!(Foreign);
