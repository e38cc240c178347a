//! Placeholder: the linearizability checker is being written.
