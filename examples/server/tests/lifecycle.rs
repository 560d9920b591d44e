//! The server binary end to end: zero-config first start in an empty
//! directory (admin password printed once, key file 0600), a customer's
//! ticket opened over REST and answered by the admin over WebSocket, SIGTERM (WebSockets closed
//! with 1001, clean exit), and a restart that finds everything again.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Server, Ws, http};

const CUSTOMER_EMAIL: &str = "ada@example.com";
const CUSTOMER_PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_chat_sigterm_restart() {
    let dir = tempfile::tempdir().unwrap();

    // ---- First start: only a free port is chosen; everything else default.
    let mut server = Server::start(dir.path(), &["--listen", "127.0.0.1:0"]);
    let password_line = server
        .printed
        .iter()
        .find(|l| l.contains("one-time admin password:"));
    let admin_password = password_line
        .unwrap_or_else(|| panic!("no admin password printed: {:?}", server.printed))
        .rsplit(": ")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.contains("admin@example.com"))
    );
    assert!(
        dir.path().join("neurochat.db").exists(),
        "./neurochat.db by default"
    );
    let key_file = dir.path().join("neurochat.db.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is private");
    }
    let addr = server.addr.clone();
    assert_eq!(http(&addr, "GET", "/healthz", None, None).await.status, 200);
    let demo = http(&addr, "GET", "/demo", None, None).await;
    assert_eq!(demo.status, 200);
    assert!(demo.body.contains("widget"), "{}", demo.body);

    // The admin logs in over REST with the printed password.
    let admin = login(&addr, "admin@example.com", &admin_password).await;
    assert_eq!(admin["user"]["role"], "admin");
    let admin_token = admin["tokens"]["access_token"].as_str().unwrap().to_owned();

    // A customer registers over REST.
    let reg = http(
        &addr,
        "POST",
        "/api/v1/auth/register",
        None,
        Some(&json!({
            "email": CUSTOMER_EMAIL, "password": CUSTOMER_PASSWORD, "display_name": "Ada"
        })),
    )
    .await;
    assert_eq!(reg.status, 201, "{}", reg.body);
    let customer_token = reg.json()["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The customer opens a ticket over REST and follows it live.
    let opened = http(
        &addr,
        "POST",
        "/api/v1/tickets",
        Some(&customer_token),
        Some(&json!({
            "subject": "Cannot log in",
            "body": "The login page says my password is wrong.",
            "client_msg_id": "c-1"
        })),
    )
    .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let ticket_id = opened.json()["id"].as_str().unwrap().to_owned();
    let mut customer = Ws::connect(&addr, &customer_token).await;
    customer
        .send(json!({ "type": "subscribe", "req": 1, "ticket_id": ticket_id, "last_seq": 1 }))
        .await;
    assert_eq!(customer.answer(1).await["type"], "ack");

    // The admin, as staff, claims it and answers over the WebSocket.
    let mut agent = Ws::connect(&addr, &admin_token).await;
    agent
        .send(json!({ "type": "subscribe", "req": 1, "ticket_id": ticket_id, "last_seq": 0 }))
        .await;
    let first = agent.until(|f| f["type"] == "message").await;
    assert_eq!(first["message"]["seq"], 1);
    assert_eq!(agent.answer(1).await["type"], "ack");
    agent
        .send(json!({ "type": "claim", "req": 2, "ticket_id": ticket_id }))
        .await;
    assert_eq!(agent.answer(2).await["type"], "ack");
    agent
        .send(json!({
            "type": "send", "req": 3, "ticket_id": ticket_id, "client_msg_id": "a-1",
            "body": "Please try resetting your password.", "internal": false
        }))
        .await;
    let sent = agent.answer(3).await;
    assert_eq!(sent["type"], "ack", "{sent}");
    assert_eq!(sent["seq"], 2);

    // The customer sees the answer live.
    let live = customer
        .until(|f| f["type"] == "message" && f["message"]["seq"] == 2)
        .await;
    assert_eq!(
        live["message"]["body"],
        "Please try resetting your password."
    );
    assert_eq!(live["message"]["kind"], "agent");

    // ---- SIGTERM: WebSockets are closed with 1001 and the process exits 0.
    let status = server.terminate();
    assert_eq!(customer.closed().await, Some(1001), "going away");
    assert_eq!(agent.closed().await, Some(1001), "going away");
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
    );
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.contains("NeuroChat stopped")),
        "{:?}",
        server.printed
    );
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(
        !log.contains(&admin_password),
        "the admin password never reaches the log"
    );
    assert!(!log.contains(CUSTOMER_PASSWORD));
    drop(server);

    // ---- Restart on the same directory: everything is still there.
    let mut server = Server::start(dir.path(), &["--listen", "127.0.0.1:0"]);
    assert!(
        !server.printed.iter().any(|l| l.contains("password")),
        "the admin password is printed on the first start only: {:?}",
        server.printed
    );
    let addr = server.addr.clone();
    // Access tokens of the first run still verify: the key was kept.
    let me = http(&addr, "GET", "/api/v1/auth/me", Some(&customer_token), None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["email"], CUSTOMER_EMAIL);
    // The admin password still works.
    let admin = login(&addr, "admin@example.com", &admin_password).await;
    let admin_token = admin["tokens"]["access_token"].as_str().unwrap().to_owned();
    let customer = login(&addr, CUSTOMER_EMAIL, CUSTOMER_PASSWORD).await;
    let customer_token = customer["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The conversation is there, over REST and over the WebSocket, for
    // both sides.
    let history = http(
        &addr,
        "GET",
        &format!("/api/v1/tickets/{ticket_id}/messages"),
        Some(&customer_token),
        None,
    )
    .await;
    assert_eq!(history.status, 200, "{}", history.body);
    let bodies: Vec<Value> = history.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        [
            "The login page says my password is wrong.",
            "Please try resetting your password."
        ]
    );
    let ticket = http(
        &addr,
        "GET",
        &format!("/api/v1/tickets/{ticket_id}"),
        Some(&admin_token),
        None,
    )
    .await;
    assert_eq!(ticket.status, 200, "{}", ticket.body);
    assert_eq!(
        ticket.json()["status"],
        "in_progress",
        "claimed before the restart"
    );
    for token in [&customer_token, &admin_token] {
        let mut ws = Ws::connect(&addr, token).await;
        ws.send(json!({ "type": "subscribe", "req": 1, "ticket_id": ticket_id, "last_seq": 0 }))
            .await;
        let m1 = ws.until(|f| f["type"] == "message").await;
        let m2 = ws.until(|f| f["type"] == "message").await;
        assert_eq!(ws.answer(1).await["type"], "ack");
        assert_eq!(
            m1["message"]["body"],
            "The login page says my password is wrong."
        );
        assert_eq!(m2["message"]["seq"], 2);
        assert_eq!(m2["message"]["body"], "Please try resetting your password.");
    }

    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}; printed {:?}; log:\n{}",
        server.printed,
        std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
    );
}

