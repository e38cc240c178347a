//! Servers and services: typed handlers registered under `"Service.Method"` names.

use std::any::type_name;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;

/// A handler as the network sees it: encoded arguments in, encoded reply out.
pub(crate) type RawHandler = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

/// A named group of RPC methods, e.g. `"Raft"` with `RequestVote` and `AppendEntries`.
pub struct Service {
    name: String,
    methods: BTreeMap<String, RawHandler>,
}

impl Service {
    /// An empty service. Its methods are called as `"<name>.<Method>"`.
    pub fn new(name: &str) -> Self {
        assert!(
            !name.is_empty() && !name.contains('.'),
            "labrpc: a service name must be non-empty and contain no '.', got {name:?}"
        );
        Self {
            name: name.to_owned(),
            methods: BTreeMap::new(),
        }
    }

    /// Registers `handler` as `method`. The handler receives its own decoded copy of the
    /// arguments and returns the reply; both cross the network encoded with postcard.
    ///
    /// # Panics
    /// If the method is registered twice or its name contains a `.`.
    pub fn method<A, R, F>(mut self, method: &str, handler: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        assert!(
            !method.is_empty() && !method.contains('.'),
            "labrpc: a method name must be non-empty and contain no '.', got {method:?}"
        );
        let full = format!("{}.{method}", self.name);
        let raw: RawHandler = Arc::new(move |bytes: &[u8]| {
            let args: A = codec::decode(bytes).map_err(|e| {
                format!(
                    "the request could not be decoded into {}: {e}",
                    type_name::<A>()
                )
            })?;
            codec::encode(&handler(args))
                .map_err(|e| format!("the reply {} could not be encoded: {e}", type_name::<R>()))
        });
        let previous = self.methods.insert(method.to_owned(), raw);
        assert!(previous.is_none(), "labrpc: {full} is registered twice");
        self
    }

    /// Runs `after` (with the method's name) each time one of the service's handlers has
    /// returned, before the reply leaves the server: a tester takes, at that moment, a
    /// copy of what the server has saved, to restart it as if it crashed right after
    /// answering.
    pub fn after_each_reply(mut self, after: impl Fn(&str) + Send + Sync + 'static) -> Self {
        let after = Arc::new(after);
        for (method, handler) in &mut self.methods {
            let (inner, after, method) = (Arc::clone(handler), Arc::clone(&after), method.clone());
            *handler = Arc::new(move |bytes: &[u8]| {
                let reply = inner(bytes);
                after(&method);
                reply
            });
        }
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A set of services reachable under one server name on the network.
#[derive(Default)]
pub struct Server {
    services: BTreeMap<String, Service>,
}

impl Server {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a service.
    ///
    /// # Panics
    /// If a service of the same name is already there.
    pub fn add_service(&mut self, service: Service) {
        let name = service.name.clone();
        let previous = self.services.insert(name.clone(), service);
        assert!(previous.is_none(), "labrpc: service {name} added twice");
    }

    /// Every `"Service.Method"` this server answers, sorted.
    pub fn methods(&self) -> Vec<String> {
        self.services
            .values()
            .flat_map(|s| s.methods.keys().map(move |m| format!("{}.{m}", s.name)))
            .collect()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("methods", &self.methods())
            .finish()
    }
}

/// One incarnation of a server on the network: the services plus the count of RPCs that
/// reached it. Deleting or replacing the server marks the incarnation dead for good.
pub(crate) struct Incarnation {
    server: Server,
    count: AtomicU64,
    dead: AtomicBool,
}

impl Incarnation {
    pub fn new(server: Server) -> Self {
        Self {
            server,
            count: AtomicU64::new(0),
            dead: AtomicBool::new(false),
        }
    }

    /// The handler of `method` (`"Service.Method"`), or a message naming what is missing.
    pub fn handler(&self, method: &str) -> Result<RawHandler, String> {
        let found = method.split_once('.').and_then(|(service, name)| {
            self.services_get(service).and_then(|s| s.methods.get(name))
        });
        found.cloned().ok_or_else(|| {
            let known = self.server.methods();
            if method.split_once('.').is_none() {
                format!(
                    "labrpc: {method:?} is not a \"Service.Method\" name; this server has {known:?}"
                )
            } else {
                format!("labrpc: unknown method {method:?}; this server has {known:?}")
            }
        })
    }

    fn services_get(&self, service: &str) -> Option<&Service> {
        self.server.services.get(service)
    }

    pub fn record_dispatch(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn kill(&self) {
        self.dead.store(true, Ordering::Release);
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }
}
