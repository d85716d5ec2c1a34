// @generated shape: kept by hand in the form `diesel print-schema` writes. Both migration sets
// must produce exactly these columns (tests/api/store.rs checks them on both stores).

diesel::table! {
    departments (id) {
        id -> Text,
        code -> Text,
        name_kk -> Text,
        name_ru -> Text,
        parent_id -> Nullable<Text>,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        kind -> Text,
        name_en -> Nullable<Text>,
    }
}

diesel::table! {
    department_tree (ancestor_id, department_id) {
        ancestor_id -> Text,
        department_id -> Text,
        depth -> Integer,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        username -> Text,
        username_key -> Text,
        display_name -> Text,
        department_id -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        client_id -> Text,
        name -> Text,
        department_id -> Text,
        scopes -> Text,
        secret_hash -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        token_hash -> Text,
        family_id -> Text,
        account_id -> Text,
        scope -> Text,
        access_jti -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (principal_id, idem_key) {
        principal_id -> Text,
        idem_key -> Text,
        fingerprint -> Text,
        state -> Text,
        locked_until -> Timestamp,
        status -> Nullable<Integer>,
        headers -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_kind -> Text,
        department_id -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        changes -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    plans (id) {
        id -> Text,
        year -> Integer,
        title -> Text,
        department_id -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_items (id) {
        id -> Text,
        plan_id -> Text,
        number -> Text,
        title -> Text,
        responsible_department_id -> Text,
        due_date -> Date,
        target_events -> Integer,
        target_participants -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        title -> Text,
        description -> Text,
        kind -> Text,
        format -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        venue -> Nullable<Text>,
        lead_department_id -> Text,
        plan_item_id -> Nullable<Text>,
        planned_participants -> Nullable<Integer>,
        status -> Text,
        attendance_total -> Nullable<Integer>,
        attendance_basis -> Nullable<Text>,
        search_text -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Text,
        deleted_at -> Nullable<Timestamp>,
        children -> Text,
        verification_status -> Text,
        verified_by -> Nullable<Text>,
        verified_at -> Nullable<Timestamp>,
        verification_note -> Nullable<Text>,
        evidence_count -> Integer,
    }
}

diesel::table! {
    event_audiences (event_id, audience) {
        event_id -> Text,
        audience -> Text,
    }
}

diesel::table! {
    event_partners (event_id, department_id) {
        event_id -> Text,
        department_id -> Text,
    }
}

diesel::table! {
    event_organisers (event_id, position) {
        event_id -> Text,
        position -> Integer,
        full_name -> Text,
        role -> Text,
        organisation -> Nullable<Text>,
    }
}

diesel::table! {
    event_breakdown (event_id, audience) {
        event_id -> Text,
        audience -> Text,
        count -> Integer,
    }
}

diesel::table! {
    attendees (id) {
        id -> Text,
        event_id -> Text,
        full_name -> Text,
        iin_hash -> Nullable<Text>,
        iin_last2 -> Nullable<Text>,
        birth_year -> Nullable<Integer>,
        gender -> Nullable<Text>,
        organisation -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_evidence (id) {
        id -> Text,
        event_id -> Text,
        kind -> Text,
        media_type -> Nullable<Text>,
        size -> Nullable<BigInt>,
        sha256 -> Nullable<Text>,
        filename -> Nullable<Text>,
        url -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    evidence_chunks (evidence_id, seq) {
        evidence_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        owner_id -> Text,
        url -> Text,
        event_types -> Text,
        description -> Text,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_messages (seq) {
        seq -> BigInt,
        id -> Text,
        subscription_id -> Text,
        event_type -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        message_id -> Text,
        event_type -> Text,
        attempt -> Integer,
        status -> Text,
        response_status -> Nullable<Integer>,
        duration_ms -> BigInt,
        error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        at -> Timestamp,
    }
}

diesel::joinable!(accounts -> departments (department_id));
diesel::joinable!(clients -> departments (department_id));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(plan_items -> plans (plan_id));
diesel::joinable!(event_audiences -> events (event_id));
diesel::joinable!(event_partners -> events (event_id));
diesel::joinable!(event_organisers -> events (event_id));
diesel::joinable!(event_breakdown -> events (event_id));
diesel::joinable!(attendees -> events (event_id));
diesel::joinable!(event_evidence -> events (event_id));
diesel::joinable!(evidence_chunks -> event_evidence (evidence_id));
diesel::joinable!(webhook_messages -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));

diesel::allow_tables_to_appear_in_same_query!(
    departments,
    department_tree,
    accounts,
    clients,
    refresh_tokens,
    idempotency_keys,
    audit_log,
    plans,
    plan_items,
    events,
    event_audiences,
    event_partners,
    event_organisers,
    event_breakdown,
    attendees,
    event_evidence,
    evidence_chunks,
    webhook_subscriptions,
    webhook_messages,
    webhook_deliveries,
);
