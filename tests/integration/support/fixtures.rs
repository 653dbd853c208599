//! Set-up through the API: organizations, teams and members created the way a client would, and
//! the list and audit reads that several test modules share.

use reqwest::Method;
use serde_json::{Value, json};

use super::app::{Response, TestApp};

/// Every scope an integration token can hold.
pub const EVERY_SCOPE: &str = "members:read members:write goals:read goals:write delegations:read \
    delegations:write decisions:write feedback:read feedback:write scores:read scores:write \
    reports:read webhooks:manage audit:read";

impl TestApp {
    /// Creates an organization as `admin` (a platform admin token) and returns its id.
    pub async fn create_org_as(&self, admin: &str) -> String {
        let org = self
            .send(
                Method::POST,
                "/v1/organizations",
                Some(admin),
                Some(
                    json!({"name": "Panadería Sol", "currency": "EUR", "timezone": "Europe/Madrid"}),
                ),
            )
            .await
            .expect(201);
        org.id()
    }

    /// Creates an organization through the API and returns its id and an owner token for it.
    pub async fn create_org(&self) -> (String, String) {
        let id = self.create_org_as(&self.platform_admin_token()).await;
        let owner = self.token(Some(&id), "owner", "owner-1", None);
        (id, owner)
    }

    /// An integration token for `org` with `scope`.
    pub fn integration_token(&self, org: &str, sub: &str, scope: &str) -> String {
        self.token(Some(org), "integration", sub, Some(scope))
    }

    /// The token of the HR sync integration: `members:write` in `org`, subject `hr-sync`.
    pub fn hr_sync_token(&self, org: &str) -> String {
        self.integration_token(org, "hr-sync", "members:write")
    }

    /// Creates an active member with `role` (`manager` or `staff`) and returns their id and a
    /// token of that role standing for them: manager and staff tokens must name a member.
    pub async fn member_token(&self, org: &str, owner: &str, role: &str) -> (String, String) {
        let id = self
            .create_named_member(owner, &format!("A {role}"), role)
            .await;
        let token = self.token(Some(org), role, &id, None);
        (id, token)
    }

    /// Creates a team called `name` and returns its id.
    pub async fn create_team(&self, token: &str, name: &str) -> String {
        self.post("/v1/teams", token, json!({"name": name}))
            .await
            .expect(201)
            .id()
    }

    /// Creates a member from `body` and returns its id.
    pub async fn create_member(&self, token: &str, body: Value) -> String {
        self.post("/v1/members", token, body).await.expect(201).id()
    }

    /// Creates a member with only a display name and a role, and returns its id.
    pub async fn create_named_member(&self, token: &str, display_name: &str, role: &str) -> String {
        self.create_member(token, json!({"display_name": display_name, "role": role}))
            .await
    }

    /// The items of the list at `path` (its first page).
    pub async fn list_items(&self, path: &str, token: &str) -> Vec<Value> {
        self.get(path, token).await.expect(200).items().to_vec()
    }

    /// The display names a member list query returns (one page of up to 200), in order.
    pub async fn member_names(&self, token: &str, query: &str) -> Vec<String> {
        let list = self
            .get(&format!("/v1/members?limit=200{query}"), token)
            .await
            .expect(200);
        assert_eq!(list.body["next_cursor"], Value::Null, "{}", list.text);
        list.item_strings("display_name")
    }

    /// Every page of a list, from `first` (a path with a query) on, following `next_cursor`.
    pub async fn pages(&self, first: &str, token: &str) -> Vec<Response> {
        let mut pages = Vec::new();
        let mut path = first.to_owned();
        loop {
            let page = self.get(&path, token).await.expect(200);
            let next = page.body["next_cursor"]
                .as_str()
                .map(|cursor| format!("{first}&cursor={cursor}"));
            pages.push(page);
            match next {
                Some(next) => path = next,
                None => return pages,
            }
            assert!(pages.len() <= 100, "pagination does not end");
        }
    }

    /// The audit events of one member, oldest first.
    pub async fn member_events(&self, token: &str, id: &str) -> Vec<Value> {
        self.get(
            &format!("/v1/audit-events?entity_type=member&entity_id={id}"),
            token,
        )
        .await
        .expect(200)
        .items()
        .to_vec()
    }
}
