//! `koppel serve` as a child process, and a vendor's HTTP client for it.

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::RngCore as _;
use serde_json::Value;

/// A running `koppel serve`; killed when dropped, so an error never leaves it behind.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// What `koppel serve` needs besides the database: a signing key made for this run.
pub fn signing_key() -> String {
    // 64 possible characters, as base64: `serve` refuses a key of fewer than 16
    // distinct bytes, which a hex key misses now and then.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 64)]))
        .collect()
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl Server {
    /// Starts `koppel serve` on a free loopback port and waits for the first 200 of
    /// `/health/ready`; answers the server and the time from spawning to that answer.
    pub async fn start(
        koppel: &Path,
        database_url: &str,
        key: &str,
        log: &Path,
        env: &[(String, String)],
    ) -> anyhow::Result<(Server, Duration)> {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let client = reqwest::Client::new();
        let started = Instant::now();
        let child = Command::new(koppel)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("KOPPEL_SIGNING_KEY", key)
            .env("KOPPEL_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("KOPPEL_LOG_FORMAT", "json")
            // W1's receiver is on loopback; nothing else may be reached.
            .env("KOPPEL_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
            .env("KOPPEL_WEBHOOK_PUBLIC", "false")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", koppel.display()))?;
        let mut server = Server { child, base };
        let deadline = started + Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("{}/health/ready", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return Ok((server, started.elapsed()));
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("koppel serve exited with {status}; see {}", log.display());
            }
            if Instant::now() > deadline {
                bail!("koppel serve not ready after 30 s; see {}", log.display());
            }
            // Polling faster than a millisecond would only steal CPU from the start-up
            // being measured.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The peak resident set size so far (VmHWM), in megabytes.
    pub fn peak_rss_mb(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .context("reading the server's /proc status")?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc status")?;
        Ok(kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a `koppel` CLI command against the database and parses the JSON it prints.
pub fn cli(koppel: &Path, database_url: &str, args: &[&str]) -> anyhow::Result<Value> {
    let output = Command::new(koppel)
        .args(args)
        .env("DATABASE_URL", database_url)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running koppel {}", args.join(" ")))?;
    if !output.status.success() {
        bail!(
            "koppel {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8(output.stdout)?;
    Ok(serde_json::from_str(stdout.trim())?)
}

/// An HTTP client holding a bearer token; the connection pool keeps one keep-alive
/// connection per concurrent request.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// The body as text, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Api {
    /// Gets a token for `client_id`/`secret` (client credentials, HTTP Basic).
    pub async fn login(base: &str, client_id: &str, secret: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(512)
            .timeout(Duration::from_secs(120))
            .build()?;
        let response = http
            .post(format!("{base}/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await?;
        let status = response.status();
        let body: Value = serde_json::from_slice(&response.bytes().await?)?;
        if status != 200 {
            bail!("token request failed with {status}: {body}");
        }
        let token = body["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned();
        Ok(Api {
            http,
            base: base.to_owned(),
            bearer: format!("Bearer {token}"),
        })
    }

    /// POSTs a JSON body (already serialised).
    pub async fn post(&self, path: &str, body: Vec<u8>) -> anyhow::Result<Answer> {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// GETs a path.
    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// GETs a path with `request_id` as its `X-Request-Id`, which Koppel logs.
    pub async fn get_as(&self, path: &str, request_id: &str) -> anyhow::Result<Answer> {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .header("x-request-id", request_id),
        )
        .await
    }

    /// Sends `request` with the bearer token and reads the whole answer.
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Answer> {
        let response = request.header("authorization", &self.bearer).send().await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?.to_vec();
        Ok(Answer { status, body })
    }

    /// POSTs JSON and answers the body, failing unless the status is `expect`.
    pub async fn post_ok(&self, path: &str, body: &Value, expect: u16) -> anyhow::Result<Value> {
        let answer = self.post(path, serde_json::to_vec(body)?).await?;
        if answer.status != expect {
            bail!(
                "POST {path} answered {} instead of {expect}: {}",
                answer.status,
                answer.text()
            );
        }
        answer.json()
    }

    /// GETs JSON, failing unless the status is 200.
    /// GETs a path and fails unless it answered 200, leaving the body unread as JSON: what a
    /// timing loop needs, where parsing would count as Koppel's time.
    pub async fn expect_ok(&self, path: &str) -> anyhow::Result<()> {
        let answer = self.get(path).await?;
        if answer.status != 200 {
            bail!("GET {path} answered {}", answer.status);
        }
        Ok(())
    }

    pub async fn get_ok(&self, path: &str) -> anyhow::Result<Value> {
        let answer = self.get(path).await?;
        if answer.status != 200 {
            bail!("GET {path} answered {}: {}", answer.status, answer.text());
        }
        answer.json()
    }
}
