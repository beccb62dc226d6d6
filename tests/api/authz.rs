//! Role × endpoint: every endpoint of SPEC §3 asked by every role, in and out of laboratory
//! scope, against the role table of SPEC §2 as the oracle. A lab-bound user asking about
//! another laboratory's batch gets 404 (scope leaks nothing); a role that may not act gets 403.

use serde_json::{Value, json};

use crate::support::*;

/// The callers, in the column order of [`MATRIX`].
const CALLERS: [&str; 7] = [ADMIN, LUCIA, ELENA, MARTA, ISABEL, ROCIO, TERESA];

/// `(endpoint, [admin, coordinator, auditor, lab_staff GRA, qa GRA, lab_staff SEV, qa SEV])`.
/// Batches are GRA-UPCIT's. A 409 for QA's release is the rule check answering: the role and
/// scope let her through to the release rules.
const MATRIX: &[(&str, [u16; 7])] = &[
    ("GET /me", [200, 200, 200, 200, 200, 200, 200]),
    ("GET /users", [200, 403, 403, 403, 403, 403, 403]),
    ("POST /users", [201, 403, 403, 403, 403, 403, 403]),
    (
        "PATCH /users/{username}",
        [200, 403, 403, 403, 403, 403, 403],
    ),
    ("GET /labs", [200, 200, 200, 200, 200, 200, 200]),
    ("GET /labs/{code}", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /labs", [403, 201, 403, 403, 403, 403, 403]),
    ("PATCH /labs/{code}", [403, 200, 403, 403, 403, 403, 403]),
    ("GET /products", [200, 200, 200, 200, 200, 200, 200]),
    ("GET /products/{code}", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /products", [403, 201, 403, 403, 403, 403, 403]),
    (
        "PATCH /products/{code}",
        [403, 200, 403, 403, 403, 403, 403],
    ),
    ("GET /assignments", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /assignments", [403, 201, 403, 403, 403, 403, 403]),
    (
        "POST /assignments/{id}/end",
        [403, 200, 403, 403, 403, 403, 403],
    ),
    ("GET /batches", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /batches", [403, 403, 403, 201, 201, 403, 403]),
    ("GET /batches/{number}", [200, 200, 200, 200, 200, 404, 404]),
    (
        "PATCH /batches/{number}",
        [403, 403, 403, 200, 200, 404, 404],
    ),
    (
        "POST /batches/{number}/events",
        [403, 403, 403, 201, 201, 404, 404],
    ),
    (
        "POST /batches/{number}/qc-results",
        [403, 403, 403, 201, 201, 404, 404],
    ),
    (
        "POST /batches/{number}/deviations",
        [403, 403, 403, 201, 201, 404, 404],
    ),
    (
        "POST /batches/{number}/deviations/{id}/close",
        [403, 403, 403, 403, 200, 404, 404],
    ),
    (
        "POST /batches/{number}/complete",
        [403, 403, 403, 200, 200, 404, 404],
    ),
    (
        "POST /batches/{number}/release",
        [403, 403, 403, 403, 409, 404, 404],
    ),
    (
        "POST /batches/{number}/reject",
        [403, 403, 403, 403, 200, 404, 404],
    ),
    (
        "POST /batches/{number}/administrations",
        [403, 403, 403, 403, 201, 404, 404],
    ),
    (
        "GET /batches/{number}/audit",
        [200, 200, 200, 200, 200, 404, 404],
    ),
    (
        "GET /trace/donors/{code}",
        [200, 200, 200, 200, 200, 200, 200],
    ),
    (
        "GET /trace/patients/{code}",
        [200, 200, 200, 200, 200, 200, 200],
    ),
    ("GET /audit", [200, 200, 200, 403, 403, 403, 403]),
    // A file of Granada's history: out of Sevilla's scope, every row is refused (422).
    ("POST /imports/batches", [403, 200, 403, 200, 200, 422, 422]),
    ("GET /imports/{id}", [200, 200, 200, 200, 200, 404, 404]),
    (
        "GET /batches/export.csv",
        [200, 200, 200, 200, 200, 200, 200],
    ),
    // Biovigilance (SPEC §6): QA of the laboratory or a coordinator reports; a coordinator
    // closes; reading follows the batch's scope.
    (
        "POST /batches/{number}/administrations/{id}/reactions",
        [403, 201, 403, 403, 201, 404, 404],
    ),
    ("GET /reactions", [200, 200, 200, 200, 200, 200, 200]),
    ("GET /reactions/{id}", [200, 200, 200, 200, 200, 404, 404]),
    (
        "POST /reactions/{id}/close",
        [403, 200, 403, 403, 403, 403, 403],
    ),
    // A batch's step entries and exceptions (SPEC §8) are read like the batch.
    (
        "GET /batches/{number}/steps",
        [200, 200, 200, 200, 200, 404, 404],
    ),
    (
        "GET /batches/{number}/exceptions",
        [200, 200, 200, 200, 200, 404, 404],
    ),
    // Master batch records (SPEC §8): QA of the laboratory writes them; another QA of it
    // approves (Isabel is the author of every draft here: four eyes); everyone in scope reads.
    ("GET /master-records", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /master-records", [403, 403, 403, 403, 201, 404, 404]),
    (
        "GET /master-records/{id}",
        [200, 200, 200, 200, 200, 404, 404],
    ),
    (
        "PUT /master-records/{id}",
        [403, 403, 403, 403, 200, 403, 404],
    ),
    (
        "POST /master-records/{id}/approve",
        [403, 403, 403, 403, 409, 403, 404],
    ),
    // Materials, lots, equipment and rooms (SPEC §8): the catalogue is the coordinator's; lots
    // are received by staff and QA of the laboratory and disposed by its QA; equipment and
    // rooms are its QA's; everything is read like batches.
    ("GET /materials", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /materials", [403, 201, 403, 403, 403, 403, 403]),
    ("GET /materials/{code}", [200, 200, 200, 200, 200, 200, 200]),
    (
        "PATCH /materials/{code}",
        [403, 200, 403, 403, 403, 403, 403],
    ),
    ("GET /lots", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /lots", [403, 403, 403, 201, 201, 404, 404]),
    ("GET /lots/{lot_id}", [200, 200, 200, 200, 200, 404, 404]),
    (
        "POST /lots/{lot_id}/release",
        [403, 403, 403, 403, 200, 404, 404],
    ),
    (
        "POST /lots/{lot_id}/reject",
        [403, 403, 403, 403, 200, 404, 404],
    ),
    ("GET /equipment", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /equipment", [403, 403, 403, 403, 201, 404, 404]),
    (
        "PATCH /equipment/{lab_code}/{id}",
        [403, 403, 403, 403, 200, 404, 404],
    ),
    ("GET /rooms", [200, 200, 200, 200, 200, 200, 200]),
    ("POST /rooms", [403, 403, 403, 403, 201, 404, 404]),
];

/// Shared state of one walk: records made once and reused by several cells.
struct Walk {
    seq: u32,
    staff: String,
    /// A released allogeneic batch with doses to spare.
    released: String,
    assignment: Option<i64>,
    /// An import of Granada's history by the coordinator.
    import: i64,
    /// An administration of `released`, and a reaction reported against it.
    administration: i64,
    reaction: i64,
    coordinator: String,
    /// Isabel's token: she drafts the master records.
    qa: String,
    /// A draft master record of GRA-UPCIT.
    mbr: i64,
    /// A lot of GRA-UPCIT, in quarantine.
    lot: String,
}

/// The material of the walk's lots, and a piece of equipment of GRA-UPCIT.
const AUTHZ_MATERIAL: &str = "MED-AUTHZ";
const AUTHZ_EQUIPMENT: &str = "BSC-AUTHZ";

fn mbr_steps(n: u32) -> Value {
    json!([{"code": "siembra", "title": format!("Siembra {n}"), "room_grade": "B",
            "materials": [{"material_code": "MED-ALFA", "quantity": "10", "unit": "ml"}]}])
}

impl Walk {
    /// A fresh lot of GRA-UPCIT in quarantine, received by Marta.
    async fn fresh_lot(&mut self, api: &Api) -> String {
        api.post("/lots")
            .token(&self.staff)
            .json(json!({"lab_code": GRA, "material_code": AUTHZ_MATERIAL,
                         "supplier": "Lonza", "supplier_lot": format!("L-{}", self.next()),
                         "received_on": today(), "expiry_date": days_ahead(90),
                         "quantity_received": "100"}))
            .send()
            .await
            .ok(201)["lot_id"]
            .as_str()
            .expect("a lot id")
            .to_owned()
    }

    /// A fresh draft master record of MSC-AD-ALO at GRA-UPCIT, by Isabel.
    async fn fresh_mbr(&mut self, api: &Api) -> i64 {
        let n = self.next();
        api.post("/master-records")
            .token(&self.qa)
            .json(json!({"product_code": ALLO, "lab_code": GRA, "steps": mbr_steps(n)}))
            .send()
            .await
            .ok(201)["id"]
            .as_i64()
            .expect("a master record id")
    }

    fn reactions_path(&self) -> String {
        format!(
            "/batches/{}/administrations/{}/reactions",
            self.released, self.administration
        )
    }

    fn next(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    /// A fresh MSC-AD-ALO batch at GRA-UPCIT made by Marta; starts spread over past months so
    /// the laboratory's monthly capacity (30) is never reached.
    async fn fresh_batch(&mut self, api: &Api) -> String {
        let n = self.next();
        let start = (today_date() - chrono::Days::new(40 + 3 * u64::from(n))).to_string();
        let b = api
            .create_batch(
                &self.staff,
                allo_batch(&format!("DON-AUTHZ-{n:03}"), &start, 4),
            )
            .await;
        b["batch_number"].as_str().expect("batch_number").to_owned()
    }

    async fn fresh_quarantined(&mut self, api: &Api) -> String {
        let number = self.fresh_batch(api).await;
        api.post(&format!("/batches/{number}/complete"))
            .token(&self.staff)
            .json(json!({"manufacturing_end": today()}))
            .send()
            .await
            .ok(200);
        number
    }
}

fn reaction(n: u32) -> Value {
    json!({"reported_on": today(), "severity": "non_serious", "imputability": "possible",
           "description": format!("Cefalea leve tras la infusión ({n})")})
}

async fn attempt(api: &Api, walk: &mut Walk, endpoint: &str, caller: &str, token: &str) -> u16 {
    let n = walk.next();
    let password = api.password(caller);
    let call = match endpoint {
        "GET /me" => api.get("/me"),
        "GET /users" => api.get("/users"),
        "POST /users" => api.post("/users").json(json!({
            "username": format!("authz.user{n}"), "full_name": "Usuario de prueba",
            "role": "auditor", "labs": [], "password": "clave-de-prueba-larga"
        })),
        "PATCH /users/{username}" => api
            .patch(&format!("/users/{PABLO}"))
            .json(json!({"full_name": format!("Pablo Ortiz Gil {n}")})),
        "GET /labs" => api.get("/labs"),
        "GET /labs/{code}" => api.get(&format!("/labs/{GRA}")),
        "POST /labs" => api.post("/labs").json(json!({
            "code": format!("TST-LAB{n}"), "name": "Laboratorio de pruebas", "city": "Jaén",
            "province": "Jaén", "institution": "Hospital de prueba", "status": "active",
            "training_only": false, "specialisations": ["somatic_cell_therapy"]
        })),
        "PATCH /labs/{code}" => api
            .patch("/labs/COR-IMIBIC")
            .json(json!({"name": format!("IMIBIC, sala blanca {n}")})),
        "GET /products" => api.get("/products"),
        "GET /products/{code}" => api.get(&format!("/products/{SKIN}")),
        "POST /products" => api.post("/products").json(json!({
            "code": format!("TST-PROD{n}"), "name": "Producto de prueba",
            "atmp_class": "somatic_cell_therapy", "origin": "allogeneic",
            "access_routes": ["clinical_trial"], "shelf_life_days": 30, "status": "active",
            "specification": [{"test": "sterility", "kind": "categorical",
                               "expected": "negative", "required": true}]
        })),
        "PATCH /products/{code}" => api
            .patch("/products/LSC-ALO")
            .json(json!({"name": format!("Células madre limbares {n}")})),
        "GET /assignments" => api.get("/assignments"),
        "POST /assignments" => api.post("/assignments").json(json!({
            "product_code": ALLO, "lab_code": "COR-IMIBIC", "access_route": "compassionate_use",
            "valid_from": today(), "reason": "Capacidad adicional"
        })),
        "POST /assignments/{id}/end" => {
            let id = walk
                .assignment
                .expect("the coordinator's assignment was made");
            api.post(&format!("/assignments/{id}/end"))
                .json(json!({"valid_until": days_ahead(30), "reason": "Fin de la necesidad"}))
        }
        "GET /batches" => api.get("/batches"),
        "POST /batches" => {
            let start = (today_date() - chrono::Days::new(400 + u64::from(n))).to_string();
            api.post("/batches")
                .json(allo_batch(&format!("DON-AUTHZ-NEW-{n}"), &start, 1))
        }
        "GET /batches/{number}" => api.get(&format!("/batches/{}", walk.released)),
        "PATCH /batches/{number}" => {
            let number = walk.fresh_batch(api).await;
            api.patch(&format!("/batches/{number}"))
                .if_match(1)
                .json(json!({"volume_ml": "16", "reason": "Volumen corregido tras revisión"}))
        }
        "POST /batches/{number}/events" => {
            let number = walk.fresh_batch(api).await;
            api.post(&format!("/batches/{number}/events"))
                .json(json!({"step": "siembra", "performed_at": minutes_ago(5), "note": null}))
        }
        "POST /batches/{number}/qc-results" => {
            let number = walk.fresh_batch(api).await;
            api.post(&format!("/batches/{number}/qc-results"))
                .json(json!({"test": "sterility", "value": "no_growth"}))
        }
        "POST /batches/{number}/deviations" => {
            let number = walk.fresh_batch(api).await;
            api.post(&format!("/batches/{number}/deviations"))
                .json(json!({"description": "Alarma de presión diferencial", "severity": "minor"}))
        }
        "POST /batches/{number}/deviations/{id}/close" => {
            let number = walk.fresh_batch(api).await;
            let d = api
                .post(&format!("/batches/{number}/deviations"))
                .token(&walk.staff)
                .json(json!({"description": "Alarma de temperatura", "severity": "minor"}))
                .send()
                .await
                .ok(201);
            api.post(&format!("/batches/{number}/deviations/{}/close", d["id"]))
                .json(json!({"resolution": "Sin impacto"}))
        }
        "POST /batches/{number}/complete" => {
            let number = walk.fresh_batch(api).await;
            api.post(&format!("/batches/{number}/complete"))
                .json(json!({"manufacturing_end": today()}))
        }
        "POST /batches/{number}/release" => {
            let number = walk.fresh_quarantined(api).await;
            api.post(&format!("/batches/{number}/release"))
                .json(json!({"password": password, "meaning": "qp_certified"}))
        }
        "POST /batches/{number}/reject" => {
            let number = walk.fresh_quarantined(api).await;
            api.post(&format!("/batches/{number}/reject"))
                .json(json!({"password": password, "reason": "Contaminación en el control"}))
        }
        "POST /batches/{number}/administrations" => api
            .post(&format!("/batches/{}/administrations", walk.released))
            .json(
                json!({"patient_code": format!("PAC-AUTHZ-{n}"), "administered_on": today(),
                          "hospital": "Hospital Universitario Virgen de las Nieves"}),
            ),
        "GET /batches/{number}/audit" => api.get(&format!("/batches/{}/audit", walk.released)),
        "GET /trace/donors/{code}" => api.get("/trace/donors/DON-AUTHZ-REL"),
        "GET /trace/patients/{code}" => api.get("/trace/patients/PAC-AUTHZ-1"),
        "GET /audit" => api.get("/audit"),
        "POST /imports/batches" => api.post("/imports/batches").raw(
            Some("text/csv"),
            format!(
                "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,status,access_route\n\
                 GRA-UPCIT-2016-{n:05},MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-HIST-{n},2016-05-02,rejected,compassionate_use\n"
            ),
        ),
        "GET /imports/{id}" => api.get(&format!("/imports/{}", walk.import)),
        "GET /batches/export.csv" => api.get("/batches/export.csv"),
        "POST /batches/{number}/administrations/{id}/reactions" => api
            .post(&walk.reactions_path())
            .json(reaction(n)),
        "GET /reactions" => api.get("/reactions?status=open"),
        "GET /reactions/{id}" => api.get(&format!("/reactions/{}", walk.reaction)),
        "POST /reactions/{id}/close" => {
            // A fresh open report each time: a closed one may not be closed again.
            let r = api
                .post(&walk.reactions_path())
                .token(&walk.coordinator)
                .json(reaction(n))
                .send()
                .await
                .ok(201);
            api.post(&format!("/reactions/{}/close", r["id"]))
                .json(json!({"conclusion": "Sin relación causal con el producto"}))
        }
        "GET /batches/{number}/steps" => api.get(&format!("/batches/{}/steps", walk.released)),
        "GET /batches/{number}/exceptions" => {
            api.get(&format!("/batches/{}/exceptions", walk.released))
        }
        "GET /master-records" => api.get("/master-records"),
        "POST /master-records" => api.post("/master-records").json(
            json!({"product_code": ALLO, "lab_code": GRA, "steps": mbr_steps(n)}),
        ),
        "GET /master-records/{id}" => api.get(&format!("/master-records/{}", walk.mbr)),
        "PUT /master-records/{id}" => {
            let id = walk.fresh_mbr(api).await;
            api.req(axum::http::Method::PUT, &format!("/master-records/{id}"))
                .json(json!({"steps": mbr_steps(n)}))
        }
        "POST /master-records/{id}/approve" => {
            let id = walk.fresh_mbr(api).await;
            api.post(&format!("/master-records/{id}/approve"))
                .json(json!({"password": password,
                             "effective_from": traza_domain::clock::lab_date(chrono::Utc::now())}))
        }
        "GET /materials" => api.get("/materials"),
        "POST /materials" => api.post("/materials").json(json!({
            "code": format!("TST-MAT{n}"), "name": "Material de prueba", "kind": "reagent",
            "unit": "mL"
        })),
        "GET /materials/{code}" => api.get(&format!("/materials/{AUTHZ_MATERIAL}")),
        "PATCH /materials/{code}" => api
            .patch(&format!("/materials/{AUTHZ_MATERIAL}"))
            .json(json!({"name": format!("Medio de prueba {n}")})),
        "GET /lots" => api.get("/lots"),
        "POST /lots" => api.post("/lots").json(json!({
            "lab_code": GRA, "material_code": AUTHZ_MATERIAL, "supplier": "Lonza",
            "supplier_lot": format!("L-{n}"), "received_on": today(),
            "expiry_date": days_ahead(90), "quantity_received": "10"
        })),
        "GET /lots/{lot_id}" => api.get(&format!("/lots/{}", walk.lot)),
        "POST /lots/{lot_id}/release" => {
            let lot = walk.fresh_lot(api).await;
            api.post(&format!("/lots/{lot}/release"))
                .json(json!({"password": password}))
        }
        "POST /lots/{lot_id}/reject" => {
            let lot = walk.fresh_lot(api).await;
            api.post(&format!("/lots/{lot}/reject"))
                .json(json!({"password": password, "reason": "Certificado no conforme"}))
        }
        "GET /equipment" => api.get("/equipment"),
        "POST /equipment" => api.post("/equipment").json(json!({
            "lab_code": GRA, "id": format!("EQ-{n}"), "class": "incubator",
            "calibration_due": days_ahead(90)
        })),
        "PATCH /equipment/{lab_code}/{id}" => api
            .patch(&format!("/equipment/{GRA}/{AUTHZ_EQUIPMENT}"))
            .json(json!({"calibration_due": days_ahead(100 + u64::from(n))})),
        "GET /rooms" => api.get("/rooms"),
        "POST /rooms" => api.post("/rooms").json(json!({
            "lab_code": GRA, "id": format!("SB-{n}"), "grade": "B"
        })),
        other => panic!("no request for {other}"),
    };
    let resp = call.token(token).send().await;
    if endpoint == "POST /assignments" && resp.status.as_u16() == 201 {
        walk.assignment = resp.body["id"].as_i64();
    }
    if endpoint == "GET /trace/donors/{code}" && resp.status.as_u16() == 200 {
        let seen = resp.body["batches"].as_array().map_or(0, Vec::len);
        let in_scope = ![ROCIO, TERESA].contains(&caller);
        assert_eq!(
            seen,
            usize::from(in_scope),
            "{caller} traces the donor: {}",
            resp.text
        );
    }
    resp.status.as_u16()
}

#[both_backends]
async fn every_role_on_every_endpoint(api: Api) {
    let staff = api.token(MARTA).await;
    let qa = api.second_gra_qa().await;
    // A released batch: made and tested by Marta, certified by Carmen (four eyes), so that
    // Isabel, who touched nothing, may administer it.
    let released = api
        .released_batch(
            MARTA,
            CARMEN,
            ALLO,
            allo_batch("DON-AUTHZ-REL", &days_ago(20), 10),
        )
        .await;
    let import = api
            .post("/imports/batches")
            .token(&api.token(LUCIA).await)
            .raw(
                Some("text/csv"),
                "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,status,access_route\n\
                 GRA-UPCIT-2015-00001,MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-HIST-0,2015-10-02,rejected,compassionate_use\n",
            )
            .send()
            .await
            .ok(200)["import_id"]
            .as_i64()
            .expect("an import id");
    let administration = api
        .post(&format!("/batches/{released}/administrations"))
        .token(&qa)
        .json(
            json!({"patient_code": "PAC-AUTHZ-0", "administered_on": today(),
                         "hospital": "Hospital Universitario Virgen de las Nieves"}),
        )
        .send()
        .await
        .ok(201)["id"]
        .as_i64()
        .expect("an administration id");
    let coordinator = api.token(LUCIA).await;
    let reaction = api
        .post(&format!(
            "/batches/{released}/administrations/{administration}/reactions"
        ))
        .token(&coordinator)
        .json(reaction(0))
        .send()
        .await
        .ok(201)["id"]
        .as_i64()
        .expect("a reaction id");
    let isabel = api.token(ISABEL).await;
    let mut walk = Walk {
        seq: 0,
        staff,
        released,
        assignment: None,
        import,
        administration,
        reaction,
        coordinator,
        qa: isabel,
        mbr: 0,
        lot: String::new(),
    };
    walk.mbr = walk.fresh_mbr(&api).await;
    api.post("/materials")
        .token(&walk.coordinator)
        .json(
            json!({"code": AUTHZ_MATERIAL, "name": "Medio de prueba", "kind": "medium",
                     "unit": "mL"}),
        )
        .send()
        .await
        .ok(201);
    api.post("/equipment")
        .token(&walk.qa)
        .json(
            json!({"lab_code": GRA, "id": AUTHZ_EQUIPMENT, "class": "biosafety_cabinet",
                     "calibration_due": days_ahead(90)}),
        )
        .send()
        .await
        .ok(201);
    walk.lot = walk.fresh_lot(&api).await;

    let mut tokens = Vec::new();
    for caller in CALLERS {
        tokens.push(api.token(caller).await);
    }
    let mut wrong: Vec<String> = Vec::new();
    let mut cells = 0;
    for (endpoint, expected) in MATRIX {
        for (i, caller) in CALLERS.iter().enumerate() {
            let got = attempt(&api, &mut walk, endpoint, caller, &tokens[i]).await;
            cells += 1;
            if got != expected[i] {
                wrong.push(format!(
                    "{endpoint} as {caller}: expected {}, got {got}",
                    expected[i]
                ));
            }
        }
    }
    // Without a token, every /api/v1 route but login and the document answers 401.
    for (endpoint, _) in MATRIX {
        let (method, path) = endpoint.split_once(' ').expect("METHOD /path");
        let path = path
            .replace("{username}", PABLO)
            .replace("{code}", GRA)
            .replace("{number}", &walk.released)
            .replace("{lot_id}", "GRA-UPCIT-L2026-0001")
            .replace("{lab_code}", GRA)
            .replace("{id}", "1");
        let method = axum::http::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = api
            .req(method, &path)
            .json(Value::Object(Default::default()))
            .send()
            .await;
        cells += 1;
        if resp.status.as_u16() != 401 {
            wrong.push(format!(
                "{endpoint} without a token: expected 401, got {}",
                resp.status
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells disagree with SPEC §2:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(cells, MATRIX.len() * (CALLERS.len() + 1));
}
