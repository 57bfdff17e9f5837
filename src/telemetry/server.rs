//! The HTTP listener of `serve` (`[serve] listen`), on hyper's HTTP/1.1
//! server: `GET /healthz` (alive), `GET /readyz` (ready), `GET /metrics`
//! (Prometheus text format 0.0.4); 404 for any other path, 405 for another
//! method. It only reads: no route changes anything, and none shows a
//! secret, a recipient or a report's contents.
//!
//! It runs on a thread of its own, so probes are answered at once even
//! while runs keep the scheduler's threads busy; /healthz reports on those
//! through the heartbeat (`health`).

use super::health::{Health, Probe};
use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 32;
/// A client that has not sent its request headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Called before /metrics is rendered (off the listener's thread), to
/// bring gauges read from elsewhere up to date.
pub type Refresh = Box<dyn Fn() + Send + Sync>;

/// Binds `addr` and serves the probes and metrics on a thread of its own
/// until the process exits; returns the address bound (port 0 picks one).
pub fn start(addr: SocketAddr, health: Arc<Health>, refresh: Refresh) -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(addr).with_context(|| {
        format!(
            "serve.listen: cannot listen on {addr} (in use by another process, or an address this host does not have): pick another port, or remove [serve] listen"
        )
    })?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the probe/metrics listener")?;
    let refresh: Arc<dyn Fn() + Send + Sync> = Arc::from(refresh);
    std::thread::Builder::new()
        .name("salesops-http".into())
        .spawn(move || {
            rt.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(l) => accept(l, health, refresh).await,
                    Err(e) => tracing::error!("the probe/metrics listener failed: {e}"),
                }
            })
        })
        .context("starting the probe/metrics listener")?;
    Ok(bound)
}

async fn accept(listener: TcpListener, health: Arc<Health>, refresh: Arc<dyn Fn() + Send + Sync>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off a little.
                tracing::warn!("the probe/metrics listener cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let health = Arc::clone(&health);
        let refresh = Arc::clone(&refresh);
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (health, refresh) = (Arc::clone(&health), Arc::clone(&refresh));
                async move {
                    let scrape = req.uri().path() == "/metrics"
                        && matches!(*req.method(), Method::GET | Method::HEAD);
                    if scrape {
                        // It may read the state store: not on this thread.
                        let _ = tokio::task::spawn_blocking(move || refresh()).await;
                    }
                    Ok::<_, Infallible>(respond(req.method(), req.uri().path(), &health))
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!("probe/metrics connection: {e}");
            }
        });
    }
}

/// The answer to `method path`.
pub fn respond(method: &Method, path: &str, health: &Health) -> Response<Full<Bytes>> {
    let known = matches!(path, "/healthz" | "/readyz" | "/metrics");
    if !known {
        return text(
            StatusCode::NOT_FOUND,
            "not found: try /healthz, /readyz or /metrics\n",
        );
    }
    if method != Method::GET && method != Method::HEAD {
        let mut res = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    match path {
        "/healthz" => probe(health.liveness()),
        "/readyz" => probe(health.readiness()),
        _ => {
            let mut res = Response::new(Full::new(Bytes::from(super::global().render(true))));
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(super::CONTENT_TYPE));
            res
        }
    }
}

/// Asks the listener at `listen` for `path` (a container's health check,
/// `salesops health`); an unspecified address (0.0.0.0, ::) is asked on
/// loopback. Returns the status and the body.
pub async fn ask(listen: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, String)> {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let url = format!("http://{addr}{path}");
    let res = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("no answer from {url} (is salesops serve running?)"))?;
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    Ok((status, body))
}

fn probe(p: Probe) -> Response<Full<Bytes>> {
    let status = if p.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    text(status, &format!("{}\n", p.message))
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let h = Health::new();
        let status = |m: Method, p: &str| respond(&m, p, &h).status();
        assert_eq!(
            status(Method::GET, "/readyz"),
            StatusCode::SERVICE_UNAVAILABLE
        );
        h.set_ready();
        assert_eq!(status(Method::GET, "/readyz"), StatusCode::OK);
        assert_eq!(status(Method::HEAD, "/healthz"), StatusCode::OK);
        assert_eq!(status(Method::GET, "/metrics"), StatusCode::OK);
        assert_eq!(status(Method::GET, "/"), StatusCode::NOT_FOUND);
        assert_eq!(status(Method::GET, "/metrics/x"), StatusCode::NOT_FOUND);
        assert_eq!(status(Method::GET, "/debug/vars"), StatusCode::NOT_FOUND);
        let post = respond(&Method::POST, "/metrics", &h);
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[ALLOW], "GET, HEAD");
        let m = respond(&Method::GET, "/metrics", &h);
        assert_eq!(
            m.headers()[CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8"
        );
    }
}
