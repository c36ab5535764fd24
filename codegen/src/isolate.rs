//! Running typify where its failures cannot take the build down.
//!
//! Typify recurses without bound on some self-referencing schemas; a stack
//! overflow aborts the process and no `catch_unwind` stops it, and some
//! schemas take minutes. On Unix each attempt therefore runs in a forked
//! child process, on a thread with a large stack ([`STACK`]), with its
//! standard error closed: the parent reads the child's answer over a
//! socket and, when the child dies (a stack overflow, any abort) or runs
//! past its time, kills it and reports why. Elsewhere the attempt runs on
//! a large-stack thread with panics caught (a stack overflow still
//! aborts there).

use std::time::{Duration, Instant};

/// The stack of the thread typify runs on.
pub const STACK: usize = 256 << 20;

/// Why an isolated run gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The run returned this error, or panicked with this message.
    Failed(String),
    /// The run did not finish within its time.
    TimedOut(Duration),
    /// The process running it died (a stack overflow, an abort).
    Died(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Failed(m) => f.write_str(m),
            Failure::TimedOut(d) => write!(f, "typify took longer than {d:?}"),
            Failure::Died(how) => write!(f, "typify aborted ({how})"),
        }
    }
}

/// Runs `work` isolated (see the module docs), for at most `limit`.
pub fn run<F>(limit: Duration, work: F) -> Result<String, Failure>
where
    F: FnOnce() -> Result<String, String> + Send + 'static,
{
    #[cfg(unix)]
    {
        unix::run(limit, work)
    }
    #[cfg(not(unix))]
    {
        let _ = limit;
        on_big_stack(work)
    }
}

/// Runs `work` on a thread with a [`STACK`]-sized stack, catching panics.
fn on_big_stack<F>(work: F) -> Result<String, Failure>
where
    F: FnOnce() -> Result<String, String> + Send + 'static,
{
    let handle = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(work)
        .map_err(|e| Failure::Died(format!("cannot start a thread: {e}")))?;
    match handle.join() {
        Ok(r) => r.map_err(Failure::Failed),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Failure::Failed(format!("typify panicked: {msg}")))
        }
    }
}

#[cfg(unix)]
mod unix {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    use super::*;

    pub(super) fn run<F>(limit: Duration, work: F) -> Result<String, Failure>
    where
        F: FnOnce() -> Result<String, String> + Send + 'static,
    {
        let (mut parent, mut child) = UnixStream::pair()
            .map_err(|e| Failure::Died(format!("cannot create a socket pair: {e}")))?;
        // SAFETY: the child only runs `work` on a fresh thread, writes to
        // its socket and leaves with `_exit`; it returns to no caller.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return on_big_stack(work);
        }
        if pid == 0 {
            drop(parent);
            // SAFETY: closing the child's own standard error (typify's
            // panics and the overflow message would go there), then
            // leaving without running the parent's destructors.
            unsafe {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
                if null >= 0 {
                    libc::dup2(null, 2);
                }
            }
            std::panic::set_hook(Box::new(|_| {}));
            let answer = match on_big_stack(work) {
                Ok(code) => format!("O{code}"),
                Err(f) => format!("E{f}"),
            };
            let bytes = answer.as_bytes();
            let _ = child.write_all(&(bytes.len() as u64).to_le_bytes());
            let _ = child.write_all(bytes);
            let _ = child.flush();
            unsafe { libc::_exit(0) };
        }
        drop(child);
        let answer = read_answer(&mut parent, pid, limit);
        // SAFETY: `pid` is our child; reaping it (after a kill if needed).
        unsafe {
            if answer.is_err() {
                libc::kill(pid, libc::SIGKILL);
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
        let text = answer?;
        match text.split_at_checked(1) {
            Some(("O", code)) => Ok(code.to_owned()),
            Some(("E", e)) => Err(Failure::Failed(e.to_owned())),
            _ => Err(Failure::Died("no answer".to_owned())),
        }
    }

    /// Reads the child's length-prefixed answer until `limit`; notices a
    /// child that died without answering. (The socket may stay open in
    /// other processes forked meanwhile, so end of file is not awaited.)
    fn read_answer(
        stream: &mut UnixStream,
        pid: libc::pid_t,
        limit: Duration,
    ) -> Result<String, Failure> {
        let started = Instant::now();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1 << 16];
        let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
        loop {
            if buf.len() >= 8 {
                let len = u64::from_le_bytes(buf[..8].try_into().unwrap_or([0; 8])) as usize;
                if buf.len() >= 8 + len {
                    return Ok(String::from_utf8_lossy(&buf[8..8 + len]).into_owned());
                }
            }
            match stream.read(&mut chunk) {
                Ok(0) => return Err(died(pid)),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    continue;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(Failure::Died(format!("socket: {e}"))),
            }
            let mut status = 0;
            // SAFETY: polling our own child without reaping a stranger.
            let exited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid;
            if exited {
                // Drain what it wrote before it exited.
                let _ = stream.set_nonblocking(true);
                while let Ok(n) = stream.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                if buf.len() >= 8 {
                    let len = u64::from_le_bytes(buf[..8].try_into().unwrap_or([0; 8])) as usize;
                    if buf.len() >= 8 + len {
                        return Ok(String::from_utf8_lossy(&buf[8..8 + len]).into_owned());
                    }
                }
                return Err(describe(status));
            }
            if started.elapsed() > limit {
                return Err(Failure::TimedOut(limit));
            }
        }
    }

    fn died(pid: libc::pid_t) -> Failure {
        let mut status = 0;
        // SAFETY: waiting for our own child, which closed its socket.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        describe(status)
    }

    fn describe(status: libc::c_int) -> Failure {
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            let what = match sig {
                libc::SIGSEGV | libc::SIGBUS => "stack overflow or crash",
                libc::SIGABRT => "abort",
                _ => "killed",
            };
            Failure::Died(format!("{what}, signal {sig}"))
        } else {
            Failure::Died(format!("exit status {}", libc::WEXITSTATUS(status)))
        }
    }
}
