//! Every event Circulo delivers, caused through the API and received on 127.0.0.1 by a
//! subscription to all seven: each body signed, typed and dated, its `data` as the OpenAPI
//! document's `webhooks` section describes it (and nothing it does not describe), and what must
//! stay untraced (an employee's score, anonymous feedback) told without who or when.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::support::locks::RawConn;
use crate::support::people::{Company, member_goal};
use crate::support::receiver::{Received, Receiver};
use crate::support::{TestApp, delivering, for_each_backend_with, is_utc_timestamp};

const WAIT: Duration = Duration::from_secs(10);
/// How long a test waits for anything more after what it expects.
const SETTLE: Duration = Duration::from_millis(400);
const PATH: &str = "/events";
const EVERY_EVENT: [&str; 7] = [
    "score.recorded",
    "score.detractor",
    "decision.escalated",
    "escalation.resolved",
    "goal.achieved",
    "delegation.revoked",
    "feedback.received",
];

/// What a test finds wrong, gathered on every backend and reported together when it ends, so
/// that one run names every mismatch.
#[derive(Default)]
struct Faults(Mutex<Vec<String>>);

impl Faults {
    fn note(&self, app: &TestApp, holds: bool, fault: impl FnOnce() -> String) {
        if !holds {
            self.0
                .lock()
                .unwrap()
                .push(format!("[{:?}] {}", app.backend, fault()));
        }
    }

    fn assert_none(self) {
        let faults = self.0.into_inner().unwrap();
        assert!(
            faults.is_empty(),
            "{} fault(s):\n- {}",
            faults.len(),
            faults.join("\n- ")
        );
    }
}

/// The OpenAPI document the server serves.
struct Document(Value);

/// How a value measures up to a schema.
#[derive(Default, Debug)]
struct Conformance {
    /// Where the value breaks the schema, and how.
    errors: Vec<String>,
    /// The properties sent that the schema does not declare, by path.
    undeclared: Vec<String>,
}

impl Document {
    async fn served_by(app: &TestApp) -> Self {
        let response = app
            .client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .expect("the document");
        assert_eq!(response.status().as_u16(), 200);
        Self(response.json().await.expect("a JSON document"))
    }

