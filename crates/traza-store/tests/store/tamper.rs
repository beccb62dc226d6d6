//! The tamper matrix: rows of the GMP tables edited, inserted and deleted by SQL on the
//! database file (behind the application's back), each caught by `audit verify`, which names
//! the table, the key and the column — on SQLite and PostgreSQL.

use traza_domain::vigilance::{Imputability, ReactionSeverity};
use traza_domain::vocab::DeviationSeverity;
use traza_store::{NewReaction, VerifyReport};

use crate::support::*;

/// What verify must name: the table, the key (empty: any), the column (none: the whole row).
type Expected<'a> = (&'a str, String, Option<&'a str>);

/// The report's (table, key, column), or a panic naming what went unseen.
async fn caught(ctx: &Ctx, attack: &str) -> (String, String, Option<String>) {
    match ctx.store.verify_audit_chain().await.unwrap() {
        VerifyReport::RowMismatch(m) => (m.table.to_owned(), m.key, m.column.map(str::to_owned)),
        other => panic!("{attack} went unseen: {other:?}"),
    }
}

async fn intact(ctx: &Ctx, after: &str) {
    let report = ctx.store.verify_audit_chain().await.unwrap();
    assert!(
        matches!(report, VerifyReport::Intact { .. }),
        "{after}: {report:?}"
    );
}

