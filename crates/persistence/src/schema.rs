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
        position -> Nullable<BigInt>,
        occurred_at -> Timestamp,
        actor_role -> Text,
        actor_subject -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        request_id -> Nullable<Text>,
        changes -> Nullable<Text>,
        feed_after -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (org_id, caller, idempotency_key) {
        org_id -> Text,
        caller -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        expires_at -> Timestamp,
        response_status -> Integer,
        response_headers -> Text,
        response_body -> Text,
    }
}

diesel::table! {
    feed_positions (org_id) {
        org_id -> Text,
        position -> BigInt,
    }
}

diesel::table! {
    goals (org_id, id) {
        org_id -> Text,
        id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        kind -> Text,
        owner_member_id -> Nullable<Text>,
        owner_team_id -> Nullable<Text>,
        parent_goal_id -> Nullable<Text>,
        metric_name -> Text,
        metric_unit -> Text,
        metric_baseline -> Double,
        metric_target -> Double,
        metric_direction -> Text,
        start_date -> Date,
        due_date -> Date,
        status -> Text,
        strengths -> Text,
        current_value -> Nullable<Double>,
        current_recorded_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    goal_check_ins (org_id, id) {
        org_id -> Text,
        id -> Text,
        goal_id -> Text,
        value -> Double,
        note -> Nullable<Text>,
        recorded_at -> Timestamp,
        recorded_by_role -> Text,
        recorded_by_subject -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    feedback (org_id, id) {
        org_id -> Text,
        id -> Text,
        kind -> Text,
        subject_member_id -> Text,
        author_member_id -> Nullable<Text>,
        author_role -> Nullable<Text>,
        author_subject -> Nullable<Text>,
        rating -> Nullable<Integer>,
        icare -> Text,
        sentiment -> Nullable<Text>,
        body -> Text,
        client_ref -> Nullable<Text>,
        touchpoint -> Nullable<Text>,
        anonymous -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox_events (org_id, id) {
        org_id -> Text,
        id -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
        deliver_after -> Timestamp,
    }
}

diesel::table! {
    delegations (org_id, id) {
        org_id -> Text,
        id -> Text,
        delegator_member_id -> Nullable<Text>,
        delegate_member_id -> Nullable<Text>,
        delegate_team_id -> Nullable<Text>,
        action -> Text,
        currency -> Text,
        per_decision_limit_minor -> BigInt,
        budget_minor -> BigInt,
        budget_period -> Text,
        max_decisions_per_period -> Nullable<BigInt>,
        valid_from -> Timestamp,
        valid_until -> Nullable<Timestamp>,
        rationale -> Text,
        revoked_at -> Nullable<Timestamp>,
        revoke_reason -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    delegation_usage (org_id, delegation_id, period_start) {
        org_id -> Text,
        delegation_id -> Text,
        period_start -> Timestamp,
        used_minor -> BigInt,
        decisions -> BigInt,
    }
}

diesel::table! {
    decisions (org_id, id) {
        org_id -> Text,
        id -> Text,
        member_id -> Text,
        team_id -> Nullable<Text>,
        action -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        client_ref -> Text,
        touchpoint -> Text,
        note -> Nullable<Text>,
        outcome -> Text,
        delegation_id -> Nullable<Text>,
        period_start -> Nullable<Timestamp>,
        escalation_id -> Nullable<Text>,
        voided_at -> Nullable<Timestamp>,
        void_reason -> Nullable<Text>,
        recorded_by_role -> Text,
        recorded_by_subject -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    escalations (org_id, id) {
        org_id -> Text,
        id -> Text,
        decision_id -> Text,
        member_id -> Text,
        assignee_member_id -> Nullable<Text>,
        resolution -> Nullable<Text>,
        note -> Nullable<Text>,
        response_due_at -> Timestamp,
        responded_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    satisfaction_scores (org_id, id) {
        org_id -> Text,
        id -> Text,
        audience -> Text,
        instrument -> Text,
        score -> Integer,
        member_id -> Nullable<Text>,
        team_id -> Nullable<Text>,
        client_ref -> Nullable<Text>,
        touchpoint -> Text,
        occurred_at -> Timestamp,
        source -> Text,
        external_id -> Nullable<Text>,
        comment -> Nullable<Text>,
        icare_ideal -> Nullable<Integer>,
        icare_culture -> Nullable<Integer>,
        icare_attention -> Nullable<Integer>,
        icare_response -> Nullable<Integer>,
        icare_empathy -> Nullable<Integer>,
        decision_id -> Nullable<Text>,
        recorded_by_role -> Nullable<Text>,
        recorded_by_subject -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (org_id, id) {
        org_id -> Text,
        id -> Text,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (org_id, id) {
        org_id -> Text,
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        retry_until -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
        last_response_code -> Nullable<Integer>,
        last_response_excerpt -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    teams,
    members,
    audit_events,
    goals,
    goal_check_ins,
    feedback,
    delegations,
    delegation_usage,
    decisions,
    escalations,
    satisfaction_scores,
    outbox_events,
    webhooks,
    webhook_deliveries,
);
