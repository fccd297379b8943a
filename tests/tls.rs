//! TLS with the platform's roots: a corporate CA given through
//! SSL_CERT_FILE is trusted, and an unknown one is not. The server is
//! Python's, the certificate openssl's; the test is skipped without them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::*;

const SERVER: &str = r#"
import http.server, ssl, sys
body = b'{"kind":"books#volumes","totalItems":1,"items":[{"id":"tls1","volumeInfo":{"title":"Over TLS"}}]}'
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
        || Command::new(tool)
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
}

/// A test CA, a certificate for 127.0.0.1 that it signed, and a server using it.
fn start(dir: &Path) -> (Server, u16) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=gbooks test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "leaf.ext",
        "-out",
        "leaf.pem",
    ]);
    let (cert, key) = (dir.join("leaf.pem"), dir.join("key.pem"));
    let mut child = Command::new("python3")
        .args(["-c", SERVER])
        .arg(&cert)
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().unwrap();
    (Server(child), port)
}

#[test]
fn ssl_cert_file_adds_a_trusted_ca() {
    if !have("openssl") || !have("python3") {
        eprintln!("skipped: needs openssl and python3");
        return;
    }
    let sb = Sandbox::new();
    let (_server, port) = start(sb.dir.path());
    let base = format!("https://127.0.0.1:{port}/books/v1");

    let out = sb
        .cmd(&base)
        .args(["search", "x", "--json", "--no-cache"])
        .env("SSL_CERT_FILE", sb.dir.path().join("ca.pem"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Over TLS"));

    // Without it, the same certificate is refused, in one line, after retries.
    let out = sb
        .cmd(&base)
        .args(["search", "x", "--no-cache", "--timeout", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("gbooks: error: cannot reach 127.0.0.1: "),
        "{err}"
    );
    assert!(err.contains("certificate"), "{err}");

    // A certificate that does not verify is final: one attempt, no retries.
    let out = sb
        .cmd(&base)
        .args(["-v", "search", "x", "--no-cache"])
        .output()
        .unwrap();
    let attempts = stderr(&out).lines().filter(|l| l.starts_with("GET ")).count();
    assert_eq!(attempts, 1, "{}", stderr(&out));
}
