//! The network: ends, servers, connections, settings, counters, and the life of a call.
//!
//! A call goes through these steps, each on whichever thread is at hand:
//! 1. *take* (caller's thread): count it, snapshot the link, decide its [`Fate`], record
//!    it in the in-flight table;
//! 2. *arrive* (caller or timer thread, after the request delay): drop the request, or
//!    hand it to the handler pool;
//! 3. *serve* (pool thread): run the handler, unless the incarnation it was sent to is dead;
//! 4. *reply* (pool or timer thread): deliver, drop or hold back the reply.
//!
//! The in-flight table is what makes crashes sharp: an entry leaves it exactly once, and
//! whoever removes it delivers the outcome. Disabling an end, or deleting or replacing a
//! server, removes the affected entries at once with [`RpcError::Lost`], so a dead
//! incarnation can never answer. Replies already held back by long reordering are on the
//! wire and still arrive, as in Go.

use labrt::time::Instant;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use labrt::sync::Mutex;

use crate::end::ClientEnd;
use crate::faults::{Conditions, Fate, call_rng, decide};
use crate::pool::Pool;
use crate::server::{Incarnation, RawHandler, Server};
use crate::timer::Timer;
use crate::{RpcError, SEED_VAR, SIM_LATENCY};

/// Receives the outcome of a call: the encoded reply or why there is none.
pub(crate) type Deliver = Box<dyn FnOnce(Result<Vec<u8>, RpcError>) + Send>;

/// A simulated network. Dropping it shuts it down (see [`Network::shutdown`]).
pub struct Network {
    core: Arc<Core>,
}

pub(crate) struct Core {
    seed: u64,
    state: Mutex<State>,
    total_count: AtomicU64,
    total_bytes: AtomicU64,
    timer: Timer,
    pool: Pool,
    /// The first handler panic, described (see [`Network::handler_panic`]).
    handler_panic: OnceLock<String>,
}

#[derive(Default)]
struct State {
    shut_down: bool,
    conditions: Conditions,
    ends: BTreeMap<Arc<str>, EndInfo>,
    servers: BTreeMap<String, Arc<Incarnation>>,
    inflight: BTreeMap<u64, InFlight>,
    next_call: u64,
}

struct EndInfo {
    enabled: bool,
    server: Option<String>,
    /// Calls made on this end so far; also the position of the next call in the end's
    /// fault stream.
    calls: u64,
}

struct InFlight {
    end: Arc<str>,
    /// Fails with `Lost` if its end is disabled or its server deleted or replaced. Calls
    /// on dead links, and replies already held back on the wire, are not.
    cancellable: bool,
    deliver: Deliver,
}

impl Default for Network {
    fn default() -> Self {
        Self::new()
    }
}

impl Network {
    /// A reliable network with no ends and no servers, seeded from the environment
    /// variable `RAFTLAB_SEED` if it is set and at random otherwise.
    ///
    /// # Panics
    /// If `RAFTLAB_SEED` is set but is not a whole number that fits in 64 bits.
    pub fn new() -> Self {
        Self::with_seed(crate::seed_from_env())
    }