#[both_backends]
async fn every_edit_insert_and_delete_of_a_gmp_row_is_named_by_verify(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let released = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0099", days_ago(12), 3),
    )
    .await;
    let number = released.batch.batch_number.to_string();
    store
        .administer(
            &net.nuria,
            &number,
            None,
            &patient("PT-MAL-0990"),
            today(),
            "Hospital Regional Universitario de Málaga",
        )
        .await
        .unwrap();
    // Decimals as people type them (94.0) are stored by value (94): not a difference.
    let mut typed = allo_fields("DON-MAL-0098", days_ago(5), 1);
    typed.viability_percent = Some(dec("94.0"));
    typed.volume_ml = Some(dec("15.50"));
    let open = create(store, &net.cristina, ALLO, MAL, typed)
        .await
        .batch
        .batch_number
        .to_string();
    let step = store
        .record_event(
            &net.cristina,
            &open,
            None,
            "siembra",
            chrono::Utc::now(),
            Some("T175 x4"),
        )
        .await
        .unwrap();
    let dev = store
        .open_deviation(
            &net.cristina,
            &open,
            None,
            "alarma del incubador",
            DeviationSeverity::Minor,
        )
        .await
        .unwrap();
    let hold = store
        .place_hold(&net.nuria, &open, None, "revisión de la alarma")
        .await
        .unwrap();
    intact(&ctx, "the story").await;
    let view = store.get_batch(&net.nuria, &number).await.unwrap();
    let qc = view.qc_results[0].id;
    let sig = view.signatures[0].id;
    let adm = view.administrations[0].id;
    let reaction = store
        .report_reaction(
            &net.nuria,
            &number,
            adm,
            NewReaction {
                reported_on: today(),
                severity: ReactionSeverity::Serious,
                imputability: Imputability::Possible,
                description: "fiebre e hipotensión".into(),
            },
        )
        .await
        .unwrap()
        .reaction
        .id;
    intact(&ctx, "the reaction").await;
    let (step, dev, hold) = (step.id, dev.id, hold.id);
    let on_pg = !ctx.url.starts_with("sqlite:");
    if on_pg {
        // Signatures are append-only there: the attacker owns the tables.
        ctx.execute_raw("ALTER TABLE signatures DISABLE TRIGGER USER")
            .await;
    }
    let n = &number;
    let matrix: Vec<(String, String, Expected)> = vec![
        (
            format!("UPDATE batches SET donor_code = 'DON-MAL-0001' WHERE batch_number = '{n}'"),
            format!("UPDATE batches SET donor_code = 'DON-MAL-0099' WHERE batch_number = '{n}'"),
            ("batches", n.clone(), Some("donor_code")),
        ),
        (
            format!("UPDATE batches SET status = 'quarantine' WHERE batch_number = '{n}'"),
            format!("UPDATE batches SET status = 'released' WHERE batch_number = '{n}'"),
            ("batches", n.clone(), Some("status")),
        ),
        (
            format!("UPDATE batches SET doses = 30 WHERE batch_number = '{n}'"),
            format!("UPDATE batches SET doses = 3 WHERE batch_number = '{n}'"),
            ("batches", n.clone(), Some("doses")),
        ),
        (
            format!("UPDATE qc_results SET value = '99' WHERE id = {qc}"),
            format!(
                "UPDATE qc_results SET value = '{}' WHERE id = {qc}",
                view.qc_results[0].value
            ),
            ("qc_results", qc.to_string(), Some("value")),
        ),
        (
            format!("UPDATE signatures SET signer_full_name = 'Otra Persona' WHERE id = {sig}"),
            format!(
                "UPDATE signatures SET signer_full_name = '{}' WHERE id = {sig}",
                view.signatures[0].signer_full_name
            ),
            ("signatures", sig.to_string(), Some("signer_full_name")),
        ),
        (
            format!("UPDATE administrations SET patient_code = 'PT-MAL-0991' WHERE id = {adm}"),
            format!("UPDATE administrations SET patient_code = 'PT-MAL-0990' WHERE id = {adm}"),
            ("administrations", adm.to_string(), Some("patient_code")),
        ),
        (
            format!(
                "INSERT INTO administrations (batch_id, patient_code, administered_on, hospital, recorded_by, recorded_at, before_hold) \
                         SELECT batch_id, 'PT-MAL-0992', administered_on, hospital, recorded_by, recorded_at, before_hold FROM administrations WHERE id = {adm}"
            ),
            "DELETE FROM administrations WHERE patient_code = 'PT-MAL-0992'".to_owned(),
            ("administrations", (adm + 1).to_string(), None),
        ),
        (
            format!(
                "INSERT INTO qc_results (batch_id, test, value, unit, outcome, spec_version, recorded_by, recorded_at) \
                         SELECT batch_id, test, '95', unit, 'pass', spec_version, recorded_by, recorded_at FROM qc_results WHERE id = {qc}"
            ),
            "DELETE FROM qc_results WHERE id = (SELECT MAX(id) FROM qc_results)".to_owned(),
            ("qc_results", String::new(), None),
        ),
    ];
    let matrix = matrix.into_iter().chain([
        (
            format!("UPDATE deviations SET status = 'closed' WHERE id = {dev}"),
            format!("UPDATE deviations SET status = 'open' WHERE id = {dev}"),
            ("deviations", dev.to_string(), Some("status")),
        ),
        (
            format!("UPDATE batch_events SET note = 'sin incidencias' WHERE id = {step}"),
            format!("UPDATE batch_events SET note = 'T175 x4' WHERE id = {step}"),
            ("batch_events", step.to_string(), Some("note")),
        ),
        (
            format!(
                "UPDATE holds SET lifted_by = 'lucia.navarro', lift_reason = 'x' WHERE id = {hold}"
            ),
            format!("UPDATE holds SET lifted_by = NULL, lift_reason = NULL WHERE id = {hold}"),
            ("holds", hold.to_string(), Some("lifted_by")),
        ),
        (
            format!("UPDATE reactions SET status = 'closed' WHERE id = {reaction}"),
            format!("UPDATE reactions SET status = 'open' WHERE id = {reaction}"),
            ("reactions", reaction.to_string(), Some("status")),
        ),
        (
            "UPDATE users SET role = 'admin' WHERE username = 'cristina.vega'".to_owned(),
            "UPDATE users SET role = 'lab_staff' WHERE username = 'cristina.vega'".to_owned(),
            ("users", "cristina.vega".to_owned(), Some("role")),
        ),
    ]);
    for (attack, restore, (table, key, column)) in matrix {
        assert_eq!(
            ctx.try_raw(&attack)
                .await
                .map_err(|e| format!("{attack}: {e}")),
            Ok(1)
        );
        let (t, k, c) = caught(&ctx, &attack).await;
        assert_eq!(t, table, "{attack}");
        if !key.is_empty() {
            assert_eq!(k, key, "{attack}");
        }
        assert_eq!(c.as_deref(), column, "{attack}");
        ctx.execute_raw(&restore).await;
        intact(&ctx, &format!("restoring after {attack}")).await;
    }
    // Every table keyed by id: a copy of one of its rows inserted under a new id (no
    // event made it), then one of its rows deleted (its event made it), each named and
    // then put back. A reaction and an administration are referred to by other rows,
    // so those two are only copied.
    let rows_of: Vec<(&str, i64, bool)> = vec![
        ("qc_results", qc, true),
        ("signatures", sig, true),
        ("administrations", adm, false),
        ("deviations", dev, true),
        ("batch_events", step, true),
        ("holds", hold, true),
        ("reactions", reaction, false),
        ("assignments", 1, false),
    ];
    for (table, id, delete_too) in rows_of {
        let copy = id + 100_000;
        ctx.execute_raw(&format!(
            "CREATE TABLE keep_{table} AS SELECT * FROM {table} WHERE id = {id}"
        ))
        .await;
        ctx.execute_raw(&format!("UPDATE keep_{table} SET id = {copy}"))
            .await;
        let insert = format!("INSERT INTO {table} SELECT * FROM keep_{table}");
        assert_eq!(ctx.try_raw(&insert).await, Ok(1), "{insert}");
        let (t, k, c) = caught(&ctx, &insert).await;
        assert_eq!(
            (t.as_str(), k, c),
            (table, copy.to_string(), None),
            "{insert}"
        );
        ctx.execute_raw(&format!("DELETE FROM {table} WHERE id = {copy}"))
            .await;
        intact(&ctx, &format!("removing the copy in {table}")).await;
        if delete_too {
            ctx.execute_raw(&format!("UPDATE keep_{table} SET id = {id}"))
                .await;
            let delete = format!("DELETE FROM {table} WHERE id = {id}");
            assert_eq!(ctx.try_raw(&delete).await, Ok(1), "{delete}");
            let (t, k, c) = caught(&ctx, &delete).await;
            assert_eq!(
                (t.as_str(), k, c),
                (table, id.to_string(), None),
                "{delete}"
            );
            ctx.execute_raw(&insert).await;
            intact(&ctx, &format!("putting back the row of {table}")).await;
        }
    }
    // Tables keyed by name: a copy under a new name, made by no event.
    for (table, column, from, to) in [
        ("users", "username", "cristina.vega", "cristina.sql"),
        ("labs", "code", MAL, "CAD-SQL"),
        ("products", "code", ALLO, "SQL-PROD"),
    ] {
        if on_pg {
            // The guard against deleting a batch's parent: the attacker owns it too.
            ctx.execute_raw(&format!("ALTER TABLE {table} DISABLE TRIGGER USER"))
                .await;
        }
        ctx.execute_raw(&format!(
            "CREATE TABLE keep_{table} AS SELECT * FROM {table} WHERE {column} = '{from}'"
        ))
        .await;
        ctx.execute_raw(&format!("UPDATE keep_{table} SET {column} = '{to}'"))
            .await;
        let insert = format!("INSERT INTO {table} SELECT * FROM keep_{table}");
        assert_eq!(ctx.try_raw(&insert).await, Ok(1), "{insert}");
        let (t, k, c) = caught(&ctx, &insert).await;
        assert_eq!((t.as_str(), k.as_str(), c), (table, to, None), "{insert}");
        ctx.execute_raw(&format!("DELETE FROM {table} WHERE {column} = '{to}'"))
            .await;
        intact(&ctx, &format!("removing the copy in {table}")).await;
    }
    // Deleted: a row its events made is gone (a manufacturing step; an administration
    // is kept by the reaction that refers to it).
    let rows = ctx
        .try_raw(&format!("DELETE FROM batch_events WHERE id = {step}"))
        .await;
    assert_eq!(rows, Ok(1));
    let (t, k, c) = caught(&ctx, "deleting a manufacturing step").await;
    assert_eq!((t.as_str(), k, c), ("batch_events", step.to_string(), None));
}

