//! Why a call returned no reply.

use std::fmt;

/// The outcome of a call that produced no reply.
///
/// A Raft peer should treat every variant the same way as Go's `Call` returning false: the
/// RPC did not happen as far as the caller can tell. The variants exist so that logs and
/// test failures can say *why*.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RpcError {
    /// The network lost the request or the reply, the link is down, or the server was
    /// deleted, replaced or disconnected before it answered.
    Lost,
    /// The network was shut down before the call completed (or before it was made).
    Shutdown,
    /// The arguments could not be encoded, or the request or the reply could not be decoded
    /// into the type the other side expects: the two sides disagree about the RPC's types.
    Codec { method: String, detail: String },
    /// The handler panicked. The server and the network keep working.
    HandlerPanicked { method: String, message: String },
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Lost => write!(f, "the RPC was lost (no reply)"),
            RpcError::Shutdown => write!(f, "the network has been shut down"),
            RpcError::Codec { method, detail } => write!(f, "{method}: {detail}"),
            RpcError::HandlerPanicked { method, message } => {
                write!(f, "the handler of {method} panicked: {message}")
            }
        }
    }
}

impl std::error::Error for RpcError {}