    /// A reliable network whose fault decisions all derive from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        let state = State {
            conditions: Conditions {
                reliable: true,
                ..Conditions::default()
            },
            ..State::default()
        };
        Self {
            core: Arc::new(Core {
                seed,
                state: Mutex::new(state),
                total_count: AtomicU64::new(0),
                total_bytes: AtomicU64::new(0),
                timer: Timer::start("labrpc"),
                pool: Pool::new("labrpc"),
                handler_panic: OnceLock::new(),
            }),
        }
    }

    /// The seed of every fault decision on this network. Setting `RAFTLAB_SEED` to it gives
    /// each end the same fault schedule again.
    pub fn seed(&self) -> u64 {
        self.core.seed
    }

    /// The first RPC handler on this network that panicked, if one did: which method, the
    /// end it was called on, and the panic's message. The call itself failed with
    /// [`RpcError::HandlerPanicked`], which its caller may ignore or retry forever; a
    /// tester can fail the test at once instead.
    pub fn handler_panic(&self) -> Option<String> {
        self.core.handler_panic.get().cloned()
    }

    /// How to reproduce this network's faults, for failure messages: `RAFTLAB_SEED=<seed>`.
    pub fn seed_hint(&self) -> String {
        format!("{SEED_VAR}={}", self.core.seed)
    }

    /// Creates a client end. It starts disabled and unconnected.
    ///
    /// # Panics
    /// If an end of that name exists.
    pub fn make_end(&self, name: &str) -> ClientEnd {
        let name: Arc<str> = Arc::from(name);
        let mut st = self.core.state.lock();
        assert!(
            !st.ends.contains_key(&name),
            "labrpc: make_end: an end named {name:?} already exists"
        );
        st.ends.insert(
            Arc::clone(&name),
            EndInfo {
                enabled: false,
                server: None,
                calls: 0,
            },
        );
        ClientEnd::new(name, Arc::clone(&self.core))
    }

    /// Removes an end. Calls made on it afterwards behave as on a disabled end, and its
    /// calls waiting for a server fail at once.
    pub fn delete_end(&self, name: &str) {
        let failed = {
            let mut st = self.core.state.lock();
            st.ends.remove(name);
            st.take_cancellable(|end, _| &**end == name)
        };
        fail_all(failed, RpcError::Lost);
    }

    /// Adds a server under `name`, replacing (and killing) any server of that name: calls
    /// in flight to the old one fail at once, and it never runs another handler.
    pub fn add_server(&self, name: &str, server: Server) {
        let incarnation = Arc::new(Incarnation::new(server));
        let failed = {
            let mut st = self.core.state.lock();
            let old = st.servers.insert(name.to_owned(), incarnation);
            st.retire(name, old)
        };
        fail_all(failed, RpcError::Lost);
    }

    /// Deletes the server `name` (a crash): calls in flight to it fail at once and later
    /// calls behave as on a dead link. Deleting a missing server does nothing.
    pub fn delete_server(&self, name: &str) {
        let failed = {
            let mut st = self.core.state.lock();
            let old = st.servers.remove(name);
            st.retire(name, old)
        };
        fail_all(failed, RpcError::Lost);
    }

    /// Connects an end to a server name (the server may be added later). An end is
    /// connected once in its life.
    ///
    /// # Panics
    /// If the end does not exist, or is already connected to another server.
    pub fn connect(&self, end: &str, server: &str) {
        let mut st = self.core.state.lock();
        let info = st.end_mut(end, "connect");
        match &info.server {
            Some(s) if s != server => panic!(
                "labrpc: connect: end {end:?} is already connected to {s:?}; make a new end to reach {server:?}"
            ),
            _ => info.server = Some(server.to_owned()),
        }
    }

    /// Enables or disables an end. Disabling it fails its calls still waiting for a reply
    /// at once, and later calls behave as on a dead link.
    ///
    /// # Panics
    /// If the end does not exist.
    pub fn enable(&self, end: &str, enabled: bool) {
        let failed = {
            let mut st = self.core.state.lock();
            st.end_mut(end, "enable").enabled = enabled;
            if enabled {
                Vec::new()
            } else {
                st.take_cancellable(|e, _| &**e == end)
            }
        };
        fail_all(failed, RpcError::Lost);
    }

    /// Whether an end is enabled (false for an unknown end).
    pub fn is_enabled(&self, end: &str) -> bool {
        self.core
            .state
            .lock()
            .ends
            .get(end)
            .is_some_and(|e| e.enabled)
    }

    /// Reliable (the default): no delays or losses on live links. Unreliable: every request
    /// waits 0–26 ms, and requests and replies are each lost with probability 1/10.
    pub fn set_reliable(&self, reliable: bool) {
        self.core.state.lock().conditions.reliable = reliable;
    }

    /// With long delays, calls on dead links fail after 0–7 s instead of 0–100 ms, as the
    /// Raft tests use it: a peer must never wait for an RPC before sending the next.
    pub fn set_long_delays(&self, long_delays: bool) {
        self.core.state.lock().conditions.long_delays = long_delays;
    }

    /// With long reordering, 2/3 of replies are held back 200–2199 ms.
    pub fn set_long_reordering(&self, long_reordering: bool) {
        self.core.state.lock().conditions.long_reordering = long_reordering;
    }

    pub fn is_reliable(&self) -> bool {
        self.core.state.lock().conditions.reliable
    }

    pub fn is_long_delays(&self) -> bool {
        self.core.state.lock().conditions.long_delays
    }

    pub fn is_long_reordering(&self) -> bool {
        self.core.state.lock().conditions.long_reordering
    }

    /// RPCs that reached the current server of this name (its handler was started), or 0
    /// if there is none. A replaced server starts again from 0.
    pub fn count(&self, server: &str) -> u64 {
        self.core
            .state
            .lock()
            .servers
            .get(server)
            .map_or(0, |s| s.count())
    }

    /// Calls made on this end so far, whatever became of them (0 for an unknown end).
    pub fn end_count(&self, end: &str) -> u64 {
        self.core.state.lock().ends.get(end).map_or(0, |e| e.calls)
    }

    /// Every RPC the network has taken, lost or not.
    pub fn total_count(&self) -> u64 {
        self.core.total_count.load(Ordering::Relaxed)
    }

    /// Bytes carried, counted as Go counts them: a request's encoded size when the network
    /// takes it, a reply's when the reply is delivered.
    pub fn total_bytes(&self) -> u64 {
        self.core.total_bytes.load(Ordering::Relaxed)
    }

    /// Shuts the network down (Go's `Cleanup`): every call in flight fails at once with
    /// [`RpcError::Shutdown`], later calls fail the same way without waiting, and the
    /// servers are dropped. Idempotent.
    pub fn shutdown(&self) {
        let (failed, servers) = {
            let mut st = self.core.state.lock();
            if st.shut_down {
                return;
            }
            st.shut_down = true;
            let failed: Vec<_> = std::mem::take(&mut st.inflight)
                .into_values()
                .map(|c| c.deliver)
                .collect();
            (failed, std::mem::take(&mut st.servers))
        };
        for server in servers.values() {
            server.kill();
        }
        fail_all(failed, RpcError::Shutdown);
        // Dropped outside the lock: handlers may own ends, and through them the network.
        drop(servers);
        self.core.timer.stop();
        self.core.pool.stop();
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("seed", &self.core.seed)
            .finish_non_exhaustive()
    }
}

