//! The API tests' side of the shared harness (`traza-testkit`): the real router, driven in
//! process with `tower::ServiceExt::oneshot`. A test declared `#[both_backends]` runs as
//! `name::sqlite` and `name::postgres`, each on its own copy of the fixture network.

use std::collections::HashMap;
use std::future::Future;
use std::panic::resume_unwind;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use chrono::{Days, NaiveDate, Utc};
use serde_json::{Value, json};
use tower::ServiceExt;
use traza_store::Store;

pub use traza_testkit::FIXTURE_JSON;

// --- fixture people (GRA-UPCIT is the lab the stories happen in) ------------------------------

pub const ADMIN: &str = "traza.admin";
/// Coordinator.
pub const LUCIA: &str = "lucia.navarro";
/// Auditor.
pub const ELENA: &str = "elena.rubio";
/// Lab staff at GRA-UPCIT.
pub const MARTA: &str = "marta.jimenez";
/// Lab staff at GRA-UPCIT.
pub const PABLO: &str = "pablo.ortiz";
/// QA at GRA-UPCIT.
pub const ISABEL: &str = "isabel.morales";
/// Lab staff at SEV-UPRC.
pub const ROCIO: &str = "rocio.dominguez";
/// QA at SEV-UPRC.
pub const TERESA: &str = "teresa.benitez";
/// The second QA of GRA-UPCIT (four eyes: she approves what Isabel writes, certifies what
/// Isabel touched).
pub const CARMEN: &str = "carmen.ruiz";
pub const CARMEN_PW: &str = "demo-calidad-granada-2";

pub const GRA: &str = "GRA-UPCIT";
/// Allogeneic; GRA-UPCIT clinical trial from 2015-09-15 (EudraCT 2015-001726-39).
pub const ALLO: &str = "MSC-AD-ALO";
pub const ALLO_TRIAL: &str = "2015-001726-39";
/// Autologous; GRA-UPCIT hospital exemption from 2024-07-01.
pub const SKIN: &str = "UGRSKIN";
/// Autologous; SEV-UPRC clinical trial from 2019-10-01 (EudraCT 2019-001472-33).
pub const CART: &str = "CART-CD19";

// --- backends ---------------------------------------------------------------------------------

pub use traza_testkit::{Backend, Contents, TestDb, both_backends, with_database};

/// Runs one backend's half of a `#[both_backends]` test: `body` in a task of its own, on a copy
/// of the fixture network, so that a failed assertion still lets the database be removed; the
/// panic is handed back.
pub async fn on<F, Fut>(backend: Backend, contents: Contents, name: &str, body: F)
where
    F: FnOnce(Api) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = TestDb::new(backend, contents, name).await else {
        return;
    };
    let store = open_store(&db).await;
    let api = Api::new(store.clone(), &db.url);
    let outcome = tokio::spawn(body(api)).await;
    let _ = store.close().await;
    db.remove().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

/// The store on a test database, its audit key open.
async fn open_store(db: &TestDb) -> Store {
    let store = Store::connect(&db.url)
        .await
        .expect("connect to the test database");
    store
        .open_audit_key(&db.key_file)
        .await
        .expect("open the audit key");
    store
}

// --- the API under test -----------------------------------------------------------------------

/// The application router on one database, with the fixture users' passwords and a cache of
/// their tokens (every login costs an argon2 verification).
#[derive(Clone)]
pub struct Api {
    app: Router,
    pub store: Store,
    /// The database's URL, for a test that looks at it from outside the store.
    pub url: String,
    passwords: Arc<Mutex<HashMap<String, String>>>,
    tokens: Arc<Mutex<HashMap<String, String>>>,
    twin: Option<Arc<tokio::sync::Mutex<Option<TestDb>>>>,
}

