//! Faults that crash tests inject, in debug builds only (release builds compile them away): with
//! `CIRCULO_FAULT_INJECTION=abort-after-commit` the process aborts right after a change made
//! under an idempotency key commits and before it is answered, as a power cut or `kill -9` could.
//! The crash test then restarts the server and proves the retry is answered, not run again.

/// Called after a keyed change committed, before its answer is sent.
pub fn after_commit() {
    #[cfg(debug_assertions)]
    {
        use std::sync::OnceLock;
        static ABORT: OnceLock<bool> = OnceLock::new();
        let abort = *ABORT.get_or_init(|| {
            std::env::var("CIRCULO_FAULT_INJECTION").as_deref() == Ok("abort-after-commit")
        });
        if abort {
            eprintln!("fault injection: aborting after a commit, before its answer");
            std::process::abort();
        }
    }
}
