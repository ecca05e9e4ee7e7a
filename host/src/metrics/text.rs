//! The Prometheus text exposition format, version 0.0.4, written by hand: a family's `# HELP` and `# TYPE` lines,
//! then its samples, one a line, with label values escaped as the format says (`\\`, `\"`, `\n`).

use std::fmt::Write;

/// The `Content-Type` of a body in this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family's samples mean to Prometheus.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Only goes up (a reset means the process started again).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative `_bucket{le=...}` samples, `_sum` and `_count`.
    Histogram,
}

/// A body being written.
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty body, with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Exposition {
        Exposition { out: String::with_capacity(capacity) }
    }

    /// Starts the family `name` (its samples follow, all together).
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample: `name{labels} value`. Label values are escaped; names must be valid already.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Value) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                escape_into(&mut self.out, text);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        value.write_to(&mut self.out);
        self.out.push('\n');
    }

    /// The body.
    pub fn finish(self) -> String {
        self.out
    }
}

fn escape_into(out: &mut String, text: &str) {
    if !text.contains(['\\', '"', '\n']) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample value.
pub trait Value {
    /// Writes the value as the format wants it.
    fn write_to(self, out: &mut String);
}

impl Value for u64 {
    fn write_to(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Value for f64 {
    fn write_to(self, out: &mut String) {
        if self.is_nan() {
            out.push_str("NaN");
        } else if self.is_infinite() {
            out.push_str(if self > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            let _ = write!(out, "{self}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escaping_follow_the_format() {
        let mut body = Exposition::with_capacity(0);
        body.family("tatsu_x_total", Kind::Counter, "Things.");
        body.sample("tatsu_x_total", &[("app", "a\"b\\c\nd"), ("dp_id", "0x1")], 7u64);
        body.sample("tatsu_y", &[], f64::INFINITY);
        body.sample("tatsu_z", &[], 0.25);
        assert_eq!(
            body.finish(),
            "# HELP tatsu_x_total Things.\n# TYPE tatsu_x_total counter\n\
             tatsu_x_total{app=\"a\\\"b\\\\c\\nd\",dp_id=\"0x1\"} 7\ntatsu_y +Inf\ntatsu_z 0.25\n"
        );
    }
}
