//! `[serve]`: what `salesops serve` offers besides running the schedules:
//! the HTTP listener for probes and Prometheus (src/telemetry). The older
//! serve keys (`shutdown_timeout_seconds`, `catch_up`, `retry_for_minutes`)
//! stay at the top level.

use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// IP address and port on which `serve` answers `GET /healthz`,
    /// `/readyz` and `/metrics` (Prometheus), e.g. "127.0.0.1:9464", or
    /// "0.0.0.0:9464" in a container so the kubelet and Prometheus can
    /// reach it. Port 0 takes any free port (logged). Default: none (no
    /// listener); an empty value also means none.
    #[serde(default)]
    pub listen: Option<String>,
}

/// `[serve]`, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServeSettings {
    pub listen: Option<SocketAddr>,
}

impl ServeConfig {
    pub(super) fn resolve(&self, errs: &mut Vec<String>) -> ServeSettings {
        let listen = match self.listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => match s.parse::<SocketAddr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    errs.push(format!(
                        "serve.listen: {s:?} is not an IP address and port such as \"127.0.0.1:9464\" (\"0.0.0.0:9464\" for every interface, \"[::1]:9464\" for IPv6; host names are not accepted)"
                    ));
                    None
                }
            },
        };
        ServeSettings { listen }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;

    #[test]
    fn listen_is_an_address_and_port() {
        let s = Settings::from_toml("[serve]\nlisten = \"127.0.0.1:9464\"\n").unwrap();
        assert_eq!(s.serve.listen, Some("127.0.0.1:9464".parse().unwrap()));
        let s = Settings::from_toml("[serve]\nlisten = \"[::1]:0\"\n").unwrap();
        assert_eq!(s.serve.listen, Some("[::1]:0".parse().unwrap()));
        assert_eq!(Settings::from_toml("").unwrap().serve.listen, None);
        assert_eq!(
            Settings::from_toml("[serve]\nlisten = \"\"\n")
                .unwrap()
                .serve
                .listen,
            None
        );
    }

    #[test]
    fn a_bad_listen_names_the_key_and_the_form() {
        for bad in ["localhost:9464", "9464", "127.0.0.1", "127.0.0.1:99999"] {
            let err = Settings::from_toml(&format!("[serve]\nlisten = \"{bad}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!(
                    "serve.listen: \"{bad}\" is not an IP address and port"
                )),
                "{bad}: {err}"
            );
        }
        let err = Settings::from_toml("[serve]\nlisen = \"127.0.0.1:9464\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
    }
}
