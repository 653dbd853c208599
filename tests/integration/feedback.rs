//! Feedback in every direction over HTTP: who may give which kind about whom, who reads it
//! (the subject, the people above them, owners; integrations client feedback), and named
//! feedback shown with its author. Anonymity has its own module.

use serde_json::{Value, json};

use crate::support::for_each_backend;
use crate::support::locks::RawConn;

fn about(kind: &str, subject: &str) -> Value {
    json!({"kind": kind, "subject_member_id": subject, "rating": 4, "icare": ["attention"], "body": "Kind and quick."})
}

#[tokio::test]
async fn feedback_flows_in_every_direction_and_each_reader_sees_what_is_theirs() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let crm = app.integration_token(&c.org, "crm", "feedback:read feedback:write");
        let given = [
            (&c.manager.token, about("manager", &c.ana.id)),
            (&c.ana.token, about("upward", &c.manager.id)),
            // Cai reports to Ana, who reports to the manager: upward reaches the whole line.
            (&c.cai.token, about("upward", &c.manager.id)),
            (&c.ben.token, about("peer", &c.ana.id)),
            (&c.cook.token, about("upward", &c.ana.id).tap_kind("peer")),
            (
                &crm,
                json!({"kind": "client", "subject_member_id": c.ben.id, "rating": 5, "body": "Fixed my order on the spot.",
                       "client_ref": "CRM-881", "touchpoint": "pos", "sentiment": "praise"}),
            ),
        ];
        let mut ids = Vec::new();
        for (token, body) in given {
            let made = app.post("/v1/feedback", token, body).await.expect(201);
            assert_eq!(
                made.header("location"),
                Some(format!("/v1/feedback/{}", made.id()).as_str())
            );
            ids.push(made.id());
        }
        let client = app.get(&format!("/v1/feedback/{}", ids[5]), &c.owner).await.expect(200);
        assert_eq!(client.body["author"]["role"], "integration");
        assert_eq!(client.body["author"]["subject"], "crm");
        assert_eq!(client.body["client_ref"], "CRM-881");
        assert_eq!(client.body["touchpoint"], "pos");

        let subjects_of = |items: Vec<Value>| -> Vec<String> {
            let mut s: Vec<String> = items
                .iter()
                .map(|i| format!("{}:{}", i["kind"].as_str().unwrap(), i["subject_member_id"].as_str().unwrap()))
                .collect();
            s.sort();
            s
        };
        // Ana: about herself, with each author shown.
        let anas = app.list_items("/v1/feedback", &c.ana.token).await;
        assert_eq!(anas.len(), 3, "{anas:?}");
        assert!(anas.iter().all(|i| i["subject_member_id"] == c.ana.id.as_str()));
        let from_manager = anas.iter().find(|i| i["kind"] == "manager").unwrap();
        assert_eq!(from_manager["author"]["member_id"], c.manager.id.as_str());
        assert!(from_manager["created_at"].is_string());
        // The manager: about herself and the people under her.
        let managers = app.list_items("/v1/feedback?limit=200", &c.manager.token).await;
        assert_eq!(managers.len(), 6, "{}", subjects_of(managers.clone()).join(", "));
        let about_manager = app
            .list_items(&format!("/v1/feedback?subject_member_id={}", c.manager.id), &c.manager.token)
            .await;
        assert_eq!(about_manager.len(), 2);
        // The cook: nothing is about him.
        assert!(app.list_items("/v1/feedback", &c.cook.token).await.is_empty());
        app.get(&format!("/v1/feedback?subject_member_id={}", c.ana.id), &c.cook.token)
            .await
            .expect_problem(403);
        app.get(&format!("/v1/feedback/{}", ids[0]), &c.cook.token)
            .await
            .expect_problem(403);
        // The CRM: client feedback only.
        let crms = app.list_items("/v1/feedback", &crm).await;
        assert_eq!(subjects_of(crms), [format!("client:{}", c.ben.id)]);
        app.get(&format!("/v1/feedback/{}", ids[0]), &crm)
            .await
            .expect_problem(403);
        // Filters.
        let peers = app.list_items("/v1/feedback?kind=peer", &c.owner).await;
        assert_eq!(peers.len(), 2);
        let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(2)).date_naive();
        assert!(app.list_items(&format!("/v1/feedback?from={tomorrow}"), &c.owner).await.is_empty());
        assert_eq!(app.list_items(&format!("/v1/feedback?to={tomorrow}&limit=200"), &c.owner).await.len(), 6);

        // Each is announced.
        let mut raw = RawConn::open(&app);
        assert_eq!(raw.rows("outbox_events", "event_type = 'feedback.received'").len(), 6);
    })
    .await;
}

