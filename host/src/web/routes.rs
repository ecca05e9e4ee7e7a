//! The HTTP routes apps serve: `METHOD /literal/{param}/...` patterns, each owned by one app, matched segment by
//! segment (a literal segment wins over a parameter).

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::bus::Mailbox;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

struct Route {
    method: String,
    segments: Vec<Segment>,
    /// The route as the app registered it (`GET /stats/flow/{dpid}`): the event's name.
    name: Arc<str>,
    app: Arc<Mailbox>,
}

/// A request matched to a route.
pub struct Matched {
    /// The app serving it.
    pub app: Arc<Mailbox>,
    /// The route as registered.
    pub route: Arc<str>,
    /// The parameters, percent-decoded.
    pub params: BTreeMap<String, String>,
}

/// Why no route serves a request.
#[derive(Debug, PartialEq, Eq)]
pub enum NoMatch {
    /// No route has this path.
    NotFound,
    /// Routes have this path, with these other methods.
    MethodNotAllowed(Vec<String>),
}

/// Every app's routes.
#[derive(Default)]
pub struct Routes {
    routes: RwLock<Vec<Route>>,
}

fn parse(spec: &str) -> Result<(String, Vec<Segment>), String> {
    let (method, path) =
        spec.trim().split_once(' ').ok_or_else(|| format!("HTTP route `{spec}` is not `METHOD /path`"))?;
    let path = path.trim();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("HTTP route `{spec}`: the method must be an upper-case token like GET"));
    }
    if !path.starts_with('/') {
        return Err(format!("HTTP route `{spec}`: the path must start with `/`"));
    }
    let mut segments = Vec::new();
    for part in path.split('/').skip(1) {
        if part.is_empty() && path != "/" {
            return Err(format!("HTTP route `{spec}`: empty path segment"));
        }
        if let Some(name) = part.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("HTTP route `{spec}`: bad parameter `{part}`"));
            }
            segments.push(Segment::Param(name.to_owned()));
        } else if part.contains(['{', '}']) {
            return Err(format!("HTTP route `{spec}`: a parameter must be a whole segment (`{part}`)"));
        } else if !part.is_empty() {
            segments.push(Segment::Literal(part.to_owned()));
        }
    }
    Ok((method.to_owned(), segments))
}

/// Two patterns that match the same paths (same literals, parameters in the same places).
fn same_shape(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Segment::Literal(x), Segment::Literal(y)) => x == y,
            (Segment::Param(_), Segment::Param(_)) => true,
            _ => false,
        })
}

impl Routes {
    /// Adds `app`'s route `spec` (`METHOD /path/{param}`); fails if it is malformed or another app serves it.
    pub fn add(&self, app: &Arc<Mailbox>, spec: &str) -> Result<(), String> {
        let (method, segments) = parse(spec)?;
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(other) = routes.iter().find(|r| r.method == method && same_shape(&r.segments, &segments)) {
            if !Arc::ptr_eq(&other.app, app) {
                return Err(format!(
                    "HTTP route `{spec}` is already served by app `{}` (`{}`)",
                    other.app.name, other.name
                ));
            }
            return Ok(());
        }
        routes.push(Route { method, segments, name: Arc::from(spec.trim()), app: Arc::clone(app) });
        Ok(())
    }

    /// Removes every route of `app`.
    pub fn remove(&self, app: &Arc<Mailbox>) {
        self.routes.write().unwrap_or_else(PoisonError::into_inner).retain(|r| !Arc::ptr_eq(&r.app, app));
    }

    /// Whether any app serves a route.
    pub fn is_empty(&self) -> bool {
        self.routes.read().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    /// The route for `method` and `path` (percent-encoded, without the query).
    pub fn find(&self, method: &str, path: &str) -> Result<Matched, NoMatch> {
        let parts: Vec<&str> = path.split('/').skip(1).filter(|part| !part.is_empty()).collect();
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        // Score: the number of literal segments, so `/a/b` wins over `/a/{x}`.
        let mut best: Option<(usize, &Route)> = None;
        let mut allowed: Vec<String> = Vec::new();
        for route in routes.iter() {
            if route.segments.len() != parts.len() {
                continue;
            }
            let mut literals = 0;
            let fits = route.segments.iter().zip(&parts).all(|(segment, part)| match segment {
                Segment::Literal(literal) => {
                    literals += 1;
                    literal == part
                }
                Segment::Param(_) => true,
            });
            if !fits {
                continue;
            }
            if route.method != method {
                if !allowed.contains(&route.method) {
                    allowed.push(route.method.clone());
                }
                continue;
            }
            if best.is_none_or(|(score, _)| literals > score) {
                best = Some((literals, route));
            }
        }
        let Some((_, route)) = best else {
            return Err(if allowed.is_empty() { NoMatch::NotFound } else { NoMatch::MethodNotAllowed(allowed) });
        };
        let params = route
            .segments
            .iter()
            .zip(&parts)
            .filter_map(|(segment, part)| match segment {
                Segment::Param(name) => Some((name.clone(), tatsu_abi::percent_decode(part, false))),
                Segment::Literal(_) => None,
            })
            .collect();
        Ok(Matched { app: Arc::clone(&route.app), route: Arc::clone(&route.name), params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str) -> Arc<Mailbox> {
        Mailbox::new(name, 16)
    }

    #[test]
    fn patterns_are_checked_and_matched_literal_first() {
        let routes = Routes::default();
        let one = app("one");
        let two = app("two");
        routes.add(&one, "GET /stats/flow/{dpid}").expect("valid");
        routes.add(&one, "POST /stats/flow/{dpid}").expect("valid");
        routes.add(&two, "GET /stats/flow/special").expect("a literal does not clash with a parameter");
        assert!(routes
            .add(&two, "GET /stats/flow/{id}")
            .expect_err("same shape")
            .contains("already served by app `one`"));
        assert!(routes.add(&one, "get /x").is_err());
        assert!(routes.add(&one, "GET x").is_err());
        assert!(routes.add(&one, "GET /a{b}").is_err());

        let found = routes.find("GET", "/stats/flow/12").unwrap_or_else(|_| panic!("found"));
        assert_eq!(&*found.route, "GET /stats/flow/{dpid}");
        assert_eq!(found.params["dpid"], "12");
        let special = routes.find("GET", "/stats/flow/special").unwrap_or_else(|_| panic!("found"));
        assert!(Arc::ptr_eq(&special.app, &two));
        let decoded = routes.find("GET", "/stats/flow/a%20b").unwrap_or_else(|_| panic!("found"));
        assert_eq!(decoded.params["dpid"], "a b");
        assert_eq!(routes.find("GET", "/stats/nope/1").err(), Some(NoMatch::NotFound));
        assert_eq!(
            routes.find("DELETE", "/stats/flow/1").err(),
            Some(NoMatch::MethodNotAllowed(vec!["GET".into(), "POST".into()]))
        );
        routes.remove(&one);
        assert_eq!(routes.find("GET", "/stats/flow/1").err(), Some(NoMatch::NotFound));
    }
}
