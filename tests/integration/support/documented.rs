//! The operations the OpenAPI document lists, as tests call them: every convention test walks
//! this list, so an operation is covered the day its route is added. Every response a test reads
//! through [`Operation::send`] must be one the document declares for that operation.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use super::app::{Response, TestApp};

/// One documented `/v1` operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    /// The path template, such as `/v1/teams/{id}`.
    pub template: String,
    spec: Value,
    example: Option<Value>,
}

/// Every `/v1` operation in the document the server serves.
pub fn v1_operations() -> Vec<Operation> {
    let doc = serde_json::to_value(circulo_api::openapi()).unwrap();
    let mut operations = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/v1/") {
            continue;
        }
        for (method, spec) in item.as_object().unwrap() {
            let example = spec["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .map(|reference| {
                    let name = reference.trim_start_matches("#/components/schemas/");
                    let example = doc["components"]["schemas"][name]["examples"][0].clone();
                    // It is what these tests send, and what a developer tries first.
                    assert!(example.is_object(), "{name} has no example");
                    example
                });
            operations.push(Operation {
                method: method.to_uppercase().parse().unwrap(),
                template: template.clone(),
                spec: spec.clone(),
                example,
            });
        }
    }
    assert!(
        operations.len() >= 12,
        "only {} operations",
        operations.len()
    );
    operations
}

impl Operation {
    /// `GET /v1/teams/{id}`.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// Whether the document declares `status` for this operation.
    pub fn declares(&self, status: u16) -> bool {
        self.spec["responses"].get(status.to_string()).is_some()
    }

    /// Whether the operation documents the request header `name`.
    pub fn takes_header(&self, name: &str) -> bool {
        self.spec["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["in"] == "header" && p["name"].as_str() == Some(name))
        })
    }

    /// The request body's documented example, when the operation takes a body.
    pub fn example(&self) -> Option<Value> {
        self.example.clone()
    }

    /// The collection a by-id operation belongs to: `/v1/teams` for `/v1/teams/{id}`, and
    /// `/v1/goals` for `/v1/goals/{id}/check-ins`.
    pub fn collection(&self) -> Option<&str> {
        self.template
            .split_once("/{id}")
            .map(|(collection, _)| collection)
    }

    /// Whether the operation reads, changes or deletes one resource by id (not what belongs
    /// to it, nor an action on it).
    pub fn is_by_id(&self) -> bool {
        self.template.ends_with("/{id}")
    }

    /// The example body as `org` can send it: a `…member_id` field names a real member of
    /// `org` (one made for these tests), since no example can know one. Organizations that do
    /// not exist get the example as documented.
    pub async fn example_in(&self, app: &TestApp, org: &str) -> Option<Value> {
        let mut example = self.example.clone()?;
        let refers: Vec<String> = example
            .as_object()
            .into_iter()
            .flat_map(|fields| fields.iter())
            .filter(|(name, value)| name.ends_with("member_id") && value.is_string())
            .map(|(name, _)| name.clone())
            .collect();
        if refers.is_empty() {
            return Some(example);
        }
        if let Some(member) = colleague(app, org).await {
            for name in refers {
                example[name.as_str()] = Value::String(member.clone());
            }
        }
        Some(example)
    }

    /// The path with each parameter taken from `value` (by name), and each required query
    /// parameter (an id, such as a summary's subject) from it too.
    pub fn path(&self, value: impl Fn(&str) -> String) -> String {
        let required: Vec<String> = self.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| {
                let name = p["name"].as_str().unwrap();
                format!("{name}={}", value(name))
            })
            .collect();
        let path = self.path_only(value);
        if required.is_empty() {
            path
        } else {
            format!("{path}?{}", required.join("&"))
        }
    }

    fn path_only(&self, value: impl Fn(&str) -> String) -> String {
        self.template
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => value(name),
                    None => segment.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The path with every parameter naming nothing that exists yet: the example body's value
    /// for a parameter the body also carries (a PUT's natural key must match), else a new id.
    pub fn path_to_nothing(&self) -> String {
        let example = self.example.clone().unwrap_or_default();
        self.path(|name| match example[name].as_str() {
            Some(value) => value.to_owned(),
            None => Uuid::now_v7().to_string(),
        })
    }

    /// Sends the operation to `path` with the example body (if it takes one), asserting the
    /// answer is declared, and a problem+json whenever it is an error.
    pub async fn send(
        &self,
        app: &TestApp,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let response = app
            .send_with_headers(self.method.clone(), path, token, headers, self.example())
            .await;
        self.check(response)
    }

    /// Like [`Operation::send`] with the example as `org` can send it
    /// ([`Operation::example_in`]), trying `owner` first and a platform admin of the same
    /// organization when an owner may not do this (403 changes nothing).
    pub async fn send_as_permitted(
        &self,
        app: &TestApp,
        path: &str,
        org: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let body = self.example_in(app, org).await;
        for (role, subject) in [("owner", "owner-1"), ("platform_admin", "ops")] {
            let token = app.token(Some(org), role, subject, None);
            let response = app
                .send_with_headers(
                    self.method.clone(),
                    path,
                    Some(&token),
                    headers,
                    body.clone(),
                )
                .await;
            let response = self.check(response);
            if response.status != 403 {
                return response;
            }
        }
        panic!(
            "{}: neither an owner nor a platform admin may call it",
            self.name()
        );
    }

    /// Asserts `response` is one the document declares, and a problem+json if it is an error.
    #[track_caller]
    pub fn check(&self, response: Response) -> Response {
        assert!(
            self.declares(response.status),
            "{} answered {}, which its document does not declare: {}",
            self.name(),
            response.status,
            response.text
        );
        if response.status >= 400 {
            let status = response.status;
            response.expect_problem(status)
        } else {
            response
        }
    }
}

/// The member the tests' example bodies refer to in `org`, made the first time it is asked for
/// (per server, since two tests' servers may share an organization id only by chance).
async fn colleague(app: &TestApp, org: &str) -> Option<String> {
    static MADE: Mutex<Option<HashMap<(String, String), String>>> = Mutex::new(None);
    let key = (app.address.clone(), org.to_owned());
    if let Some(made) = MADE
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .get(&key)
    {
        return Some(made.clone());
    }
    let owner = app.token(Some(org), "owner", "owner-1", None);
    let made = app
        .post(
            "/v1/members",
            &owner,
            serde_json::json!({"display_name": "Example colleague", "role": "staff"}),
        )
        .await;
    if made.status != 201 {
        return None;
    }
    let id = made.id();
    MADE.lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert(key, id.clone());
    Some(id)
}
