//! Who holds a claim or wrote a "running" run row: this process, named
//! `host/pid/nonce`, and whether another holder is certainly dead. No SQL
//! here; the claims and the run log store these names.
//!
//! "host" is the hostname plus, on Linux, the pid namespace, so two
//! containers that share a state volume (and even a hostname) never judge
//! each other's pids. "Dead" is only said when sure: same host and
//! namespace, and either the pid no longer exists or it is our own pid
//! with another nonce (an earlier process that had our pid, e.g. PID 1 in
//! a restarted container). Anything else waits for the claim to expire.

use std::sync::OnceLock;

struct Me {
    host: String,
    pid: u32,
    nonce: String,
    id: String,
}

fn me() -> &'static Me {
    static ME: OnceLock<Me> = OnceLock::new();
    ME.get_or_init(|| {
        let host = host();
        let pid = std::process::id();
        let nonce = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let id = format!("{host}/{pid}/{nonce}");
        Me {
            host,
            pid,
            nonce,
            id,
        }
    })
}

/// This process's holder name.
pub fn this_process() -> &'static str {
    &me().id
}

/// True only when `holder` surely no longer runs.
pub fn is_dead(holder: &str) -> bool {
    let me = me();
    let mut parts = holder.rsplitn(3, '/');
    let (Some(nonce), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != me.host {
        return false;
    }
    if pid == me.pid {
        return nonce != me.nonce;
    }
    !pid_exists(pid)
}

/// This process as part of a file name (`<host hash>+<pid>+<nonce>`):
/// temporary files and folders carry it, so that a later run can tell
/// those of a process that died from those of one still writing.
pub fn file_tag() -> String {
    let me = me();
    format!("{:016x}+{}+{}", host_hash(&me.host), me.pid, me.nonce)
}

/// True only when the process that wrote `tag` (`file_tag`) surely no
/// longer runs.
pub fn tag_is_dead(tag: &str) -> bool {
    let me = me();
    let mut parts = tag.splitn(3, '+');
    let (Some(host), Some(pid), Some(nonce)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != format!("{:016x}", host_hash(&me.host)) {
        return false;
    }
    if pid == me.pid {
        return nonce != me.nonce;
    }
    !pid_exists(pid)
}

/// FNV-1a: stable across builds (file names outlive the process).
fn host_hash(host: &str) -> u64 {
    host.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(unix)]
fn pid_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // Signal 0 checks existence only. EPERM means it exists (another user).
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn pid_exists(_pid: u32) -> bool {
    true
}

fn host() -> String {
    let mut name = hostname();
    if let Ok(ns) = std::fs::read_link("/proc/self/ns/pid") {
        // "pid:[4026531836]" → "4026531836"
        let ns = ns.to_string_lossy();
        let inode: String = ns.chars().filter(|c| c.is_ascii_digit()).collect();
        if !inode.is_empty() {
            name = format!("{name}:{inode}");
        }
    }
    name.replace('/', "_")
}

#[cfg(unix)]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown-host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown-host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn judges_only_what_it_can_know() {
        let me = this_process();
        assert!(!is_dead(me), "this process is alive");
        let host = &super::me().host;
        let pid = std::process::id();
        // An earlier process that had our pid.
        assert!(is_dead(&format!("{host}/{pid}/000000000000")));
        // A child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        assert!(is_dead(&format!("{host}/{gone}/abc")));
        // Our parent (the test harness's runner) exists.
        let parent = std::os::unix::process::parent_id();
        assert!(!is_dead(&format!("{host}/{parent}/abc")));
        // Another host, or a name we cannot read: wait for the TTL.
        assert!(!is_dead(&format!("elsewhere/{gone}/abc")));
        assert!(!is_dead("garbage"));
        // The same as file tags.
        let tag = file_tag();
        assert!(!tag_is_dead(&tag));
        let (hash, _) = tag.split_once('+').unwrap();
        assert!(tag_is_dead(&format!("{hash}+{gone}+abc")));
        assert!(!tag_is_dead(&format!("{hash}+{parent}+abc")));
        assert!(!tag_is_dead(&format!("0000000000000000+{gone}+abc")));
        assert!(!tag_is_dead("garbage"));
    }
}
