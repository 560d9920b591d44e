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
