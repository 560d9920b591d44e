//! The agent console at `/console` (from a fixture directory shaped like
//! `cargo xtask web`'s `target/web/console/`): the page under its CSP,
//! the hashed assets (immutable, precompressed gzip), 404 for anything
//! else, and a missing directory.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write as _;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use support::{STEP, Server, http};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const BOOT: &str = "neurochat-console-boot-0123456789abcdef.js";
const GLUE: &str = "neurochat-console-fedcba9876543210.js";
const WASM: &str = "neurochat-console-fedcba9876543210_bg.wasm";
const CSS: &str = "neurochat-console-00112233445566aa.css";

struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.head
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map(str::trim)
    }
}

async fn request(addr: &str, path: &str, headers: &[(&str, &str)]) -> Raw {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let exchange = async {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).await.unwrap();
        raw
    };
    let raw = tokio::time::timeout(STEP, exchange).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec())
        .unwrap()
        .to_ascii_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(!head.contains("transfer-encoding: chunked"));
    Raw {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn fixture(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    std::fs::create_dir_all(dir).unwrap();
    let index = format!(
        "<!doctype html><link rel=stylesheet href=\"/console/{CSS}\">\
         <script type=module src=\"/console/{BOOT}\"></script>"
    );
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(0u8, 512));
    let files = vec![
        ("index.html", index.into_bytes()),
        (
            BOOT,
            format!("import init from \"./{GLUE}\";\ninit();\n").into_bytes(),
        ),
        (
            GLUE,
            "export default function init() {}\n"
                .repeat(20)
                .into_bytes(),
        ),
        (WASM, wasm),
        (CSS, "body { margin: 0 }\n".repeat(20).into_bytes()),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
        std::fs::write(dir.join(format!("{name}.gz")), gzip(bytes)).unwrap();
    }
    std::fs::write(dir.join("manifest.json"), "{}").unwrap();
    files
}

fn start(dir: &Path, console: &Path) -> Server {
    Server::start(
        dir,
        &[
            "--listen",
            "127.0.0.1:0",
            "--admin-password",
            "console test admin password",
            "--console-dir",
            console.to_str().unwrap(),
        ],
    )
}

#[tokio::test]
async fn the_console_page_and_its_hashed_assets() {
    let dir = tempfile::tempdir().unwrap();
    let console = dir.path().join("console");
    let files = fixture(&console);
    let mut server = start(dir.path(), &console);
    let addr = server.addr.clone();
    assert!(
        !server
            .printed
            .iter()
            .any(|l| l.contains("agent console not built")),
        "{:?}",
        server.printed
    );
    // The banner names the console's URL.
    let line = server.wait_for_line("console:", dir.path());
    assert_eq!(line, format!("console:    http://{addr}/console"));

    // The page: no-cache, strict CSP naming this host's WebSocket.
    for path in ["/console", "/console/"] {
        let page = request(&addr, path, &[]).await;
        assert_eq!(page.status, 200, "{path}: {}", page.head);
        assert_eq!(page.body, files[0].1, "{path}");
        assert_eq!(page.header("cache-control"), Some("no-cache"));
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("x-frame-options"), Some("deny"));
        let csp = page.header("content-security-policy").unwrap().to_owned();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{csp}"
        );
        assert!(
            csp.contains(&format!("connect-src 'self' ws://{addr} wss://{addr};")),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }

    // The hashed assets: immutable, typed, gzip when accepted.
    for (name, bytes) in &files[1..] {
        let path = format!("/console/{name}");
        let kind = match name.rsplit('.').next().unwrap() {
            "js" => "text/javascript",
            "wasm" => "application/wasm",
            _ => "text/css",
        };
        let plain = request(&addr, &path, &[]).await;
        assert_eq!(plain.status, 200, "{path}: {}", plain.head);
        assert_eq!(
            plain.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        assert!(
            plain.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(&plain.body, bytes, "{path}");
        let gz = request(&addr, &path, &[("Accept-Encoding", "br, gzip")]).await;
        assert_eq!(gz.status, 200, "{path}");
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(gz.header("vary"), Some("accept-encoding"), "{path}");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut out)
            .unwrap();
        assert_eq!(&out, bytes, "{path}");
    }

    // Nothing else: unhashed names, the index by name, the manifest, the
    // .gz files themselves, and nothing outside the directory.
    for path in [
        "/console/index.html",
        "/console/manifest.json",
        "/console/nope.js",
        &format!("/console/{GLUE}.gz"),
        "/console/../server.log",
        "/console/..%2fserver.log",
        "/console/%2e%2e%2fserver.log",
    ] {
        let r = request(&addr, path, &[]).await;
        assert!(r.status == 404 || r.status == 400, "{path}: {}", r.status);
        assert!(!String::from_utf8_lossy(&r.body).contains("INFO"), "{path}");
    }
    // The widget and the API still answer around it.
    assert_eq!(http(&addr, "GET", "/healthz", None, None).await.status, 200);
    server.terminate();
}

#[tokio::test]
async fn a_missing_console_directory_is_a_404_that_says_how_to_build() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-console-here");
    let mut server = start(dir.path(), &missing);
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.contains("agent console not built")),
        "{:?}",
        server.printed
    );
    let r = request(&server.addr, "/console", &[]).await;
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("cargo xtask web"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    server.terminate();
}
