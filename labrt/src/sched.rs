//! The scheduler of one simulation: which of its threads runs, the virtual clock, and the
//! trace of every scheduling point.
//!
//! Each simulated thread is a real OS thread that runs only while it holds the turn
//! (`running`); every other one is parked. A thread gives the turn away at a scheduling
//! point: when it blocks ([`Sched::block`]), and, by a seeded coin, at calls that do not
//! block ([`Sched::point`]). The next thread is drawn from the runnable ones with the
//! simulation's generator; when none is runnable the clock jumps to the earliest deadline
//! of a blocked thread. Everything the choice depends on — the order threads were
//! spawned, what they wait for, the generator — is the same on every run with the seed.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant as StdInstant};

use parking_lot::{Mutex, MutexGuard};

/// The thread that started the simulation.
pub(crate) const ROOT: usize = 0;

/// At a scheduling point that does not block, the running thread gives up its turn with
/// probability 1 / `PREEMPT_ONE_IN` (it stays runnable and may be drawn again).
const PREEMPT_ONE_IN: u64 = 8;

/// A simulation in which the clock has not moved for this many scheduling points has a
/// thread that keeps running without ever waiting (it polls a flag, a channel or the
/// clock in a loop): nothing it waits for can change, since nothing else runs long.
const LIVELOCK_STEPS: u64 = 20_000_000;

/// Why a blocked thread runs again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// What it waits for may have happened (look again).
    Notified,
    /// Its deadline passed.
    TimedOut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Running,
    Runnable,
    /// Waiting for a notification, or for the virtual time in the deadline.
    Blocked(Option<Duration>),
    Finished,
}

struct Slot {
    name: String,
    status: Status,
    /// For unparking; set by the spawner before the thread can be drawn.
    handle: Option<std::thread::Thread>,
    /// Bumped whenever the thread wakes, so that a notification registered for an earlier
    /// wait (see [`crate::wait::WaitList`]) wakes nothing.
    generation: u64,
    /// A notification that arrived while the thread was not yet blocked.
    pending: bool,
    wake: Wake,
    /// The last scheduling point it passed, for messages.
    op: &'static str,
    /// Scheduling points it passed since the clock last moved.
    points: u64,
    /// Threads waiting to join this one, with their generation.
    joiners: Vec<(usize, u64)>,
}

/// One event of the trace kept when [`crate::sim::TRACE_VAR`] asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub step: u64,
    pub at: Duration,
    pub thread: String,
    pub op: &'static str,
}

struct State {
    now: Duration,
    rng: SplitMix64,
    threads: Vec<Slot>,
    running: usize,
    steps: u64,
    since_clock_moved: u64,
    hash: u64,
    trace: Option<Vec<TraceEvent>>,
    /// Why the simulation was stopped (deadlock, livelock, a stuck thread).
    failure: Option<String>,
    /// The root returned: the threads still parked never run again.
    over: bool,
    scratch: Vec<usize>,
}

pub(crate) struct Sched {
    state: Mutex<State>,
    pub seed: u64,
    /// The real instant the virtual clock starts from.
    pub base: StdInstant,
    /// Scheduling points passed so far (read by the real-time watchdog).
    pub progress: AtomicU64,
    /// Set once the simulation failed or ended.
    pub stopped: AtomicBool,
    /// How long a thread may hold the turn without a scheduling point (see
    /// [`crate::watchdog`]).
    pub stuck_limit: Duration,
    /// Times the virtual clock moved (read by the watchdog).
    pub clock_moves: AtomicU64,
    /// How long, in real time, the clock may stand still while threads run.
    pub frozen_limit: Duration,
    /// Set while a simulated thread computes in real time ([`crate::sim::compute`]): the
    /// watchdog does not hold it against the thread.
    pub computing: AtomicBool,
}

/// A simulated thread's view of its simulation.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub sched: Arc<Sched>,
    pub tid: usize,
}

thread_local! {
    static CURRENT: RefCell<Option<Ctx>> = const { RefCell::new(None) };
}

/// The simulation the calling thread belongs to, if any.
pub(crate) fn current() -> Option<Ctx> {
    CURRENT.with(|c| c.borrow().clone())
}

pub(crate) fn set_current(ctx: Option<Ctx>) {
    CURRENT.with(|c| *c.borrow_mut() = ctx);
}

/// The payload of the panic with which the root thread leaves a failed simulation.
pub(crate) struct Abort;

