//! `[server]`: the listen address, access control of the HTTP server (bearer token or basic
//! auth, never both), its optional TLS (certificate and key loaded at validation, so a
//! broken pair is refused by `check-config` and by a reload) and what a client may hold
//! (connections, header and idle timeouts). See docs/http.md.

use super::context::Ctx;
use super::raw::RawServer;
use super::{DEFAULT_LISTEN, Error};
use crate::http::Limits;
use crate::secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Access control of the HTTP server (`/healthz` and `/readyz` are always open for probes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HttpAuth {
    /// No authentication (bind to loopback or protect at the network level).
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic …`.
    Basic {
        /// User.
        username: String,
        /// Password.
        password: Secret,
    },
}

/// TLS for the HTTP server (`[server] cert_file` + `key_file`), checked at validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
}

/// `server.listen`, [`DEFAULT_LISTEN`] when absent.
pub(super) fn listen(cx: &Ctx<'_>, srv: &RawServer) -> Result<SocketAddr, Error> {
    let listen_s = srv.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    listen_s.parse().map_err(|e| {
        cx.err(
            "server.listen",
            format!("{listen_s:?} is not host:port: {e}"),
        )
    })
}

/// `server.bearer_token*` or `server.basic_username` + `server.basic_password*`.
pub(super) fn http_auth(cx: &Ctx<'_>, srv: &RawServer) -> Result<HttpAuth, Error> {
    let bearer = cx.secret(
        "server.bearer_token",
        &srv.bearer_token,
        &srv.bearer_token_env,
        &srv.bearer_token_file,
    )?;
    let basic_password = cx.secret(
        "server.basic_password",
        &srv.basic_password,
        &srv.basic_password_env,
        &srv.basic_password_file,
    )?;
    match (bearer, &srv.basic_username, basic_password) {
        (None, None, None) => Ok(HttpAuth::None),
        (Some(token), None, None) => Ok(HttpAuth::Bearer(token)),
        (None, Some(user), Some(password)) => Ok(HttpAuth::Basic {
            username: user.clone(),
            password,
        }),
        (None, Some(_), None) => Err(cx.err(
            "server.basic_password",
            "basic_username needs a basic_password",
        )),
        (None, None, Some(_)) => Err(cx.err(
            "server.basic_username",
            "basic_password needs a basic_username",
        )),
        (Some(_), _, _) => Err(cx.err("server", "set either bearer_token or basic auth, not both")),
    }
}

/// `server.cert_file` + `server.key_file`: both or neither, and the pair must load.
pub(super) fn tls(cx: &Ctx<'_>, srv: &RawServer) -> Result<Option<ServerTls>, Error> {
    match (&srv.cert_file, &srv.key_file) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(cx.err("server.key_file", "cert_file needs a key_file")),
        (None, Some(_)) => Err(cx.err("server.cert_file", "key_file needs a cert_file")),
        (Some(cert), Some(key)) => {
            // Loaded here so that `check-config` and a SIGHUP reload reject a broken pair.
            crate::tls::server_config(cert, key)
                .map_err(|e| cx.err(e.config_key(), e.to_string()))?;
            Ok(Some(ServerTls {
                cert_file: cert.clone(),
                key_file: key.clone(),
            }))
        }
    }
}

/// The largest `server.max_connections` accepted: far beyond any file-descriptor limit.
pub const MAX_CONNECTIONS_LIMIT: usize = 1 << 20;

/// `server.max_connections`, `server.header_read_timeout`, `server.idle_timeout`.
pub(super) fn limits(cx: &Ctx<'_>, srv: &RawServer) -> Result<Limits, Error> {
    let max_connections = match srv.max_connections {
        None => Limits::MAX_CONNECTIONS,
        Some(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => n,
        Some(n) => {
            return Err(cx.err(
                "server.max_connections",
                format!("{n} is not between 1 and {MAX_CONNECTIONS_LIMIT}"),
            ));
        }
    };
    let positive = |key: &str, v: &Option<String>, default| {
        let d = cx.duration(key, v.as_deref(), default)?;
        if d.is_zero() {
            return Err(cx.err(key, "must be longer than zero"));
        }
        Ok(d)
    };
    Ok(Limits {
        max_connections,
        header_read_timeout: positive(
            "server.header_read_timeout",
            &srv.header_read_timeout,
            Limits::HEADER_READ_TIMEOUT,
        )?,
        idle_timeout: positive(
            "server.idle_timeout",
            &srv.idle_timeout,
            Limits::IDLE_TIMEOUT,
        )?,
    })
}
