//! Client ends: how a peer calls another peer's handlers.

use std::any::type_name;
use std::sync::Arc;

use labrt::channel::{Receiver, bounded};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::RpcError;
use crate::codec;
use crate::network::Core;

/// Runs as a call leaves an end, on the caller's thread (see [`ClientEnd::with_tap`]).
type Tap = Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// One peer's end of a link to one server. Cheap to clone; clones are the same end.
#[derive(Clone)]
pub struct ClientEnd {
    name: Arc<str>,
    core: Arc<Core>,
    tap: Option<Tap>,
}

impl ClientEnd {
    pub(crate) fn new(name: Arc<str>, core: Arc<Core>) -> Self {
        Self {
            name,
            core,
            tap: None,
        }
    }

    /// The same end, running `tap` (with the method's name and the encoded arguments) on
    /// the caller's thread as each call starts, before the request leaves: a tester takes,
    /// at that moment, a copy of what the caller has saved, to restart it as if it crashed
    /// right after sending.
    pub fn with_tap(self, tap: impl Fn(&str, &[u8]) + Send + Sync + 'static) -> Self {
        Self {
            tap: Some(Arc::new(tap)),
            ..self
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls `method` (`"Service.Method"`) and blocks until the reply arrives or the network
    /// gives up. There is no timeout beyond the network's own: like Go's `Call`, this
    /// returns once the network answers, unless the handler never returns.
    ///
    /// # Panics
    /// If the server this end is connected to has no such method.
    pub fn call<A, R>(&self, method: &str, args: &A) -> Result<R, RpcError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
    {
        let reply = self.call_async(method, args);
        crate::spin::poll(|| reply.try_recv().ok())
            .or_else(|| reply.recv().ok())
            .unwrap_or(Err(RpcError::Shutdown))
    }

    /// Starts a call and returns at once. The returned channel yields exactly one outcome;
    /// use it in a crossbeam `select!` beside timers and other channels. Dropping the
    /// receiver abandons the call (the server may still run it).
    ///
    /// # Panics
    /// If the server this end is connected to has no such method.
    pub fn call_async<A, R>(&self, method: &str, args: &A) -> Receiver<Result<R, RpcError>>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
    {
        let (tx, rx) = bounded(1);
        self.call_with(method, args, move |outcome| {
            // The caller may have stopped listening; that abandons the call.
            let _ = tx.send(outcome);
        });
        rx
    }

    /// Starts a call and returns at once; `on_outcome` receives its one outcome. This is the
    /// form for an event loop: the callback forwards the reply into the loop's own channel,
    /// so one channel carries requests, replies and commands alike.
    ///
    /// The callback runs on a network thread and must be quick (send on a channel, no
    /// locks held for long, no blocking).
    ///
    /// # Panics
    /// If the server this end is connected to has no such method.
    pub fn call_with<A, R, F>(&self, method: &str, args: &A, on_outcome: F)
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
        F: FnOnce(Result<R, RpcError>) + Send + 'static,
    {
        let args = match codec::encode(args) {
            Ok(bytes) => bytes,
            Err(e) => {
                let error = RpcError::Codec {
                    method: method.to_owned(),
                    detail: format!(
                        "the arguments {} could not be encoded: {e}",
                        type_name::<A>()
                    ),
                };
                eprintln!("labrpc: {error}");
                return on_outcome(Err(error));
            }
        };
        if let Some(tap) = &self.tap {
            tap(method, &args);
        }
        let method_name = method.to_owned();
        let deliver = Box::new(move |outcome: Result<Vec<u8>, RpcError>| {
            let reply = outcome.and_then(|bytes| {
                codec::decode::<R>(&bytes).map_err(|e| RpcError::Codec {
                    method: method_name.clone(),
                    detail: format!(
                        "the reply could not be decoded into {}: {e}",
                        type_name::<R>()
                    ),
                })
            });
            if let Err(error @ RpcError::Codec { .. }) = &reply {
                eprintln!("labrpc: {error}");
            }
            on_outcome(reply);
        });
        self.core.start_call(&self.name, method, args, deliver);
    }
}

impl std::fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClientEnd").field(&self.name).finish()
    }
}
