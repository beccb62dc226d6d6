//! The browser test's harness: chromedriver and the server as child processes, and a
//! `Browser` that opens pages, fills and submits forms, remembers every page a user visited
//! and checks each again at phone width, in Spanish and English, before the next user logs in.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use fantoccini::{Client, Locator};

pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub(crate) fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

pub(crate) struct Browser {
    pub(crate) client: Client,
    pub(crate) base: String,
    pub(crate) shots: PathBuf,
    /// The pages the current user opened (or was sent to after a form), for the phone check.
    pub(crate) visited: std::sync::Mutex<Vec<String>>,
    /// Who is signed in (the name of their phone screenshots).
    pub(crate) user: std::sync::Mutex<String>,
}

/// The laptop the test walks at, and the phone every page is checked at.
pub(crate) const LAPTOP: (u32, u32) = (1366, 768);
pub(crate) const PHONE: (u32, u32) = (390, 844);

impl Browser {
    pub(crate) async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.remember().await;
    }

    /// Notes the page now shown, opened by its address.
    pub(crate) async fn remember(&self) {
        self.note(false).await;
    }

    /// Notes the page a form led to when it was reached by a GET: a search (its address has
    /// a query) or the page a form redirected to. A refusal shown at the form's POST address
    /// is not opened again.
    pub(crate) async fn remember_after_form(&self) {
        self.note(true).await;
    }

    pub(crate) async fn note(&self, after_form: bool) {
        let got = self
            .client
            .execute(
                "const n = performance.getEntriesByType('navigation')[0]; \
                 return [location.pathname + location.search, \
                 location.search.length > 0 || (n !== undefined && n.redirectCount > 0)];",
                vec![],
            )
            .await;
        let Ok(serde_json::Value::Array(v)) = got else {
            return;
        };
        let path = v[0].as_str().unwrap_or_default().to_owned();
        let by_get = v[1].as_bool().unwrap_or(false);
        let skip = ["/salir", "/idioma", "/entrar", ".csv"];
        if (after_form && !by_get) || skip.iter().any(|s| path.contains(s)) {
            return;
        }
        let mut visited = self.visited.lock().expect("the visited list");
        if !visited.contains(&path) {
            visited.push(path);
        }
    }

    /// Every page this user visited, again at phone width in Spanish and in English: none
    /// may scroll sideways (wide tables scroll in their own box). A screenshot of each.
    pub(crate) async fn phone_check(&self, who: &str) {
        let pages: Vec<String> = std::mem::take(&mut *self.visited.lock().expect("the list"));
        if pages.is_empty() {
            return;
        }
        self.client
            .set_window_size(PHONE.0, PHONE.1)
            .await
            .expect("phone width");
        for lang in ["es", "en"] {
            self.client
                .goto(&format!("{}/idioma?l={lang}&volver=/", self.base))
                .await
                .expect("switch the language");
            for (i, path) in pages.iter().enumerate() {
                self.client
                    .goto(&format!("{}{path}", self.base))
                    .await
                    .unwrap_or_else(|e| panic!("open {path}: {e}"));
                // The widths, and the outermost elements that stick out (to name the culprit).
                let widths = self
                    .client
                    .execute(
                        "const w = window.innerWidth; \
                         const out = [...document.querySelectorAll('body *')] \
                           .filter(e => e.getBoundingClientRect().right > w + 1 \
                             && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1)) \
                           .filter(e => !e.closest('.scroll')) \
                           .slice(0, 5) \
                           .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)); \
                         return [document.documentElement.scrollWidth, w, out];",
                        vec![],
                    )
                    .await
                    .expect("the page's widths");
                let (scroll, inner) = (widths[0].as_u64(), widths[1].as_u64());
                assert!(
                    scroll.is_some() && scroll <= inner,
                    "{path} ({lang}, {who}) scrolls sideways at {} px: {widths}",
                    PHONE.0
                );
                if lang == "es" {
                    self.shot(&format!("movil-{who}-{i:02}")).await;
                }
            }
        }
        self.client
            .goto(&format!("{}/idioma?l=es&volver=/", self.base))
            .await
            .expect("back to Spanish");
        self.client
            .set_window_size(LAPTOP.0, LAPTOP.1)
            .await
            .expect("laptop width");
    }

    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    pub(crate) async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks what submits a form or follows a link, and waits for the next page.
    pub(crate) async fn submit(&self, css: &str) {
        let before = self.find("body").await;
        self.click(css).await;
        for _ in 0..200 {
            if before.text().await.is_err() {
                break; // the old page is gone
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        for _ in 0..200 {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await;
            if state.is_ok_and(|s| s == "complete") {
                self.remember_after_form().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{css} led to no page");
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    pub(crate) async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Sends `file` from the import page in `mode` (`prueba`, `aplicar`, `errores`).
    pub(crate) async fn import(&self, file: &Path, mode: &str) {
        self.open("/importar").await;
        self.find("#fichero")
            .await
            .send_keys(&file.display().to_string())
            .await
            .expect("choose the file");
        self.click(&format!("input[name=modo][value={mode}]")).await;
        self.submit("form[action='/importar'] button.primary").await;
    }

    pub(crate) async fn body(&self) -> String {
        self.text("body").await
    }

    pub(crate) async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .path()
            .to_owned()
    }

    /// A screenshot of the whole page (up to 2,400 px tall) at laptop width, for the README.
    pub(crate) async fn shot_whole(&self, name: &str) {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .ok()
            .and_then(|h| h.as_u64())
            .map_or(LAPTOP.1, |h| u32::try_from(h.min(2400)).unwrap_or(LAPTOP.1));
        self.client
            .set_window_size(LAPTOP.0, height.max(LAPTOP.1))
            .await
            .expect("a tall window");
        self.shot(name).await;
        self.client
            .set_window_size(LAPTOP.0, LAPTOP.1)
            .await
            .expect("laptop width");
    }

    pub(crate) async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("save the screenshot");
    }

    pub(crate) async fn login(&self, user: &str, password: &str) {
        let who = std::mem::replace(&mut *self.user.lock().expect("the user"), user.to_owned());
        self.phone_check(&who).await;
        self.client
            .delete_all_cookies()
            .await
            .expect("forget the session");
        self.open("/entrar").await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.submit("button[type=submit].primary").await;
        let _ = self.find("header nav").await;
    }
}

impl Browser {
    /// Sets a date input to an ISO date (typing into one follows the browser's locale).
    pub(crate) async fn set_date(&self, css: &str, iso: &str) {
        let e = self.find(css).await;
        self.client
            .execute(
                "arguments[0].value = arguments[1];",
                vec![
                    serde_json::to_value(&e).expect("the element as an argument"),
                    serde_json::Value::String(iso.to_owned()),
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("set {css} to {iso}: {e}"));
    }

    /// Downloads `path` with this browser's session cookie, as its bytes: what the browser's
    /// download would save (the Content-Security-Policy forbids a script's `fetch`).
    pub(crate) async fn download(&self, path: &str) -> Vec<u8> {
        use std::io::{Read, Write};
        let session = self
            .client
            .get_named_cookie("traza_sesion")
            .await
            .expect("the session cookie");
        let host = self.base.trim_start_matches("http://").to_owned();
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nCookie: traza_sesion={}\r\n\r\n",
            session.value()
        );
        let mut answer = Vec::new();
        let mut stream = std::net::TcpStream::connect(&host).expect("the server");
        stream
            .write_all(request.as_bytes())
            .expect("send the request");
        stream.read_to_end(&mut answer).expect("read the answer");
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("headers and a body");
        let head = String::from_utf8_lossy(&answer[..split]).to_string();
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{path}: {head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/pdf"),
            "{head}"
        );
        answer[split + 4..].to_vec()
    }
}