/// Imports `rows` (CSV lines after the header) as the coordinator; the import's id.
async fn import_rows(net: &Net, rows: &[String]) -> i64 {
    let report = import_as_coordinator(net, rows).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report.import_id.expect("the import is recorded")
}

#[both_backends]
async fn imported_rows_the_network_and_password_hashes_are_reconciled_too(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let d = |n: i64| (today() + chrono::Duration::days(n)).to_string();
    // Three historical rows; the first, released recently, is then confirmed and
    // given to a patient in Traza: its later events must not read as tampering.
    let rows: Vec<String> = (1..=3)
                .map(|i| {
                    format!(
                        "MAL-HRU-2025-0900{i},MSC-AD-ALO,MAL-HRU,allogeneic,DON-MAL-050{i},,{},{},{},{},released,1.0E+08,93.{i},15,3,Dra. Nuria Campos,{},clinical_trial,2020-002941-65,histórico {i}",
                        d(-40),
                        d(-39),
                        d(-12),
                        d(200),
                        d(-10)
                    )
                })
                .collect();
    import_rows(&net, &rows).await;
    intact(&ctx, "the import").await;
    store
        .confirm_history(&net.jose, "MAL-HRU-2025-09001", None, JOSE_PW)
        .await
        .unwrap();
    store
        .administer(
            &net.nuria,
            "MAL-HRU-2025-09001",
            None,
            &patient("PT-MAL-0777"),
            today(),
            "Hospital Regional Universitario de Málaga",
        )
        .await
        .unwrap();
    intact(&ctx, "an imported batch confirmed and administered").await;

    let lab = store.get_lab(&net.lucia, MAL).await.unwrap();
    let assignment = store
        .list_assignments(&net.lucia, None, None)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.lab_code.as_str() == MAL)
        .expect("an assignment of MAL-HRU");
    let aid = assignment.id;
    for keep in [
        "CREATE TABLE keep_user AS SELECT password_hash FROM users WHERE username = 'cristina.vega'",
        "CREATE TABLE keep_spec AS SELECT tests FROM product_specifications WHERE product_code = 'MSC-AD-ALO' AND version = 1",
        "CREATE TABLE keep_row AS SELECT id, cell_count FROM batches WHERE batch_number = 'MAL-HRU-2025-09002'",
    ] {
        ctx.execute_raw(keep).await;
    }
    let copied_columns = "product_code, lab_code, origin, access_route, trial_id, donor_code, patient_code, collection_date, manufacturing_start, manufacturing_end, expiry_date, cell_count, viability_percent, volume_ml, doses, status, released_by, release_date, notes, version, source, import_id, import_line, created_by, created_at, updated_at";
    let matrix: Vec<(String, String, Expected)> = vec![
                (
                    "UPDATE batches SET cell_count = '9E+9' WHERE batch_number = 'MAL-HRU-2025-09002'".into(),
                    "UPDATE batches SET cell_count = (SELECT cell_count FROM keep_row) WHERE id = (SELECT id FROM keep_row)".into(),
                    ("batches", "MAL-HRU-2025-09001".into(), None),
                ),
                (
                    format!("INSERT INTO batches (batch_number, {copied_columns}) SELECT 'MAL-HRU-2025-09009', {copied_columns} FROM batches WHERE batch_number = 'MAL-HRU-2025-09003'"),
                    "DELETE FROM batches WHERE batch_number = 'MAL-HRU-2025-09009'".into(),
                    ("batches", "MAL-HRU-2025-09001".into(), None),
                ),
                (
                    "UPDATE batches SET source = 'api' WHERE batch_number = 'MAL-HRU-2025-09003'".into(),
                    "UPDATE batches SET source = 'import' WHERE batch_number = 'MAL-HRU-2025-09003'".into(),
                    ("batches", "MAL-HRU-2025-09003".into(), None),
                ),
                (
                    "UPDATE batches SET status = 'rejected' WHERE batch_number = 'MAL-HRU-2025-09001'".into(),
                    "UPDATE batches SET status = 'released' WHERE batch_number = 'MAL-HRU-2025-09001'".into(),
                    ("batches", "MAL-HRU-2025-09001".into(), Some("status")),
                ),
                (
                    "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'lucia.navarro') WHERE username = 'cristina.vega'".into(),
                    "UPDATE users SET password_hash = (SELECT password_hash FROM keep_user) WHERE username = 'cristina.vega'".into(),
                    ("users", "cristina.vega".into(), Some("password_hash")),
                ),
                (
                    format!("INSERT INTO user_labs (username, lab_code) VALUES ('cristina.vega', '{SEV}')"),
                    format!("DELETE FROM user_labs WHERE username = 'cristina.vega' AND lab_code = '{SEV}'"),
                    ("users", "cristina.vega".into(), Some("labs")),
                ),
                (
                    format!("UPDATE labs SET city = 'Cádiz' WHERE code = '{MAL}'"),
                    format!("UPDATE labs SET city = '{}' WHERE code = '{MAL}'", lab.city),
                    ("labs", MAL.into(), Some("city")),
                ),
                (
                    "UPDATE products SET shelf_life_days = shelf_life_days + 30 WHERE code = 'MSC-AD-ALO'".into(),
                    "UPDATE products SET shelf_life_days = shelf_life_days - 30 WHERE code = 'MSC-AD-ALO'".into(),
                    ("products", ALLO.into(), Some("shelf_life_days")),
                ),
                (
                    // A therapy made findable by a word nobody in coordination chose.
                    "UPDATE products SET keywords = '[\"cura milagrosa\"]' WHERE code = 'MSC-AD-ALO'".into(),
                    r#"UPDATE products SET keywords = '["células madre","células troncales","mesenquimales"]' WHERE code = 'MSC-AD-ALO'"#.into(),
                    ("products", ALLO.into(), Some("keywords")),
                ),
                (
                    "UPDATE product_specifications SET tests = (SELECT tests FROM product_specifications WHERE product_code = 'MSC-AD-AUT' AND version = 1) WHERE product_code = 'MSC-AD-ALO' AND version = 1".into(),
                    "UPDATE product_specifications SET tests = (SELECT tests FROM keep_spec) WHERE product_code = 'MSC-AD-ALO' AND version = 1".into(),
                    ("product_specifications", format!("{ALLO} v1"), Some("tests")),
                ),
                (
                    format!("UPDATE assignments SET lab_code = '{SEV}' WHERE id = {aid}"),
                    format!("UPDATE assignments SET lab_code = '{MAL}' WHERE id = {aid}"),
                    ("assignments", aid.to_string(), Some("lab_code")),
                ),
            ];
    for (attack, restore, (table, key, column)) in matrix {
        assert_eq!(
            ctx.try_raw(&attack)
                .await
                .map_err(|e| format!("{attack}: {e}")),
            Ok(1)
        );
        let (t, k, c) = caught(&ctx, &attack).await;
        assert_eq!(
            (t.as_str(), k.as_str(), c.as_deref()),
            (table, key.as_str(), column),
            "{attack}"
        );
        ctx.execute_raw(&restore).await;
        intact(&ctx, &format!("restoring after {attack}")).await;
    }
    // A deleted imported row: its import now holds fewer rows than its event says.
    assert_eq!(
        ctx.try_raw("DELETE FROM batches WHERE batch_number = 'MAL-HRU-2025-09003'")
            .await,
        Ok(1)
    );
    let (t, _, c) = caught(&ctx, "deleting an imported row").await;
    assert_eq!((t.as_str(), c), ("batches", None));
}

