//! Drives the `neurochat-server` binary as a user would: starts it in a
//! directory, reads what it prints, talks HTTP and WebSocket to it, and
//! stops it with a signal. Every wait is bounded.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// The longest any single step may take.
pub const STEP: Duration = Duration::from_secs(20);

/// A running server process; killed if the test ends without stopping it.
pub struct Server {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    /// Everything read from stdout so far.
    pub printed: Vec<String>,
    /// `host:port` from the banner.
    pub addr: String,
    /// The server's stderr, for failure messages.
    log: std::path::PathBuf,
}

impl Server {
    /// Starts the binary in `dir` with `args` and waits for the banner line
    /// with the bound address.
    pub fn start(dir: &Path, args: &[&str]) -> Server {
        Server::start_with_env(dir, args, &[])
    }

    /// Like [`Server::start`], with these environment variables set.
    pub fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_neurochat-server"));
        cmd.args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        // The test's own environment must not configure the server.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("NEUROCHAT_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("starting neurochat-server");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            lines,
            printed: Vec::new(),
            addr: String::new(),
            log: dir.join("server.log"),
        };
        let banner = server.wait_for_line("NeuroChat listening on ", dir);
        let url = banner.trim_start_matches("NeuroChat listening on ");
        server.addr = url.split("://").nth(1).unwrap().to_owned();
        server
    }

    /// Reads stdout until a line starting with `prefix` (after trimming).
    pub fn wait_for_line(&mut self, prefix: &str, dir: &Path) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.printed.push(line.clone());
                    if line.trim_start().starts_with(prefix) {
                        return line.trim().to_owned();
                    }
                }
                Err(e) => panic!(
                    "no line starting with {prefix:?} ({e}); printed {:?}; log:\n{}",
                    self.printed,
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                ),
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends SIGTERM and waits for the process to exit, which must be clean.
    pub fn terminate(&mut self) -> ExitStatus {
        // The shell's builtin `kill`: /bin/kill (procps) is not on every
        // minimal machine, and std has no way to send a signal.
        let status = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.pid())])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
        self.terminate_wait()
    }

    /// Waits for the process to exit after a signal sent elsewhere.
    pub fn terminate_wait(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // Drain what it printed last.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.printed.push(line);
                }
                assert!(
                    status.success(),
                    "exit status {status}; printed {:?}; log:\n{}",
                    self.printed,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the server did not exit within {STEP:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Resp {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`), over
/// any byte stream (plain TCP or TLS).
pub async fn http_on<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        req.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let exchange = async {
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        raw
    };
    let raw = tokio::time::timeout(STEP, exchange)
        .await
        .expect("HTTP request timed out");
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the client reads plain bodies only"
    );
    Resp {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// One plain-HTTP request to `addr`.
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    let tcp = TcpStream::connect(addr).await.unwrap();
    http_on(tcp, addr, method, path, bearer, body).await
}

/// A WebSocket client speaking JSON frames.
pub struct Ws {
    inner: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
}

impl Ws {
    /// Connects to `/ws` and authenticates with `token`, returning after `hello`.
    pub async fn connect(addr: &str, token: &str) -> Ws {
        let (inner, _) = tokio::time::timeout(
            STEP,
            tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
        )
        .await
        .expect("WebSocket connect timed out")
        .unwrap();
        let mut ws = Ws { inner };
        ws.send(serde_json::json!({ "type": "auth", "token": token }))
            .await;
        ws.until(|f| f["type"] == "hello").await;
        ws
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: Value) {
        self.inner
            .send(Message::text(frame.to_string()))
            .await
            .unwrap();
    }

    /// The next JSON frame, or the close frame's code.
    pub async fn next(&mut self) -> Result<Value, Option<u16>> {
        loop {
            let msg = tokio::time::timeout(STEP, self.inner.next())
                .await
                .expect("no frame in time");
            match msg {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map(|f: CloseFrame| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// Frames until one matches `want` (others are skipped); returns it.
    pub async fn until(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.next().await {
                Ok(frame) if want(&frame) => return frame,
                Ok(frame) if frame["type"] == "error" && frame.get("req").is_none() => {
                    panic!("error frame: {frame}")
                }
                Ok(_) => {}
                Err(code) => panic!("closed ({code:?}) while waiting"),
            }
        }
    }

    /// The answer (`ack` or `error`) to request `req`.
    pub async fn answer(&mut self, req: u64) -> Value {
        self.until(|f| (f["type"] == "ack" || f["type"] == "error") && f["req"] == req)
            .await
    }

    /// Frames until the server closes; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Err(code) = self.next().await {
                return code;
            }
        }
    }
}

/// Writes a plain HTTP request and returns whatever comes back (as lossy
/// text) until the peer closes.
pub async fn http_on_raw<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    path: &str,
) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(req.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw).into_owned()
}
