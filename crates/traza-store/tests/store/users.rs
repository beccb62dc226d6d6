use traza_domain::auth::{AuthRefusal, LockoutPolicy};
use traza_domain::codes::Username;
use traza_domain::vocab::Role;
use traza_store::{NewUser, StoreError, UserUpdate, UserView};

use crate::support::*;

fn new_user(username: &str, role: Role, labs: &[&str]) -> NewUser {
    NewUser {
        username: Username::parse(username).unwrap(),
        full_name: "Paula Díaz Romero".into(),
        role,
        labs: labs.iter().map(|l| lab(l)).collect(),
        password: "cambiame-en-el-primer-acceso".into(),
    }
}

#[both_backends]
async fn login_tokens_and_deactivation(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;

    let (actor, issued) = store
        .login("marta.jimenez", "demo-tecnico-granada-1", None)
        .await
        .unwrap();
    assert_eq!(
        (actor.username.as_str(), actor.role),
        ("marta.jimenez", Role::LabStaff)
    );
    assert_eq!(issued.token.len(), 64);
    let hours = (issued.expires_at - chrono::Utc::now()).num_minutes();
    assert!(
        (11 * 60..=12 * 60).contains(&hours),
        "a token lives one 12-hour shift, got {hours} min"
    );
    let resolved = store.actor_for_token(&issued.token).await.unwrap();
    assert_eq!(resolved, actor);
    assert_eq!(resolved.labs, [lab("GRA-UPCIT")].into_iter().collect());
    assert_eq!(resolved.full_name, "Marta Jiménez Salas");
    // A second login gives another token; both work.
    let (_, second) = store
        .login("marta.jimenez", "demo-tecnico-granada-1", None)
        .await
        .unwrap();
    assert_ne!(second.token, issued.token);

    assert!(matches!(
        store
            .login("marta.jimenez", "demo-tecnico-granada-2", None)
            .await,
        Err(StoreError::Unauthenticated)
    ));
    assert!(matches!(
        store
            .login("nobody.here", "demo-tecnico-granada-1", None)
            .await,
        Err(StoreError::Unauthenticated)
    ));
    assert!(matches!(
        store.actor_for_token("not-a-token").await,
        Err(StoreError::Unauthenticated)
    ));
    let mut altered = issued.token.clone();
    altered.replace_range(0..1, if altered.starts_with('0') { "1" } else { "0" });
    assert!(matches!(
        store.actor_for_token(&altered).await,
        Err(StoreError::Unauthenticated)
    ));

    // Only an admin manages users.
    let by_coordinator = store
        .update_user(
            &net.lucia,
            "marta.jimenez",
            UserUpdate {
                active: Some(false),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(by_coordinator, Err(StoreError::Forbidden)),
        "{by_coordinator:?}"
    );
    let off = store
        .update_user(
            &net.admin,
            "marta.jimenez",
            UserUpdate {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!off.active);
    for token in [&issued.token, &second.token] {
        assert!(
            matches!(
                store.actor_for_token(token).await,
                Err(StoreError::Unauthenticated)
            ),
            "a deactivated user's token must fail"
        );
    }
    assert!(matches!(
        store
            .login("marta.jimenez", "demo-tecnico-granada-1", None)
            .await,
        Err(StoreError::Unauthenticated)
    ));
    assert!(matches!(
        store.actor("marta.jimenez").await,
        Err(StoreError::NotFound(_))
    ));

    // Reactivated, the old tokens stay revoked; a new login works.
    store
        .update_user(
            &net.admin,
            "marta.jimenez",
            UserUpdate {
                active: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store.actor_for_token(&issued.token).await,
        Err(StoreError::Unauthenticated)
    ));
    let (_, fresh) = store
        .login("marta.jimenez", "demo-tecnico-granada-1", None)
        .await
        .unwrap();
    assert_eq!(
        store
            .actor_for_token(&fresh.token)
            .await
            .unwrap()
            .username
            .as_str(),
        "marta.jimenez"
    );

    // A changed scope revokes tokens too.
    store
        .update_user(
            &net.admin,
            "marta.jimenez",
            UserUpdate {
                labs: Some([lab("GRA-UPCIT"), lab(MAL)].into_iter().collect()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store.actor_for_token(&fresh.token).await,
        Err(StoreError::Unauthenticated)
    ));
    assert_eq!(store.actor("marta.jimenez").await.unwrap().labs.len(), 2);
}

#[both_backends]
async fn user_management_rules(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;

    let forbidden = store
        .create_user(&net.lucia, new_user("paula.diaz", Role::LabStaff, &[MAL]))
        .await;
    assert!(
        matches!(forbidden, Err(StoreError::Forbidden)),
        "{forbidden:?}"
    );
    let forbidden = store
        .create_user(&net.nuria, new_user("paula.diaz", Role::LabStaff, &[MAL]))
        .await;
    assert!(
        matches!(forbidden, Err(StoreError::Forbidden)),
        "{forbidden:?}"
    );
    assert!(matches!(
        store.list_users(&net.elena).await,
        Err(StoreError::Forbidden)
    ));

    assert_eq!(
        invalid_fields(
            store
                .create_user(&net.admin, new_user("paula.diaz", Role::LabStaff, &[]))
                .await
        ),
        ["labs"]
    );
    assert_eq!(
        invalid_fields(
            store
                .create_user(&net.admin, new_user("paula.diaz", Role::Qa, &[]))
                .await
        ),
        ["labs"]
    );
    assert_eq!(
        invalid_fields(
            store
                .create_user(&net.admin, new_user("paula.diaz", Role::Auditor, &[MAL]))
                .await
        ),
        ["labs"]
    );
    assert_eq!(
        invalid_fields(
            store
                .create_user(
                    &net.admin,
                    new_user("paula.diaz", Role::LabStaff, &["MAL-XYZ"])
                )
                .await
        ),
        ["labs"]
    );
    let weak = NewUser {
        password: "1234".into(),
        ..new_user("paula.diaz", Role::LabStaff, &[MAL])
    };
    assert_eq!(
        invalid_fields(store.create_user(&net.admin, weak).await),
        ["password"]
    );
    assert!(
        matches!(
            store.actor("paula.diaz").await,
            Err(StoreError::NotFound(_))
        ),
        "refused users were not created"
    );

    let users_before = store.list_users(&net.admin).await.unwrap().len();
    let created = store
        .create_user(&net.admin, new_user("paula.diaz", Role::LabStaff, &[MAL]))
        .await
        .unwrap();
    assert_eq!((created.role, created.active), (Role::LabStaff, true));
    assert!(matches!(
        store
            .create_user(&net.admin, new_user("paula.diaz", Role::LabStaff, &[MAL]))
            .await,
        Err(StoreError::Duplicate(_))
    ));
    let (actor, _) = store
        .login("paula.diaz", "cambiame-en-el-primer-acceso", None)
        .await
        .unwrap();
    assert_eq!(actor.labs, [lab(MAL)].into_iter().collect());
    assert_eq!(
        store.list_users(&net.admin).await.unwrap().len(),
        users_before + 1
    );

    // Removing the last lab of a lab_staff user is refused as well.
    let r = store
        .update_user(
            &net.admin,
            "paula.diaz",
            UserUpdate {
                labs: Some(Default::default()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(invalid_fields(r), ["labs"]);
    // A password change takes effect.
    store
        .update_user(
            &net.admin,
            "paula.diaz",
            UserUpdate {
                password: Some("otra-clave-mas-larga".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .login("paula.diaz", "cambiame-en-el-primer-acceso", None)
            .await,
        Err(StoreError::Unauthenticated)
    ));
    store
        .login("paula.diaz", "otra-clave-mas-larga", None)
        .await
        .unwrap();
}

#[both_backends]
async fn expired_tokens_are_refused(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let (_, expiring) = store
        .login("isabel.morales", "demo-calidad-granada", None)
        .await
        .unwrap();
    let (_, other) = store
        .login("pablo.ortiz", "demo-tecnico-granada-2", None)
        .await
        .unwrap();
    assert_eq!(
        store.actor_for_token(&expiring.token).await.unwrap().role,
        Role::Qa
    );
    // Expire one token in place (its lifetime ends when it was issued), in the store's own
    // timestamp format.
    assert_eq!(
        ctx.execute_raw(
            "UPDATE tokens SET expires_at = created_at WHERE username = 'isabel.morales'"
        )
        .await,
        1
    );
    // A change made behind this process's back (another server, or SQL) reaches it
    // within the token cache's 5 s; the test does not wait them out.
    store.forget_cached_tokens();
    assert!(matches!(
        store.actor_for_token(&expiring.token).await,
        Err(StoreError::Unauthenticated)
    ));
    assert_eq!(
        store
            .actor_for_token(&other.token)
            .await
            .unwrap()
            .username
            .as_str(),
        "pablo.ortiz"
    );
}

#[both_backends]
async fn the_users_list_shows_the_lock_the_login_applies(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let lock_of = |users: &[UserView], name: &str| {
        users
            .iter()
            .find(|u| u.username.as_str() == name)
            .unwrap_or_else(|| panic!("{name} is listed"))
            .locked_until
    };
    let users = store.list_users(&net.admin).await.unwrap();
    assert!(users.iter().all(|u| u.locked_until.is_none()), "{users:?}");

    for _ in 0..5 {
        let _ = store.login("pablo.ortiz", "guess-guess-guess", None).await;
    }
    let until = match store
        .login("pablo.ortiz", "demo-tecnico-granada-2", None)
        .await
    {
        Err(StoreError::AuthRefused(AuthRefusal::AccountLocked { until })) => until,
        other => panic!("expected the account locked, got {other:?}"),
    };
    assert!(until > chrono::Utc::now());
    let users = store.list_users(&net.admin).await.unwrap();
    assert_eq!(lock_of(&users, "pablo.ortiz"), Some(until));
    assert_eq!(lock_of(&users, "marta.jimenez"), None);
    // A change of the account says the lock too; it does not lift it.
    let changed = store
        .update_user(
            &net.admin,
            "pablo.ortiz",
            UserUpdate {
                full_name: Some("Pablo Ortiz Ruiz".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.locked_until, Some(until));

    store.unlock_user(&net.admin, "pablo.ortiz").await.unwrap();
    let users = store.list_users(&net.admin).await.unwrap();
    assert_eq!(lock_of(&users, "pablo.ortiz"), None);

    // A lock that has run out is recorded but locks nothing: it is not shown.
    let brief = store.clone().with_lockout_policy(LockoutPolicy {
        lock_for: chrono::Duration::seconds(-1),
        ..LockoutPolicy::default()
    });
    for _ in 0..5 {
        let _ = brief.login("pablo.ortiz", "guess-guess-guess", None).await;
    }
    brief
        .login("pablo.ortiz", "demo-tecnico-granada-2", None)
        .await
        .unwrap();
    let users = store.list_users(&net.admin).await.unwrap();
    assert_eq!(lock_of(&users, "pablo.ortiz"), None);
}
