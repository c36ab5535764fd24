//! Connecting with the encryption a state URL's `sslmode` asks for, as
//! libpq does: `disable` never encrypts; `prefer` (the default) encrypts
//! when the server offers it; `require` refuses a server without TLS;
//! `verify-ca` also checks that the server's certificate chains to a
//! trusted CA (the system's, plus `sslrootcert`); `verify-full` also that
//! it names the host. TLS is the system's OpenSSL, through native-tls.

use native_tls::{Certificate, TlsConnector};
use postgres::Client;
use postgres::config::SslMode as PgSslMode;
use postgres_native_tls::MakeTlsConnector;

use super::url::{SslMode, StateUrl};
use crate::store::error::{Result, StoreError};

/// Connects with `config` as `url`'s `sslmode` says. A connection error
/// is returned as the client's for the caller to explain.
pub(super) fn connect(
    config: &mut postgres::Config,
    url: &StateUrl,
) -> Result<std::result::Result<Client, postgres::Error>> {
    let mode = url.ssl_mode;
    if mode == SslMode::Disable {
        config.ssl_mode(PgSslMode::Disable);
        return Ok(config.connect(postgres::NoTls));
    }
    config.ssl_mode(match mode {
        SslMode::Prefer => PgSslMode::Prefer,
        _ => PgSslMode::Require,
    });
    let mut builder = TlsConnector::builder();
    builder
        .danger_accept_invalid_certs(matches!(mode, SslMode::Prefer | SslMode::Require))
        .danger_accept_invalid_hostnames(mode != SslMode::VerifyFull);
    if let Some(path) = &url.ssl_root_cert {
        let bad = |message: String| StoreError::StateUrl {
            url: url.redacted(),
            message: format!("sslrootcert {}: {message}", path.display()),
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let cert =
            Certificate::from_pem(&pem).map_err(|e| bad(format!("not a PEM certificate: {e}")))?;
        builder.add_root_certificate(cert);
    }
    let connector = builder.build().map_err(|e| StoreError::StateUrl {
        url: url.redacted(),
        message: format!("TLS cannot be set up: {e}"),
    })?;
    Ok(config.connect(MakeTlsConnector::new(connector)))
}

/// Whether a connection failed in the TLS handshake (a certificate that
/// does not verify, a server without TLS under `require`).
pub(super) fn is_tls_failure(e: &postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<native_tls::Error>() {
            return true;
        }
        source = s.source();
    }
    e.to_string().contains("TLS handshake")
}
