//! One CloudTrail record → one ECS event (the table is in the module above).

use std::net::IpAddr;

use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Map, Value, json};

use crate::json::kind;
use crate::record::ParseContext;
use crate::time;

/// Tag of events whose record had no usable time.
pub const TIMESTAMP_MISSING: &str = "mamori.timestamp_missing";

/// Map one CloudTrail record (`value`) to an event whose `event.original` is
/// `original`, the record's text as received.
///
/// Fails when `value` is not an object, or has none of `eventName`,
/// `eventSource`, `eventTime`, `eventID`.
pub fn map_record(value: &Value, original: &str, ctx: &ParseContext) -> Result<Event, String> {
    let rec = value
        .as_object()
        .ok_or_else(|| format!("a CloudTrail record must be a JSON object, found {}", kind(value)))?;
    if !["eventName", "eventSource", "eventTime", "eventID"]
        .iter()
        .any(|k| rec.contains_key(*k))
    {
        return Err(
            "not a CloudTrail record: it has none of eventName, eventSource, eventTime, eventID".into(),
        );
    }

    let time = rec
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(time::rfc3339);
    let mut ev = Event::new(&ctx.tenant, time.unwrap_or(ctx.ingest_time), original);
    if time.is_none() {
        ev.add_tag(TIMESTAMP_MISSING);
        ev.set("event.ingested", json!(format_ts(ctx.ingest_time)));
    }
    if let Some(id) = text(rec, &["eventID"]).filter(|s| !s.is_empty()) {
        ev.set_id(id);
    }

    ev.set("event.kind", json!("event"));
    ev.set("event.module", json!("aws"));
    ev.set("event.dataset", json!("aws.cloudtrail"));
    ev.set("cloud.provider", json!("aws"));
    copy(&mut ev, rec, &["eventName"], "event.action");
    copy(&mut ev, rec, &["eventSource"], "event.provider");
    ev.set("event.outcome", json!(outcome(rec)));
    for (from, to) in [("errorCode", "code"), ("errorMessage", "message")] {
        copy(&mut ev, rec, &[from], &format!("error.{to}"));
        copy(&mut ev, rec, &[from], &format!("aws.cloudtrail.error_{to}"));
    }

    let source_ip = text(rec, &["sourceIPAddress"]).and_then(|s| s.trim().parse::<IpAddr>().ok());
    match source_ip {
        Some(ip) => ev.set("source.ip", json!(ip.to_string())),
        None => copy(&mut ev, rec, &["sourceIPAddress"], "source.address"),
    }
    copy(&mut ev, rec, &["userAgent"], "user_agent.original");

    let user = user_name(rec);
    if let Some(name) = &user {
        ev.set("user.name", json!(name));
    }
    copy(&mut ev, rec, &["userIdentity", "principalId"], "user.id");
    let account = text(rec, &["userIdentity", "accountId"]).or_else(|| text(rec, &["recipientAccountId"]));
    if let Some(account) = account {
        ev.set("cloud.account.id", json!(account));
    }
    copy(&mut ev, rec, &["awsRegion"], "cloud.region");

    const IDENTITY: &str = "aws.cloudtrail.user_identity";
    for (from, to) in [
        (&["type"][..], "type"),
        (&["arn"], "arn"),
        (&["accessKeyId"], "access_key_id"),
        (&["invokedBy"], "invoked_by"),
        (
            &["sessionContext", "sessionIssuer", "type"],
            "session_context.session_issuer.type",
        ),
        (
            &["sessionContext", "sessionIssuer", "arn"],
            "session_context.session_issuer.arn",
        ),
        (
            &["sessionContext", "sessionIssuer", "principalId"],
            "session_context.session_issuer.principal_id",
        ),
        (
            &["sessionContext", "sessionIssuer", "accountId"],
            "session_context.session_issuer.account_id",
        ),
        (
            &["sessionContext", "sessionIssuer", "userName"],
            "session_context.session_issuer.user_name",
        ),
        (
            &["sessionContext", "attributes", "mfaAuthenticated"],
            "session_context.mfa_authenticated",
        ),
        (
            &["sessionContext", "attributes", "creationDate"],
            "session_context.creation_date",
        ),
    ] {
        let mut path = vec!["userIdentity"];
        path.extend_from_slice(from);
        copy(&mut ev, rec, &path, &format!("{IDENTITY}.{to}"));
    }

    for (from, to) in [
        ("eventVersion", "event_version"),
        ("eventType", "event_type"),
        ("eventCategory", "event_category"),
        ("requestID", "request_id"),
        ("readOnly", "read_only"),
        ("managementEvent", "management_event"),
        ("recipientAccountId", "recipient_account_id"),
        ("sharedEventID", "shared_event_id"),
        ("vpcEndpointId", "vpc_endpoint_id"),
        ("resources", "resources"),
        ("requestParameters", "request_parameters"),
        ("responseElements", "response_elements"),
        ("additionalEventData", "additional_eventdata"),
        ("serviceEventDetails", "service_event_details"),
        ("sessionCredentialFromConsole", "session_credential_from_console"),
    ] {
        copy(&mut ev, rec, &[from], &format!("aws.cloudtrail.{to}"));
    }
    for (from, to) in [
        ("tlsVersion", "tls_version"),
        ("cipherSuite", "cipher_suite"),
        ("clientProvidedHostHeader", "client_provided_host_header"),
    ] {
        copy(
            &mut ev,
            rec,
            &["tlsDetails", from],
            &format!("aws.cloudtrail.tls_details.{to}"),
        );
    }

    let mut related = Vec::new();
    let issuer = text(
        rec,
        &["userIdentity", "sessionContext", "sessionIssuer", "userName"],
    );
    for name in user.as_deref().into_iter().chain(issuer) {
        if !name.is_empty() && !related.contains(&name) {
            related.push(name);
        }
    }
    if !related.is_empty() {
        ev.set("related.user", json!(related));
    }
    if let Some(ip) = source_ip {
        ev.set("related.ip", json!([ip.to_string()]));
    }
    Ok(ev)
}