#[both_backends]
async fn an_imported_batch_of_a_donor_under_an_open_serious_reaction_starts_held(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let released = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0600", days_ago(12), 3),
    )
    .await;
    let number = released.batch.batch_number.to_string();
    let adm = store
        .administer(
            &net.nuria,
            &number,
            None,
            &patient("PT-MAL-0601"),
            today(),
            "Hospital Regional Universitario de Málaga",
        )
        .await
        .unwrap();
    let reaction = store
        .report_reaction(
            &net.nuria,
            &number,
            adm.id,
            NewReaction {
                reported_on: today(),
                severity: ReactionSeverity::Serious,
                imputability: Imputability::Possible,
                description: "fiebre".into(),
            },
        )
        .await
        .unwrap()
        .reaction
        .id;
    let d = |n: i64| (today() + chrono::Duration::days(n)).to_string();
    // The same donor's history arrives by import while the reaction is open.
    let row = |i: u32, donor: &str| {
        format!(
            "MAL-HRU-2025-0910{i},MSC-AD-ALO,MAL-HRU,allogeneic,{donor},,{},{},{},{},released,1.0E+08,93,15,3,Dra. Nuria Campos,{},clinical_trial,2020-002941-65,",
            d(-40),
            d(-39),
            d(-12),
            d(200),
            d(-10)
        )
    };
    import_rows(&net, &[row(1, "DON-MAL-0600"), row(2, "DON-MAL-0601")]).await;
    let held = store
        .get_batch(&net.nuria, "MAL-HRU-2025-09101")
        .await
        .unwrap();
    assert!(held.batch.on_hold, "the donor's imported batch starts held");
    assert_eq!(held.holds[0].reaction_id, Some(reaction));
    let free = store
        .get_batch(&net.nuria, "MAL-HRU-2025-09102")
        .await
        .unwrap();
    assert!(!free.batch.on_hold, "another donor's batch does not");
    // Confirmed, it still cannot reach a patient while held.
    store
        .confirm_history(&net.jose, "MAL-HRU-2025-09101", None, JOSE_PW)
        .await
        .unwrap();
    let given = store
        .administer(
            &net.nuria,
            "MAL-HRU-2025-09101",
            None,
            &patient("PT-MAL-0602"),
            today(),
            "Hospital Regional Universitario de Málaga",
        )
        .await;
    assert!(
        given.is_err(),
        "a held imported batch was administered: {given:?}"
    );
    intact(&ctx, "the held import").await;
}