impl State {
    fn end_mut(&mut self, end: &str, verb: &str) -> &mut EndInfo {
        match self.ends.get_mut(end) {
            Some(info) => info,
            None => panic!("labrpc: {verb}: there is no end named {end:?}"),
        }
    }

    /// Removes the cancellable in-flight calls that `hit(end, end_info)` selects.
    fn take_cancellable(
        &mut self,
        hit: impl Fn(&Arc<str>, Option<&EndInfo>) -> bool,
    ) -> Vec<Deliver> {
        let ids: Vec<u64> = self
            .inflight
            .iter()
            .filter(|(_, c)| c.cancellable && hit(&c.end, self.ends.get(&c.end)))
            .map(|(&id, _)| id)
            .collect();
        ids.iter()
            .filter_map(|id| self.inflight.remove(id))
            .map(|c| c.deliver)
            .collect()
    }

    /// Kills a removed or replaced incarnation and takes the calls waiting on it.
    fn retire(&mut self, name: &str, old: Option<Arc<Incarnation>>) -> Vec<Deliver> {
        match old {
            Some(old) => {
                old.kill();
                self.take_cancellable(|_, info| {
                    info.is_some_and(|i| i.server.as_deref() == Some(name))
                })
            }
            None => Vec::new(),
        }
    }
}

