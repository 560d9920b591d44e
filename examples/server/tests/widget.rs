//! The widget's files under `/widget/` (from a fixture directory shaped like
//! `cargo xtask web`'s output), the demo page that embeds them, a missing
//! directory, and a host site on another origin: CORS preflights of the
//! widget's REST calls and its WebSocket.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write as _;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use support::{STEP, Server, http};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const GLUE: &str = "neurochat-widget-0123456789abcdef.js";
const WASM: &str = "neurochat-widget-0123456789abcdef_bg.wasm";
const HOST: &str = "https://shop.example";

/// A raw HTTP answer: status, lower-cased head, body bytes.
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

/// One request with extra headers; the body is read as bytes.
async fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Raw {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
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
    assert!(
        !head.contains("transfer-encoding: chunked"),
        "plain bodies only"
    );
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

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The loader, glue and module with their `.gz` files, as the build writes them.
fn fixture(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    std::fs::create_dir_all(dir).unwrap();
    let loader = format!("/* loader */ var glue = \"{GLUE}\";\n").repeat(20);
    let glue = "export default function init() {}\n".repeat(20);
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(0u8, 512));
    let files = vec![
        ("neurochat.js", loader.into_bytes()),
        (GLUE, glue.into_bytes()),
        (WASM, wasm),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
        std::fs::write(dir.join(format!("{name}.gz")), gzip(bytes)).unwrap();
    }
    files
}

fn start(dir: &Path, web: &Path, extra: &[&str]) -> Server {
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--admin-password",
        "widget test admin password",
        "--web-dir",
        web.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Server::start(dir, &args)
}

#[tokio::test]
async fn widget_files_have_cache_headers_types_and_precompressed_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    let files = fixture(&web);
    let mut server = start(dir.path(), &web, &[]);
    let addr = server.addr.clone();
    assert!(
        !server.printed.iter().any(|l| l.contains("not found")),
        "{:?}",
        server.printed
    );

    for (name, bytes) in &files {
        let path = format!("/widget/{name}");
        let (cache, kind) = match *name {
            "neurochat.js" => ("public, max-age=300", "text/javascript"),
            GLUE => ("public, max-age=31536000, immutable", "text/javascript"),
            _ => ("public, max-age=31536000, immutable", "application/wasm"),
        };
        // Without Accept-Encoding: the file itself.
        let plain = request(&addr, "GET", &path, &[]).await;
        assert_eq!(plain.status, 200, "{path}: {}", plain.head);
        assert_eq!(plain.header("cache-control"), Some(cache), "{path}");
        assert!(
            plain.header("content-type").unwrap().starts_with(kind),
            "{path}: {}",
            plain.head
        );
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert_eq!(&plain.body, bytes, "{path}");
        assert_eq!(plain.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            plain.header("cross-origin-resource-policy"),
            Some("cross-origin")
        );
        assert_eq!(plain.header("x-content-type-options"), Some("nosniff"));

        // With gzip accepted: the `.gz` next to it, same type and cache.
        let gz = request(&addr, "GET", &path, &[("Accept-Encoding", "gzip, br")]).await;
        assert_eq!(gz.status, 200, "{path}");
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(gz.header("vary"), Some("accept-encoding"), "{path}");
        assert_eq!(gz.header("cache-control"), Some(cache), "{path}");
        assert!(gz.header("content-type").unwrap().starts_with(kind));
        assert!(gz.body.len() < bytes.len(), "{path}: the compressed file");
        assert_eq!(&gunzip(&gz.body), bytes, "{path}");
    }

    // Unknown files and the directory itself: 404, never cached.
    for path in ["/widget/nope.js", "/widget/", "/widget"] {
        let missing = request(&addr, "GET", path, &[]).await;
        assert_eq!(missing.status, 404, "{path}");
        assert_eq!(missing.header("cache-control"), Some("no-store"), "{path}");
    }
    // Nothing outside the directory (the server's log sits next to it).
    for path in [
        "/widget/../server.log",
        "/widget/..%2fserver.log",
        "/widget/%2e%2e/server.log",
    ] {
        let out = request(&addr, "GET", path, &[]).await;
        assert!(out.status >= 400, "{path}: {}", out.status);
        assert!(
            !String::from_utf8_lossy(&out.body).contains("INFO"),
            "{path}"
        );
    }
    // The API still answers around it.
    assert_eq!(http(&addr, "GET", "/healthz", None, None).await.status, 200);
    server.terminate();
}

