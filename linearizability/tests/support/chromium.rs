//! Headless Chromium for tests of the HTML pages (the checker's history view here,
//! labtool's Raft timelines through `#[path]`). A test calls [`installed`] first and skips
//! with a message when there is no browser; a browser that is installed but fails is a
//! test failure.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether Chromium is installed; prints that the browser check is skipped if not.
pub fn installed() -> bool {
    let found = Path::new(CHROMIUM).exists();
    if !found {
        println!("skipped the browser check: no chromium at {CHROMIUM}");
    }
    found
}

/// The DOM of `page` after its scripts ran. `profile` is an empty scratch folder for the
/// browser's profile and output. Fails the test if Chromium fails, prints nothing, or takes
/// more than 90 s.
pub fn dump_dom(page: &Path, profile: &Path) -> String {
    let (dom_file, log_file) = (profile.join("dom.html"), profile.join("chromium.log"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(std::fs::File::create(&dom_file).unwrap())
        // A file, not a pipe: a chatty browser must not block on a full pipe.
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{CHROMIUM} exists but cannot be started: {e}"));
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&dom_file).unwrap();
    assert!(
        status.success() && !dom.is_empty(),
        "chromium failed ({status}):\n{}",
        std::fs::read_to_string(&log_file).unwrap_or_default()
    );
    dom
}