/// What step 1 found under the lock.
enum Taken {
    ShutDown,
    UnknownMethod(String),
    Call {
        seq: u64,
        conditions: Conditions,
        /// The live server and its handler, if the link is up.
        target: Option<(Arc<Incarnation>, RawHandler)>,
    },
}

impl State {
    /// Counts a call on `end` and snapshots its link. Typos in method names are caught
    /// whenever the end's server is known, link up or not.
    fn take(&mut self, end: &str, method: &str) -> Taken {
        if self.shut_down {
            return Taken::ShutDown;
        }
        let Some(info) = self.ends.get_mut(end) else {
            return Taken::Call {
                seq: 0,
                conditions: self.conditions,
                target: None,
            };
        };
        let seq = info.calls;
        info.calls += 1;
        let server = info.server.as_deref().and_then(|s| self.servers.get(s));
        let target = match server {
            Some(server) => match server.handler(method) {
                Ok(handler) => info.enabled.then(|| (Arc::clone(server), handler)),
                Err(message) => return Taken::UnknownMethod(message),
            },
            None => None,
        };
        Taken::Call {
            seq,
            conditions: self.conditions,
            target,
        }
    }

    /// Records a taken call in the in-flight table and returns its id.
    fn register(&mut self, end: &Arc<str>, cancellable: bool, deliver: Deliver) -> u64 {
        let id = self.next_call;
        self.next_call += 1;
        self.inflight.insert(
            id,
            InFlight {
                end: Arc::clone(end),
                cancellable,
                deliver,
            },
        );
        id
    }
}

fn fail_all(calls: Vec<Deliver>, error: RpcError) {
    for deliver in calls {
        deliver(Err(error.clone()));
    }
}

impl Core {
    /// Step 1, on the caller's thread: take the request.
    ///
    /// # Panics
    /// If the end is connected to a live server that has no such method.
    pub(crate) fn start_call(
        self: &Arc<Self>,
        end: &Arc<str>,
        method: &str,
        args: Vec<u8>,
        deliver: Deliver,
    ) {
        let taken = self.state.lock().take(end, method);
        let (id, fate, target) = match taken {
            Taken::ShutDown => return deliver(Err(RpcError::Shutdown)),
            Taken::UnknownMethod(message) => panic!("{message} (called on end {end:?})"),
            Taken::Call {
                seq,
                conditions,
                target,
            } => {
                self.total_count.fetch_add(1, Ordering::Relaxed);
                self.total_bytes
                    .fetch_add(args.len() as u64, Ordering::Relaxed);
                let fate = decide(
                    &mut call_rng(self.seed, end, seq),
                    conditions,
                    target.is_some(),
                );
                let id = self.state.lock().register(end, target.is_some(), deliver);
                (id, fate, target)
            }
        };

        match (fate, target) {
            (Fate::DeadLink { fail_after }, _) => {
                let core = Arc::clone(self);
                self.timer.at(
                    Instant::now() + fail_after,
                    Box::new(move || core.finish(id, Err(RpcError::Lost))),
                );
            }
            (
                Fate::Live {
                    request_delay,
                    drop_request,
                    drop_reply,
                    reply_delay,
                },
                Some((server, handler)),
            ) => {
                let (request_delay, reply_delay) = with_sim_latency(request_delay, reply_delay);
                let request = Request {
                    id,
                    end: Arc::clone(end),
                    method: method.to_owned(),
                    args,
                    server,
                    handler,
                    drop_reply,
                    reply_delay,
                };
                let core = Arc::clone(self);
                let arrive = move || {
                    if drop_request {
                        core.finish(id, Err(RpcError::Lost));
                    } else {
                        let pool_core = Arc::clone(&core);
                        core.pool
                            .execute(Box::new(move || pool_core.serve(request)));
                    }
                };
                if request_delay.is_zero() {
                    arrive();
                } else {
                    self.timer
                        .at(Instant::now() + request_delay, Box::new(arrive));
                }
            }
            (Fate::Live { .. }, None) => unreachable!("a live fate needs a live link"),
        }
    }