async fn login(addr: &str, email: &str, password: &str) -> Value {
    let r = http(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({ "email": email, "password": password })),
    )
    .await;
    assert_eq!(r.status, 200, "login {email}: {}", r.body);
    r.json()
}

#[tokio::test]
async fn help_documents_every_option_and_bad_databases_fail_clearly() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_neurochat-server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for option in [
        "--config",
        "--listen",
        "NEUROCHAT_LISTEN",
        "--database",
        "NEUROCHAT_DATABASE_URL",
        "--key-file",
        "--jwt-key",
        "--admin-email",
        "--admin-password",
        "--log-format",
        "--tls-cert",
        "--tls-key",
        "--allowed-origin",
        "--identity-hmac-secret",
        "--shutdown-timeout",
        "--metrics-token",
    ] {
        assert!(text.contains(option), "--help lacks {option}:\n{text}");
    }

    let dir = tempfile::tempdir().unwrap();
    for (url, what) in [
        ("postgres://u:secret@db/x", "PostgreSQL"),
        ("mssql://db", "SQL Server"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_neurochat-server"))
            .args(["--database", url])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(what) && err.contains("not available yet"),
            "{err}"
        );
        assert!(!err.contains("secret"), "{err}");
    }
}

#[tokio::test]
async fn configured_by_environment_with_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data.db");
    let url = format!("sqlite://{}", db.display());
    let password = "configured admin password 123";
    let mut server = Server::start_with_env(
        dir.path(),
        &[],
        &[
            ("NEUROCHAT_LISTEN", "127.0.0.1:0"),
            ("NEUROCHAT_DATABASE_URL", &url),
            ("NEUROCHAT_ADMIN_EMAIL", "boss@example.com"),
            ("NEUROCHAT_ADMIN_PASSWORD", password),
            ("NEUROCHAT_LOG_FORMAT", "json"),
            ("NEUROCHAT_METRICS_TOKEN", "scraper-token-0123456789"),
        ],
    );
    assert!(db.exists(), "the database is where the URL says");
    // `/metrics` for the scraper's token only.
    let metrics = http(
        &server.addr,
        "GET",
        "/metrics",
        Some("scraper-token-0123456789"),
        None,
    )
    .await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(metrics.body.contains("neurochat_"), "{}", metrics.body);
    let refused = http(&server.addr, "GET", "/metrics", Some("guess"), None).await;
    assert_eq!(refused.status, 401);
    assert!(
        dir.path().join("data.db.key").exists(),
        "the key file beside it"
    );
    assert!(
        !server.printed.iter().any(|l| l.contains(password)),
        "a configured password is never printed: {:?}",
        server.printed
    );
    let admin = login(&server.addr, "boss@example.com", password).await;
    assert_eq!(admin["user"]["role"], "admin");
    assert!(server.terminate().success());

    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(!log.contains(password), "no password in the log");
    assert!(
        !log.contains("scraper-token"),
        "no metrics token in the log"
    );
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "{log}");
    for line in lines {
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            entry["level"].is_string() && entry["message"].is_string(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_request_in_flight_at_sigterm_is_finished() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--listen", "127.0.0.1:0"]);
    let body =
        json!({ "email": "nobody@example.com", "password": "wrong password 123" }).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        server.addr,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    // Let the server read the head and start the handler, which now waits
    // for the rest of the body.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // SIGTERM from another thread (terminate() waits for the exit, which
    // needs this request to finish).
    let pid = server.pid();
    let signal = std::thread::spawn(move || {
        std::process::Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap()
    });
    assert!(signal.join().unwrap().success());

    // New connections are refused soon (a connection accepted before the
    // signal was handled is idle and simply closed)...
    let deadline = std::time::Instant::now() + support::STEP;
    while tokio::net::TcpStream::connect(&server.addr).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the listener stays open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // ...but the request in flight is answered.
    tcp.write_all(rest.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(support::STEP, tcp.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.starts_with("HTTP/1.1 401"), "{raw}");
    assert!(server.terminate_wait().success());
}