impl Sched {
    /// A simulation whose root is the calling thread.
    pub fn new(seed: u64, record_trace: bool, limits: crate::sim::Limits) -> Arc<Self> {
        let me = std::thread::current();
        let root = Slot::new(me.name().unwrap_or("main").to_owned(), Status::Running);
        let sched = Arc::new(Sched {
            state: Mutex::new(State {
                now: Duration::ZERO,
                rng: SplitMix64(seed ^ 0x005e_ed0f_5c4e_d01e),
                threads: vec![Slot {
                    handle: Some(me),
                    ..root
                }],
                running: ROOT,
                steps: 0,
                since_clock_moved: 0,
                hash: 0xcbf2_9ce4_8422_2325,
                trace: record_trace.then(Vec::new),
                failure: None,
                over: false,
                scratch: Vec::new(),
            }),
            seed,
            base: StdInstant::now(),
            progress: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            stuck_limit: limits.stuck,
            clock_moves: AtomicU64::new(0),
            frozen_limit: limits.frozen,
            computing: AtomicBool::new(false),
        });
        crate::watchdog::watch(&sched);
        sched
    }

    /// The virtual time since the simulation began.
    pub fn elapsed(&self) -> Duration {
        self.state.lock().now
    }

    /// A value from the simulation's generator (not a scheduling point).
    pub fn draw(&self) -> u64 {
        self.state.lock().rng.next()
    }

    /// The generation a waiter registers with (see [`crate::wait::WaitList`]).
    pub fn generation(&self, tid: usize) -> u64 {
        self.state.lock().threads[tid].generation
    }

    /// A scheduling point that does not block: `tid` may go on or yield its turn.
    /// Returns the virtual time.
    pub fn point(&self, tid: usize, op: &'static str) -> Duration {
        let mut st = self.state.lock();
        st = self.check_stopped(st, tid);
        self.record(&mut st, tid, op);
        if st.rng.next().is_multiple_of(PREEMPT_ONE_IN) {
            st.threads[tid].status = Status::Runnable;
            self.pass_turn(st, tid);
            return self.state.lock().now;
        }
        st.now
    }

    /// Blocks `tid` until a notification for its current generation, or until `deadline`
    /// (virtual time since the start), whichever comes first.
    pub fn block(&self, tid: usize, op: &'static str, deadline: Option<Duration>) -> Wake {
        let mut st = self.state.lock();
        st = self.check_stopped(st, tid);
        self.record(&mut st, tid, op);
        let slot = &mut st.threads[tid];
        if slot.pending {
            slot.pending = false;
            slot.generation += 1;
            return Wake::Notified;
        }
        if deadline.is_some_and(|d| d <= st.now) {
            st.threads[tid].generation += 1;
            return Wake::TimedOut;
        }
        st.threads[tid].status = Status::Blocked(deadline);
        self.pass_turn(st, tid);
        self.state.lock().threads[tid].wake
    }

    /// Wakes `tid` if it still waits in `generation`; whether it did.
    pub fn wake(&self, tid: usize, generation: u64) -> bool {
        let mut st = self.state.lock();
        let slot = &mut st.threads[tid];
        if slot.generation != generation {
            return false;
        }
        slot.generation += 1;
        match slot.status {
            Status::Blocked(_) => {
                slot.status = Status::Runnable;
                slot.wake = Wake::Notified;
            }
            Status::Running | Status::Runnable => slot.pending = true,
            Status::Finished => return false,
        }
        true
    }

    /// Registers a new thread named `name`; it runs once drawn, after [`Sched::started`].
    pub fn spawn(&self, name: String) -> usize {
        let mut st = self.state.lock();
        st.threads.push(Slot::new(name, Status::Runnable));
        st.threads.len() - 1
    }

    /// The OS thread of `tid` exists: it can be unparked.
    pub fn started(&self, tid: usize, handle: std::thread::Thread) {
        self.state.lock().threads[tid].handle = Some(handle);
    }

    /// On `tid`'s own thread, before it runs anything: waits for its first turn.
    pub fn first_turn(&self, tid: usize) {
        self.wait_turn(tid);
    }

