//! Tokens stand for members: a manager or staff token is honoured only while its `sub` is an active
//! member of its organization, and an owner token whose `sub` names a member only while that
//! member is active; a deactivation takes effect on the next request. Staff see their colleagues'
//! names, roles, teams and managers, but not their email or HR ids.

use serde_json::{Value, json};

use crate::support::{TestApp, for_each_backend};

/// Every read a directory token can make, each expected to answer `status`.
async fn assert_every_read(app: &TestApp, token: &str, member: &str, status: u16) {
    for path in [
        "/v1/members".to_owned(),
        format!("/v1/members/{member}"),
        "/v1/teams".to_owned(),
    ] {
        let response = app.get(&path, token).await;
        assert_eq!(response.status, status, "GET {path}: {}", response.text);
        if status >= 400 {
            response.expect_problem(status);
        }
    }
}

#[tokio::test]
async fn tokens_whose_subject_is_no_member_are_forbidden_everywhere() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let ana = app.create_named_member(&owner, "Ana", "staff").await;
        let (_, other_owner) = app.create_org().await;
        let stranger = app.create_named_member(&other_owner, "Zoe", "staff").await;
        for (case, token) in [
            (
                "a name",
                app.token(Some(&org), "staff", "not-a-member-at-all", None),
            ),
            (
                "an unknown id",
                app.token(
                    Some(&org),
                    "manager",
                    &uuid::Uuid::now_v7().to_string(),
                    None,
                ),
            ),
            (
                "another org's member",
                app.token(Some(&org), "staff", &stranger, None),
            ),
        ] {
            for path in [
                "/v1/members".to_owned(),
                format!("/v1/members/{ana}"),
                "/v1/teams".to_owned(),
            ] {
                let refused = app.get(&path, &token).await;
                assert_eq!(refused.status, 403, "{case}, GET {path}: {}", refused.text);
                assert!(!refused.text.contains("Ana"), "{case}: {}", refused.text);
                refused.expect_problem(403);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_deactivated_members_tokens_stop_working_at_once_and_work_again_when_reactivated() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let ana = app.create_named_member(&owner, "Ana", "staff").await;
        let (marta, manager) = app.member_token(&org, &owner, "manager").await;
        let staff = app.token(Some(&org), "staff", &ana, None);
        // An owner whose token names their member record.
        let olga = app.create_named_member(&owner, "Olga", "owner").await;
        let named_owner = app.token(Some(&org), "owner", &olga, None);
        for token in [&manager, &staff, &named_owner] {
            assert_every_read(&app, token, &ana, 200).await;
        }

        for (member, token) in [(&marta, &manager), (&ana, &staff), (&olga, &named_owner)] {
            app.patch(
                &format!("/v1/members/{member}"),
                &owner,
                json!({"active": false}),
            )
            .await
            .expect(200);
            assert_every_read(&app, token, &ana, 403).await;
        }
        // A deactivated owner cannot reactivate themselves either.
        app.patch(
            &format!("/v1/members/{olga}"),
            &named_owner,
            json!({"active": true}),
        )
        .await
        .expect_problem(403);

        app.patch(
            &format!("/v1/members/{marta}"),
            &owner,
            json!({"active": true}),
        )
        .await
        .expect(200);
        assert_every_read(&app, &manager, &ana, 200).await;
        // Owners whose subject names no member are not affected by any of this.
        assert_every_read(&app, &owner, &ana, 200).await;
        let unnamed = app.token(Some(&org), "owner", &uuid::Uuid::now_v7().to_string(), None);
        assert_every_read(&app, &unnamed, &ana, 200).await;
    })
    .await;
}

#[tokio::test]
async fn staff_see_colleagues_without_their_email_or_hr_ids() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let bar = app.create_team(&owner, "Bar").await;
        let (marta, manager) = app.member_token(&org, &owner, "manager").await;
        let ana = app
            .create_member(
                &owner,
                json!({"display_name": "Ana", "role": "staff", "email": "ana@sol.es",
                    "external_id": "HR-1", "team_id": bar, "manager_id": marta}),
            )
            .await;
        let bea = app
            .create_member(
                &owner,
                json!({"display_name": "Bea", "role": "staff", "email": "bea@sol.es",
                    "external_id": "HR-2", "team_id": bar, "manager_id": marta}),
            )
            .await;
        let ana_token = app.token(Some(&org), "staff", &ana, None);

        let colleague = app
            .get(&format!("/v1/members/{bea}"), &ana_token)
            .await
            .expect(200);
        assert_eq!(colleague.body["display_name"], "Bea");
        assert_eq!(colleague.body["role"], "staff");
        assert_eq!(colleague.body["team_id"], bar.as_str());
        assert_eq!(colleague.body["manager_id"], marta.as_str());
        for hidden in ["email", "external_id"] {
            assert!(
                colleague.body.get(hidden).is_none(),
                "{hidden}: {}",
                colleague.text
            );
        }
        assert!(!colleague.text.contains("bea@sol.es") && !colleague.text.contains("HR-2"));
        let listed = app.get("/v1/members", &ana_token).await.expect(200);
        assert!(!listed.text.contains("bea@sol.es"), "{}", listed.text);
        assert!(!listed.text.contains("HR-2"), "{}", listed.text);

        // Their own record is theirs to see in full.
        let own = app
            .get(&format!("/v1/members/{ana}"), &ana_token)
            .await
            .expect(200);
        assert_eq!(own.body["email"], "ana@sol.es");
        assert_eq!(own.body["external_id"], "HR-1");

        // Managers, owners and directory integrations see everything.
        for token in [
            manager,
            owner.clone(),
            app.integration_token(&org, "crm", "members:read"),
        ] {
            let full = app
                .get(&format!("/v1/members/{bea}"), &token)
                .await
                .expect(200);
            assert_eq!(full.body["email"], "bea@sol.es");
            assert_eq!(full.body["external_id"], "HR-2");
        }
        // A member without an email still shows `null` to those who may see it.
        let marta_seen = app
            .get(&format!("/v1/members/{marta}"), &owner)
            .await
            .expect(200);
        assert_eq!(marta_seen.body["email"], Value::Null);
    })
    .await;
}
