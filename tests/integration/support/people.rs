//! A small business to test goals and feedback in: a front desk led by a manager with two
//! reports (one of whom has a report of her own), and a kitchen whose cook reports to no one in
//! the front desk. Every member has a token standing for them.

use serde_json::{Value, json};

use super::app::TestApp;

/// One member and a token standing for them.
pub struct Person {
    pub id: String,
    pub token: String,
}

/// The business.
pub struct Company {
    pub org: String,
    pub owner: String,
    pub front_desk: String,
    pub kitchen: String,
    /// Manages `ana` and `ben` directly and `cai` through `ana`; leads the front desk.
    pub manager: Person,
    /// Front desk; reports to `manager`; strengths "Networking" and "Patience".
    pub ana: Person,
    /// Front desk; reports to `manager`.
    pub ben: Person,
    /// Front desk; reports to `ana`.
    pub cai: Person,
    /// Kitchen; reports to no one here.
    pub cook: Person,
}

impl TestApp {
    /// Sets the company up through the API.
    pub async fn company(&self) -> Company {
        let (org, owner) = self.create_org().await;
        let front_desk = self.create_team(&owner, "Front desk").await;
        let kitchen = self.create_team(&owner, "Kitchen").await;
        let person = |id: String, role: &str| Person {
            token: self.token(Some(&org), role, &id, None),
            id,
        };
        let manager = self
            .create_member(
                &owner,
                json!({"display_name": "Marta Manager", "role": "manager", "team_id": front_desk}),
            )
            .await;
        self.patch(
            &format!("/v1/teams/{front_desk}"),
            &owner,
            json!({"lead_member_id": manager}),
        )
        .await
        .expect(200);
        let staff = |name: &str, team: &str, manager: Option<&str>, strengths: Value| {
            json!({
                "display_name": name, "role": "staff", "team_id": team,
                "manager_id": manager, "strengths": strengths,
            })
        };
        let ana = self
            .create_member(
                &owner,
                staff(
                    "Ana",
                    &front_desk,
                    Some(&manager),
                    json!(["Networking", "Patience"]),
                ),
            )
            .await;
        let ben = self
            .create_member(&owner, staff("Ben", &front_desk, Some(&manager), json!([])))
            .await;
        let cai = self
            .create_member(&owner, staff("Cai", &front_desk, Some(&ana), json!([])))
            .await;
        let cook = self
            .create_member(&owner, staff("Cook", &kitchen, None, json!([])))
            .await;
        Company {
            manager: person(manager, "manager"),
            ana: person(ana, "staff"),
            ben: person(ben, "staff"),
            cai: person(cai, "staff"),
            cook: person(cook, "staff"),
            org,
            owner,
            front_desk,
            kitchen,
        }
    }
}

/// A measurable goal body for a member: ten new clients by the end of 2099.
pub fn member_goal(owner_member_id: &str) -> Value {
    json!({
        "title": "Win ten new clients",
        "kind": "client_acquisition",
        "owner_member_id": owner_member_id,
        "metric": {"name": "new clients", "unit": "clients", "baseline": 0, "target": 10, "direction": "increase"},
        "start_date": "2026-11-01",
        "due_date": "2099-12-31",
    })
}

/// The same goal for a team.
pub fn team_goal(owner_team_id: &str) -> Value {
    let mut goal = member_goal("");
    let fields = goal.as_object_mut().expect("an object");
    fields.remove("owner_member_id");
    fields.insert("owner_team_id".into(), owner_team_id.into());
    goal
}
