//! Login, tokens, the caller, users and deactivation.

use serde_json::json;

use crate::support::*;

#[both_backends]
async fn login_tokens_me_and_deactivation(api: Api) {
    // A wrong password and an unknown user look the same.
    let wrong = api
        .post("/auth/login")
        .json(json!({"username": MARTA, "password": "not-her-password"}))
        .send()
        .await
        .err(401, "unauthenticated");
    assert!(wrong.is_empty());
    api.post("/auth/login")
        .json(json!({"username": "nadie", "password": "x"}))
        .send()
        .await
        .err(401, "unauthenticated");

    // A good login answers an opaque token with an expiry in the future.
    let body = api
        .post("/auth/login")
        .json(json!({"username": MARTA, "password": api.password(MARTA)}))
        .send()
        .await
        .ok(200);
    let token = body["token"].as_str().expect("a token").to_owned();
    assert!(token.len() >= 32, "a token long enough to be unguessable");
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap())
        .expect("expires_at is RFC 3339");
    assert!(expires > chrono::Utc::now());

    // The caller, with role and laboratories; never the password hash.
    let me = api.get("/me").token(&token).send().await.ok(200);
    assert_eq!(me["username"], MARTA);
    assert_eq!(me["role"], "lab_staff");
    assert_eq!(me["labs"], json!([GRA]));
    assert!(!me.to_string().contains("argon2"), "no hash in {me}");

    // No token, a malformed header, an unknown token: 401 with the error body.
    api.get("/me").send().await.err(401, "unauthenticated");
    api.get("/me")
        .header("authorization", "Basic bWFydGE6eA==")
        .send()
        .await
        .err(401, "unauthenticated");
    api.get("/me")
        .token("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .err(401, "unauthenticated");

    // The admin lists users (no hashes) and deactivates Marta: her old token and a new
    // login both stop working; reactivated, she logs in again.
    let admin = api.token(ADMIN).await;
    let users = api.get("/users").token(&admin).send().await.ok(200);
    let items = users["items"].as_array().expect("items");
    assert!(items.iter().any(|u| u["username"] == MARTA));
    assert!(!users.to_string().contains("argon2"));
    api.patch(&format!("/users/{MARTA}"))
        .token(&admin)
        .json(json!({"active": false}))
        .send()
        .await
        .ok(200);
    api.get("/me")
        .token(&token)
        .send()
        .await
        .err(401, "unauthenticated");
    api.post("/auth/login")
        .json(json!({"username": MARTA, "password": api.password(MARTA)}))
        .send()
        .await
        .err(401, "unauthenticated");
    api.patch(&format!("/users/{MARTA}"))
        .token(&admin)
        .json(json!({"active": true}))
        .send()
        .await
        .ok(200);
    let again = api.login(MARTA).await;
    api.get("/me").token(&again).send().await.ok(200);

    // Users made through the API: duplicate usernames refused; invalid fields named.
    api.post("/users")
        .token(&admin)
        .json(
            json!({"username": MARTA, "full_name": "Otra Marta", "role": "lab_staff",
                          "labs": [GRA], "password": "una-clave-larga-1"}),
        )
        .send()
        .await
        .err(409, "duplicate");
    let details = api
        .post("/users")
        .token(&admin)
        .json(json!({"username": "nuevo", "full_name": "", "role": "qa",
                          "labs": [GRA], "password": "x"}))
        .send()
        .await
        .err(422, "validation_failed");
    let named = fields(&details);
    assert!(named.contains(&"full_name".to_owned()), "{named:?}");
    assert!(named.contains(&"password".to_owned()), "{named:?}");
    let details = api
        .post("/users")
        .token(&admin)
        .json(
            json!({"username": "nuevo", "full_name": "Nuevo Usuario", "role": "qa",
                          "labs": ["no es un código"], "password": "una-clave-larga-2"}),
        )
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&details), ["labs"]);

    // A QA person created by the admin logs in and sees herself.
    api.post("/users")
        .token(&admin)
        .json(json!({
            "username": "rosa.medina", "full_name": "Rosa Medina Ortega", "role": "qa",
            "labs": [GRA], "password": "demo-calidad-granada-3"
        }))
        .send()
        .await
        .ok(201);
    api.remember("rosa.medina", "demo-calidad-granada-3");
    let rosa = api.token("rosa.medina").await;
    let me = api.get("/me").token(&rosa).send().await.ok(200);
    assert_eq!(me["role"], "qa");
    assert_eq!(me["full_name"], "Rosa Medina Ortega");
}

#[both_backends]
async fn guessing_locks_the_account_and_sessions_end_on_logout_and_password_change(api: Api) {
    let session = api.login(PABLO).await;
    // The attack: guessing Pablo's password.
    for _ in 0..5 {
        api.post("/auth/login")
            .json(json!({"username": PABLO, "password": "guess-guess-guess"}))
            .send()
            .await
            .err(401, "unauthenticated");
    }
    let locked = api
        .post("/auth/login")
        .json(json!({"username": PABLO, "password": api.password(PABLO)}))
        .send()
        .await;
    let retry: i64 = locked
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    locked.err(423, "account_locked");
    // The session opened before the lock keeps working; an admin unlocks.
    api.get("/me").token(&session).send().await.ok(200);
    let admin = api.token(ADMIN).await;
    api.post(&format!("/users/{PABLO}/unlock"))
        .token(&session)
        .send()
        .await
        .err(403, "forbidden");
    let unlocked = api
        .post(&format!("/users/{PABLO}/unlock"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(unlocked.status.as_u16(), 204);
    let second = api.login(PABLO).await;

    // Logging out revokes that token only.
    let out = api.post("/auth/logout").token(&second).send().await;
    assert_eq!(out.status.as_u16(), 204);
    api.get("/me")
        .token(&second)
        .send()
        .await
        .err(401, "unauthenticated");
    api.get("/me").token(&session).send().await.ok(200);

    // Changing one's password: the current one proves it; every session ends.
    api.post("/me/password")
                .token(&session)
                .json(json!({"current_password": "guess-guess-guess", "new_password": "una-frase-bastante-larga"}))
                .send()
                .await
                .err(403, "invalid_signature");
    let weak = api
        .post("/me/password")
        .token(&session)
        .json(json!({"current_password": api.password(PABLO), "new_password": "password1234"}))
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&weak), ["new_password"]);
    let changed = api
                .post("/me/password")
                .token(&session)
                .json(json!({"current_password": api.password(PABLO), "new_password": "una-frase-bastante-larga"}))
                .send()
                .await;
    assert_eq!(changed.status.as_u16(), 204);
    api.get("/me")
        .token(&session)
        .send()
        .await
        .err(401, "unauthenticated");
    api.post("/auth/login")
        .json(json!({"username": PABLO, "password": "una-frase-bastante-larga"}))
        .send()
        .await
        .ok(200);
}
