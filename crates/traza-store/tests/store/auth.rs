//! Authentication under attack (SPEC §2 "Users": authentication), on both databases: guessing
//! a password at login or in a signature locks the account; a guessing address is throttled;
//! a reset, a change or a deactivation ends every session; weak passwords are refused.

use std::net::IpAddr;

use traza_domain::auth::{AuthRefusal, LockoutPolicy};
use traza_domain::vocab::SignatureMeaning;
use traza_store::{AuditQuery, StoreError, UserUpdate};

use crate::support::*;

fn locked(r: &Result<impl std::fmt::Debug, StoreError>) -> bool {
    matches!(
        r,
        Err(StoreError::AuthRefused(AuthRefusal::AccountLocked { .. }))
    )
}

async fn audit_actions(net: &Net, key: &str) -> Vec<String> {
    net.store
        .audit_trail(
            &net.elena,
            &AuditQuery {
                entity_type: Some("user".into()),
                entity_key: Some(key.into()),
                after_id: None,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[both_backends]
async fn five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let (_, session) = store.login("nuria.blanco", NURIA_PW, None).await.unwrap();
    for _ in 0..5 {
        assert!(matches!(
            store.login("nuria.blanco", "guess-guess-guess", None).await,
            Err(StoreError::Unauthenticated)
        ));
    }
    // The right password no longer opens the account, at login or in a signature.
    assert!(locked(&store.login("nuria.blanco", NURIA_PW, None).await));
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0090", days_ago(10), 1),
    )
    .await
    .batch
    .batch_number
    .to_string();
    assert!(locked(
        &store
            .reject_batch(&net.nuria, &number, None, NURIA_PW, "contaminated")
            .await
    ));
    // The session opened before the lock keeps working until it ends.
    assert!(store.actor_for_token(&session.token).await.is_ok());
    assert!(
        audit_actions(&net, "nuria.blanco")
            .await
            .contains(&"user.lock".to_owned())
    );
    // Only an admin unlocks.
    assert!(matches!(
        store.unlock_user(&net.lucia, "nuria.blanco").await,
        Err(StoreError::Forbidden)
    ));
    store.unlock_user(&net.admin, "nuria.blanco").await.unwrap();
    store.login("nuria.blanco", NURIA_PW, None).await.unwrap();
    assert!(
        audit_actions(&net, "nuria.blanco")
            .await
            .contains(&"user.unlock".to_owned())
    );
}

#[both_backends]
async fn guessing_a_signature_password_locks_the_account_too(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0091", days_ago(10), 1),
    )
    .await
    .batch
    .batch_number
    .to_string();
    for _ in 0..5 {
        assert!(matches!(
            store
                .release_batch(
                    &net.jose,
                    &number,
                    None,
                    "guess-guess-guess",
                    SignatureMeaning::QpCertified
                )
                .await,
            Err(StoreError::InvalidSignature)
        ));
    }
    assert!(locked(
        &store
            .release_batch(
                &net.jose,
                &number,
                None,
                JOSE_PW,
                SignatureMeaning::QpCertified
            )
            .await
    ));
    assert!(locked(&store.login("jose.alarcon", JOSE_PW, None).await));
    // A right password in between starts the count again.
    for _ in 0..4 {
        let _ = store.login("nuria.blanco", "guess-guess-guess", None).await;
    }
    store.login("nuria.blanco", NURIA_PW, None).await.unwrap();
    for _ in 0..4 {
        let _ = store.login("nuria.blanco", "guess-guess-guess", None).await;
    }
    store.login("nuria.blanco", NURIA_PW, None).await.unwrap();
}