/// SPEC §8's tables: the catalogue, lots (their quantities and statuses above all), their
/// signatures, equipment and rooms — each edit, insert and delete named by verify.
#[both_backends]
async fn materials_lots_equipment_and_rooms_are_reconciled_too(ctx: Ctx) {
    use traza_domain::codes::{EquipmentId, MaterialCode, RoomId};
    use traza_domain::equipment::{Equipment, EquipmentClass, EquipmentStatus, Room};
    use traza_domain::materials::{LotReceipt, Material, MaterialKind};
    use traza_domain::vocab::RoomGrade;

    let net = network(&ctx.store).await;
    let store = &net.store;
    store
        .create_material(
            &net.lucia,
            Material {
                code: MaterialCode::parse("MED-XVIVO15").unwrap(),
                name: "X-VIVO 15".into(),
                kind: MaterialKind::Medium,
                unit: "mL".into(),
            },
        )
        .await
        .unwrap();
    let receive = |quantity: &str| LotReceipt {
        lab_code: lab(MAL),
        material_code: MaterialCode::parse("MED-XVIVO15").unwrap(),
        supplier: "Lonza".into(),
        supplier_lot: "0000987654".into(),
        received_on: days_ago(1),
        expiry_date: today() + chrono::Days::new(90),
        quantity_received: dec(quantity),
    };
    let used = store
        .receive_lot(&net.cristina, receive("10"))
        .await
        .unwrap()
        .lot
        .lot_id;
    store
        .release_lot(&net.nuria, used.as_str(), NURIA_PW)
        .await
        .unwrap();
    store
        .test_consume_lot(&net.cristina, &used, dec("2.5"), "MAL-HRU-2026-00001")
        .await
        .unwrap();
    let refused = store
        .receive_lot(&net.cristina, receive("4"))
        .await
        .unwrap()
        .lot
        .lot_id;
    let sig = store
        .reject_lot(&net.nuria, refused.as_str(), NURIA_PW, "Envase dañado")
        .await
        .unwrap()
        .disposition
        .expect("a signature")
        .id;
    store
        .create_equipment(
            &net.nuria,
            Equipment {
                lab_code: lab(MAL),
                id: EquipmentId::parse("BSC-01").unwrap(),
                class: EquipmentClass::parse("biosafety_cabinet").unwrap(),
                status: EquipmentStatus::OutOfService,
                calibration_due: day("2027-03-31"),
            },
        )
        .await
        .unwrap();
    store
        .create_room(
            &net.nuria,
            Room {
                lab_code: lab(MAL),
                id: RoomId::parse("SB-C").unwrap(),
                grade: RoomGrade::C,
            },
        )
        .await
        .unwrap();
    intact(&ctx, "the materials' story").await;
    if !ctx.url.starts_with("sqlite:") {
        // Lot signatures are append-only there, like the batches' ...
        let edit = format!("UPDATE lot_signatures SET reason = 'otra' WHERE id = {sig}");
        let refused = ctx.try_raw(&edit).await.unwrap_err();
        assert!(refused.contains("append-only"), "{refused}");
        // ... unless the attacker owns the tables.
        ctx.execute_raw("ALTER TABLE lot_signatures DISABLE TRIGGER USER")
            .await;
    }
    let (u, r) = (used.as_str(), refused.as_str());
    let matrix: Vec<(String, String, Expected)> = vec![
        (
            format!("UPDATE material_lots SET quantity_consumed = '0' WHERE lot_id = '{u}'"),
            format!("UPDATE material_lots SET quantity_consumed = '2.5' WHERE lot_id = '{u}'"),
            ("material_lots", u.to_owned(), Some("quantity_consumed")),
        ),
        (
            format!("UPDATE material_lots SET quantity_received = '100' WHERE lot_id = '{u}'"),
            format!("UPDATE material_lots SET quantity_received = '10' WHERE lot_id = '{u}'"),
            ("material_lots", u.to_owned(), Some("quantity_received")),
        ),
        (
            format!("UPDATE material_lots SET status = 'released' WHERE lot_id = '{r}'"),
            format!("UPDATE material_lots SET status = 'rejected' WHERE lot_id = '{r}'"),
            ("material_lots", r.to_owned(), Some("status")),
        ),
        (
            "UPDATE materials SET unit = 'L' WHERE code = 'MED-XVIVO15'".into(),
            "UPDATE materials SET unit = 'mL' WHERE code = 'MED-XVIVO15'".into(),
            ("materials", "MED-XVIVO15".into(), Some("unit")),
        ),
        (
            format!("UPDATE lot_signatures SET signer = 'jose.alarcon' WHERE id = {sig}"),
            format!("UPDATE lot_signatures SET signer = 'nuria.blanco' WHERE id = {sig}"),
            ("lot_signatures", sig.to_string(), Some("signer")),
        ),
        (
            "UPDATE equipment SET status = 'in_service' WHERE id = 'BSC-01'".into(),
            "UPDATE equipment SET status = 'out_of_service' WHERE id = 'BSC-01'".into(),
            ("equipment", "MAL-HRU/BSC-01".into(), Some("status")),
        ),
        (
            "UPDATE equipment SET calibration_due = '2099-12-31' WHERE id = 'BSC-01'".into(),
            "UPDATE equipment SET calibration_due = '2027-03-31' WHERE id = 'BSC-01'".into(),
            ("equipment", "MAL-HRU/BSC-01".into(), Some("calibration_due")),
        ),
        (
            "UPDATE rooms SET grade = 'A' WHERE id = 'SB-C'".into(),
            "UPDATE rooms SET grade = 'C' WHERE id = 'SB-C'".into(),
            ("rooms", "MAL-HRU/SB-C".into(), Some("grade")),
        ),
        (
            format!(
                "INSERT INTO material_lots SELECT 'MAL-HRU-L1999-0001', lab_code, material_code, supplier, supplier_lot, received_on, expiry_date, quantity_received, quantity_consumed, status, version, received_by, created_at, updated_at FROM material_lots WHERE lot_id = '{u}'"
            ),
            "DELETE FROM material_lots WHERE lot_id = 'MAL-HRU-L1999-0001'".into(),
            ("material_lots", "MAL-HRU-L1999-0001".into(), None),
        ),
        (
            "INSERT INTO rooms SELECT lab_code, 'SB-X', 'A', created_at FROM rooms WHERE id = 'SB-C'"
                .into(),
            "DELETE FROM rooms WHERE id = 'SB-X'".into(),
            ("rooms", "MAL-HRU/SB-X".into(), None),
        ),
        (
            "DELETE FROM rooms WHERE id = 'SB-C'".into(),
            "INSERT INTO rooms SELECT lab_code, 'SB-C', 'C', created_at FROM equipment WHERE id = 'BSC-01'"
                .into(),
            ("rooms", "MAL-HRU/SB-C".into(), None),
        ),
    ];
    for (attack, restore, (table, key, column)) in matrix {
        assert_eq!(
            ctx.try_raw(&attack)
                .await
                .map_err(|e| format!("{attack}: {e}")),
            Ok(1)
        );
        let (t, k, c) = caught(&ctx, &attack).await;
        assert_eq!(
            (t.as_str(), k.as_str(), c.as_deref()),
            (table, key.as_str(), column),
            "{attack}"
        );
        ctx.execute_raw(&restore).await;
        intact(&ctx, &format!("restoring after {attack}")).await;
    }
}
