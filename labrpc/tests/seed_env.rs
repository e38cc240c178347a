//! `RAFTLAB_SEED` seeds new networks, and a bad value is a clear error. This file holds a
//! single test because it changes the process environment.

use labrpc::Network;

#[test]
fn networks_take_their_seed_from_the_environment() {
    // SAFETY: the only test in this binary, and no other thread reads the environment.
    unsafe { std::env::set_var("RAFTLAB_SEED", "12345") };
    assert_eq!(Network::new().seed(), 12345);

    unsafe { std::env::set_var("RAFTLAB_SEED", "twelve") };
    let panic = std::panic::catch_unwind(Network::new).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("RAFTLAB_SEED must be a whole number") && message.contains("\"twelve\""),
        "{message}"
    );

    unsafe { std::env::remove_var("RAFTLAB_SEED") };
    assert_ne!(
        Network::new().seed(),
        Network::new().seed(),
        "unseeded networks should differ"
    );
}
