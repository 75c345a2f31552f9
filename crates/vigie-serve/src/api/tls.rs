//! TLS with rustls on the ring provider (named explicitly: no process default is
//! relied on), from the PEM files of `Config.tls`, and the one way the service serves
//! its router: plain HTTP or HTTPS through axum-server, with a shutdown handle.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsConfig;
use crate::ServeError;

/// Installs ring as the process's rustls provider (for clients that use the default,
/// such as reqwest for webhooks); a provider already installed is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The server configuration of `tls` (certificate chain and private key, PEM).
pub fn server_config(tls: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no PEM certificate found",
            tls.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ServeError::Tls(format!(
                "{} with {}: {e}",
                tls.cert.display(),
                tls.key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `http` or `https`: what the start-up line prints before the address.
pub fn scheme(tls: Option<&TlsConfig>) -> &'static str {
    if tls.is_some() {
        "https"
    } else {
        "http"
    }
}

/// Serves `app` on `listener` (already bound: the caller printed its address) until
/// `handle` shuts it down; HTTPS when `tls` is given. Connections carry the peer's
/// address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<&TlsConfig>,
    handle: Handle,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let svc = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(svc)
                .await?
        }
        Some(t) => {
            let config = RustlsConfig::from_config(server_config(t)?);
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(svc)
                .await?
        }
    }
    Ok(())
}