/// `failure` when the call returned an error (or a console sign-in failed).
fn outcome(rec: &Map<String, Value>) -> &'static str {
    let error = rec.get("errorCode").is_some_and(|v| !v.is_null());
    let console_failure = text(rec, &["responseElements", "ConsoleLogin"]) == Some("Failure");
    if error || console_failure {
        "failure"
    } else {
        "success"
    }
}

/// `user.name`: the session name for assumed roles, `root` for the root
/// user, else `userName`, else what follows `:` in `principalId`.
fn user_name(rec: &Map<String, Value>) -> Option<String> {
    let id = |k: &str| text(rec, &["userIdentity", k]);
    let after_colon = || {
        id("principalId")
            .and_then(|p| p.split_once(':'))
            .map(|(_, s)| s.to_string())
    };
    let name = match id("type") {
        Some("AssumedRole") => id("arn")
            .and_then(|arn| arn.split_once(":assumed-role/"))
            .and_then(|(_, rest)| rest.rsplit_once('/'))
            .map(|(_, session)| session.to_string())
            .or_else(after_colon),
        Some("Root") => Some("root".to_string()),
        _ => id("userName").map(str::to_string).or_else(after_colon),
    };
    name.filter(|n| !n.is_empty())
}

fn get<'a>(rec: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(rec.get(*first)?, |v, k| v.get(k))
}

fn text<'a>(rec: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    get(rec, path).and_then(Value::as_str)
}

/// Copy the value at `path` (when present and not null) to the ECS field `to`.
fn copy(ev: &mut Event, rec: &Map<String, Value>, path: &[&str], to: &str) {
    if let Some(v) = get(rec, path) {
        ev.set(to, v.clone());
    }
}
