//! The crawl's fetch errors carry a kind callers branch on (timeout, refused, auth required,
//! too large, protocol), each produced here by a real local peer on 127.0.0.1.

use std::net::SocketAddr;
use std::time::Duration;
use toolrisk::crawl::client::fetch_tools_http;
use toolrisk::crawl::http::Politeness;
use toolrisk::crawl::transport::{FetchError, FetchErrorKind};
use toolrisk::crawl::Limits;

/// Answers every connection with `reply` (or, when `None`, reads and never answers).
async fn raw_server(reply: Option<Vec<u8>>) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = l.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                match reply {
                    Some(r) => {
                        let _ = s.write_all(&r).await;
                        let _ = s.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(120)).await,
                }
            });
        }
    });
    addr
}

fn limits() -> Limits {
    Limits {
        retries: 0,
        init_timeout: Duration::from_secs(20),
        discover_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        server_timeout: Duration::from_secs(60),
        probe_discover: false,
        ..Limits::default()
    }
}

async fn fetch(url: &str, limits: &Limits) -> FetchError {
    fetch_tools_http(url, limits, &Politeness::default())
        .await
        .map(|_| ())
        .unwrap_err()
}

fn http(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn fetch_error_kinds_come_from_what_the_peer_did() {
    // Nothing listens: refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = fetch(&format!("http://127.0.0.1:{port}/mcp"), &limits()).await;
    assert_eq!(e.kind, FetchErrorKind::Refused, "{e}");

    // 401: auth required.
    let addr = raw_server(Some(http("401 Unauthorized", "{}"))).await;
    let e = fetch(&format!("http://{addr}/mcp"), &limits()).await;
    assert_eq!(e.kind, FetchErrorKind::AuthRequired, "{e}");
    assert!(e.auth_required());

    // A body over the message limit: too large.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"result":{{"pad":"{}"}}}}"#,
        "x".repeat(64 * 1024)
    );
    let addr = raw_server(Some(http("200 OK", &big))).await;
    let small = Limits {
        max_message_bytes: 16 * 1024,
        ..limits()
    };
    let e = fetch(&format!("http://{addr}/mcp"), &small).await;
    assert_eq!(e.kind, FetchErrorKind::TooLarge, "{e}");

    // 500 with junk: the server broke the protocol.
    let addr = raw_server(Some(http("500 Internal Server Error", "oops"))).await;
    let e = fetch(&format!("http://{addr}/mcp"), &limits()).await;
    assert_eq!(e.kind, FetchErrorKind::Protocol, "{e}");

    // Accepts and never answers: a timeout (whatever the machine's speed, it never answers).
    let addr = raw_server(None).await;
    let quick = Limits {
        init_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
        server_timeout: Duration::from_secs(60),
        ..limits()
    };
    let e = fetch(&format!("http://{addr}/mcp"), &quick).await;
    assert_eq!(e.kind, FetchErrorKind::Timeout, "{e}");
    // Errors are std errors.
    let _: &dyn std::error::Error = &e;
}