#[tokio::test]
async fn the_demo_page_embeds_the_widget_under_a_strict_csp() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    fixture(&web);
    // The directory from the environment this time (as `cargo xtask run`
    // hands it over).
    let mut server = Server::start_with_env(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--admin-password",
            "widget test admin password",
        ],
        &[("NEUROCHAT_WEB_DIR", web.to_str().unwrap())],
    );
    assert!(
        !server.printed.iter().any(|l| l.contains("not found")),
        "{:?}",
        server.printed
    );
    let demo = http(&server.addr, "GET", "/demo", None, None).await;
    assert_eq!(demo.status, 200);
    assert_eq!(
        demo.body
            .matches(r#"<script src="/widget/neurochat.js" async></script>"#)
            .count(),
        1,
        "{}",
        demo.body
    );
    assert_eq!(
        demo.body.matches("<script").count(),
        1,
        "the widget's tag is the page's only script"
    );
    let head = demo.head.to_ascii_lowercase();
    let csp = head
        .lines()
        .find_map(|l| l.strip_prefix("content-security-policy: "))
        .unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    // The tag's file is the loader being served.
    let loader = request(&server.addr, "GET", "/widget/neurochat.js", &[]).await;
    assert_eq!(loader.status, 200);
    server.terminate();
}

#[tokio::test]
async fn without_widget_files_the_server_starts_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("no-such-dir");
    let mut server = start(dir.path(), &web, &[]);
    let line = server
        .printed
        .iter()
        .find(|l| l.contains("widget assets not found at"))
        .unwrap_or_else(|| panic!("no line about the widget: {:?}", server.printed));
    assert!(line.contains(web.to_str().unwrap()), "{line}");
    assert!(line.contains("cargo xtask web"), "{line}");
    let loader = request(&server.addr, "GET", "/widget/neurochat.js", &[]).await;
    assert_eq!(loader.status, 404);
    assert_eq!(
        http(&server.addr, "GET", "/healthz", None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        http(&server.addr, "GET", "/demo", None, None).await.status,
        200
    );
    server.terminate();
}

/// A host site on another origin: the browser's preflights of the widget's
/// REST calls pass for an `--allowed-origin`, not for others, and its
/// WebSocket connects.
#[tokio::test]
async fn a_host_site_on_another_origin_reaches_the_api_and_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    fixture(&web);
    let mut server = start(dir.path(), &web, &["--allowed-origin", HOST]);
    let addr = server.addr.clone();

    for (method, path) in [
        ("POST", "/api/v1/widget/sessions"),
        ("GET", "/api/v1/tickets"),
        ("GET", "/api/v1/widget/status"),
    ] {
        let preflight = request(
            &addr,
            "OPTIONS",
            path,
            &[
                ("Origin", HOST),
                ("Access-Control-Request-Method", method),
                (
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
            ],
        )
        .await;
        assert!(
            (200..300).contains(&preflight.status),
            "{path}: {}",
            preflight.head
        );
        assert_eq!(
            preflight.header("access-control-allow-origin"),
            Some(HOST),
            "{path}"
        );
        let methods = preflight.header("access-control-allow-methods").unwrap();
        assert!(
            methods.contains(&method.to_ascii_lowercase()),
            "{path}: {methods}"
        );
        let headers = preflight.header("access-control-allow-headers").unwrap();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{path}: {headers}"
        );
        let other = request(
            &addr,
            "OPTIONS",
            path,
            &[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Method", method),
            ],
        )
        .await;
        assert_eq!(other.header("access-control-allow-origin"), None, "{path}");
    }

    // A visitor session, as the widget opens it.
    let visitor = http(
        &addr,
        "POST",
        "/api/v1/widget/sessions",
        None,
        Some(&serde_json::json!({})),
    )
    .await;
    assert_eq!(visitor.status, 201, "{}", visitor.body);
    let token = visitor.json()["visitor_token"].as_str().unwrap().to_owned();

    // The WebSocket from the host's origin, authenticated with that token.
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("origin", HOST.parse().unwrap());
    let (mut ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req))
        .await
        .unwrap()
        .unwrap();
    ws.send(Message::text(
        serde_json::json!({ "type": "auth", "token": token }).to_string(),
    ))
    .await
    .unwrap();
    let hello = loop {
        let msg = tokio::time::timeout(STEP, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            break serde_json::from_str::<serde_json::Value>(&t).unwrap();
        }
    };
    assert_eq!(hello["type"], "hello", "{hello}");
    drop(ws);
    server.terminate();
}
