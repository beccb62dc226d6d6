//! Historical CSV import and export over HTTP (SPEC §4), on both databases.

use serde_json::{Value, json};

use crate::support::*;

const SAMPLE: &[u8] = include_bytes!("../../fixtures/history/lotes-historicos-cp1252.csv");
const PLANTED: &[u8] = include_bytes!("../../fixtures/history/lotes-con-errores.csv");

async fn import(api: &Api, token: &str, query: &str, body: impl Into<Vec<u8>>) -> Resp {
    api.post(&format!("/imports/batches{query}"))
        .token(token)
        .raw(Some("text/csv"), body)
        .send()
        .await
}

fn codes(details: &[Value]) -> Vec<(u64, String)> {
    details
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[both_backends]
async fn a_spanish_excel_file_imports_once_and_exports_back(api: Api) {
    let lucia = api.token(LUCIA).await;

    // A dry run writes nothing but says what would happen.
    let dry = import(&api, &lucia, "?dry_run=true&filename=lotes.csv", SAMPLE)
        .await
        .ok(200);
    assert_eq!(
        (dry["rows"].as_u64(), dry["created"].as_u64()),
        (Some(5), Some(5)),
        "{dry}"
    );
    assert_eq!(dry["import_id"], Value::Null);
    assert_eq!(dry["encoding"], "windows-1252");
    let listed = api
        .get("/batches?lab=GRA-UPCIT")
        .token(&lucia)
        .send()
        .await
        .ok(200);
    assert_eq!(listed["items"], json!([]), "a dry run wrote nothing");

    // The real thing.
    let done = import(&api, &lucia, "?filename=lotes.csv", SAMPLE)
        .await
        .ok(200);
    assert_eq!(
        (done["created"].as_u64(), done["unchanged"].as_u64()),
        (Some(5), Some(0))
    );
    let id = done["import_id"].as_i64().expect("an import id");
    let (b, _) = api.batch(&lucia, "SEV-UPRC-2021-00044").await;
    assert_eq!(b["source"], "import");
    assert_eq!(b["import_id"], json!(id));
    assert_eq!(b["import_line"], 5);
    assert_eq!(b["cell_count"], "2500000");
    assert_eq!(
        b["notes"],
        "Paciente de Sevilla;\nsegunda línea de texto en la nota"
    );
    let (b, _) = api.batch(&lucia, "GRA-UPCIT-2018-00003").await;
    assert_eq!(
        (b["cell_count"].as_str(), b["viability_percent"].as_str()),
        (Some("125000000"), Some("94.1"))
    );
    assert_eq!(b["status"], "released");
    assert_eq!(b["released_by"], "Dra. Isabel Morales Vílchez");

    // The import's record and its one audit event.
    let rec = api
        .get(&format!("/imports/{id}"))
        .token(&lucia)
        .send()
        .await
        .ok(200);
    assert_eq!(rec["file_name"], "lotes.csv");
    assert_eq!(rec["created"], 5);
    assert_eq!(rec["sha256"], done["sha256"]);
    assert_eq!(
        (rec["delimiter"].as_str(), done["delimiter"].as_str()),
        (Some(";"), Some(";"))
    );
    let trail = api
        .get(&format!("/audit?entity_type=import&entity_key={id}"))
        .token(&lucia)
        .send()
        .await
        .ok(200);
    let events = trail["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{trail}");
    assert_eq!(events[0]["action"], "import.batches");
    assert_eq!(events[0]["after"]["sha256"], done["sha256"]);
    assert_eq!(events[0]["actor"], LUCIA);

    // The same file again creates nothing.
    let again = import(&api, &lucia, "", SAMPLE).await.ok(200);
    assert_eq!(
        (again["created"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(5))
    );

    // Export, import into an empty database, export again: the same bytes. (The second
    // database is this one's twin: another backend's run makes its own.)
    let export = api.get("/batches/export.csv").token(&lucia).send().await;
    assert_eq!(export.status.as_u16(), 200);
    assert!(
        export
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let exported = export.text.clone();
    // Compressed, the stream must end cleanly too (schemathesis found it did not).
    let gz = api
        .get("/batches/export.csv")
        .token(&lucia)
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(gz.status.as_u16(), 200);
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        exported.lines().count(),
        7,
        "header, five batches, one note with a line break"
    );
    assert!(exported.starts_with("batch_number,product_code,lab_code,origin,donor_code,"));

    // Filters and scope apply to the export: Marta sees only Granada.
    let marta = api.token(MARTA).await;
    let mine = api
        .get("/batches/export.csv")
        .token(&marta)
        .send()
        .await
        .text;
    assert_eq!(mine.lines().count(), 4, "{mine}");
    assert!(mine.lines().skip(1).all(|l| l.starts_with("GRA-UPCIT-")));
    let released = api
        .get("/batches/export.csv?status=released")
        .token(&lucia)
        .send()
        .await
        .text;
    assert_eq!(released.lines().count(), 2);

    let fresh = api.fresh_twin().await;
    let twin_lucia = fresh.token(LUCIA).await;
    import(
        &fresh,
        &twin_lucia,
        "?filename=export.csv",
        exported.clone(),
    )
    .await
    .ok(200);
    let twice = fresh
        .get("/batches/export.csv")
        .token(&twin_lucia)
        .send()
        .await
        .text;
    assert_eq!(
        twice, exported,
        "export → import → export must give the same bytes"
    );
    fresh.close().await;

    let report = api.store.verify_audit_chain().await.expect("verify");
    assert!(
        matches!(report, traza_store::VerifyReport::Intact { .. }),
        "{report:?}"
    );
}

#[both_backends]
async fn a_file_with_any_error_writes_nothing_and_names_every_line(api: Api) {
    let lucia = api.token(LUCIA).await;
    import(&api, &lucia, "", SAMPLE).await.ok(200);
    let header = "batch_number,product_code,lab_code,origin,donor_code,patient_code,manufacturing_start,manufacturing_end,status,viability_percent,released_by,release_date,access_route,trial_id,notes";
    let file = [
            header,
            // 2: fine, new
            "GRA-UPCIT-2019-00001,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999919000001,,2019-05-02,2019-05-20,quarantine,95,,,clinical_trial,2015-001726-39,\"nota con \"\"comillas\"\", comas\ny saltos\"",
            // 4 (the note above spans two lines): the same number again
            "GRA-UPCIT-2019-00001,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999919000001,,2019-05-02,2019-05-20,quarantine,95,,,clinical_trial,2015-001726-39,",
            // 5: autologous with another patient; viability out of range
            "GRA-UPCIT-2019-00002,UGRSKIN,GRA-UPCIT,autologous,P-1,P-2,2019-06-01,2019-06-20,quarantine,140,,,clinical_trial,2015-003421-27,",
            // 6: released without who and when
            "GRA-UPCIT-2019-00003,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999919000003,,2019-07-01,2019-07-20,released,90,,,clinical_trial,2015-001726-39,",
            // 7: stored already, with another viability
            "GRA-UPCIT-2017-00012,UGRSKIN,GRA-UPCIT,autologous,G123417654321,G123417654321,2017-03-03,2017-03-24,administered,91,Dra. Isabel Morales Vílchez,2017-03-24,clinical_trial,2015-003421-27,",
            // 8: unknown product; origin not the product's
            "GRA-UPCIT-2019-00004,NO-EXISTE,GRA-UPCIT,allogeneic,A999919000004,,2019-08-01,,in_production,,,,clinical_trial,2015-001726-39,",
            "GRA-UPCIT-2019-00005,CART-CD19,SEV-UPRC,allogeneic,A999919000005,,2019-08-01,,in_production,,,,clinical_trial,2019-001472-33,",
            // 10: dates in the wrong order, month-first date
            "GRA-UPCIT-2019-00006,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999919000006,,2019-09-20,2019-09-01,quarantine,,,,clinical_trial,2015-001726-39,",
            "GRA-UPCIT-2019-00007,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999919000007,,09/25/2019,,in_production,,,,clinical_trial,2015-001726-39,",
        ]
        .join("\r\n");
    let details = import(&api, &lucia, "", file.clone())
        .await
        .err(422, "import_rejected");
    let got = codes(&details);
    for want in [
        (4, "duplicate_in_file"),
        (5, "chain_of_identity"),
        (5, "invalid_value"),
        (6, "missing_value"),
        (7, "conflicts_with_stored"),
        (8, "unknown_product"),
        (9, "origin_mismatch"),
        // …and its number has the form of GRA-UPCIT's, not of SEV-UPRC's.
        (9, "foreign_batch_number"),
        (10, "invalid_value"),
        (11, "invalid_value"),
    ] {
        assert!(
            got.contains(&(want.0, want.1.to_owned())),
            "{want:?} missing from {got:?}"
        );
    }
    let dup = details
        .iter()
        .find(|d| d["code"] == "duplicate_in_file")
        .unwrap();
    assert!(dup["message"].as_str().unwrap().contains("line 2"), "{dup}");
    let conflict = details
        .iter()
        .find(|d| d["code"] == "conflicts_with_stored")
        .unwrap();
    assert!(
        conflict["message"]
            .as_str()
            .unwrap()
            .contains("viability_percent"),
        "{conflict}"
    );
    // Nothing of it was written, not even the good row on line 2.
    api.get("/batches/GRA-UPCIT-2019-00001")
        .token(&lucia)
        .send()
        .await
        .err(404, "not_found");

    // The fixture with planted errors: each at its exact line and column, the good row
    // on line 2 not written either.
    let details = import(&api, &lucia, "?filename=lotes-con-errores.csv", PLANTED)
        .await
        .err(422, "import_rejected");
    let got: Vec<(u64, String, String)> = details
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_str().unwrap_or("").to_owned(),
                d["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want = [
        (3, "batch_number", "duplicate_in_file"),
        (4, "patient_code", "chain_of_identity"),
        (5, "viability_percent", "invalid_value"),
        (6, "released_by", "missing_value"),
        (6, "release_date", "missing_value"),
        (7, "product_code", "unknown_product"),
        (8, "manufacturing_start", "invalid_value"),
        (9, "donor_code", "invalid_value"),
        (10, "manufacturing_end", "invalid_value"),
    ]
    .map(|(l, c, k)| (l, c.to_owned(), k.to_owned()));
    assert_eq!(got, want);
    api.get("/batches/GRA-UPCIT-2019-00101")
        .token(&lucia)
        .send()
        .await
        .err(404, "not_found");

    // A header with an unknown column and without required ones: reported once, line 1.
    let details = import(&api, &lucia, "", "lote,product_code,lab_code\nX,Y,Z\n")
        .await
        .err(422, "import_rejected");
    let got = codes(&details);
    assert!(got.iter().all(|(line, _)| *line == 1), "{got:?}");
    assert!(got.contains(&(1, "unknown_column".to_owned())), "{got:?}");
    assert!(got.contains(&(1, "missing_column".to_owned())), "{got:?}");

    // History predates Traza: no assignment is a warning, not an error.
    let old = format!(
        "{header}\nGRA-UPCIT-2009-00001,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999909000001,,2009-05-02,,in_production,,,,clinical_trial,2015-001726-39,\n"
    );
    let ok = import(&api, &lucia, "", old).await.ok(200);
    assert_eq!(ok["warnings"][0]["code"], "no_assignment", "{ok}");
    assert_eq!(ok["created"], 1);

    // Lab scope: Marta may import Granada's history only.
    let marta = api.token(MARTA).await;
    let sev = format!(
        "{header}\nSEV-UPRC-2019-00001,CART-CD19,SEV-UPRC,autologous,S-1,S-1,2019-10-15,,in_production,,,,clinical_trial,2019-001472-33,\n"
    );
    let d = import(&api, &marta, "", sev)
        .await
        .err(422, "import_rejected");
    assert_eq!(codes(&d), [(2, "out_of_scope".to_owned())]);
    // An auditor may not import at all; a wrong content type is refused.
    let elena = api.token(ELENA).await;
    import(&api, &elena, "", SAMPLE).await.err(403, "forbidden");
    api.post("/imports/batches")
        .token(&lucia)
        .raw(Some("application/json"), "{}")
        .send()
        .await
        .err(415, "unsupported_media_type");
    import(&api, &lucia, "?encoding=ebcdic", SAMPLE)
        .await
        .err(422, "validation_failed");
    import(&api, &lucia, "", "")
        .await
        .err(422, "import_rejected");

    let report = api.store.verify_audit_chain().await.expect("verify");
    assert!(
        matches!(report, traza_store::VerifyReport::Intact { .. }),
        "{report:?}"
    );
}

/// `rows` valid rows of allogeneic history at Granada, then `tail` appended as is.
fn generated(rows: usize, tail: &str) -> String {
    let mut s = String::from(
        "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,manufacturing_end,status,access_route,trial_id,viability_percent,notes\n",
    );
    for i in 0..rows {
        let year = 2016 + (i / 90_000);
        s.push_str(&format!(
            "GRA-UPCIT-{year}-{:05},MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-GEN-{i:06},{year}-03-01,{year}-03-20,rejected,clinical_trial,2015-001726-39,9{},\"nota {i}, con coma\"\n",
            i % 90_000 + 1,
            i % 10
        ));
    }
    s.push_str(tail);
    s
}

#[both_backends]
async fn one_bad_row_at_the_end_or_an_import_cut_off_midway_leaves_nothing(api: Api) {
    let lucia = api.token(LUCIA).await;
    let elena = api.token(ELENA).await;
    let count = |api: Api, token: String| async move {
        let csv = api
            .get("/batches/export.csv")
            .token(&token)
            .send()
            .await
            .text;
        csv.lines().count() - 1
    };

    // 5,000 good rows and one bad one at the very end: nothing is written.
    let bad_tail = "GRA-UPCIT-2025-00001,MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-X,2025-01-01,,in_production,clinical_trial,2015-001726-39,noventa,\n";
    let d = import(&api, &lucia, "", generated(5_000, bad_tail))
        .await
        .err(422, "import_rejected");
    assert_eq!(
        codes(&d),
        [(5_002, "invalid_value".to_owned())],
        "a viability in words"
    );
    assert_eq!(count(api.clone(), elena.clone()).await, 0);

    // An import aborted midway (the task dropped with its transaction): nothing remains,
    // the chain is whole, and the same file then imports.
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("grande.csv");
    std::fs::write(&path, generated(60_000, "")).expect("write the file");
    let actor = api.store.actor(LUCIA).await.expect("lucia");
    let request = traza_store::ImportRequest {
        path: path.clone(),
        file_name: "grande.csv".into(),
        dry_run: false,
        encoding: None,
    };
    let (store, a, r) = (api.store.clone(), actor.clone(), request.clone());
    let running = tokio::spawn(async move { store.import_batches(&a, r, None).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    running.abort();
    assert!(
        running.await.is_err_and(|e| e.is_cancelled()),
        "the import was still running when cut off"
    );
    assert_eq!(count(api.clone(), elena.clone()).await, 0);
    let report = api.store.verify_audit_chain().await.expect("verify");
    assert!(
        matches!(report, traza_store::VerifyReport::Intact { .. }),
        "{report:?}"
    );
    let done = api
        .store
        .import_batches(&actor, request, None)
        .await
        .expect("the import");
    assert!(done.accepted(), "{:?}", done.errors);
    assert_eq!(
        (done.created, done.unchanged, done.rows),
        (60_000, 0, 60_000)
    );
    assert_eq!(count(api.clone(), elena.clone()).await, 60_000);
}

/// Files larger than one chunk (2,000 rows), where a repeated or stored number turns up only
/// after the first chunk: on PostgreSQL the rest of such a file streams through one `COPY`,
/// the unique index stops it, and the import starts again looking every chunk up. The
/// answers must be those of a file looked up from the start.
#[both_backends]
async fn numbers_repeated_or_stored_beyond_the_first_chunk(api: Api) {
    let lucia = api.token(LUCIA).await;
    let elena = api.token(ELENA).await;
    let full = generated(6_000, "");
    let lines: Vec<&str> = full.lines().collect();

    // A repeat of line 3,002 (row 3,000) at the end, line 6,002.
    let repeated = format!("{full}{}\n", lines[3_001]);
    let d = import(&api, &lucia, "", repeated)
        .await
        .err(422, "import_rejected");
    assert_eq!(codes(&d), [(6_002, "duplicate_in_file".to_owned())]);
    assert!(
        d[0]["message"].as_str().unwrap_or("").contains("line 3002"),
        "{d:?}"
    );
    let csv = api
        .get("/batches/export.csv")
        .token(&elena)
        .send()
        .await
        .text;
    assert_eq!(csv.lines().count(), 1, "nothing written");

    // Rows 2,500..3,000 stored first; then the whole file: its first chunk is new, its
    // third holds the stored rows.
    let part = format!("{}\n{}\n", lines[0], lines[2_501..3_001].join("\n"));
    let r = import(&api, &lucia, "", part).await.ok(200);
    assert_eq!(
        (r["created"].as_u64(), r["unchanged"].as_u64()),
        (Some(500), Some(0))
    );
    let r = import(&api, &lucia, "?dry_run=true", full.clone())
        .await
        .ok(200);
    assert_eq!(
        (r["created"].as_u64(), r["unchanged"].as_u64()),
        (Some(5_500), Some(500))
    );
    let r = import(&api, &lucia, "", full.clone()).await.ok(200);
    assert_eq!(
        (r["created"].as_u64(), r["unchanged"].as_u64()),
        (Some(5_500), Some(500))
    );
    assert_eq!(r["rows"].as_u64(), Some(6_000));
    let csv = api
        .get("/batches/export.csv")
        .token(&elena)
        .send()
        .await
        .text;
    assert_eq!(csv.lines().count(), 6_001);

    // Again: every row unchanged.
    let r = import(&api, &lucia, "", full).await.ok(200);
    assert_eq!(
        (r["created"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(6_000))
    );
    let report = api.store.verify_audit_chain().await.expect("verify");
    assert!(
        matches!(report, traza_store::VerifyReport::Intact { .. }),
        "{report:?}"
    );
}

/// A `multipart/form-data` body with `parts` (name, file name, bytes).
fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "traza-test-boundary-7d1c";
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = file_name
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Generated clients upload a file as a form: the import takes the part named `file`, records
/// its file name, and refuses a form without it; the rules are the same as for a raw body.
#[both_backends]
async fn a_file_uploaded_as_a_multipart_form_imports_like_a_raw_body(api: Api) {
    let lucia = api.token(LUCIA).await;
    let (content_type, body) = form(&[
        ("note", None, b"ignored"),
        ("file", Some("lotes-2019.csv"), SAMPLE),
    ]);
    let report = api
        .post("/imports/batches?dry_run=true")
        .token(&lucia)
        .raw(Some(&content_type), body.clone())
        .send()
        .await
        .ok(200);
    assert_eq!(report["file_name"], "lotes-2019.csv", "{report}");
    assert_eq!(
        (&report["dry_run"], &report["import_id"]),
        (&json!(true), &Value::Null),
        "a dry run stores nothing: {report}"
    );
    let imported = api
        .post("/imports/batches")
        .token(&lucia)
        .raw(Some(&content_type), body)
        .send()
        .await
        .ok(200);
    assert_eq!(imported["created"], report["created"], "{imported}");
    assert!(imported["import_id"].as_i64().is_some(), "{imported}");

    let (content_type, body) = form(&[("fichero", Some("x.csv"), SAMPLE)]);
    let refused = api
        .post("/imports/batches")
        .token(&lucia)
        .raw(Some(&content_type), body)
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&refused), ["file"]);

    // The role is checked before anything is read, as for a raw body.
    let elena = api.token(ELENA).await;
    let (content_type, body) = form(&[("file", Some("x.csv"), SAMPLE)]);
    api.post("/imports/batches")
        .token(&elena)
        .raw(Some(&content_type), body)
        .send()
        .await
        .err(403, "forbidden");
}