impl Api {
    fn new(store: Store, url: &str) -> Api {
        let fixture: Value = serde_json::from_str(FIXTURE_JSON).expect("fixture JSON");
        let passwords = fixture["users"]
            .as_array()
            .expect("fixture users")
            .iter()
            .map(|u| {
                (
                    u["username"].as_str().unwrap_or_default().to_owned(),
                    u["password"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        Api {
            app: traza_http::router(traza_http::AppState::new(store.clone())),
            store,
            url: url.to_owned(),
            passwords: Arc::new(Mutex::new(passwords)),
            tokens: Arc::default(),
            twin: None,
        }
    }

    /// A second fresh database on the same backend, with the fixture network (for "into an
    /// empty database" checks). Close it with [`Api::close`].
    pub async fn fresh_twin(&self) -> Api {
        let backend = if self.backend() == "sqlite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let db = TestDb::new(backend, Contents::Network, "twin")
            .await
            .expect("a twin on the backend the test runs on");
        let mut api = Api::new(open_store(&db).await, &db.url);
        api.twin = Some(Arc::new(tokio::sync::Mutex::new(Some(db))));
        api
    }

    /// Closes a twin made by [`Api::fresh_twin`] and removes its database.
    pub async fn close(self) {
        let _ = self.store.clone().close().await;
        if let Some(twin) = self.twin
            && let Some(db) = twin.lock().await.take()
        {
            db.remove().await;
        }
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    pub fn req(&self, method: Method, path: &str) -> Call {
        let uri = if path.starts_with("/api/")
            || path.starts_with("/public/")
            || path.starts_with("/registro")
            || path.starts_with("/lotes")
            || path == "/healthz"
            || path == "/readyz"
        {
            path.to_owned()
        } else {
            format!("/api/v1{path}")
        };
        self.site(method, &uri)
    }

    /// A request to a path of the site as given (the pages, `/idioma`, `/estilo.css`).
    pub fn site(&self, method: Method, path: &str) -> Call {
        Call {
            app: self.app.clone(),
            backend: self.backend(),
            method,
            uri: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Call {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        self.req(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call {
        self.req(Method::PATCH, path)
    }

    /// The password of a fixture user, or of a user a test created with [`Api::remember`].
    pub fn password(&self, user: &str) -> String {
        self.passwords
            .lock()
            .expect("passwords")
            .get(user)
            .cloned()
            .unwrap_or_else(|| panic!("no known password for {user}"))
    }

    pub fn remember(&self, user: &str, password: &str) {
        self.passwords
            .lock()
            .expect("passwords")
            .insert(user.to_owned(), password.to_owned());
    }

    /// A bearer token of `user`, logging in once per database.
    pub async fn token(&self, user: &str) -> String {
        if let Some(t) = self.tokens.lock().expect("tokens").get(user) {
            return t.clone();
        }
        let token = self.login(user).await;
        self.tokens
            .lock()
            .expect("tokens")
            .insert(user.to_owned(), token.clone());
        token
    }

    /// A fresh login of `user` (not cached).
    pub async fn login(&self, user: &str) -> String {
        let body = self
            .post("/auth/login")
            .json(json!({"username": user, "password": self.password(user)}))
            .send()
            .await
            .ok(200);
        body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {user} answers a token: {body}"))
            .to_owned()
    }

    /// A token of GRA-UPCIT's second QA, Carmen (for four-eyes stories).
    pub async fn second_gra_qa(&self) -> String {
        self.token(CARMEN).await
    }

    /// Deactivates (`false`) or reactivates (`true`) a user, as the admin: for a story that
    /// needs a laboratory with one QA person only.
    pub async fn set_active(&self, user: &str, active: bool) {
        let admin = self.token(ADMIN).await;
        self.patch(&format!("/users/{user}"))
            .token(&admin)
            .json(json!({ "active": active }))
            .send()
            .await
            .ok(200);
        self.tokens.lock().expect("tokens").remove(user);
    }

    /// Creates a batch; panics unless it answers 201.
    pub async fn create_batch(&self, token: &str, body: Value) -> Value {
        self.post("/batches")
            .token(token)
            .json(body)
            .send()
            .await
            .ok(201)
    }

    /// The product's specification, as the API serves it.
    pub async fn spec(&self, token: &str, product: &str) -> Vec<Value> {
        let p = self
            .get(&format!("/products/{product}"))
            .token(token)
            .send()
            .await
            .ok(200);
        p["specification"]
            .as_array()
            .unwrap_or_else(|| panic!("{product} has a specification: {p}"))
            .clone()
    }

    /// Records a passing result of every required test of the batch's product, except those
    /// named in `skip`; returns the results.
    pub async fn pass_required_tests(
        &self,
        token: &str,
        number: &str,
        product: &str,
        skip: &[&str],
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for t in self.spec(token, product).await {
            let test = t["test"].as_str().unwrap_or_default();
            if t["required"] != json!(true) || skip.contains(&test) {
                continue;
            }
            let r = self
                .post(&format!("/batches/{number}/qc-results"))
                .token(token)
                .json(json!({"test": test, "value": passing_value(&t), "unit": t["unit"]}))
                .send()
                .await
                .ok(201);
            assert_eq!(r["outcome"], "pass", "{test} = {} must pass", r["value"]);
            out.push(r);
        }
        out
    }

    /// A released batch of `body` (of `product`): made and tested by `staff`, its manufacture
    /// ended two days ago, certified by `qa` (four eyes: not the maker). Answers its number.
    pub async fn released_batch(
        &self,
        staff: &str,
        qa: &str,
        product: &str,
        body: Value,
    ) -> String {
        let staff_token = self.token(staff).await;
        let qa_token = self.token(qa).await;
        let b = self.create_batch(&staff_token, body).await;
        let number = b["batch_number"]
            .as_str()
            .expect("a batch number")
            .to_owned();
        self.pass_required_tests(&staff_token, &number, product, &[])
            .await;
        self.post(&format!("/batches/{number}/complete"))
            .token(&staff_token)
            .json(json!({"manufacturing_end": days_ago(2)}))
            .send()
            .await
            .ok(200);
        self.post(&format!("/batches/{number}/release"))
            .token(&qa_token)
            .json(json!({"password": self.password(qa), "meaning": "qp_certified"}))
            .send()
            .await
            .ok(200);
        number
    }

    /// The batch as the API serves it, and its ETag version.
    pub async fn batch(&self, token: &str, number: &str) -> (Value, i64) {
        let r = self
            .get(&format!("/batches/{number}"))
            .token(token)
            .send()
            .await;
        let etag = r.header("etag").unwrap_or_default();
        let body = r.ok(200);
        let version = etag.trim_matches('"').parse::<i64>().unwrap_or_else(|_| {
            panic!("GET /batches/{number} sends ETag \"<version>\", not {etag:?}")
        });
        assert_eq!(
            body["version"],
            json!(version),
            "the ETag is the batch version"
        );
        (body, version)
    }
}

/// A request under construction.
pub struct Call {
    app: Router,
    backend: &'static str,
    method: Method,
    uri: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
}

impl Call {
    pub fn token(self, token: &str) -> Call {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        ));
        self
    }

    pub fn if_match(self, version: i64) -> Call {
        self.header("if-match", &format!("\"{version}\""))
    }

    pub fn json(mut self, body: Value) -> Call {
        self.body = serde_json::to_vec(&body).expect("JSON body");
        self.header("content-type", "application/json")
    }

    /// A body sent as is, with the given content type (or none).
    pub fn raw(mut self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Call {
        self.body = body.into();
        match content_type {
            Some(ct) => self.header("content-type", ct),
            None => self,
        }
    }

    /// Sends the request. No answer may be a 5xx, and every error answer has the one error
    /// body of SPEC §3.
    pub async fn send(self) -> Resp {
        let r = self.send_page().await;
        if r.status.is_client_error() {
            let ct = r.header("content-type").unwrap_or_default();
            assert!(
                ct.starts_with("application/json"),
                "{} answered {} with content type {ct:?}: {}",
                r.what,
                r.status,
                r.text
            );
            let e = &r.body["error"];
            assert!(
                e["code"].is_string() && e["message"].is_string() && e["details"].is_array(),
                "{} answered {} without the error body {{error: {{code, message, details}}}}: {}",
                r.what,
                r.status,
                r.text
            );
        }
        r
    }

    /// Sends a request to a page: no answer may be a 5xx; an error is a page, not JSON.
    pub async fn send_page(self) -> Resp {
        let what = format!("{} {} [{}]", self.method, self.uri, self.backend);
        let mut request = Request::builder().method(self.method).uri(&self.uri);
        for (name, value) in self.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Body::from(self.body))
            .expect("a valid request");
        let response = self.app.oneshot(request).await.expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("the response body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(
            !status.is_server_error(),
            "{what} answered {status}: no request may get a 5xx; body: {text}"
        );
        Resp {
            status,
            headers,
            body,
            text,
            what,
        }
    }
}

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    pub what: String,
}

impl Resp {
    /// The body, after checking the status.
    pub fn ok(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{} answered {}; body: {}",
            self.what,
            self.status,
            self.text
        );
        self.body
    }

    /// The body as text, after checking the status.
    pub fn ok_text(self, status: u16) -> String {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{} answered {}; body: {}",
            self.what,
            self.status,
            self.text
        );
        self.text
    }

    /// The error's `details`, after checking the status and the error code.
    pub fn err(self, status: u16, code: &str) -> Vec<Value> {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "{} answered {}; body: {}",
            self.what,
            self.status,
            self.text
        );
        self.body["error"]["details"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// The `rule` of each `{rule, message}` detail.
pub fn rules(details: &[Value]) -> Vec<String> {
    details
        .iter()
        .map(|d| {
            assert!(d["message"].is_string(), "a detail has a message: {d}");
            d["rule"]
                .as_str()
                .unwrap_or_else(|| panic!("a detail has a rule: {d}"))
                .to_owned()
        })
        .collect()
}

/// The `field` of each `{field, message}` detail.
pub fn fields(details: &[Value]) -> Vec<String> {
    details
        .iter()
        .map(|d| {
            assert!(d["message"].is_string(), "a detail has a message: {d}");
            d["field"]
                .as_str()
                .unwrap_or_else(|| panic!("a detail has a field: {d}"))
                .to_owned()
        })
        .collect()
}

// --- values -----------------------------------------------------------------------------------

pub fn today_date() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn today() -> String {
    today_date().to_string()
}

pub fn days_ago(n: u64) -> String {
    (today_date() - Days::new(n)).to_string()
}

pub fn days_ahead(n: u64) -> String {
    (today_date() + Days::new(n)).to_string()
}

/// An RFC 3339 instant `minutes` ago.
pub fn minutes_ago(minutes: i64) -> String {
    (Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// The year of a `YYYY-MM-DD` date.
pub fn year_of(date: &str) -> &str {
    &date[..4]
}

fn number(v: &Value) -> Option<f64> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// A value that meets a specification test (decimals as strings).
pub fn passing_value(t: &Value) -> String {
    if t["kind"] == "categorical" {
        return t["expected"].as_str().unwrap_or_default().to_owned();
    }
    let v = match (number(&t["min"]), number(&t["max"])) {
        (Some(min), Some(max)) => (min + max) / 2.0,
        (Some(min), None) => min + 1.0,
        (None, Some(max)) => max / 2.0,
        (None, None) => 1.0,
    };
    v.to_string()
}

/// A value that fails a specification test.
pub fn failing_value(t: &Value) -> String {
    if t["kind"] == "categorical" {
        // One of the test's listed values other than the expected one, or any other word.
        return t["values"]
            .as_array()
            .and_then(|values| values.iter().find(|v| **v != t["expected"]))
            .and_then(Value::as_str)
            .unwrap_or("detected")
            .to_owned();
    }
    match (number(&t["min"]), number(&t["max"])) {
        (Some(min), _) => (min - 1.0).to_string(),
        (None, Some(max)) => (max * 2.0 + 1.0).to_string(),
        (None, None) => panic!("test {} cannot fail", t["test"]),
    }
}

/// An allogeneic MSC-AD-ALO batch at GRA-UPCIT (clinical trial).
pub fn allo_batch(donor: &str, start: &str, doses: u32) -> Value {
    json!({
        "product_code": ALLO, "lab_code": GRA, "access_route": "clinical_trial",
        "trial_id": ALLO_TRIAL, "donor_code": donor, "collection_date": start,
        "manufacturing_start": start, "cell_count": "120000000", "viability_percent": "93.5",
        "volume_ml": "15", "doses": doses
    })
}

/// An autologous UGRSKIN batch at GRA-UPCIT (hospital exemption).
pub fn skin_batch(donor: &str, patient: &str, start: &str) -> Value {
    json!({
        "product_code": SKIN, "lab_code": GRA, "access_route": "hospital_exemption",
        "donor_code": donor, "patient_code": patient, "collection_date": start,
        "manufacturing_start": start, "volume_ml": "40"
    })
}

#[test]
fn with_database_replaces_only_the_database_name() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
}