    /// `tid` has ended: wakes its joiners and passes the turn on for good.
    pub fn finish(&self, tid: usize) {
        let mut st = self.state.lock();
        self.record(&mut st, tid, "thread exit");
        st.threads[tid].status = Status::Finished;
        for (joiner, generation) in std::mem::take(&mut st.threads[tid].joiners) {
            let slot = &mut st.threads[joiner];
            if slot.generation == generation && matches!(slot.status, Status::Blocked(_)) {
                slot.generation += 1;
                slot.status = Status::Runnable;
                slot.wake = Wake::Notified;
            }
        }
        if let Some((next, handle)) = self.draw_next(&mut st) {
            st.running = next;
            drop(st);
            handle.unpark();
        }
    }

    /// Blocks `me` until thread `tid` has finished.
    pub fn join(&self, me: usize, tid: usize) {
        loop {
            let mut st = self.state.lock();
            if st.threads[tid].status == Status::Finished {
                drop(st);
                self.point(me, "join");
                return;
            }
            let generation = st.threads[me].generation;
            st.threads[tid].joiners.push((me, generation));
            drop(st);
            self.block(me, "join", None);
        }
    }

    /// The root returned: the simulation is over.
    pub fn end(&self) {
        let mut st = self.state.lock();
        st.threads[ROOT].status = Status::Finished;
        st.over = true;
        self.stopped.store(true, Ordering::Release);
    }

    /// Stops the simulation from outside (the real-time watchdog): the root runs again
    /// and leaves with `message`; every other thread stays parked.
    pub fn abort(&self, message: String) {
        let mut st = self.state.lock();
        if st.over || st.failure.is_some() {
            return;
        }
        st.failure = Some(message);
        self.stopped.store(true, Ordering::Release);
        if st.threads[ROOT].status != Status::Finished {
            st.running = ROOT;
            st.threads[ROOT].status = Status::Running;
            let handle = st.threads[ROOT].handle.clone();
            drop(st);
            if let Some(h) = handle {
                h.unpark();
            }
        }
    }

    /// Why the simulation failed, if it did.
    pub fn failure(&self) -> Option<String> {
        self.state.lock().failure.clone()
    }

    /// Why the clock stands still while threads run (for the watchdog, once it has for
    /// long in real time): the thread that passed the most scheduling points meanwhile.
    pub fn frozen(&self) -> String {
        let st = self.state.lock();
        let busiest = st
            .threads
            .iter()
            .filter(|s| s.status != Status::Finished)
            .max_by_key(|s| s.points);
        match busiest {
            Some(slot) => format!(
                "thread '{}', which passed {} scheduling points meanwhile (the last at {})",
                slot.name, slot.points, slot.op
            ),
            None => "no thread".to_owned(),
        }
    }

    /// The running thread and the scheduling point it last passed.
    pub fn running(&self) -> (String, &'static str) {
        let st = self.state.lock();
        let slot = &st.threads[st.running];
        (slot.name.clone(), slot.op)
    }

    pub fn summary(&self) -> (u64, Duration, u64, usize) {
        let st = self.state.lock();
        (st.steps, st.now, st.hash, st.threads.len())
    }

    pub fn take_trace(&self) -> Option<Vec<TraceEvent>> {
        self.state.lock().trace.take()
    }

    // ----- internals ------------------------------------------------------------------

    fn record(&self, st: &mut State, tid: usize, op: &'static str) {
        st.steps += 1;
        st.since_clock_moved += 1;
        self.progress.store(st.steps, Ordering::Relaxed);
        st.threads[tid].points += 1;
        st.threads[tid].op = op;
        let now = st.now.as_nanos() as u64;
        let mut h = st.hash;
        for word in [tid as u64, now, fnv(op.as_bytes())] {
            h = (h ^ word).wrapping_mul(0x0000_0100_0000_01b3);
        }
        st.hash = h;
        if let Some(trace) = &mut st.trace {
            trace.push(TraceEvent {
                step: st.steps,
                at: st.now,
                thread: st.threads[tid].name.clone(),
                op,
            });
        }
        if st.since_clock_moved > LIVELOCK_STEPS && st.failure.is_none() {
            let name = st.threads[tid].name.clone();
            self.fail(
                st,
                format!(
                    "the simulated clock has not moved for {LIVELOCK_STEPS} scheduling points: \
                     a thread keeps running without ever waiting (the last was '{name}', at \
                     {op}): a loop that polls a flag, a channel or the clock must sleep between \
                     looks"
                ),
            );
        }
    }

