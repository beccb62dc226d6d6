use traza_domain::vocab::{Origin, Role};
use traza_store::{FixtureReport, VerifyReport, system_actor};

use crate::support::*;

#[both_backends(empty)]
async fn fixture_loading_is_idempotent(ctx: Ctx) {
    let store = &ctx.store;
    let fx = fixture();
    assert_eq!((fx.labs.len(), fx.products.len()), (10, 11));
    // Every laboratory with staff and QA has a second QA person, so that one approves what
    // the other wrote and certifies what the other touched (four eyes, SPEC §8).
    let people = |role: Role, lab: &traza_domain::codes::LabCode| {
        fx.users
            .iter()
            .filter(|u| u.role == role && u.labs.contains(lab))
            .count()
    };
    for lab in fx.labs.iter().map(|l| &l.code) {
        let (staff, qa) = (people(Role::LabStaff, lab), people(Role::Qa, lab));
        assert!(staff == 0 || qa == 0 || qa >= 2, "{lab}: {qa} QA");
    }

    let first = store.load_network(&system_actor(), &fx).await.unwrap();
    let every = FixtureReport {
        labs: fx.labs.len(),
        products: fx.products.len(),
        assignments: fx.assignments.len(),
        users: fx.users.len(),
    };
    assert_eq!(first, every);
    let after_first = store.verify_audit_chain().await.unwrap();
    let records = (every.labs + every.products + every.assignments + every.users) as i64;
    assert!(
        matches!(after_first, VerifyReport::Intact { events, .. } if events == records),
        "one audit event per record ({records}): {after_first:?}"
    );

    let second = store.load_network(&system_actor(), &fx).await.unwrap();
    assert_eq!(
        second,
        FixtureReport::default(),
        "a second load adds nothing"
    );
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        after_first,
        "a second load writes no audit event"
    );

    let admin = store.actor("traza.admin").await.unwrap();
    let lucia = store.actor("lucia.navarro").await.unwrap();
    assert_eq!(lucia.role, Role::Coordinator);
    assert_eq!(store.list_labs(&lucia).await.unwrap().len(), 10);
    assert_eq!(store.list_products(&lucia).await.unwrap().len(), 11);
    assert_eq!(
        store
            .list_assignments(&lucia, None, None)
            .await
            .unwrap()
            .len(),
        15
    );
    assert_eq!(
        store
            .list_assignments(&lucia, Some(ALLO), None)
            .await
            .unwrap()
            .len(),
        3
    );
    let users = store.list_users(&admin).await.unwrap();
    assert_eq!(users.len(), fx.users.len());
    assert!(users.iter().all(|u| u.active));

    let mal = store.get_lab(&lucia, MAL).await.unwrap();
    assert_eq!(mal.capacity_per_month, Some(24));
    assert_eq!(mal.gmp_certificate_valid_until, Some(day("2027-11-30")));
    let allo = store.get_product(&lucia, ALLO).await.unwrap();
    assert_eq!(allo.origin, Origin::Allogeneic);
    assert_eq!(allo.spec_version, 1);
    assert_eq!(allo.shelf_life_days, 365);
    assert_eq!(allo.specification.required_tests().count(), 7);
    let jose = store.actor("jose.alarcon").await.unwrap();
    assert_eq!(jose.labs, [lab("MAL-CRTS"), lab(MAL)].into_iter().collect());
    assert_eq!(jose.full_name, "José Alarcón Ibáñez");
    // Fixture passwords are usable (stored as hashes).
    store
        .authenticate("jose.alarcon", JOSE_PW, None)
        .await
        .unwrap();
}

/// A batch's product, laboratory and import can be neither deleted nor re-keyed, even by hand
/// with direct access to the database: foreign keys on SQLite, guard triggers on PostgreSQL
/// (which has no per-row foreign keys on batches, see migration `m20261202_000001`).
#[both_backends]
async fn a_batch_keeps_its_product_laboratory_and_import(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let b = create(
        &ctx.store,
        &net.cristina,
        "MSC-AD-ALO",
        "MAL-HRU",
        allo_fields("DON-GUARD-01", days_ago(5), 2),
    )
    .await;
    assert_eq!(b.batch.lab_code.as_str(), "MAL-HRU");
    for sql in [
        "DELETE FROM products WHERE code = 'MSC-AD-ALO'",
        "UPDATE products SET code = 'MSC-AD-ALO-2' WHERE code = 'MSC-AD-ALO'",
        "DELETE FROM labs WHERE code = 'MAL-HRU'",
        "UPDATE labs SET code = 'MAL-HRU2' WHERE code = 'MAL-HRU'",
    ] {
        let refused = ctx.try_raw(sql).await;
        assert!(refused.is_err(), "{sql} was allowed: {refused:?}");
    }
    // Changing anything but the key is still possible (the store does it, audited).
    let renamed = ctx
        .try_raw("UPDATE labs SET city = city WHERE code = 'MAL-HRU'")
        .await;
    assert_eq!(renamed, Ok(1));
    let kept = ctx
        .store
        .get_batch(&net.lucia, b.batch.batch_number.as_str())
        .await;
    assert!(kept.is_ok(), "{kept:?}");
}