    /// Step 3, on a pool thread: run the handler.
    fn serve(self: &Arc<Self>, request: Request) {
        if request.server.is_dead() {
            self.finish(request.id, Err(RpcError::Lost));
            return;
        }
        request.server.record_dispatch();
        let outcome = match catch_unwind(AssertUnwindSafe(|| (request.handler)(&request.args))) {
            Ok(Ok(reply)) => reply,
            Ok(Err(detail)) => {
                let method = request.method;
                return self.finish(request.id, Err(RpcError::Codec { method, detail }));
            }
            Err(panic) => {
                let method = request.method;
                let message = panic_message(&*panic);
                let _ = self.handler_panic.set(format!(
                    "the RPC handler of {method} panicked (a call on end {:?}): {message}",
                    request.end
                ));
                return self.finish(
                    request.id,
                    Err(RpcError::HandlerPanicked { method, message }),
                );
            }
        };
        self.reply(request.id, outcome, request.drop_reply, request.reply_delay);
    }

    /// Step 4: the handler returned `reply`.
    fn reply(
        self: &Arc<Self>,
        id: u64,
        reply: Vec<u8>,
        drop_reply: bool,
        delay: Option<std::time::Duration>,
    ) {
        let mut st = self.state.lock();
        let Some(call) = st.inflight.get_mut(&id) else {
            return; // failed meanwhile: the server died or the end was disabled
        };
        if drop_reply {
            drop(st);
            return self.finish(id, Err(RpcError::Lost));
        }
        if let Some(delay) = delay {
            call.cancellable = false; // on the wire now
            drop(st);
            let core = Arc::clone(self);
            self.timer.at(
                Instant::now() + delay,
                Box::new(move || core.finish(id, Ok(reply))),
            );
            return;
        }
        let call = st.inflight.remove(&id).expect("present above");
        drop(st);
        self.total_bytes
            .fetch_add(reply.len() as u64, Ordering::Relaxed);
        (call.deliver)(Ok(reply));
    }

    /// Ends a call with `outcome`, unless something else ended it first. Reply bytes count
    /// only when a reply is delivered.
    fn finish(&self, id: u64, outcome: Result<Vec<u8>, RpcError>) {
        let call = self.state.lock().inflight.remove(&id);
        if let Some(call) = call {
            if let Ok(reply) = &outcome {
                self.total_bytes
                    .fetch_add(reply.len() as u64, Ordering::Relaxed);
            }
            (call.deliver)(outcome);
        }
    }
}

/// A request on its way to a live server.
struct Request {
    id: u64,
    end: Arc<str>,
    method: String,
    args: Vec<u8>,
    server: Arc<Incarnation>,
    handler: RawHandler,
    drop_reply: bool,
    reply_delay: Option<std::time::Duration>,
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic payload that is not a string)".to_owned()
    }
}

/// In a simulation every message takes at least [`SIM_LATENCY`] to arrive (in real mode
/// the machine's own latency, tens of microseconds, plays this part): without it a
/// request and its reply would take no virtual time at all, and a client looping for
/// "five seconds" would never stop.
fn with_sim_latency(
    request_delay: std::time::Duration,
    reply_delay: Option<std::time::Duration>,
) -> (std::time::Duration, Option<std::time::Duration>) {
    if !labrt::sim::is_simulated() {
        return (request_delay, reply_delay);
    }
    (
        request_delay.max(SIM_LATENCY),
        Some(reply_delay.unwrap_or_default().max(SIM_LATENCY)),
    )
}
