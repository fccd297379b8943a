//! TLS with the platform's roots: a corporate CA given through
//! SSL_CERT_FILE is trusted, and an unknown one is not. The test makes its
//! own CA and a certificate for 127.0.0.1 that it signed.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;

use crate::support::fake::{FakeApi, Reply};
use crate::support::*;

/// A test CA (its certificate as PEM) and a TLS setup for 127.0.0.1 with a
/// certificate that the CA signed.
fn test_ca() -> (String, tokio_rustls::TlsAcceptor) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CommonName, "gbooks test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    (ca_pem, tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

#[tokio::test]
async fn ssl_cert_file_adds_a_trusted_ca() {
    let (ca_pem, tls) = test_ca();
    let mut page = volumes(vec![volume("tls1", "Over TLS")]);
    page["totalItems"] = 1.into();
    let server = FakeApi::start_tls(tls, move |_| std::future::ready(Reply::ok(&page)));
    let sb = Sandbox::new();
    let ca_file = sb.dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let base = server.api();

    let out = run(sb
        .cmd(&base)
        .args(["search", "x", "--json", "--no-cache"])
        .env("SSL_CERT_FILE", &ca_file))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Over TLS"));

    // Without it, the same certificate is refused, in one line.
    let out = run(sb
        .cmd(&base)
        .args(["search", "x", "--no-cache", "--timeout", "2"]))
    .await;
    assert_eq!(out.status.code(), Some(1));
    let line = one_error_line(&out);
    assert!(
        line.starts_with("gbooks: error: cannot reach 127.0.0.1: "),
        "{line}"
    );
    assert!(line.contains("certificate"), "{line}");

    // A certificate that does not verify is final: one attempt, no retries.
    let out = run(sb.cmd(&base).args(["-v", "search", "x", "--no-cache"])).await;
    assert_eq!(out.status.code(), Some(1));
    let attempts = stderr(&out).lines().filter(|l| l.starts_with("GET ")).count();
    assert_eq!(attempts, 1, "{}", stderr(&out));
    // Only the trusted run got as far as a request.
    assert_eq!(server.calls().len(), 1);
}
