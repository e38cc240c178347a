//! The calls and returns of one partition as a doubly linked list in time order, with
//! calls before returns at equal times. Linearizing an operation lifts its call and its
//! return out of the list; backtracking puts them back (in reverse order, so the saved
//! neighbours are still right: "dancing links").

use crate::history::Operation;

/// The sentinel node in front of the first entry.
pub(super) const HEAD: u32 = 0;
const NIL: u32 = u32::MAX;

pub(super) struct EntryList {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation of each node (unused for HEAD).
    op: Vec<u32>,
    /// For a call node, its return node; NIL for return nodes.
    return_node: Vec<u32>,
}

impl EntryList {
    pub(super) fn new<I, O>(ops: &[&Operation<I, O>]) -> Self {
        assert!(
            ops.len() < (u32::MAX / 2) as usize - 1,
            "partition too large"
        );
        // (time, 0 for a call / 1 for a return, operation): sorting puts calls before
        // returns at equal times.
        let mut order: Vec<(u64, u8, u32)> = Vec::with_capacity(2 * ops.len());
        for (index, op) in ops.iter().enumerate() {
            order.push((op.call_time, 0, index as u32));
            order.push((op.effective_return(), 1, index as u32));
        }
        order.sort_unstable();
        let nodes = order.len() + 1;
        let mut list = EntryList {
            next: (1..=nodes as u32).collect(),
            prev: Vec::with_capacity(nodes),
            op: vec![0; nodes],
            return_node: vec![NIL; nodes],
        };
        list.next[nodes - 1] = NIL;
        list.prev.push(NIL);
        list.prev.extend(0..order.len() as u32);
        let mut call_node = vec![NIL; ops.len()];
        for (position, &(_, kind, op)) in order.iter().enumerate() {
            let node = position as u32 + 1;
            list.op[node as usize] = op;
            if kind == 0 {
                call_node[op as usize] = node;
            } else {
                list.return_node[call_node[op as usize] as usize] = node;
            }
        }
        list
    }

    pub(super) fn is_empty(&self) -> bool {
        self.next[HEAD as usize] == NIL
    }

    pub(super) fn next(&self, node: u32) -> u32 {
        self.next[node as usize]
    }

    pub(super) fn op(&self, node: u32) -> u32 {
        self.op[node as usize]
    }

    pub(super) fn is_call(&self, node: u32) -> bool {
        self.return_node[node as usize] != NIL
    }

    /// Takes a call and its return out of the list.
    pub(super) fn lift(&mut self, call: u32) {
        self.unlink(call);
        self.unlink(self.return_node[call as usize]);
    }

    /// Puts back the call lifted last.
    pub(super) fn unlift(&mut self, call: u32) {
        self.relink(self.return_node[call as usize]);
        self.relink(call);
    }

    fn unlink(&mut self, node: u32) {
        let (prev, next) = (self.prev[node as usize], self.next[node as usize]);
        self.next[prev as usize] = next;
        if next != NIL {
            self.prev[next as usize] = prev;
        }
    }

    fn relink(&mut self, node: u32) {
        let (prev, next) = (self.prev[node as usize], self.next[node as usize]);
        self.next[prev as usize] = node;
        if next != NIL {
            self.prev[next as usize] = node;
        }
    }
}
