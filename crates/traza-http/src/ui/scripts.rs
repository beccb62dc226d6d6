//! The pages' scripts, compiled into the binary and served as files of this site. The
//! Content-Security-Policy (`crate::security_headers`) runs scripts from this site's files
//! only, never inline ones, so that text a user typed can never run as a script even if it
//! slipped through escaping. Forms work without them: they only add hints while typing.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Lang;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/identidad.es.js",
            get(|| async { js(CHAIN_OF_IDENTITY_ES) }),
        )
        .route(
            "/identidad.en.js",
            get(|| async { js(CHAIN_OF_IDENTITY_EN) }),
        )
}

/// The script of the new batch form, in the page's language.
pub fn chain_of_identity(l: Lang) -> &'static str {
    match l {
        Lang::Es => "/identidad.es.js",
        Lang::En => "/identidad.en.js",
    }
}

fn js(body: &'static str) -> Response {
    (
        [
            // Exact: with `X-Content-Type-Options: nosniff` a browser runs a script only
            // when it is served as JavaScript.
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

// Checks the chain of identity as the user types, comparing the codes as the server does (a
// pseudonym exactly, capitals included), hides the patient field for allogeneic products and
// fills the trial id from a clinical-trial assignment. The server checks everything again.
const CHAIN_OF_IDENTITY_ES: &str = r#"(function(){var a=document.getElementById('assignment'),d=document.getElementById('donor_code'),p=document.getElementById('patient_code'),m=document.getElementById('coi'),blk=document.getElementById('patient_block'),t=document.getElementById('trial_id'),filled='';
function opt(){return a.options[a.selectedIndex];}
function auto(){var o=opt();return o&&o.dataset.origin==='autologous';}
function trial(){var o=opt(),want=(o&&o.dataset.trial)||'';if(!t.value||t.value===filled){t.value=want;filled=want;}}
function check(){if(!auto()){blk.hidden=true;p.removeAttribute('aria-invalid');return;}
blk.hidden=false;
if(!p.value){m.textContent='Producto autólogo: escriba el código del paciente, que debe ser el del donante.';return;}
if(p.value.trim()===d.value.trim()){m.textContent='✔ El paciente coincide con el donante.';p.removeAttribute('aria-invalid');}
else{m.textContent='✘ El código de paciente no coincide con el del donante (mayúsculas y minúsculas cuentan).';p.setAttribute('aria-invalid','true');}}
a.addEventListener('change',trial);trial();
[a,d,p].forEach(function(e){e.addEventListener('input',check);e.addEventListener('change',check);});check();})();"#;
const CHAIN_OF_IDENTITY_EN: &str = r#"(function(){var a=document.getElementById('assignment'),d=document.getElementById('donor_code'),p=document.getElementById('patient_code'),m=document.getElementById('coi'),blk=document.getElementById('patient_block'),t=document.getElementById('trial_id'),filled='';
function opt(){return a.options[a.selectedIndex];}
function auto(){var o=opt();return o&&o.dataset.origin==='autologous';}
function trial(){var o=opt(),want=(o&&o.dataset.trial)||'';if(!t.value||t.value===filled){t.value=want;filled=want;}}
function check(){if(!auto()){blk.hidden=true;p.removeAttribute('aria-invalid');return;}
blk.hidden=false;
if(!p.value){m.textContent='Autologous product: type the patient code, which must be the donor code.';return;}
if(p.value.trim()===d.value.trim()){m.textContent='✔ The patient matches the donor.';p.removeAttribute('aria-invalid');}
else{m.textContent='✘ The patient code does not match the donor code (capitals count).';p.setAttribute('aria-invalid','true');}}
a.addEventListener('change',trial);trial();
[a,d,p].forEach(function(e){e.addEventListener('input',check);e.addEventListener('change',check);});check();})();"#;