    /// The schema of the body delivered for `event`.
    fn body_of(&self, event: &str) -> Option<&Value> {
        let schema = &self.0["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        schema.is_object().then_some(schema)
    }

    /// `schema`, its `$ref`s followed into the components.
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a $ref outside the components: {reference}"));
            schema = &self.0["components"]["schemas"][name];
            assert!(schema.is_object(), "a $ref to no schema: {reference}");
        }
        schema
    }

    fn check(&self, schema: &Value, value: &Value, path: &str) -> Conformance {
        let mut found = Conformance::default();
        self.check_into(schema, value, path, &mut found);
        found
    }

    fn check_into(&self, schema: &Value, value: &Value, path: &str, found: &mut Conformance) {
        let schema = self.resolve(schema);
        if let Some(alternatives) = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Value::as_array)
        {
            let tried: Vec<Conformance> = alternatives
                .iter()
                .map(|alternative| self.check(alternative, value, path))
                .collect();
            // The alternative the value fits, and of those the one declaring the most of it.
            match tried
                .iter()
                .filter(|t| t.errors.is_empty())
                .min_by_key(|t| t.undeclared.len())
            {
                Some(fit) => found.undeclared.extend(fit.undeclared.iter().cloned()),
                None => found.errors.push(format!(
                    "{path}: fits none of its oneOf alternatives: {}",
                    alternatives
                        .iter()
                        .zip(&tried)
                        .map(|(alternative, t)| format!(
                            "not {} ({})",
                            alternative["$ref"].as_str().unwrap_or("the inline schema"),
                            t.errors.join("; ")
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            // Every part must hold; a property is undeclared when no part declares it.
            let declared: Vec<String> = parts
                .iter()
                .filter_map(|part| {
                    self.resolve(part)
                        .get("properties")
                        .and_then(Value::as_object)
                })
                .flat_map(|properties| properties.keys().map(|name| format!("{path}.{name}")))
                .collect();
            for part in parts {
                let each = self.check(part, value, path);
                found.errors.extend(each.errors);
                for at in each.undeclared {
                    if !declared.contains(&at) && !found.undeclared.contains(&at) {
                        found.undeclared.push(at);
                    }
                }
            }
        }
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !types.iter().any(|t| is_of_type(value, t)) {
                found.errors.push(format!(
                    "{path}: {} {value} where the document says {}",
                    kind_of(value),
                    types.join(" or ")
                ));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            found.errors.push(format!(
                "{path}: {value} is none of {}",
                Value::from(allowed.clone())
            ));
        }
        if let (Some(format), Some(text)) =
            (schema.get("format").and_then(Value::as_str), value.as_str())
        {
            let fits = match format {
                "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
                "uuid" => uuid::Uuid::parse_str(text).is_ok(),
                _ => true,
            };
            if !fits {
                found
                    .errors
                    .push(format!("{path}: {value} is not a {format}"));
            }
        }
        if let Some(object) = value.as_object() {
            self.check_object(schema, object, path, found);
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (index, item) in array.iter().enumerate() {
                self.check_into(items, item, &format!("{path}[{index}]"), found);
            }
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        object: &Map<String, Value>,
        path: &str,
        found: &mut Conformance,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for name in &required {
            if !object.contains_key(*name) {
                found
                    .errors
                    .push(format!("{path}.{name}: required, and not sent"));
            }
        }
        for (name, item) in object {
            let at = format!("{path}.{name}");
            match properties.and_then(|declared| declared.get(name)) {
                // An optional property may be left null.
                Some(_) if item.is_null() && !required.contains(&name.as_str()) => {}
                Some(property) => self.check_into(property, item, &at, found),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(true)) => {}
                    Some(extra @ Value::Object(_)) => self.check_into(extra, item, &at, found),
                    _ if properties.is_some() => found.undeclared.push(at),
                    _ => {}
                },
            }
        }
    }
}

fn is_of_type(value: &Value, json_type: &str) -> bool {
    match json_type {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A subscription to every event, with a receiver of its own, and what the test checks every
/// delivery against.
struct Subscribed<'a> {
    app: &'a TestApp,
    faults: &'a Faults,
    receiver: Receiver,
    /// The subscription, and the owner's token that reads its delivery log.
    hook: String,
    owner: String,
    secret: String,
    document: Document,
    /// How many deliveries have been checked.
    checked: std::cell::Cell<usize>,
}

impl<'a> Subscribed<'a> {
    async fn to_everything(app: &'a TestApp, c: &Company, faults: &'a Faults) -> Self {
        let receiver = Receiver::start();
        let created = app
            .post(
                "/v1/webhooks",
                &c.owner,
                json!({"url": receiver.url(PATH), "events": EVERY_EVENT}),
            )
            .await
            .expect(201);
        assert_eq!(
            created.body["events"],
            json!(EVERY_EVENT),
            "{}",
            created.text
        );
        Self {
            app,
            faults,
            receiver,
            hook: created.id(),
            owner: c.owner.clone(),
            secret: created.body["secret"].as_str().unwrap().to_owned(),
            document: Document::served_by(app).await,
            checked: std::cell::Cell::new(0),
        }
    }

    fn note(&self, holds: bool, fault: impl FnOnce() -> String) {
        self.faults.note(self.app, holds, fault);
    }

    /// The first `n` deliveries, once they came, each not checked before checked as every event
    /// must be; then that no more come.
    async fn exactly(&self, n: usize) -> Vec<Received> {
        let got = self.receiver.wait_for(PATH, n, WAIT).await;
        tokio::time::sleep(SETTLE).await;
        let all = self.receiver.received();
        self.note(all.len() == n, || {
            format!(
                "{n} deliveries expected, {} came: {:?}",
                all.len(),
                all.iter()
                    .map(|r| r.json()["type"].clone())
                    .collect::<Vec<_>>()
            )
        });
        let log = self
            .app
            .list_items(
                &format!("/v1/webhooks/{}/deliveries", self.hook),
                &self.owner,
            )
            .await;
        for delivery in got.iter().skip(self.checked.get()) {
            self.check(delivery);
            // The body's type is the event the server delivered under that webhook-id.
            let id = delivery.header("webhook-id");
            let logged: Vec<&Value> = log.iter().filter(|d| d["event_id"] == id).collect();
            let sent = delivery.json()["type"].clone();
            self.note(
                logged.len() == 1 && logged[0]["event_type"] == sent,
                || format!("the delivery log has {logged:?} for webhook-id {id}, whose body's type is {sent}"),
            );
        }
        self.checked.set(got.len());
        got
    }

    /// Signed with the subscription's secret, of a known type, dated in UTC, and as the
    /// document describes it.
    fn check(&self, delivery: &Received) {
        self.note(delivery.signed_with(&self.secret), || {
            format!("not signed with the subscription's secret: {delivery:?}")
        });
        let body = delivery.json();
        let event = body["type"].as_str().unwrap_or_default();
        self.note(EVERY_EVENT.contains(&event), || {
            format!("an unknown event type: {body}")
        });
        self.note(is_utc_timestamp(&body["timestamp"]), || {
            format!(
                "{event}: timestamp is not RFC 3339 UTC: {}",
                body["timestamp"]
            )
        });
        let Some(schema) = self.document.body_of(event) else {
            self.note(false, || {
                format!("{event}: the document's webhooks lack it")
            });
            return;
        };
        let found = self.document.check(schema, &body, "body");
        self.note(found.errors.is_empty(), || {
            format!(
                "{event}: the body breaks the document:\n    {}\n  body: {body}",
                found.errors.join("\n    ")
            )
        });
        self.note(found.undeclared.is_empty(), || {
            format!(
                "{event}: the body carries properties the document does not declare: {}\n  body: {body}",
                found.undeclared.join(", ")
            )
        });
    }

    /// That each of `expected`'s JSON pointers into `event`'s `data` holds its value.
    fn fields(&self, event: &str, data: &Value, expected: &[(&str, Value)]) {
        for (pointer, value) in expected {
            let sent = data.pointer(pointer);
            self.note(sent == Some(value), || match sent {
                Some(sent) => format!("{event}: data{pointer} is {sent}, {value} expected"),
                None => format!("{event}: data{pointer} is not sent, {value} expected"),
            });
        }
    }

    /// That nothing came (yet).
    async fn nothing_yet(&self, why: &str) {
        tokio::time::sleep(SETTLE).await;
        let got = self.receiver.received();
        self.note(got.is_empty(), || {
            format!("{why}, yet {} delivery(ies) came: {got:?}", got.len())
        });
    }
}

/// The bodies of `event` among `got`.
fn of_type(got: &[Received], event: &str) -> Vec<Value> {
    got.iter()
        .map(Received::json)
        .filter(|body| body["type"] == event)
        .collect()
}

/// Every path in `value` to a property named one of `names`.
fn properties_named(value: &Value, names: &[&str], path: &str) -> Vec<String> {
    match value {
        Value::Object(object) => object
            .iter()
            .flat_map(|(name, item)| {
                let at = format!("{path}.{name}");
                let mut found = properties_named(item, names, &at);
                if names.contains(&name.as_str()) {
                    found.insert(0, at);
                }
                found
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| properties_named(item, names, &format!("{path}[{i}]")))
            .collect(),
        _ => Vec::new(),
    }
}

/// Every path in `value` to a timestamp finer than its day (not at midnight UTC), and its own
/// `id` when that is a UUIDv7 whose time is: what an untraced item's event may not tell.
fn finer_than_the_day(body: &Value) -> Vec<String> {
    fn timestamps(value: &Value, path: &str, found: &mut Vec<String>) {
        match value {
            Value::String(text)
                if chrono::DateTime::parse_from_rfc3339(text).is_ok_and(|at| {
                    at.with_timezone(&chrono::Utc).time() != chrono::NaiveTime::MIN
                }) =>
            {
                found.push(format!("{path}: {text}"));
            }
            Value::Object(object) => {
                for (name, item) in object {
                    timestamps(item, &format!("{path}.{name}"), found);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    timestamps(item, &format!("{path}[{i}]"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    timestamps(body, "body", &mut found);
    if let Some(id) = body["data"]["id"].as_str()
        && id_finer_than_the_day(id)
    {
        found.push(format!("body.data.id: {id}"));
    }
    found
}

/// Whether `id` is a UUIDv7 whose time is not midnight UTC (a date id carries only its day).
fn id_finer_than_the_day(id: &str) -> bool {
    uuid::Uuid::parse_str(id)
        .ok()
        .and_then(|id| id.get_timestamp())
        .is_some_and(|stamp| {
            let (seconds, nanos) = stamp.to_unix();
            seconds % 86_400 != 0 || nanos != 0
        })
}

/// As if the day were over: the untraced events of `event_type` held back until then are due.
fn the_day_passes(app: &TestApp, event_type: &str) {
    RawConn::open(app).execute(&format!(
        "UPDATE outbox_events SET deliver_after = '2000-01-01 00:00:00' \
         WHERE event_type LIKE '{event_type}'"
    ));
}

#[test]
fn the_checker_finds_what_breaks_the_document_and_what_it_does_not_declare() {
    let document = Document(serde_json::to_value(circulo_api::openapi()).unwrap());
    let id = "01a23364-2262-7253-aea3-3f7f39666ddf";
    let escalation = json!({"id": id, "decision_id": id, "member_id": id, "status": "open",
                            "response_due_at": "2026-12-01T21:55:30.145760Z", "overdue": false,
                            "created_at": "2026-12-01T20:55:30.145760Z", "note": null,
                            "resolution": null, "assignee_member_id": id});
    let view = json!({"$ref": "#/components/schemas/EscalationView"});
    let check = |value: &Value| document.check(&view, value, "body");
    let fine = check(&escalation);
    assert!(
        fine.errors.is_empty() && fine.undeclared.is_empty(),
        "{fine:?}"
    );
    let changed = |field: &str, value: Option<Value>| {
        let mut changed = escalation.clone();
        match value {
            Some(value) => changed[field] = value,
            None => drop(changed.as_object_mut().unwrap().remove(field)),
        }
        check(&changed)
    };
    assert_eq!(
        changed("status", None).errors,
        ["body.status: required, and not sent"]
    );
    assert_eq!(changed("overdue", Some(json!("no"))).errors.len(), 1);
    assert_eq!(changed("member_id", Some(Value::Null)).errors.len(), 1);
    assert_eq!(
        changed("created_at", Some(json!("yesterday"))).errors.len(),
        1
    );
    assert_eq!(changed("resolution", Some(json!("maybe"))).errors.len(), 1);
    assert!(
        changed("resolution", Some(json!("approved")))
            .errors
            .is_empty()
    );
    let extra = changed("secret", Some(json!(1)));
    assert!(extra.errors.is_empty());
    assert_eq!(extra.undeclared, ["body.secret"]);

    // Of `oneOf`, the alternative the value fits; what it does not declare is still told.
    let body = document.body_of("feedback.received").unwrap();
    let mut notice = json!({"type": "feedback.received", "timestamp": "2026-12-01T00:00:00Z",
                            "data": {"id": id, "kind": "upward", "subject_member_id": id,
                                     "anonymous": true, "created_on": "2026-12-01"}});
    let fits = document.check(body, &notice, "body");
    assert!(
        fits.errors.is_empty() && fits.undeclared.is_empty(),
        "{fits:?}"
    );
    notice["data"]["author_member_id"] = json!(id);
    let telling = document.check(body, &notice, "body");
    assert!(telling.errors.is_empty(), "{telling:?}");
    assert_eq!(telling.undeclared, ["body.data.author_member_id"]);
    notice["type"] = json!("goal.achieved");
    assert_eq!(document.check(body, &notice, "body").errors.len(), 1);
}

fn client_score(member: &str, score: i64, external_id: &str) -> Value {
    json!({"audience": "client", "instrument": "csat", "score": score, "member_id": member,
           "client_ref": "CRM-881", "touchpoint": "pos", "occurred_at": "2026-11-30T15:42:00Z",
           "source": "pos", "external_id": external_id, "comment": "Kept waiting"})
}

#[tokio::test]
async fn a_client_score_is_announced_as_recorded_and_a_low_one_also_as_a_detractor() {
    let faults = Faults::default();
    for_each_backend_with(delivering, |app| {
        let faults = &faults;
        async move {
            let c = app.company().await;
            let events = Subscribed::to_everything(&app, &c, faults).await;
            let pos = app.integration_token(&c.org, "pos", "scores:write");
            let happy = app
                .post(
                    "/v1/satisfaction-scores",
                    &pos,
                    client_score(&c.ana.id, 5, "t-1"),
                )
                .await
                .expect(201)
                .id();
            let unhappy = app
                .post(
                    "/v1/satisfaction-scores",
                    &pos,
                    client_score(&c.ben.id, 1, "t-2"),
                )
                .await
                .expect(201)
                .id();

            let got = events.exactly(3).await;
            let recorded = of_type(&got, "score.recorded");
            let mut ids: Vec<&str> = recorded
                .iter()
                .filter_map(|body| body["data"]["id"].as_str())
                .collect();
            ids.sort_unstable();
            let mut expected = vec![happy.as_str(), unhappy.as_str()];
            expected.sort_unstable();
            events.note(ids == expected, || {
                format!("score.recorded for {expected:?} expected, came for {ids:?}")
            });
            let detractors = of_type(&got, "score.detractor");
            events.note(
                detractors.len() == 1 && detractors[0]["data"]["id"] == unhappy.as_str(),
                || format!("score.detractor only for the CSAT 1 ({unhappy}): {detractors:?}"),
            );
            for body in recorded.iter().chain(&detractors) {
                let data = &body["data"];
                let (member, score) = if data["id"] == happy.as_str() {
                    (&c.ana.id, 5)
                } else {
                    (&c.ben.id, 1)
                };
                events.fields(
                    body["type"].as_str().unwrap_or_default(),
                    data,
                    &[
                        ("/member_id", json!(member)),
                        ("/score", json!(score)),
                        ("/audience", json!("client")),
                        ("/instrument", json!("csat")),
                        ("/source", json!("pos")),
                        ("/comment", json!("Kept waiting")),
                    ],
                );
            }
        }
    })
    .await;
    faults.assert_none();
}

#[tokio::test]
async fn an_employee_score_is_announced_after_its_day_without_who_gave_it_or_when() {
    let faults = Faults::default();
    for_each_backend_with(delivering, |app| {
        let faults = &faults;
        async move {
            let c = app.company().await;
            let events = Subscribed::to_everything(&app, &c, faults).await;
            let answer = json!({"audience": "employee", "instrument": "csat", "score": 1,
                                "team_id": c.front_desk, "touchpoint": "other",
                                "occurred_at": "2026-11-30T15:42:07Z", "source": "pulse",
                                "external_id": format!("pulse-{}", c.ana.id),
                                "comment": "Too many late shifts"});
            let given = app
                .post("/v1/satisfaction-scores", &c.ana.token, answer)
                .await
                .expect(201)
                .id();
            events
                .nothing_yet("an employee score's events wait until its day is over")
                .await;
            the_day_passes(&app, "score.%");

            let got = events.exactly(2).await;
            for event in ["score.recorded", "score.detractor"] {
                let bodies = of_type(&got, event);
                events.note(bodies.len() == 1, || {
                    format!("one {event} expected for the employee CSAT 1: {bodies:?}")
                });
                let Some(body) = bodies.first() else { continue };
                let data = &body["data"];
                events.fields(
                    event,
                    data,
                    &[
                        ("/id", json!(given)),
                        ("/audience", json!("employee")),
                        ("/instrument", json!("csat")),
                        ("/score", json!(1)),
                        ("/team_id", json!(c.front_desk)),
                        ("/occurred_on", json!("2026-11-30")),
                    ],
                );
                let named = properties_named(
                    body,
                    &["member_id", "recorded_by", "source", "external_id", "comment", "client_ref"],
                    "body",
                );
                events.note(named.is_empty(), || {
                    format!("{event}: an employee score's notice carries {named:?}: {body}")
                });
                let mut finer = finer_than_the_day(body);
                let delivery = got
                    .iter()
                    .find(|r| r.json()["type"] == event)
                    .expect("found above");
                if id_finer_than_the_day(delivery.header("webhook-id")) {
                    finer.push(format!("webhook-id: {}", delivery.header("webhook-id")));
                }
                events.note(finer.is_empty(), || {
                    format!("{event}: an employee score's event tells a time finer than its day: {finer:?}")
                });
                let text = &delivery.body;
                for secret in [c.ana.id.as_str(), "late shifts", "pulse"] {
                    events.note(!text.contains(secret), || {
                        format!("{event}: the body contains {secret:?}: {text}")
                    });
                }
            }
        }
    })
    .await;
    faults.assert_none();
}

#[tokio::test]
async fn a_decision_no_grant_covers_is_announced_escalated_and_then_resolved() {
    let faults = Faults::default();
    for_each_backend_with(delivering, |app| {
        let faults = &faults;
        async move {
            let c = app.company().await;
            let events = Subscribed::to_everything(&app, &c, faults).await;
            let pos = app.integration_token(&c.org, "pos-till-4", "decisions:write");
            let decided = app
                .post(
                    "/v1/decisions",
                    &pos,
                    json!({"member_id": c.ana.id, "action": "refund", "amount_minor": 250_000,
                           "currency": "EUR", "client_ref": "POS-1", "touchpoint": "pos"}),
                )
                .await
                .expect(201);
            assert_eq!(decided.body["outcome"], "escalated", "{}", decided.text);
            let decision = decided.id();
            let escalation = decided.body["escalation_id"].as_str().unwrap().to_owned();

            let got = events.exactly(1).await;
            let escalated = of_type(&got, "decision.escalated");
            events.note(escalated.len() == 1, || {
                format!("decision.escalated expected: {escalated:?}")
            });
            if let Some(body) = escalated.first() {
                let data = &body["data"];
                events.fields(
                    "decision.escalated",
                    data,
                    &[
                        ("/decision/id", json!(decision)),
                        ("/decision/outcome", json!("escalated")),
                        ("/decision/amount_minor", json!(250_000)),
                        ("/decision/member_id", json!(c.ana.id)),
                        ("/decision/escalation_id", json!(escalation)),
                        ("/escalation/id", json!(escalation)),
                        ("/escalation/decision_id", json!(decision)),
                        ("/escalation/member_id", json!(c.ana.id)),
                        ("/escalation/assignee_member_id", json!(c.manager.id)),
                        ("/escalation/status", json!("open")),
                        ("/escalation/resolution", Value::Null),
                    ],
                );
            }

            app.post(
                &format!("/v1/escalations/{escalation}/resolve"),
                &c.manager.token,
                json!({"resolution": "approved", "note": "Go ahead"}),
            )
            .await
            .expect(200);
            let got = events.exactly(2).await;
            let resolved = of_type(&got, "escalation.resolved");
            events.note(resolved.len() == 1, || {
                format!("escalation.resolved expected: {resolved:?}")
            });
            if let Some(body) = resolved.first() {
                let data = &body["data"];
                events.fields(
                    "escalation.resolved",
                    data,
                    &[
                        ("/escalation/id", json!(escalation)),
                        ("/escalation/status", json!("resolved")),
                        ("/escalation/resolution", json!("approved")),
                        ("/escalation/note", json!("Go ahead")),
                        ("/decision/id", json!(decision)),
                        ("/decision/outcome", json!("approved_by_manager")),
                    ],
                );
                let responded = &data["escalation"]["responded_at"];
                events.note(is_utc_timestamp(responded), || {
                    format!("escalation.resolved: data/escalation/responded_at is {responded}, a UTC timestamp expected")
                });
            }
        }
    })
    .await;
    faults.assert_none();
}

#[tokio::test]
async fn a_goal_reaching_its_target_by_a_check_in_is_announced_once() {
    let faults = Faults::default();
    for_each_backend_with(delivering, |app| {
        let faults = &faults;
        async move {
            let c = app.company().await;
            let events = Subscribed::to_everything(&app, &c, faults).await;
            let goal = app
                .post("/v1/goals", &c.manager.token, member_goal(&c.ana.id))
                .await
                .expect(201)
                .id();
            let check_in = |value: f64| {
                let (app, token) = (&app, c.ana.token.clone());
                let path = format!("/v1/goals/{goal}/check-ins");
                async move {
                    app.post(&path, &token, json!({"value": value}))
                        .await
                        .expect(201)
                }
            };
            check_in(4.0).await;
            events.nothing_yet("a check-in short of the target").await;
            check_in(10.0).await;
            check_in(12.0).await;

            let got = events.exactly(1).await;
            let achieved = of_type(&got, "goal.achieved");
            events.note(achieved.len() == 1, || {
                format!("goal.achieved expected: {achieved:?}")
            });
            if let Some(body) = achieved.first() {
                let data = &body["data"];
                events.fields(
                    "goal.achieved",
                    data,
                    &[
                        ("/id", json!(goal)),
                        ("/status", json!("achieved")),
                        ("/progress", json!(1.0)),
                        ("/current_value", json!(10.0)),
                        ("/owner_member_id", json!(c.ana.id)),
                    ],
                );
            }
        }
    })
    .await;
    faults.assert_none();
}

#[tokio::test]
async fn a_revoked_grant_is_announced() {
    let faults = Faults::default();
    for_each_backend_with(delivering, |app| {
        let faults = &faults;
        async move {
            let c = app.company().await;
            let events = Subscribed::to_everything(&app, &c, faults).await;
            let grant = app
                .post(
                    "/v1/delegations",
                    &c.manager.token,
                    json!({"delegate_member_id": c.ana.id, "action": "refund", "currency": "EUR",
                           "per_decision_limit_minor": 2000, "budget_minor": 5000,
                           "budget_period": "day", "rationale": "Refund defective items"}),
                )
                .await
                .expect(201)
                .id();
            app.post(
                &format!("/v1/delegations/{grant}/revoke"),
                &c.manager.token,
                json!({"reason": "moved to the kitchen"}),
            )
            .await
            .expect(200);

            let got = events.exactly(1).await;
            let revoked = of_type(&got, "delegation.revoked");
            events.note(revoked.len() == 1, || {
                format!("delegation.revoked expected: {revoked:?}")
            });
            if let Some(body) = revoked.first() {
                let data = &body["data"];
                events.fields(
                    "delegation.revoked",
                    data,
                    &[
                        ("/id", json!(grant)),
                        ("/status", json!("revoked")),
                        ("/revoke_reason", json!("moved to the kitchen")),
                        ("/delegate_member_id", json!(c.ana.id)),
                        ("/delegator_member_id", json!(c.manager.id)),
                    ],
                );
            }
        }
    })
    .await;
    faults.assert_none();
}

#[tokio::test]
async fn named_feedback_is_announced_with_its_author() {
    let faults = Faults::default();
    for_each_backend_with(delivering, |app| {
        let faults = &faults;
        async move {
            let c = app.company().await;
            let events = Subscribed::to_everything(&app, &c, faults).await;
            let given = app
                .post(
                    "/v1/feedback",
                    &c.manager.token,
                    json!({"kind": "manager", "subject_member_id": c.ana.id, "rating": 4,
                           "icare": ["attention"], "body": "Kind and quick."}),
                )
                .await
                .expect(201)
                .id();

            let got = events.exactly(1).await;
            let received = of_type(&got, "feedback.received");
            events.note(received.len() == 1, || {
                format!("feedback.received expected: {received:?}")
            });
            if let Some(body) = received.first() {
                let data = &body["data"];
                events.fields(
                    "feedback.received",
                    data,
                    &[
                        ("/id", json!(given)),
                        ("/kind", json!("manager")),
                        ("/anonymous", json!(false)),
                        ("/subject_member_id", json!(c.ana.id)),
                        ("/author/member_id", json!(c.manager.id)),
                        ("/body", json!("Kind and quick.")),
                        ("/rating", json!(4)),
                    ],
                );
            }
        }
    })
    .await;
    faults.assert_none();
}

#[tokio::test]
async fn anonymous_feedback_is_announced_after_its_day_without_author_or_content() {
    let faults = Faults::default();
    for_each_backend_with(delivering, |app| {
        let faults = &faults;
        async move {
            let c = app.company().await;
            let events = Subscribed::to_everything(&app, &c, faults).await;
            let said = "The rota ignores what we ask for";
            let given = app
                .post(
                    "/v1/feedback",
                    &c.ben.token,
                    json!({"kind": "upward", "subject_member_id": c.manager.id, "anonymous": true,
                           "rating": 2, "icare": ["culture"], "body": said}),
                )
                .await
                .expect(201)
                .id();
            events
                .nothing_yet("anonymous feedback's event waits until its day is over")
                .await;
            the_day_passes(&app, "feedback.received");

            let got = events.exactly(1).await;
            let received = of_type(&got, "feedback.received");
            events.note(received.len() == 1, || {
                format!("feedback.received expected: {received:?}")
            });
            let Some(body) = received.first() else { return };
            let data = &body["data"];
            events.fields(
                "feedback.received",
                data,
                &[
                    ("/id", json!(given)),
                    ("/kind", json!("upward")),
                    ("/anonymous", json!(true)),
                    ("/subject_member_id", json!(c.manager.id)),
                ],
            );
            let named = properties_named(
                body,
                &[
                    "author",
                    "author_member_id",
                    "author_id",
                    "giver",
                    "given_by",
                    "body",
                    "content",
                    "comment",
                ],
                "body",
            );
            events.note(named.is_empty(), || {
                format!("anonymous feedback's notice carries {named:?}: {body}")
            });
            let mut finer = finer_than_the_day(body);
            let delivery = &got[0];
            if id_finer_than_the_day(delivery.header("webhook-id")) {
                finer.push(format!("webhook-id: {}", delivery.header("webhook-id")));
            }
            events.note(finer.is_empty(), || {
                format!("anonymous feedback's event tells a time finer than its day: {finer:?}")
            });
            for secret in [c.ben.id.as_str(), said, "rota"] {
                events.note(!delivery.body.contains(secret), || {
                    format!(
                        "anonymous feedback's body contains {secret:?}: {}",
                        delivery.body
                    )
                });
            }
        }
    })
    .await;
    faults.assert_none();
}
