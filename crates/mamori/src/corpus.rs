//! A reproducible CloudTrail-like corpus for benchmarks: realistic field
//! cardinalities (hundreds of users, thousands of IPs, ~300 event names) and
//! records of about 1 KB, written as NDJSON of CloudTrail records.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::json;

/// A small deterministic generator (xorshift64*); not for cryptography.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// One item of a slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// A random UUID-shaped string.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Shape of a generated corpus.
#[derive(Debug, Clone)]
pub struct CorpusSpec {
    /// Seed.
    pub seed: u64,
    /// Number of records.
    pub events: u64,
    /// First event time; events are spread evenly over `days`.
    pub start: DateTime<Utc>,
    /// Days covered.
    pub days: u32,
    /// Distinct users.
    pub users: usize,
    /// Distinct source IPs.
    pub ips: usize,
}

impl CorpusSpec {
    /// One million events over 30 days from 2024-01-01.
    pub fn default_million() -> Self {
        CorpusSpec {
            seed: 42,
            events: 1_000_000,
            start: "2024-01-01T00:00:00Z".parse().expect("valid time"),
            days: 30,
            users: 400,
            ips: 5000,
        }
    }
}

const SERVICES: &[&str] = &[
    "s3",
    "ec2",
    "iam",
    "sts",
    "kms",
    "lambda",
    "rds",
    "dynamodb",
    "cloudtrail",
    "logs",
    "sns",
    "sqs",
    "secretsmanager",
    "ssm",
    "ecr",
    "ecs",
    "eks",
    "cloudformation",
    "route53",
    "elasticloadbalancing",
];
const VERBS: &[&str] = &["Get", "List", "Describe", "Put", "Create", "Delete", "Update"];
const NOUNS: &[&str] = &[
    "Object",
    "Bucket",
    "Instances",
    "User",
    "Role",
    "Policy",
    "Key",
    "Function",
    "Table",
    "Item",
    "Trail",
    "LogEvents",
    "Topic",
    "Queue",
    "Secret",
    "Parameter",
    "Image",
    "Cluster",
    "Stack",
    "Record",
    "Tags",
];

/// The event name of index `i` (about 300 distinct names).
pub fn event_name(i: usize) -> String {
    format!(
        "{}{}",
        VERBS[i % VERBS.len()],
        NOUNS[(i / VERBS.len()) % NOUNS.len()]
    )
}

/// The user name of index `i`.
pub fn user_name(i: usize) -> String {
    match i % 10 {
        0 => format!("svc-app-{i}"),
        1 => format!("ci-runner-{i}"),
        _ => format!("user{i:04}"),
    }
}

/// The source IP of index `i`.
pub fn source_ip(i: usize) -> String {
    format!(
        "{}.{}.{}.{}",
        11 + (i >> 16) % 200,
        (i >> 8) & 255,
        i & 255,
        1 + i % 250
    )
}

/// The access key of user index `i`.
pub fn access_key(i: usize) -> String {
    format!("AKIA{:016X}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 1)
}

/// Records one at a time, as NDJSON lines (no trailing newline).
pub fn records(spec: &CorpusSpec) -> impl Iterator<Item = String> + '_ {
    let mut rng = Rng::new(spec.seed);
    let step_us = (i64::from(spec.days) * 86_400_000_000) / spec.events.max(1) as i64;
    (0..spec.events).map(move |n| {
        // Zipf-like skew: a few users and IPs do most of the work.
        let skew = |rng: &mut Rng, n: usize| {
            let a = rng.below(n);
            let b = rng.below(n);
            a.min(b)
        };
        let u = skew(&mut rng, spec.users);
        let ip = skew(&mut rng, spec.ips);
        let name = event_name(skew(&mut rng, 300));
        let service = SERVICES[rng.below(SERVICES.len())];
        let t = spec.start + Duration::microseconds(n as i64 * step_us + rng.below(1000) as i64);
        let user = user_name(u);
        let failed = rng.below(50) == 0;
        let region = ["us-east-1", "eu-west-1", "ap-northeast-1"][rng.below(3)];
        let mut r = json!({
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": format!("AIDA{:016X}", u * 7919),
                "arn": format!("arn:aws:iam::123456789012:user/{user}"),
                "accountId": "123456789012",
                "accessKeyId": access_key(u),
                "userName": user,
                "sessionContext": {"attributes": {"creationDate": t.to_rfc3339_opts(SecondsFormat::Secs, true), "mfaAuthenticated": "false"}}
            },
            "eventTime": t.to_rfc3339_opts(SecondsFormat::Secs, true),
            "eventSource": format!("{service}.amazonaws.com"),
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": source_ip(ip),
            "userAgent": format!("aws-cli/2.{}.{} Python/3.11.{} Linux/5.10 exe/x86_64.amzn.2 prompt/off command/{service}.{}", rng.below(20), rng.below(10), rng.below(9), name.to_lowercase()),
            "requestParameters": {"bucketName": format!("bucket-{}", rng.below(50)), "key": format!("data/{}/part-{:05}.parquet", rng.below(100), rng.below(10000)), "maxResults": 100},
            "responseElements": null,
            "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": format!("{:x}{:x}", rng.next_u64(), rng.next_u64())},
            "requestID": rng.uuid(),
            "eventID": rng.uuid(),
            "readOnly": name.starts_with("Get") || name.starts_with("List") || name.starts_with("Describe"),
            "resources": [{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::bucket-{}/data", rng.below(50))}],
            "eventType": "AwsApiCall",
            "managementEvent": false,
            "recipientAccountId": "123456789012",
            "eventCategory": "Data",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{service}.us-east-1.amazonaws.com")}
        });
        if failed {
            r["errorCode"] = json!("AccessDenied");
            r["errorMessage"] = json!(format!("User: arn:aws:iam::123456789012:user/{user} is not authorized to perform: {service}:{name}"));
        }
        r.to_string()
    })
}
