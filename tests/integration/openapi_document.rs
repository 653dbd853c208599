//! The OpenAPI document: committed, current, and naming every operation. What each operation
//! answers is checked against the server in `conventions`.

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
fn every_operation_has_its_own_id_a_tag_and_a_summary() {
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
    }
}
