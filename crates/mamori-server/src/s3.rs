//! S3 sources: CloudTrail-style buckets read through the `object_store`
//! crate, either by listing a prefix every `interval_secs` or by reading the
//! bucket's ObjectCreated notifications from an SQS queue (how large
//! CloudTrail buckets are read). Each object goes through the common
//! pipeline; once its events are durable it is checkpointed in the state
//! database (`s3_objects`: key and ETag), so a restart resumes without
//! reading an object twice — and a crash between commit and checkpoint only
//! re-reads events that dedup on `event.id` stores once.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::Shared;
use crate::api::ingest::{ensure_tenant, ingest_body};
use crate::config::S3Source;
use crate::pipeline::Origin;
use crate::state::Actor;

/// Why reading an S3 source failed (logged; the next poll retries).
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The object store failed.
    #[error("s3: {0}")]
    Store(#[from] object_store::Error),
    /// SQS failed.
    #[error("sqs: {0}")]
    Sqs(String),
    /// Ingesting an object failed.
    #[error("ingesting s3://{bucket}/{key}: {message}")]
    Ingest {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// What went wrong.
        message: String,
    },
}

fn credentials(cfg: &S3Source) -> (String, String) {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    (
        cfg.access_key_id
            .clone()
            .unwrap_or_else(|| env("AWS_ACCESS_KEY_ID")),
        cfg.secret_access_key
            .clone()
            .unwrap_or_else(|| env("AWS_SECRET_ACCESS_KEY")),
    )
}

/// The bucket as an object store.
pub fn bucket(cfg: &S3Source) -> Result<AmazonS3, S3Error> {
    let (id, secret) = credentials(cfg);
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(&cfg.bucket)
        .with_region(&cfg.region)
        .with_access_key_id(id)
        .with_secret_access_key(secret);
    if let Some(e) = &cfg.endpoint {
        b = b
            .with_endpoint(e)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false);
    }
    Ok(b.build()?)
}

/// Start polling; runs until `stop` turns true.
pub fn spawn(state: Shared, cfg: S3Source, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let store = match bucket(&cfg) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(source = %cfg.id(), error = %e, "s3 source cannot start");
                return;
            }
        };
        let http = reqwest::Client::new();
        loop {
            let result = match &cfg.sqs_queue_url {
                Some(q) if !q.is_empty() => poll_queue(&state, &cfg, &store, &http, q).await,
                _ => poll_listing(&state, &cfg, &store).await,
            };
            match result {
                Ok(n) if n > 0 => tracing::info!(source = %cfg.id(), objects = n, "s3 objects ingested"),
                Ok(_) => {}
                Err(e) => tracing::warn!(source = %cfg.id(), error = %e, "s3 poll failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(cfg.interval_secs)) => {}
                _ = crate::syslog::stopped(&mut stop) => return,
            }
        }
    })
}