    /// Gives up `me`'s turn (its status already set) and waits until it has one again.
    fn pass_turn(&self, mut st: MutexGuard<'_, State>, me: usize) {
        match self.draw_next(&mut st) {
            Some((next, _)) if next == me => {
                st.threads[me].status = Status::Running;
                drop(self.check_stopped(st, me));
            }
            Some((next, handle)) => {
                st.running = next;
                drop(st);
                handle.unpark();
                self.wait_turn(me);
            }
            None => {
                drop(st);
                self.wait_turn(me);
            }
        }
    }

    /// Draws the next thread to run and marks it running; advances the clock if nothing
    /// can run. `None` if nothing ever can (the simulation failed or is over).
    fn draw_next(&self, st: &mut State) -> Option<(usize, std::thread::Thread)> {
        loop {
            if st.over {
                return None;
            }
            if st.failure.is_some() {
                // Only the root runs on, to leave the simulation.
                if st.threads[ROOT].status == Status::Finished {
                    return None;
                }
                st.threads[ROOT].status = Status::Running;
                return Some((ROOT, st.threads[ROOT].handle.clone()?));
            }
            let mut runnable = std::mem::take(&mut st.scratch);
            runnable.clear();
            runnable.extend(
                (0..st.threads.len()).filter(|&t| st.threads[t].status == Status::Runnable),
            );
            if !runnable.is_empty() {
                let next = runnable[(st.rng.next() % runnable.len() as u64) as usize];
                st.scratch = runnable;
                st.threads[next].status = Status::Running;
                return Some((next, st.threads[next].handle.clone()?));
            }
            st.scratch = runnable;
            let earliest = st
                .threads
                .iter()
                .filter_map(|s| match s.status {
                    Status::Blocked(deadline) => deadline,
                    _ => None,
                })
                .min();
            let Some(at) = earliest else {
                let message = deadlock_message(st);
                self.fail(st, message);
                continue;
            };
            st.now = st.now.max(at);
            st.since_clock_moved = 0;
            self.clock_moves.fetch_add(1, Ordering::Relaxed);
            for slot in &mut st.threads {
                slot.points = 0;
            }
            let now = st.now;
            for slot in &mut st.threads {
                if matches!(slot.status, Status::Blocked(Some(d)) if d <= now) {
                    slot.status = Status::Runnable;
                    slot.wake = Wake::TimedOut;
                    slot.generation += 1;
                }
            }
        }
    }

    fn fail(&self, st: &mut State, message: String) {
        st.failure = Some(message);
        self.stopped.store(true, Ordering::Release);
    }

    /// Lets the caller go on unless the simulation has stopped: then the root leaves it
    /// (an [`Abort`] panic, unless it is already unwinding) and any other thread parks for
    /// good.
    fn check_stopped<'a>(&self, st: MutexGuard<'a, State>, me: usize) -> MutexGuard<'a, State> {
        if !(st.over || st.failure.is_some()) {
            return st;
        }
        if me != ROOT {
            drop(st);
            self.wait_turn(me);
            unreachable!("a stopped simulation gave a thread the turn");
        }
        if st.failure.is_some() && !std::thread::panicking() {
            drop(st);
            std::panic::resume_unwind(Box::new(Abort));
        }
        st
    }

    /// Parks until `me` holds the turn. A thread other than the root never returns from a
    /// failed or ended simulation.
    fn wait_turn(&self, me: usize) {
        loop {
            {
                let st = self.state.lock();
                let stopped = st.over || st.failure.is_some();
                if st.running == me && !(stopped && me != ROOT) {
                    if st.failure.is_some() && !std::thread::panicking() {
                        drop(st);
                        std::panic::resume_unwind(Box::new(Abort));
                    }
                    return;
                }
            }
            std::thread::park();
        }
    }
}

impl Slot {
    fn new(name: String, status: Status) -> Self {
        Slot {
            name,
            status,
            handle: None,
            generation: 0,
            pending: false,
            wake: Wake::Notified,
            op: "start",
            points: 0,
            joiners: Vec::new(),
        }
    }
}

fn deadlock_message(st: &State) -> String {
    let mut message = String::from(
        "every thread of the simulation is blocked and none waits with a timeout (a deadlock):",
    );
    for slot in &st.threads {
        if let Status::Blocked(_) = slot.status {
            let _ = write!(message, "\n  '{}' waits in {}", slot.name, slot.op);
        }
    }
    message
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The scheduler's generator: small, fast, and the same on every platform.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
