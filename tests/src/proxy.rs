//! A lying JSON-RPC endpoint: an HTTP proxy in front of a node that lets a test rewrite the
//! results of chosen calls (a block's `stateRoot`, a transaction, …).
//!
//! ```no_run
//! # async fn demo(upstream: alloy::transports::http::reqwest::Url) -> std::io::Result<()> {
//! use alloy::primitives::B256;
//! use surety_testkit::proxy::{RpcProxy, lie_about_state_root};
//! let proxy = RpcProxy::spawn(upstream, lie_about_state_root(5, B256::repeat_byte(0xee))).await?;
//! // point the follower at proxy.url(): block 5 now claims a wrong (but self-consistent) root
//! # Ok(()) }
//! ```
//!
//! HTTP/1.1 with `Content-Length` bodies and keep-alive only: enough for alloy's HTTP transport.

use std::sync::Arc;

use alloy::{
    rpc::types::{Block, Header},
    transports::http::reqwest::{Client, Url},
};
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// Rewrites a call's `result` in place; gets the request's method and params.
pub type Rewrite = Arc<dyn Fn(&str, &Value, &mut Value) + Send + Sync>;

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct RpcProxy {
    url: Url,
    task: JoinHandle<()>,
}

impl RpcProxy {
    /// Listen on a free port on 127.0.0.1 and forward to `upstream`, passing every result
    /// through `rewrite`.
    pub async fn spawn(
        upstream: Url,
        rewrite: impl Fn(&str, &Value, &mut Value) + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let url = Url::parse(&format!("http://{addr}"))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let rewrite: Rewrite = Arc::new(rewrite);
        let client = Client::new();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (client, upstream, rewrite) =
                    (client.clone(), upstream.clone(), rewrite.clone());
                tokio::spawn(async move {
                    if let Err(e) = serve(stream, &client, &upstream, &rewrite).await {
                        tracing::debug!(error = %e, "rpc proxy connection closed");
                    }
                });
            }
        });
        Ok(Self { url, task })
    }

    /// The proxy's URL.
    pub fn url(&self) -> Url {
        self.url.clone()
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serve HTTP/1.1 requests on one connection until the client closes it.
async fn serve(
    stream: TcpStream,
    client: &Client,
    upstream: &Url,
    rewrite: &Rewrite,
) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let mut content_length = None;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                if first {
                    continue;
                }
                break;
            }
            first = false;
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse::<usize>().ok();
            }
        }
        let Some(len) = content_length else {
            let reply =
                "HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            stream.get_mut().write_all(reply.as_bytes()).await?;
            return Ok(());
        };
        let mut body = vec![0; len];
        stream.read_exact(&mut body).await?;
        let reply = forward(client, upstream, rewrite, body).await;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        stream.get_mut().write_all(head.as_bytes()).await?;
        stream.get_mut().write_all(&reply).await?;
    }
}

/// Forward one JSON-RPC body (single or batch) and rewrite the results.
async fn forward(client: &Client, upstream: &Url, rewrite: &Rewrite, body: Vec<u8>) -> Vec<u8> {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let upstream_reply = match client
        .post(upstream.clone())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(reply) => reply.bytes().await.map(|b| b.to_vec()),
        Err(e) => Err(e),
    };
    let bytes = match upstream_reply {
        Ok(bytes) => bytes,
        Err(e) => {
            let error = serde_json::json!({
                "jsonrpc": "2.0", "id": Value::Null,
                "error": { "code": -32603, "message": format!("proxy: upstream failed: {e}") }
            });
            return error.to_string().into_bytes();
        }
    };
    let Ok(mut reply) = serde_json::from_slice::<Value>(&bytes) else {
        return bytes;
    };
    match (&request, &mut reply) {
        (Value::Array(requests), Value::Array(replies)) => {
            for reply in replies {
                let id = reply.get("id").cloned();
                if let Some(request) = requests.iter().find(|r| r.get("id").cloned() == id) {
                    apply(rewrite, request, reply);
                }
            }
        }
        (request, reply) => apply(rewrite, request, reply),
    }
    reply.to_string().into_bytes()
}

fn apply(rewrite: &Rewrite, request: &Value, reply: &mut Value) {
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let params = request.get("params").unwrap_or(&Value::Null);
    if let Some(result) = reply.get_mut("result") {
        rewrite(method, params, result);
    }
}

/// Whether `result` is a block object with this number.
fn is_block(method: &str, result: &Value, number: u64) -> bool {
    method.starts_with("eth_getBlockBy")
        && result.get("number").and_then(Value::as_str) == Some(format!("{number:#x}").as_str())
}

/// A rewrite that serves block `number` with `state_root` in place of the real root, and a block
/// hash recomputed over the altered header: a self-consistent lie that only re-execution catches.
pub fn lie_about_state_root(
    number: u64,
    state_root: alloy::primitives::B256,
) -> impl Fn(&str, &Value, &mut Value) + Send + Sync + 'static {
    move |method, _params, result| {
        if !is_block(method, result, number) {
            return;
        }
        let Ok(mut block) = serde_json::from_value::<Block<Value, Header>>(result.clone()) else {
            return;
        };
        block.header.inner.state_root = state_root;
        block.header.hash = block.header.inner.hash_slow();
        if let Ok(altered) = serde_json::to_value(&block) {
            *result = altered;
        }
    }
}

/// A rewrite that changes the `value` of the first transaction of block `number` when the block is
/// fetched with full transactions (header and hash untouched, so the transactions root no longer
/// matches).
pub fn tamper_with_transaction(
    number: u64,
) -> impl Fn(&str, &Value, &mut Value) + Send + Sync + 'static {
    move |method, _params, result| {
        if !is_block(method, result, number) {
            return;
        }
        if let Some(tx) = result.get_mut("transactions").and_then(|t| t.get_mut(0))
            && tx.is_object()
        {
            tx["value"] = Value::String("0x1337".to_owned());
        }
    }
}
