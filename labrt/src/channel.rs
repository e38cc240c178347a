//! Channels shaped like crossbeam-channel's: [`bounded`], [`unbounded`], [`Sender`],
//! [`Receiver`], and [`Select`] for waiting on several receivers with a timeout.
//!
//! Each wraps the crossbeam one. A simulated thread never blocks inside crossbeam: it
//! tries the operation and, if it would block, blocks in the scheduler until the other
//! side sends, receives or disconnects. Sending and receiving are scheduling points.
//! Zero-capacity (rendezvous) channels are not supported in a simulation.

use std::sync::Arc;

pub use crossbeam_channel::{
    ReadyTimeoutError, RecvError, RecvTimeoutError, SendError, TryReadyError, TryRecvError,
    TrySendError,
};

use crate::sched::{self, Wake};
use crate::time::{self, Duration, Instant};
use crate::wait::WaitList;

/// The threads waiting on one channel: receivers for a message, senders for room.
#[derive(Default)]
struct Waits {
    receivers: WaitList,
    senders: WaitList,
}

pub struct Sender<T> {
    inner: crossbeam_channel::Sender<T>,
    waits: Arc<Waits>,
}

pub struct Receiver<T> {
    inner: crossbeam_channel::Receiver<T>,
    waits: Arc<Waits>,
}

/// A channel of unlimited capacity.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    wrap(crossbeam_channel::unbounded())
}

/// A channel holding at most `capacity` messages.
///
/// # Panics
/// In a simulation, if `capacity` is 0: a rendezvous cannot be simulated.
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0 || sched::current().is_none(),
        "labrt: a zero-capacity channel cannot be simulated; use bounded(1)"
    );
    wrap(crossbeam_channel::bounded(capacity))
}

fn wrap<T>(
    (tx, rx): (crossbeam_channel::Sender<T>, crossbeam_channel::Receiver<T>),
) -> (Sender<T>, Receiver<T>) {
    let waits = Arc::new(Waits::default());
    (
        Sender {
            inner: tx,
            waits: Arc::clone(&waits),
        },
        Receiver { inner: rx, waits },
    )
}

impl<T> Sender<T> {
    /// Sends `msg`, waiting for room in a full bounded channel; fails if every receiver
    /// is gone.
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        let Some(ctx) = sched::current() else {
            let sent = self.inner.send(msg);
            self.waits.receivers.notify_all();
            return sent;
        };
        ctx.sched.point(ctx.tid, "Sender::send");
        let mut msg = msg;
        loop {
            match self.inner.try_send(msg) {
                Ok(()) => {
                    self.waits.receivers.notify_all();
                    return Ok(());
                }
                Err(TrySendError::Disconnected(m)) => return Err(SendError(m)),
                Err(TrySendError::Full(m)) => {
                    msg = m;
                    self.waits.senders.register(&ctx);
                    ctx.sched.block(ctx.tid, "Sender::send (full)", None);
                }
            }
        }
    }

    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        if let Some(ctx) = sched::current() {
            ctx.sched.point(ctx.tid, "Sender::try_send");
        }
        let sent = self.inner.try_send(msg);
        if sent.is_ok() {
            self.waits.receivers.notify_all();
        }
        sent
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
            waits: Arc::clone(&self.waits),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // The last sender's drop disconnects the channel: receivers look again. (The
        // woken threads run only after this one's next scheduling point, by which time
        // the inner sender is gone.)
        self.waits.receivers.notify_all();
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sender { .. }")
    }
}

