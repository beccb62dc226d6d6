//! The batch list and the dashboard as the coordination unit reads them: the list's total,
//! previous and next pages, and a dashboard whose numbers lead to the batches they count,
//! over a chosen range of dates.

use axum::http::Method;
use serde_json::json;

use crate::pages::Browser;
use crate::support::*;

/// `rows` rejected batches of 2016 at GRA-UPCIT, as an import file.
fn history(rows: usize) -> String {
    let mut s = String::from(
        "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,manufacturing_end,status,access_route,trial_id\n",
    );
    for i in 1..=rows {
        s.push_str(&format!(
            "GRA-UPCIT-2016-{i:05},MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-HIST-{i:04},2016-03-01,2016-03-20,rejected,clinical_trial,2015-001726-39\n"
        ));
    }
    s
}

/// The `href` of the first link `marker` (e.g. `rel="next"`) sits in.
fn link(page: &str, marker: &str) -> Option<String> {
    let at = page.find(marker)?;
    let start = page[..at].rfind("<a ")?;
    let tag = &page[start..page[start..].find('>')? + start];
    let href = tag.split(r#"href=""#).nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

#[both_backends]
async fn the_list_says_its_total_and_pages_both_ways(api: Api) {
    let lucia = api.token(LUCIA).await;
    api.post("/imports/batches")
        .token(&lucia)
        .raw(Some("text/csv"), history(60))
        .send()
        .await
        .ok(200);
    let browser = Browser::of(&api, LUCIA).await;
    let first = browser.page(&api, "/lotes").await.text;
    assert!(
        first.contains("<strong>60</strong> lotes"),
        "the total: {first}"
    );
    assert!(
        !first.contains(r#"rel="prev""#),
        "nothing before the first page"
    );
    assert!(
        first.contains("GRA-UPCIT-2016-00060"),
        "newest first: {first}"
    );
    let next = link(&first, r#"rel="next""#).expect("a next page");
    let second = browser.page(&api, &next).await.text;
    assert!(second.contains("GRA-UPCIT-2016-00010") && !second.contains("GRA-UPCIT-2016-00011"));
    assert!(!second.contains(r#"rel="next""#), "{second}");
    let previous = link(&second, r#"rel="prev""#).expect("a previous page");
    let back = browser.page(&api, &previous).await.text;
    assert!(
        back.contains("GRA-UPCIT-2016-00060") && back.contains("GRA-UPCIT-2016-00011"),
        "the previous page is the first page again: {back}"
    );
    assert!(!back.contains("GRA-UPCIT-2016-00010"), "{back}");
    assert!(!back.contains(r#"rel="prev""#), "{back}");
    // Filters hold across pages, and the total follows them.
    let filtered = browser
        .page(&api, "/lotes?estado=released&laboratorio=GRA-UPCIT")
        .await
        .text;
    assert!(filtered.contains("<strong>0</strong> lotes"), "{filtered}");
    let rejected = browser.page(&api, "/lotes?estado=rejected").await.text;
    assert!(rejected.contains("<strong>60</strong> lotes"), "{rejected}");
    let next = link(&rejected, r#"rel="next""#).expect("a next page");
    assert!(next.contains("estado=rejected"), "{next}");
    let csv = link(&rejected, "download").expect("the export");
    assert!(csv.contains("estado=rejected"), "{csv}");
}

#[both_backends]
async fn the_dashboard_takes_a_range_and_links_each_number(api: Api) {
    let lucia = api.token(LUCIA).await;
    api.post("/imports/batches")
        .token(&lucia)
        .raw(Some("text/csv"), history(3))
        .send()
        .await
        .ok(200);
    // A batch of this year with a result out of specification.
    let marta = api.token(MARTA).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-DASH-0001", &days_ago(2), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let test = api
        .spec(&marta, ALLO)
        .await
        .into_iter()
        .find(|t| t["kind"] == "numeric")
        .expect("a numeric test");
    api.post(&format!("/batches/{number}/qc-results"))
        .token(&marta)
        .json(json!({"test": test["test"], "value": failing_value(&test), "unit": test["unit"]}))
        .send()
        .await
        .ok(201);

    let browser = Browser::of(&api, LUCIA).await;
    let panel = browser.page(&api, "/panel").await.text;
    let failing = link(&panel, "&amp;fuera=1").expect("the out-of-specification rate links");
    let behind = browser.page(&api, &failing).await.text;
    assert!(behind.contains(&number), "{behind}");
    assert!(!behind.contains("GRA-UPCIT-2016-00001"), "{behind}");
    assert!(behind.contains("<strong>1</strong> lotes"), "{behind}");
    assert!(panel.contains("figure class=\"bars\""), "{panel}");

    // 2016 only: the three rejected batches, linked to a list of exactly them.
    let range = api
        .site(Method::GET, "/panel?desde=2016-01-01&hasta=2016-12-31")
        .header("cookie", &browser.cookie)
        .send_page()
        .await
        .text;
    let table = range
        .split(r#"id="por-estado""#)
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the status table");
    assert!(
        !table.contains(">1</a>"),
        "this year's batch is out of range: {table}"
    );
    let rejected = link(table, ">3</a>").expect("three rejected, linked");
    assert!(rejected.contains("desde=2016-01-01") && rejected.contains("estado=rejected"));
    let listed = browser.page(&api, &rejected).await.text;
    assert!(listed.contains("<strong>3</strong> lotes"), "{listed}");
    assert!(!listed.contains(&number), "{listed}");
}
