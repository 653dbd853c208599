//! The diesel schema, one for both backends: only types both share (Text ids, UTC `Timestamp`).

diesel::table! {
    organizations (org_id) {
        org_id -> Text,
        name -> Text,
        currency -> Text,
        timezone -> Text,
        anonymity_threshold -> Integer,
        escalation_response_target_minutes -> Integer,
        low_score_csat_at_most -> Integer,
        low_score_nps_at_most -> Integer,
        low_score_ces_at_least -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    teams (org_id, id) {
        org_id -> Text,
        id -> Text,
        name -> Text,
        lead_member_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    members (org_id, id) {
        org_id -> Text,
        id -> Text,
        external_id -> Nullable<Text>,
        display_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        team_id -> Nullable<Text>,
        manager_id -> Nullable<Text>,
        strengths -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (org_id, id) {
        org_id -> Text,
        id -> Text,
        occurred_at -> Timestamp,
        actor_role -> Text,
        actor_subject -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        request_id -> Nullable<Text>,
        changes -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (org_id, idempotency_key) {
        org_id -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        created_at -> Timestamp,
        locked_at -> Timestamp,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(organizations, teams, members, audit_events);
