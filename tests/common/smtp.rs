//! A real SMTP server on loopback, inside the test process (mailin-embedded
//! on a thread). It records every message it accepts and can be told to
//! defer the first N transactions (451), to refuse a recipient (550), or
//! to hold a recipient's RCPT TO unanswered until released (so a client
//! stays mid-delivery for as long as a test needs).

use mailin_embedded::response::OK;
use mailin_embedded::{Handler, Response, Server, SslConfig};
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    /// MAIL FROM commands seen (transactions attempted).
    attempts: usize,
    /// Transactions still to defer with 451.
    defer: usize,
    /// Recipients refused with 550.
    refuse: HashSet<String>,
    /// Recipients whose RCPT TO waits for `release`.
    hold: HashSet<String>,
    /// RCPT TO commands waiting now.
    held: usize,
}

#[derive(Clone)]
struct Recorder {
    shared: Arc<Mutex<Shared>>,
    current: Option<Received>,
}

impl Handler for Recorder {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        let mut s = self.shared.lock().unwrap();
        s.attempts += 1;
        if s.defer > 0 {
            s.defer -= 1;
            return Response::custom(451, "4.3.0 Try again later".into());
        }
        self.current = Some(Received {
            from: from.to_string(),
            to: Vec::new(),
            data: Vec::new(),
        });
        OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.shared.lock().unwrap().hold.contains(to) {
            self.shared.lock().unwrap().held += 1;
            while self.shared.lock().unwrap().hold.contains(to) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            self.shared.lock().unwrap().held -= 1;
        }
        if self.shared.lock().unwrap().refuse.contains(to) {
            return Response::custom(550, "5.1.1 No such user here".into());
        }
        if let Some(c) = self.current.as_mut() {
            c.to.push(to.to_string());
        }
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(c) = self.current.as_mut() {
            c.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(c) = self.current.take() {
            self.shared.lock().unwrap().received.push(c);
        }
        OK
    }
}

/// A running server; it lives until the test process ends.
pub struct TestSmtp {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl TestSmtp {
    pub fn start() -> TestSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let handler = Recorder {
            shared: shared.clone(),
            current: None,
        };
        let mut server = Server::new(handler);
        server
            .with_name("localhost")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        TestSmtp { addr, shared }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answer 451 to the next `n` transactions.
    pub fn defer_next(&self, n: usize) {
        self.shared.lock().unwrap().defer = n;
    }

    /// Answer 550 to RCPT TO for `addr`.
    pub fn refuse(&self, addr: &str) {
        self.shared.lock().unwrap().refuse.insert(addr.to_string());
    }

    pub fn accept_all(&self) {
        self.shared.lock().unwrap().refuse.clear();
    }

    /// Leave RCPT TO for `addr` unanswered until `release`.
    pub fn hold(&self, addr: &str) {
        self.shared.lock().unwrap().hold.insert(addr.to_string());
    }

    /// How many RCPT TO commands are being held now.
    pub fn held(&self) -> usize {
        self.shared.lock().unwrap().held
    }

    /// Answer every held RCPT TO (and hold no more).
    pub fn release(&self) {
        self.shared.lock().unwrap().hold.clear();
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    pub fn attempts(&self) -> usize {
        self.shared.lock().unwrap().attempts
    }
}

/// A loopback port with nothing listening on it (connection refused).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
