//! Concurrent requests must not break rules: one winner among racing releases and PATCHes,
//! never more administrations than doses, and one unbroken audit chain afterwards.

use serde_json::json;

use crate::support::*;

async fn released_allogeneic(api: &Api, donor: &str, doses: u32) -> String {
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let b = api
        .create_batch(&marta, allo_batch(donor, &days_ago(10), doses))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    api.pass_required_tests(&marta, &number, ALLO, &[]).await;
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": days_ago(1)}))
        .send()
        .await
        .ok(200);
    api.post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .ok(200);
    number
}

#[both_backends]
async fn racing_writers_keep_the_rules(api: Api) {
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let carmen = api.second_gra_qa().await;

    // 64 PATCHes with the same If-Match: exactly one wins, the rest are 412.
    let b = api
        .create_batch(&marta, allo_batch("DON-RACE-01", &days_ago(4), 1))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (api, token, number) = (api.clone(), marta.clone(), number.clone());
        tasks.push(tokio::spawn(async move {
            api.patch(&format!("/batches/{number}"))
                .token(&token)
                .if_match(1)
                .json(json!({"notes": format!("nota {i}"), "reason": "corrección concurrente"}))
                .send()
                .await
                .status
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        63,
        "{statuses:?}"
    );
    let (_, version) = api.batch(&marta, &number).await;
    assert_eq!(version, 2);

    // 32 administrations racing on a batch of 10 doses: exactly 10.
    let number = released_allogeneic(&api, "DON-RACE-02", 10).await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (api, token, number) = (api.clone(), isabel.clone(), number.clone());
        tasks.push(tokio::spawn(async move {
            api.post(&format!("/batches/{number}/administrations"))
                .token(&token)
                .json(
                    json!({"patient_code": format!("PAC-RACE-{i:02}"), "administered_on": today(),
                                  "hospital": "Hospital Regional Universitario de Málaga"}),
                )
                .send()
                .await
                .status
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let (b, _) = api.batch(&isabel, &number).await;
    assert_eq!(b["administrations"].as_array().unwrap().len(), 10);
    assert_eq!(b["status"], "administered");

    // Two QPs certify at once: one release, one refusal; one signature.
    let b = api
        .create_batch(&marta, allo_batch("DON-RACE-03", &days_ago(10), 2))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    api.pass_required_tests(&marta, &number, ALLO, &[]).await;
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": days_ago(1)}))
        .send()
        .await
        .ok(200);
    let release = |token: String, password: String| {
        let (api, number) = (api.clone(), number.clone());
        tokio::spawn(async move {
            api.post(&format!("/batches/{number}/release"))
                .token(&token)
                .json(json!({"password": password, "meaning": "qp_certified"}))
                .send()
                .await
                .status
                .as_u16()
        })
    };
    let a = release(isabel.clone(), api.password(ISABEL));
    let c = release(carmen.clone(), CARMEN_PW.to_owned());
    let mut both = [a.await.expect("task"), c.await.expect("task")];
    both.sort();
    assert_eq!(both, [200, 409]);
    let (b, _) = api.batch(&isabel, &number).await;
    assert_eq!(b["signatures"].as_array().unwrap().len(), 1);

    // After all that, the chain is whole.
    let report = api.store.verify_audit_chain().await.expect("verify");
    assert!(
        matches!(report, traza_store::VerifyReport::Intact { .. }),
        "{report:?}"
    );
}