impl<T> Receiver<T> {
    /// Waits for a message; fails once the channel is empty and every sender is gone.
    pub fn recv(&self) -> Result<T, RecvError> {
        match self.recv_until("Receiver::recv", None) {
            Ok(msg) => Ok(msg),
            Err(_) => Err(RecvError),
        }
    }

    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        if let Some(ctx) = sched::current() {
            ctx.sched.point(ctx.tid, "Receiver::try_recv");
        }
        let received = self.inner.try_recv();
        if received.is_ok() {
            self.waits.senders.notify_all();
        }
        received
    }

    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match sched::current() {
            None => self.received(self.inner.recv_timeout(timeout)),
            Some(ctx) => {
                let at = time::deadline_after(&ctx, timeout);
                self.recv_until("Receiver::recv_timeout", Some(at))
            }
        }
    }

    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        match sched::current() {
            None => self.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            Some(ctx) => {
                let at = time::deadline_at(&ctx, deadline);
                self.recv_until("Receiver::recv_deadline", Some(at))
            }
        }
    }

    /// The messages there now, without waiting.
    pub fn try_iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.try_recv().ok())
    }

    /// The messages as they come, until the channel disconnects.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.recv().ok())
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Receives by `deadline` (virtual time; `None`: no limit) on a simulated thread, or
    /// as crossbeam does on any other.
    fn recv_until(
        &self,
        op: &'static str,
        deadline: Option<Duration>,
    ) -> Result<T, RecvTimeoutError> {
        let Some(ctx) = sched::current() else {
            return match self.inner.recv() {
                Ok(msg) => self.received(Ok(msg)),
                Err(RecvError) => Err(RecvTimeoutError::Disconnected),
            };
        };
        ctx.sched.point(ctx.tid, op);
        loop {
            match self.inner.try_recv() {
                Ok(msg) => return self.received(Ok(msg)),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            self.waits.receivers.register(&ctx);
            if ctx.sched.block(ctx.tid, op, deadline) == Wake::TimedOut {
                return match self.inner.try_recv() {
                    Ok(msg) => self.received(Ok(msg)),
                    Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                    Err(TryRecvError::Empty) => Err(RecvTimeoutError::Timeout),
                };
            }
        }
    }

    fn received<E>(&self, result: Result<T, E>) -> Result<T, E> {
        if result.is_ok() {
            self.waits.senders.notify_all();
        }
        result
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            inner: self.inner.clone(),
            waits: Arc::clone(&self.waits),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.waits.senders.notify_all();
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receiver { .. }")
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Box<dyn Iterator<Item = T> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Waits until one of several receivers is ready (holds a message or is disconnected),
/// as `crossbeam_channel::Select` does: add receivers with [`Select::recv`], wait with
/// [`Select::ready_timeout`] (or [`Select::ready`]), then `try_recv` on the one it names.
pub struct Select<'a> {
    inner: crossbeam_channel::Select<'a>,
    waits: Vec<&'a WaitList>,
    /// Whether each receiver is ready, looked at in order in a simulation (crossbeam picks
    /// among ready ones at random, which no seed governs).
    ready: Vec<Box<dyn Fn() -> bool + 'a>>,
}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Select<'a> {
    pub fn new() -> Self {
        Select {
            inner: crossbeam_channel::Select::new(),
            waits: Vec::new(),
            ready: Vec::new(),
        }
    }

    /// Adds `r`; returns the index [`Select::ready`] names it by.
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        if sched::current().is_some() {
            // Only a simulation looks at these (no allocation per select in real mode).
            self.waits.push(&r.waits.receivers);
            self.ready.push(Box::new(move || {
                let mut one = crossbeam_channel::Select::new();
                one.recv(&r.inner);
                one.try_ready().is_ok()
            }));
        }
        self.inner.recv(&r.inner)
    }

    /// The index of a ready receiver, waiting as long as it takes.
    pub fn ready(&mut self) -> usize {
        match sched::current() {
            None => self.inner.ready(),
            Some(_) => self
                .ready_until(None)
                .expect("a wait without a deadline ends only when a receiver is ready"),
        }
    }

    /// The index of a ready receiver, or an error after `timeout`.
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        match sched::current() {
            None => self.inner.ready_timeout(timeout),
            Some(ctx) => self.ready_until(Some(time::deadline_after(&ctx, timeout))),
        }
    }

    fn ready_until(&mut self, deadline: Option<Duration>) -> Result<usize, ReadyTimeoutError> {
        let ctx = sched::current().expect("simulated");
        ctx.sched.point(ctx.tid, "Select::ready");
        let first_ready = |ready: &[Box<dyn Fn() -> bool + 'a>]| ready.iter().position(|r| r());
        loop {
            if let Some(index) = first_ready(&self.ready) {
                return Ok(index);
            }
            for waits in &self.waits {
                waits.register(&ctx);
            }
            if ctx.sched.block(ctx.tid, "Select::ready", deadline) == Wake::TimedOut {
                return first_ready(&self.ready).ok_or(ReadyTimeoutError);
            }
        }
    }
}
