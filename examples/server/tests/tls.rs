//! `--tls-cert` / `--tls-key`: the server speaks HTTPS (rustls) and still
//! shuts down cleanly.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use support::{Server, http_on};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

#[tokio::test]
async fn https_with_a_certificate_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (fixture("cert.pem"), fixture("key.pem"));
    let mut server = Server::start(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.starts_with("NeuroChat listening on https://")),
        "{:?}",
        server.printed
    );

    // A client that trusts exactly the test certificate.
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&cert).unwrap())
        .unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    for path in ["/healthz", "/readyz"] {
        let tcp = TcpStream::connect(&server.addr).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        let resp = http_on(tls, &server.addr, "GET", path, None, None).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.body);
    }

    // Plain HTTP on the TLS port gets no answer.
    let tcp = TcpStream::connect(&server.addr).await.unwrap();
    let plain = tokio::time::timeout(
        support::STEP,
        support::http_on_raw(tcp, &server.addr, "/healthz"),
    )
    .await
    .unwrap();
    assert!(!plain.starts_with("HTTP/1.1 200"), "{plain:?}");

    assert!(server.terminate().success());
}

#[test]
fn a_missing_key_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_neurochat-server"))
        .args(["--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(fixture("cert.pem"))
        .arg("--tls-key")
        .arg(dir.path().join("missing.pem"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("missing.pem"), "{err}");
}
