//! The public registry of authorised therapies (SPEC §6), on both databases: no login, only
//! active products with assignments in force, accent- and case-insensitive search, nothing
//! private, and a change of assignment shown within seconds.

use serde_json::{Value, json};

use crate::support::*;

fn names(body: &Value) -> Vec<String> {
    body["therapies"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| t["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[both_backends]
async fn the_registry_is_public_searchable_and_shows_nothing_private(api: Api) {
    // A batch exists, with its donor: neither may appear in public.
    let marta = api.token(MARTA).await;
    let batch = api
        .post("/batches")
        .token(&marta)
        .json(
            json!({"product_code": "MSC-AD-ALO", "access_route": "clinical_trial",
                         "trial_id": "2015-001726-39", "donor_code": "DON-PRIV-7731",
                         "manufacturing_start": "2026-11-02"}),
        )
        .send()
        .await
        .ok(201);
    let number = batch["batch_number"].as_str().expect("a number").to_owned();

    // No token needed.
    let all = api.get("/public/v1/therapies").send().await.ok(200);
    let listed = names(&all);
    assert!(
        listed
            .iter()
            .any(|n| n.starts_with("Condrocitos autólogos")),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|n| n.starts_with("Dermis artificial")),
        "a withdrawn product is not listed: {listed:?}"
    );
    // Only assignments in force: UGRSKIN's trial ended in 2024, its hospital exemption runs.
    let ugr = all["therapies"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|t| t["name"].as_str().is_some_and(|n| n.contains("UGRSKIN")))
        })
        .cloned()
        .expect("UGRSKIN is listed");
    assert_eq!(ugr["access_routes"], json!(["hospital_exemption"]), "{ugr}");
    assert_eq!(ugr["trial_ids"], json!([]));
    assert_eq!(ugr["sites"][0]["city"], "Granada");

    // Search: any case, accents optional, by name or trial id.
    for q in [
        "condrocitos",
        "CONDROCITOS%20autologos",
        "condrocitos%20aut%C3%B3logos",
    ] {
        let found = api
            .get(&format!("/public/v1/therapies?q={q}"))
            .send()
            .await
            .ok(200);
        let n = names(&found);
        assert_eq!(n.len(), 1, "{q}: {n:?}");
        assert!(n[0].starts_with("Condrocitos autólogos"), "{q}: {n:?}");
    }
    let by_trial = api
        .get("/public/v1/therapies?q=2015-001726-39")
        .send()
        .await
        .ok(200);
    assert_eq!(
        names(&by_trial),
        ["Células troncales mesenquimales alogénicas de tejido adiposo"]
    );
    let none = api
        .get("/public/v1/therapies?q=celulas%20madre%20milagro")
        .send()
        .await
        .ok(200);
    assert!(names(&none).is_empty());

    // Nothing private in any public answer, JSON or page.
    let page = api.get("/registro?q=mesenquimales").send().await;
    assert_eq!(page.status.as_u16(), 200);
    let fixture: Value = serde_json::from_str(FIXTURE_JSON).expect("the fixture");
    let mut private: Vec<String> = vec![number.clone(), "DON-PRIV-7731".into()];
    for u in fixture["users"].as_array().expect("users") {
        private.push(u["username"].as_str().expect("a username").to_owned());
    }
    for l in fixture["labs"].as_array().expect("labs") {
        private.push(l["code"].as_str().expect("a code").to_owned());
        if let Some(a) = l["authorisation_number"].as_str() {
            private.push(a.to_owned());
        }
    }
    for a in fixture["assignments"].as_array().expect("assignments") {
        private.push(a["reason"].as_str().expect("a reason").to_owned());
    }
    for text in [&all.to_string(), &by_trial.to_string(), &page.text] {
        for p in &private {
            assert!(!text.contains(p.as_str()), "{p} appears in a public answer");
        }
        for field in [
            "batch_number",
            "donor_code",
            "patient_code",
            "assigned_by",
            "capacity",
            "gmp_certificate",
        ] {
            assert!(!text.contains(field), "{field} appears in a public answer");
        }
    }
    assert!(page.text.contains("Uso compasivo") && page.text.contains("Exención hospitalaria"));

    // A change of assignment shows within seconds: the condrocitos assignment ends.
    let lucia = api.token(LUCIA).await;
    let assignments = api
        .get("/assignments?product=CONDRO-AUT")
        .token(&lucia)
        .send()
        .await
        .ok(200);
    let id = assignments["items"][0]["id"]
        .as_i64()
        .expect("an assignment id");
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    api.post(&format!("/assignments/{id}/end"))
        .token(&lucia)
        .json(json!({"valid_until": yesterday, "reason": "Fin de la exención hospitalaria"}))
        .send()
        .await
        .ok(200);
    let started = std::time::Instant::now();
    loop {
        let now = api
            .get("/public/v1/therapies?q=condrocitos")
            .send()
            .await
            .ok(200);
        if names(&now).is_empty() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "still listed after 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let page = api.get("/registro?q=condrocitos").send().await;
    assert!(
        page.text.contains("La búsqueda no ha encontrado nada"),
        "{}",
        page.text
    );
    // An empty answer never says that a therapy is not authorised (SPEC §6).
    for claim in [
        "no está autorizad",
        "Ningún laboratorio de la red está autorizado",
    ] {
        assert!(!page.text.contains(claim), "{claim}: {}", page.text);
    }
}

/// Patients search with their own words: conditions (`linfoma`) and keywords (`células madre`,
/// `CAR-T`) kept by the coordination unit find the therapies, ignoring case, accents and
/// hyphens; a coordinator's change of the words is audited and searched at once.
#[both_backends]
async fn patients_find_therapies_by_condition_and_keyword(api: Api) {
    let found = |q: &'static str| {
        let api = api.clone();
        async move { api.get(&format!("/registro?q={q}")).send_page().await.text }
    };
    let lymphoma = found("linfoma").await;
    assert!(
        lymphoma.contains("Linfocitos T autólogos CAR anti-CD19"),
        "{lymphoma}"
    );
    let car_t = found("car%20t").await;
    assert!(
        car_t.contains("anti-CD19") && car_t.contains("anti-BCMA"),
        "{car_t}"
    );
    let stem = found("CELULAS%20MADRE").await;
    assert!(stem.contains("mesenquimales"), "{stem}");

    let lucia = api.token(LUCIA).await;
    let p = api
        .patch("/products/CART-CD19")
        .token(&lucia)
        .json(serde_json::json!({"keywords": ["CAR-T", "terapia génica"]}))
        .send()
        .await
        .ok(200);
    assert_eq!(
        p["keywords"],
        serde_json::json!(["CAR-T", "terapia génica"])
    );
    let therapies = api.get("/public/v1/therapies").send().await.ok(200);
    let cart = therapies["therapies"]
        .as_array()
        .and_then(|t| {
            t.iter()
                .find(|t| t["name"] == "Linfocitos T autólogos CAR anti-CD19")
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(cart["indications"][0], "linfoma", "{cart}");
    assert!(
        matches!(
            api.store.verify_audit_chain().await.expect("verify"),
            traza_store::VerifyReport::Intact { .. }
        ),
        "the change is audited and reconciles"
    );
}
