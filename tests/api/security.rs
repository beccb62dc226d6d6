//! Web hardening, attack first and refusal second: redirects that leave the site, headers that
//! keep pages out of frames and caches, spreadsheet formulas in the export, page uploads as
//! large as the API's, and requests cancelled in the middle of a database transaction.

use axum::http::Method;

use crate::support::*;

/// Where `/idioma?volver=…` sends the browser.
async fn language_switch_target(api: &Api, volver: &str) -> String {
    let r = api
        .site(Method::GET, &format!("/idioma?l=en&volver={volver}"))
        .send_page()
        .await;
    assert!(
        r.status.is_redirection(),
        "{} answered {}: {}",
        r.what,
        r.status,
        r.text
    );
    r.header("location").expect("a redirect has a Location")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_links_never_leave_the_site() {
    on_both("back_links_never_leave_the_site", |api| async move {
        // A tab or a line break after the first slash: browsers drop them and read
        // `//evil.example`, another host. A backslash reads as a slash.
        for attack in [
            "/%09/evil.example",
            "/%0a/x",
            "/%0d%0a/evil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%5C/evil.example",
            "/ok%5C..%5Cevil",
            "/%20/evil.example",
            "https://evil.example",
            "/l%C3%A1",
            "",
        ] {
            assert_eq!(
                language_switch_target(&api, attack).await,
                "/",
                "volver={attack}"
            );
        }
        // A path of the site is where the user goes back to.
        assert_eq!(
            language_switch_target(&api, "/lotes%3Fstatus%3Dreleased").await,
            "/lotes?status=released"
        );

        // The login form takes the same rule for its `volver`.
        let page = api
            .site(Method::GET, "/entrar?volver=/%09/evil.example")
            .send_page()
            .await;
        assert_eq!(page.status.as_u16(), 200);
        assert!(
            page.text.contains(r#"name="volver" value="/""#),
            "{}",
            page.text
        );
        let page = api
            .site(Method::GET, "/entrar?volver=/red")
            .send_page()
            .await;
        assert!(
            page.text.contains(r#"name="volver" value="/red""#),
            "{}",
            page.text
        );
        let csrf = "0123456789abcdef0123456789abcdef";
        for (volver, expected) in [("%2F%09%2Fevil.example", "/"), ("%2Fred", "/red")] {
            let form = format!(
                "csrf={csrf}&username={MARTA}&password={}&volver={volver}",
                api.password(MARTA)
            );
            let r = api
                .site(Method::POST, "/entrar")
                .header("cookie", &format!("traza_csrf_entrada={csrf}"))
                .raw(Some("application/x-www-form-urlencoded"), form)
                .send_page()
                .await;
            assert!(r.status.is_redirection(), "{}: {}", r.status, r.text);
            assert_eq!(r.header("location").as_deref(), Some(expected));
        }
    })
    .await;
}
