//! The coordination unit's network: laboratories, products with versioned specifications,
//! assignments and their refusals.

use serde_json::json;

use crate::support::*;

#[both_backends]
async fn labs_products_and_assignments(api: Api) {
    let lucia = api.token(LUCIA).await;

    // A new laboratory; its code is unique.
    let lab = json!({
        "code": "JAE-HUJ", "name": "Unidad de Terapia Celular del H. U. de Jaén",
        "city": "Jaén", "province": "Jaén", "institution": "Servicio Andaluz de Salud",
        "authorisation_number": "AEMPS-LAB-2026-031",
        "gmp_certificate_valid_until": days_ahead(700), "status": "active",
        "training_only": false, "specialisations": ["somatic_cell_therapy"],
        "capacity_per_month": 4
    });
    let created = api
        .post("/labs")
        .token(&lucia)
        .json(lab.clone())
        .send()
        .await
        .ok(201);
    assert_eq!(created["code"], "JAE-HUJ");
    assert_eq!(created["capacity_per_month"], 4);
    api.post("/labs")
        .token(&lucia)
        .json(lab)
        .send()
        .await
        .err(409, "duplicate");
    let bad = api
        .post("/labs")
        .token(&lucia)
        .json(
            json!({"code": "jaén lab", "name": "", "city": "Jaén", "province": "Jaén",
                          "institution": "SAS", "status": "active", "training_only": false,
                          "specialisations": []}),
        )
        .send()
        .await
        .err(422, "validation_failed");
    assert!(fields(&bad).contains(&"code".to_owned()), "{bad:?}");
    api.get("/labs/NO-EXISTE")
        .token(&lucia)
        .send()
        .await
        .err(404, "not_found");

    // Products: a new specification version when the specification changes; results keep
    // the version they were judged against (checked in the stories).
    let p = api
        .get(&format!("/products/{ALLO}"))
        .token(&lucia)
        .send()
        .await
        .ok(200);
    let v1 = p["spec_version"].as_i64().expect("spec_version");
    let mut spec = p["specification"].as_array().expect("spec").clone();
    spec.push(
        json!({"test": "hla_dr", "unit": "%", "kind": "numeric", "max": "5", "required": false}),
    );
    let p2 = api
        .patch(&format!("/products/{ALLO}"))
        .token(&lucia)
        .json(json!({"specification": spec}))
        .send()
        .await
        .ok(200);
    assert_eq!(p2["spec_version"].as_i64(), Some(v1 + 1), "{p2}");
    api.post("/products")
        .token(&lucia)
        .json(
            json!({"code": ALLO, "name": "Otra", "atmp_class": "somatic_cell_therapy",
                          "origin": "allogeneic", "access_routes": ["clinical_trial"],
                          "shelf_life_days": 10, "status": "active", "specification": []}),
        )
        .send()
        .await
        .err(409, "duplicate");

    // An assignment the lab is eligible for.
    let a = api
            .post("/assignments")
            .token(&lucia)
            .json(json!({"product_code": ALLO, "lab_code": "JAE-HUJ",
                          "access_route": "compassionate_use", "authorisation_ref": "AEMPS/UC/2026/0301",
                          "valid_from": today(), "reason": "Nuevo centro de uso compasivo"}))
            .send()
            .await
            .ok(201);
    let id = a["id"].as_i64().expect("an assignment id");
    assert_eq!(a["assigned_by"], LUCIA);

    // The same product, lab and route again, overlapping: refused with the reason.
    let overlap = api
        .post("/assignments")
        .token(&lucia)
        .json(json!({"product_code": ALLO, "lab_code": "JAE-HUJ",
                          "access_route": "compassionate_use", "valid_from": days_ahead(10),
                          "reason": "Duplicada"}))
        .send()
        .await
        .err(409, "lab_not_eligible");
    assert_eq!(rules(&overlap), ["overlapping_assignment"]);

    // Every reason at once: a training-only lab without the class, for a route the
    // product does not offer.
    let many = api
        .post("/assignments")
        .token(&lucia)
        .json(json!({"product_code": CART, "lab_code": "GRA-CMAT",
                          "access_route": "hospital_exemption", "valid_from": today(),
                          "reason": "Prueba"}))
        .send()
        .await
        .err(409, "lab_not_eligible");
    let got = rules(&many);
    for rule in [
        "lab_training_only",
        "missing_specialisation",
        "route_not_offered",
    ] {
        assert!(
            got.contains(&rule.to_owned()),
            "{rule} missing from {got:?}"
        );
    }
    // An expired GMP certificate; a withdrawn product; a suspended laboratory.
    let expired = api
            .post("/assignments")
            .token(&lucia)
            .json(json!({"product_code": ALLO, "lab_code": "SEV-HUVM", "access_route": "clinical_trial",
                          "authorisation_ref": ALLO_TRIAL, "valid_from": today(), "reason": "Prueba"}))
            .send()
            .await
            .err(409, "lab_not_eligible");
    assert_eq!(rules(&expired), ["gmp_certificate_expired"]);
    let withdrawn = api
        .post("/assignments")
        .token(&lucia)
        .json(json!({"product_code": "DERMIS-ART", "lab_code": "GRA-HCSC",
                          "access_route": "hospital_exemption", "valid_from": today(),
                          "reason": "Prueba"}))
        .send()
        .await
        .err(409, "lab_not_eligible");
    let got = rules(&withdrawn);
    assert!(
        got.contains(&"product_withdrawn".to_owned()) && got.contains(&"lab_suspended".to_owned()),
        "{got:?}"
    );

    // Ending keeps the record: still listed, with its end date and reason.
    let ended = api
        .post(&format!("/assignments/{id}/end"))
        .token(&lucia)
        .json(json!({"valid_until": days_ahead(60), "reason": "Fin del programa"}))
        .send()
        .await
        .ok(200);
    assert_eq!(ended["valid_until"], days_ahead(60));
    let list = api.get("/assignments").token(&lucia).send().await.ok(200);
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|x| x["id"] == json!(id)),
        "an ended assignment is never deleted"
    );
    api.post("/assignments/999999/end")
        .token(&lucia)
        .json(json!({"valid_until": today(), "reason": "x"}))
        .send()
        .await
        .err(404, "not_found");

    // Each change is in the trail.
    let trail = api
        .get("/audit?entity_type=assignment")
        .token(&lucia)
        .send()
        .await
        .ok(200);
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["entity_key"] == json!(id.to_string()))
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions.len(),
        2,
        "create and end of assignment {id}: {trail}"
    );
}