/// List the prefix and ingest every object not checkpointed yet; returns how many.
pub async fn poll_listing(state: &Shared, cfg: &S3Source, store: &Arc<AmazonS3>) -> Result<u64, S3Error> {
    let prefix = (!cfg.prefix.is_empty()).then(|| ObjectPath::from(cfg.prefix.as_str()));
    let mut objects: Vec<ObjectMeta> = store.list(prefix.as_ref()).try_collect().await?;
    objects.sort_by(|a, b| a.location.cmp(&b.location));
    let mut n = 0;
    for meta in objects {
        if ingest_object(state, cfg, store, &meta.location, meta.e_tag.as_deref()).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Ingest one object unless already checkpointed; returns whether it was read.
async fn ingest_object(
    state: &Shared,
    cfg: &S3Source,
    store: &Arc<AmazonS3>,
    key: &ObjectPath,
    etag: Option<&str>,
) -> Result<bool, S3Error> {
    let id = cfg.id();
    let etag = etag.unwrap_or("").trim_matches('"').to_string();
    if state
        .db()
        .s3_object_done(&id, key.as_ref(), &etag)
        .map_err(|e| ingest_err(cfg, key, e))?
    {
        return Ok(false);
    }
    let got = store.get(key).await?;
    let etag = got
        .meta
        .e_tag
        .clone()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let bytes = got.bytes().await?;
    let actor = Actor {
        name: format!("s3 {id}"),
        origin: format!("s3://{}", cfg.bucket),
    };
    ensure_tenant(state, &actor, &cfg.tenant).map_err(|e| ingest_err(cfg, key, e.body.message))?;
    let origin = Origin {
        tenant: cfg.tenant.clone(),
        source: Some(cfg.source.clone()),
        format: None,
        name: format!("s3://{}/{}", cfg.bucket, key),
    };
    let out = match ingest_body(state, origin, bytes.to_vec()).await {
        Ok(o) => o,
        Err(crate::pipeline::PipelineError::Unrecognised(m)) => {
            tracing::warn!(key = %key, reason = %m, "s3 object skipped: not a log format");
            state.metrics.dropped(&cfg.tenant, &cfg.source, 1);
            crate::api::ingest::IngestOutcome {
                accepted: 0,
                rejected: 0,
                format: String::new(),
                messages: vec![m],
            }
        }
        Err(e) => return Err(ingest_err(cfg, key, e)),
    };
    state
        .db()
        .mark_s3_object(&id, key.as_ref(), &etag, out.accepted)
        .map_err(|e| ingest_err(cfg, key, e))?;
    Ok(true)
}

fn ingest_err(cfg: &S3Source, key: &ObjectPath, e: impl std::fmt::Display) -> S3Error {
    S3Error::Ingest {
        bucket: cfg.bucket.clone(),
        key: key.to_string(),
        message: e.to_string(),
    }
}

/// Receive ObjectCreated notifications, ingest their objects, delete the
/// messages once done; returns the objects read.
pub async fn poll_queue(
    state: &Shared,
    cfg: &S3Source,
    store: &Arc<AmazonS3>,
    http: &reqwest::Client,
    queue: &str,
) -> Result<u64, S3Error> {
    let mut n = 0;
    loop {
        let answer = sqs(
            cfg,
            http,
            queue,
            "ReceiveMessage",
            json!({"QueueUrl": queue, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}),
        )
        .await?;
        let messages = answer["Messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            return Ok(n);
        }
        for m in messages {
            let body = m["Body"].as_str().unwrap_or("");
            for (bucket, key) in created_objects(body) {
                if bucket != cfg.bucket || !key.starts_with(&cfg.prefix) {
                    continue;
                }
                if ingest_object(state, cfg, store, &ObjectPath::from(key.as_str()), None).await? {
                    n += 1;
                }
            }
            if let Some(handle) = m["ReceiptHandle"].as_str() {
                sqs(
                    cfg,
                    http,
                    queue,
                    "DeleteMessage",
                    json!({"QueueUrl": queue, "ReceiptHandle": handle}),
                )
                .await?;
            }
        }
    }
}

/// The (bucket, key) of every ObjectCreated record of an S3 event notification
/// (directly, or wrapped in an SNS envelope); test events give none.
pub fn created_objects(body: &str) -> Vec<(String, String)> {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    if let Some(inner) = v.get("Message").and_then(Value::as_str)
        && let Ok(parsed) = serde_json::from_str::<Value>(inner)
    {
        v = parsed;
    }
    v["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["eventName"]
                .as_str()
                .is_some_and(|e| e.starts_with("ObjectCreated"))
        })
        .filter_map(|r| {
            let bucket = r["s3"]["bucket"]["name"].as_str()?.to_string();
            let raw = r["s3"]["object"]["key"].as_str()?.replace('+', " ");
            let key = urlencoding::decode(&raw).ok()?.into_owned();
            Some((bucket, key))
        })
        .collect()
}

/// One SQS call with the JSON protocol, signed with SigV4.
async fn sqs(
    cfg: &S3Source,
    http: &reqwest::Client,
    queue: &str,
    action: &str,
    body: Value,
) -> Result<Value, S3Error> {
    let (id, secret) = credentials(cfg);
    let body = body.to_string();
    let target = format!("AmazonSQS.{action}");
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", target.as_str()),
    ];
    let identity = Credentials::new(id, secret, None, None, "mamori").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&cfg.region)
        .name("sqs")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| S3Error::Sqs(e.to_string()))?
        .into();
    let endpoint = sqs_endpoint(queue);
    let signable = SignableRequest::new(
        "POST",
        &endpoint,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| S3Error::Sqs(e.to_string()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| S3Error::Sqs(e.to_string()))?
        .into_parts();
    let mut req = http.post(&endpoint).body(body);
    for (k, v) in headers.iter().copied().chain(instructions.headers()) {
        req = req.header(k, v);
    }
    let resp = req.send().await.map_err(|e| S3Error::Sqs(e.to_string()))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| S3Error::Sqs(e.to_string()))?;
    if !status.is_success() {
        return Err(S3Error::Sqs(format!("{action}: {status}: {text}")));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The endpoint to POST SQS calls to: the queue URL's scheme and authority.
fn sqs_endpoint(queue: &str) -> String {
    match queue.find("://") {
        Some(i) => {
            let rest = &queue[i + 3..];
            let host_end = rest.find('/').unwrap_or(rest.len());
            format!("{}{}/", &queue[..i + 3], &rest[..host_end])
        }
        None => queue.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_name_created_objects() {
        let body = r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},
            "object":{"key":"AWSLogs/1/CloudTrail/eu-west-1/2026/11/23/a+b%3Dc.json.gz"}}},
            {"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"trail"},"object":{"key":"x"}}}]}"#;
        assert_eq!(
            created_objects(body),
            vec![(
                "trail".into(),
                "AWSLogs/1/CloudTrail/eu-west-1/2026/11/23/a b=c.json.gz".into()
            )]
        );
        let sns = json!({"Type": "Notification", "Message": body}).to_string();
        assert_eq!(created_objects(&sns).len(), 1);
        assert!(created_objects(r#"{"Event":"s3:TestEvent"}"#).is_empty());
        assert!(created_objects("not json").is_empty());
        assert_eq!(
            sqs_endpoint("http://127.0.0.1:5000/123456789012/q"),
            "http://127.0.0.1:5000/"
        );
    }
}
