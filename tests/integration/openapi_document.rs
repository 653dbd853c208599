//! The OpenAPI document: committed, current, and describing every operation completely.

use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");

fn document() -> Value {
    serde_json::to_value(circulo_api::openapi()).unwrap()
}

#[test]
fn committed_openapi_is_current() {
    let actual = circulo_api::openapi().to_pretty_json().unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &actual).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == actual,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p circulo-api --test integration openapi` and commit it"
    );
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn the_document_is_openapi_3_1_with_a_bearer_scheme() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[test]
fn every_operation_has_an_id_a_tag_a_summary_and_documented_errors() {
    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() >= 15, "only {} operations", ops.len());
    let mut ids = std::collections::HashSet::new();
    for (path, method, op) in ops {
        let name = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no operationId"));
        assert!(
            ids.insert(id.to_owned()),
            "{name}: duplicate operationId {id}"
        );
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{name}: no tag"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: no summary"
        );
        if path.starts_with("/v1/") {
            assert_eq!(
                op["security"],
                serde_json::json!([{"bearer": []}]),
                "{name}: no bearer security"
            );
            let responses = op["responses"].as_object().unwrap();
            for status in ["400", "401", "403"] {
                let problem = &responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{name}: no {status}"))["content"]["application/problem+json"];
                assert_eq!(
                    problem["schema"]["$ref"], "#/components/schemas/Problem",
                    "{name} {status}"
                );
            }
            if op.get("requestBody").is_some() {
                for status in ["413", "415", "422"] {
                    assert!(responses.contains_key(status), "{name}: no {status}");
                }
            }
        }
    }
}

#[test]
fn creating_posts_take_an_idempotency_key_and_changes_take_if_match() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        let headers: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "header")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        match method.as_str() {
            "post" if path.starts_with("/v1/") => {
                assert!(headers.contains(&"Idempotency-Key"), "{method} {path}")
            }
            "patch" | "put" | "delete" => assert!(headers.contains(&"If-Match"), "{method} {path}"),
            _ => {}
        }
    }
}