#[both_backends]
async fn an_address_that_guesses_too_fast_is_throttled(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = net.store.clone().with_lockout_policy(LockoutPolicy {
        per_address_per_minute: 3,
        ..LockoutPolicy::default()
    });
    let attacker: IpAddr = "192.0.2.66".parse().unwrap();
    let colleague: IpAddr = "192.0.2.7".parse().unwrap();
    // Failures spread over usernames (unknown ones too) still count for the address.
    // Retried if a minute boundary fell inside the burst and reset the window.
    let mut throttled = false;
    for _ in 0..3 {
        let minute = chrono::Utc::now().timestamp() / 60;
        for user in ["nobody.one", "nobody.two", "marta.jimenez", "nobody.three"] {
            let _ = store.login(user, "guess-guess-guess", Some(attacker)).await;
        }
        let r = store.login("nuria.blanco", NURIA_PW, Some(attacker)).await;
        if chrono::Utc::now().timestamp() / 60 == minute {
            throttled = matches!(
                r,
                Err(StoreError::AuthRefused(AuthRefusal::TooManyAttempts { .. }))
            );
            break;
        }
    }
    assert!(
        throttled,
        "the fifth failure in a minute is refused with 429"
    );
    store
        .login("nuria.blanco", NURIA_PW, Some(colleague))
        .await
        .unwrap();
}

#[both_backends]
async fn a_reset_or_a_change_of_password_ends_every_session(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let (_, old) = store.login("nuria.blanco", NURIA_PW, None).await.unwrap();
    store
        .update_user(
            &net.admin,
            "nuria.blanco",
            UserUpdate {
                password: Some("restablecida-por-admin-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store.actor_for_token(&old.token).await,
        Err(StoreError::Unauthenticated)
    ));
    let (actor, session) = store
        .login("nuria.blanco", "restablecida-por-admin-1", None)
        .await
        .unwrap();
    // Her own change: the current password proves it is her; the new one must be good.
    assert!(matches!(
        store
            .change_own_password(&actor, "not-the-current-one", "una-clave-nueva-y-larga")
            .await,
        Err(StoreError::InvalidSignature)
    ));
    for weak in ["corta", "password1234", "xx-nuria.blanco-xx"] {
        assert_eq!(
            invalid_fields(
                store
                    .change_own_password(&actor, "restablecida-por-admin-1", weak)
                    .await
            ),
            ["new_password"],
            "{weak}"
        );
    }
    store
        .change_own_password(
            &actor,
            "restablecida-por-admin-1",
            "una-clave-nueva-y-larga",
        )
        .await
        .unwrap();
    assert!(matches!(
        store.actor_for_token(&session.token).await,
        Err(StoreError::Unauthenticated)
    ));
    store
        .login("nuria.blanco", "una-clave-nueva-y-larga", None)
        .await
        .unwrap();
    assert!(
        audit_actions(&net, "nuria.blanco")
            .await
            .contains(&"user.password_change".to_owned())
    );
}

#[both_backends]
async fn a_web_session_left_alone_for_half_an_hour_ends(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let (_, kept) = store.login("nuria.blanco", NURIA_PW, None).await.unwrap();
    let (_, left) = store.login("nuria.blanco", NURIA_PW, None).await.unwrap();
    store.touch_web_session(&kept.token).await.unwrap();
    store.touch_web_session(&left.token).await.unwrap();
    // The second terminal was left 31 minutes ago (its last use moved back by SQL).
    let ago = (chrono::Utc::now() - chrono::Duration::minutes(31)).to_rfc3339();
    ctx.execute_raw(&format!(
                "UPDATE tokens SET created_at = '{ago}', last_seen_at = '{ago}' WHERE username = 'nuria.blanco'"
            ))
            .await;
    let recent = (chrono::Utc::now() - chrono::Duration::minutes(29)).to_rfc3339();
    let kept_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(kept.token.as_bytes()))
    };
    ctx.execute_raw(&format!(
        "UPDATE tokens SET last_seen_at = '{recent}' WHERE token_hash = '{kept_hash}'"
    ))
    .await;
    assert!(matches!(
        store.touch_web_session(&left.token).await,
        Err(StoreError::Unauthenticated)
    ));
    assert!(matches!(
        store.actor_for_token(&left.token).await,
        Err(StoreError::Unauthenticated)
    ));
    store.touch_web_session(&kept.token).await.unwrap();
    assert!(store.actor_for_token(&kept.token).await.is_ok());
}