trait TapKind {
    fn tap_kind(self, kind: &str) -> Self;
}

impl TapKind for Value {
    fn tap_kind(mut self, kind: &str) -> Self {
        self["kind"] = json!(kind);
        self
    }
}

#[tokio::test]
async fn who_may_give_which_kind_about_whom_is_enforced_and_refusals_change_nothing() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let (_, other_owner) = app.create_org().await;
        let stranger = app
            .create_named_member(&other_owner, "Stranger", "staff")
            .await;
        let leaver = app.create_named_member(&c.owner, "Leaver", "staff").await;
        app.patch(
            &format!("/v1/members/{leaver}"),
            &c.owner,
            json!({"active": false}),
        )
        .await
        .expect(200);
        let crm = app.integration_token(&c.org, "crm", "feedback:write");
        let reader = app.integration_token(&c.org, "crm", "feedback:read");

        let forbidden = [
            (&c.ana.token, about("manager", &c.ben.id)),
            (&c.manager.token, about("manager", &c.cook.id)),
            (&c.ana.token, about("client", &c.ben.id)),
            (&crm, about("upward", &c.manager.id)),
            (&crm, about("peer", &c.ana.id)),
            (&reader, about("client", &c.ana.id)),
        ];
        for (token, body) in forbidden {
            let refused = app.post("/v1/feedback", token, body.clone()).await;
            assert_eq!(refused.status, 403, "{body}: {}", refused.text);
        }
        let mut anonymous_manager = about("manager", &c.ana.id);
        anonymous_manager["anonymous"] = json!(true);
        let mut peer_with_client = about("peer", &c.ben.id);
        peer_with_client["client_ref"] = json!("CRM-1");
        let mut six = about("peer", &c.ben.id);
        six["rating"] = json!(6);
        let mut unknown_tag = about("peer", &c.ben.id);
        unknown_tag["icare"] = json!(["patience"]);
        let mut blank = about("peer", &c.ben.id);
        blank["body"] = json!("   ");
        let invalid = [
            (&c.manager.token, anonymous_manager, "anonymous"),
            (&c.ana.token, peer_with_client, "client_ref"),
            (&c.ana.token, six, "rating"),
            (&c.ana.token, unknown_tag, "icare[0]"),
            (&c.ana.token, blank, "body"),
            (
                &c.cook.token,
                about("upward", &c.manager.id),
                "subject_member_id",
            ),
            (&c.ana.token, about("peer", &c.ana.id), "subject_member_id"),
            (&c.ana.token, about("peer", &leaver), "subject_member_id"),
            (&c.ana.token, about("peer", &stranger), "subject_member_id"),
        ];
        for (token, body, field) in invalid {
            let refused = app
                .post("/v1/feedback", token, body.clone())
                .await
                .expect_problem(422);
            assert!(
                refused.error_fields().iter().any(|f| f == field),
                "{body}: {}",
                refused.text
            );
        }
        assert!(app.list_items("/v1/feedback", &c.owner).await.is_empty());
        // The lead of one's team may be given upward feedback as well as one's managers.
        app.patch(
            &format!("/v1/teams/{}", c.kitchen),
            &c.owner,
            json!({"lead_member_id": c.ben.id}),
        )
        .await
        .expect(200);
        app.post("/v1/feedback", &c.cook.token, about("upward", &c.ben.id))
            .await
            .expect(201);
    })
    .await;
}
