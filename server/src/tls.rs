//! TLS on the gateway listener: the certificate chain and private key from PEM files
//! (`TOLLGATE_GATEWAY_TLS_CERT`, `TOLLGATE_GATEWAY_TLS_KEY`), TLS 1.2 and 1.3 only, ALPN `h2`
//! and `http/1.1`. The configuration sits behind an [`ArcSwap`]: SIGHUP reads the files again
//! and swaps it for new connections, while open connections keep the one they started with. A
//! pair that does not load keeps the previous one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The largest PEM file read (a certificate chain or a key is a few KiB).
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The ALPN protocols offered, in the server's order of preference.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Where the certificate chain and the key are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The listener's TLS configuration, swapped as a whole on reload.
#[derive(Clone)]
pub struct Tls {
    files: TlsFiles,
    current: Arc<ArcSwap<ServerConfig>>,
}

impl Tls {
    /// Loads the files; an error names the file and what is wrong, never the key's content.
    pub fn load(files: TlsFiles) -> Result<Self, String> {
        let config = server_config(&files)?;
        Ok(Self {
            files,
            current: Arc::new(ArcSwap::from_pointee(config)),
        })
    }

    /// The configuration for a new connection.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current.load_full()
    }

    /// Reads the files again: new connections get the new pair; on an error the previous one
    /// stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = server_config(&self.files)?;
        self.current.store(Arc::new(config));
        Ok(())
    }

    /// Reloads on every SIGHUP until the process ends, logging the outcome.
    #[cfg(unix)]
    pub fn reload_on_sighup(&self) -> std::io::Result<()> {
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let tls = self.clone();
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                match tls.reload() {
                    Ok(()) => tracing::info!(
                        cert = %tls.files.cert.display(),
                        "SIGHUP: reloaded the gateway's TLS certificate"
                    ),
                    Err(e) => tracing::error!(
                        error = %e,
                        "SIGHUP: the gateway's TLS certificate was not reloaded; the previous one stays in use"
                    ),
                }
            }
        });
        Ok(())
    }
}

/// Reads a file of at most [`MAX_PEM_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(format!(
            "{} is larger than {} KiB",
            path.display(),
            MAX_PEM_BYTES >> 10
        ));
    }
    Ok(bytes)
}

/// What is wrong with a PEM file, never quoting it: the parser's own messages may quote a line
/// (`IllegalSectionStart`, `MissingSectionEnd`), which for a key written on one line (newlines
/// lost, or kept as `\n`) is the key, or a byte of it (`Base64Decode`). A certificate file may
/// hold the key too.
fn pem_error(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error;
    match e {
        Error::NoItemsFound => "no PEM section of the expected kind",
        Error::Base64Decode(_) => "a PEM section's base64 does not decode",
        Error::MissingSectionEnd { .. } => "a PEM section has no END line",
        Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed",
        _ => "not well-formed PEM",
    }
}

/// The rustls configuration for `files`: TLS 1.3 and 1.2 on ring, no client certificates,
/// ALPN `h2` and `http/1.1`.
pub fn server_config(files: &TlsFiles) -> Result<ServerConfig, String> {
    let pem = read_bounded(&files.cert)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {}", files.cert.display(), pem_error(&e)))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", files.cert.display()));
    }
    let pem = read_bounded(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        format!(
            "{}: no private key could be read ({})",
            files.key.display(),
            pem_error(&e)
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        // Fails when the key does not match the certificate.
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "{} and {} do not make a usable pair: {e}",
                files.cert.display(),
                files.key.display()
            )
        })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Without TLS, a SIGHUP (sent to reload a certificate) is logged and ignored, rather than
/// ending the process as its default action would.
#[cfg(unix)]
pub fn ignore_sighup() -> std::io::Result<()> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP ignored: the gateway has no TLS certificate to reload");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> TlsFiles {
        let cert = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        let files = TlsFiles {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
        };
        std::fs::write(&files.cert, cert.cert.pem()).unwrap();
        std::fs::write(&files.key, cert.key_pair.serialize_pem()).unwrap();
        files
    }

    #[test]
    fn loads_a_pair_and_keeps_the_old_one_when_the_new_one_is_bad() {
        let dir = std::env::temp_dir().join(format!("tollgate-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = write_pair(&dir, "first.test");
        let other = write_pair(&dir, "other.test");
        let tls = Tls::load(first.clone()).unwrap();
        let before = tls.config();
        assert_eq!(
            before.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );

        // A key that belongs to another certificate: refused, the old configuration stays.
        std::fs::copy(&other.key, &first.key).unwrap();
        let e = tls.reload().unwrap_err();
        assert!(e.contains("usable pair"), "{e}");
        assert!(Arc::ptr_eq(&before, &tls.config()));
        // Not PEM at all: refused, and the message does not quote the file.
        std::fs::write(&first.key, "not a key but a secret-looking text").unwrap();
        let e = tls.reload().unwrap_err();
        assert!(!e.contains("secret-looking"), "{e}");
        assert!(Arc::ptr_eq(&before, &tls.config()));
        // A file past the bound.
        std::fs::write(&first.cert, vec![b'x'; (MAX_PEM_BYTES + 1) as usize]).unwrap();
        assert!(tls.reload().unwrap_err().contains("larger than"));
        // The new pair: swapped.
        std::fs::copy(&other.cert, &first.cert).unwrap();
        std::fs::copy(&other.key, &first.key).unwrap();
        tls.reload().unwrap();
        assert!(!Arc::ptr_eq(&before, &tls.config()));
        // A file that is missing.
        assert!(
            Tls::load(TlsFiles {
                cert: dir.join("missing.crt"),
                key: first.key.clone(),
            })
            .is_err()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
