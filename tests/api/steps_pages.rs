//! The guided batch's step form as staff use it (SPEC §8, issue 15): a refused step comes back
//! with what was typed; any step may be chosen — a later one is recorded out of order and
//! raises its exception; a recorded one is corrected with a reason, its form filled with the
//! entry it replaces.

use axum::http::Method;
use serde_json::Value;

use crate::pages::Browser;
use crate::steps::ready;
use crate::support::*;

fn local(minutes_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes_ago))
        .with_timezone(&traza_domain::clock::LAB_ZONE)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn entries(api: &Api, token: &str, number: &str) -> Vec<Value> {
    api.get(&format!("/batches/{number}/steps"))
        .token(token)
        .send()
        .await
        .ok(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn exception_kinds(api: &Api, token: &str, number: &str) -> Vec<String> {
    api.get(&format!("/batches/{number}/exceptions"))
        .token(token)
        .send()
        .await
        .ok(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect()
}

#[both_backends]
async fn a_step_is_chosen_corrected_and_a_refusal_keeps_what_was_typed(api: Api) {
    let lot = ready(&api).await;
    let marta = api.token(MARTA).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-STEP-PAGE-2", &days_ago(1), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let browser = Browser::of(&api, MARTA).await;

    // The second step chosen before the first: its form, then an out-of-order exception.
    let chosen = browser
        .page(&api, &format!("/lotes/{number}?paso=expansion"))
        .await
        .text;
    assert!(
        chosen.contains("Siguiente paso: Expansión") && chosen.contains(r#"name="p.temperatura""#),
        "{chosen}"
    );
    assert!(
        chosen.contains(&format!(
            r#"href="/lotes/{number}?paso=siembra#form-paso-guiado""#
        )),
        "the other step can be chosen: {chosen}"
    );
    let early = browser
        .post(
            &api,
            &format!("/lotes/{number}/pasos/expansion"),
            &[
                ("performed_at", local(40).as_str()),
                ("p.temperatura", "37"),
            ],
            None,
        )
        .await;
    assert_eq!(early.status.as_u16(), 303, "{}", early.text);
    assert_eq!(
        exception_kinds(&api, &marta, &number).await,
        ["out_of_order"]
    );

    // A refused step keeps what was typed (a time in the future is refused).
    let ahead = (chrono::Utc::now() + chrono::Duration::hours(2))
        .with_timezone(&traza_domain::clock::LAB_ZONE)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let refused = browser
        .post(
            &api,
            &format!("/lotes/{number}/pasos/siembra"),
            &[
                ("performed_at", ahead.as_str()),
                ("room_id", "SB-01"),
                ("equipment_ids", "BSC-01"),
                ("lot", lot.as_str()),
                ("qty", "9,5"),
                ("note", "siembra en dos frascos"),
            ],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    let form = refused
        .text
        .split(r#"id="form-paso-guiado""#)
        .nth(1)
        .expect("the step's form again");
    for kept in [
        format!(r#"value="{ahead}""#),
        r#"value="9,5""#.to_owned(),
        r#"value="siembra en dos frascos""#.to_owned(),
        format!(r#"<option value="{lot}" selected>"#),
        r#"<option value="SB-01" selected>"#.to_owned(),
    ] {
        assert!(form.contains(&kept), "{kept} is kept: {form}");
    }
    assert!(form.contains("Siembra"), "the same step: {form}");

    let sown = browser
        .post(
            &api,
            &format!("/lotes/{number}/pasos/siembra"),
            &[
                ("performed_at", local(30).as_str()),
                ("room_id", "SB-01"),
                ("equipment_ids", "BSC-01"),
                ("lot", lot.as_str()),
                ("qty", "10"),
            ],
            None,
        )
        .await;
    assert_eq!(sown.status.as_u16(), 303, "{}", sown.text);

    // Every step has an entry: no form until one is chosen to correct.
    let page = browser.page(&api, &format!("/lotes/{number}")).await.text;
    assert!(!page.contains(r#"id="form-paso-guiado""#), "{page}");
    assert!(page.contains("Corregir"), "{page}");

    // The correction's form starts from the entry it replaces.
    let first = entries(&api, &marta, &number).await;
    let seeded = first
        .iter()
        .find(|e| e["step_code"] == "siembra")
        .expect("the seeding");
    let correcting = browser
        .page(&api, &format!("/lotes/{number}?paso=siembra"))
        .await
        .text;
    let form = correcting
        .split(r#"id="form-paso-guiado""#)
        .nth(1)
        .expect("the correction form");
    assert!(form.contains("Corrección del paso: Siembra"), "{form}");
    assert!(
        form.contains(&format!(r#"name="corrects" value="{}""#, seeded["id"])),
        "{form}"
    );
    assert!(
        form.contains(r#"value="10""#),
        "the quantity recorded: {form}"
    );
    assert!(form.contains(r#"name="reason""#), "{form}");

    // Without a reason the correction is refused; with one it replaces the entry.
    let correction = |reason: &'static str| {
        let id = seeded["id"].to_string();
        let at = local(30);
        let lot = lot.clone();
        let number = number.clone();
        let browser = &browser;
        let api = &api;
        async move {
            browser
                .post(
                    api,
                    &format!("/lotes/{number}/pasos/siembra"),
                    &[
                        ("performed_at", at.as_str()),
                        ("room_id", "SB-01"),
                        ("equipment_ids", "BSC-01"),
                        ("lot", lot.as_str()),
                        ("qty", "4"),
                        ("corrects", id.as_str()),
                        ("reason", reason),
                    ],
                    None,
                )
                .await
        }
    };
    let bare = correction("").await;
    assert_eq!(bare.status.as_u16(), 422, "{}", bare.text);
    assert!(
        bare.text.contains(r#"name="corrects""#) && bare.text.contains(r#"value="4""#),
        "still the correction, as typed: {}",
        bare.text
    );
    let fixed = correction("se anotó el volumen de otro frasco").await;
    assert_eq!(fixed.status.as_u16(), 303, "{}", fixed.text);
    let after = entries(&api, &marta, &number).await;
    let corrected = after
        .iter()
        .find(|e| e["corrects"] == seeded["id"])
        .expect("the correction");
    assert_eq!(corrected["reason"], "se anotó el volumen de otro frasco");
    assert_eq!(corrected["materials"][0]["quantity"], "4");
    assert!(
        exception_kinds(&api, &marta, &number)
            .await
            .contains(&"correction".to_owned())
    );

    // In English, the same choice.
    let page = api
        .site(Method::GET, &format!("/lotes/{number}?paso=siembra"))
        .header("cookie", &format!("{}; traza_idioma=en", browser.cookie))
        .send_page()
        .await
        .text;
    assert!(page.contains("Correction of step: Siembra"), "{page}");
}
