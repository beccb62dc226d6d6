//! The stylesheet, compiled into the binary: large targets for gloved hands on a cleanroom
//! tablet, a visible focus ring, pass and fail marked by word and colour.

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = r#"
:root { --ink:#1d2733; --muted:#5b6675; --line:#d5dbe3; --bg:#f6f8fa; --brand:#0b5cab;
  --ok:#1f7a3a; --ok-bg:#e4f4e8; --bad:#b3261e; --bad-bg:#fde7e5; --warn:#8a5a00; --warn-bg:#fff3d6; }
* { box-sizing: border-box; }
body { margin:0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
a { color:var(--brand); }
:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
.skip { position:absolute; left:-9999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:8px; z-index:9; }
header.top { display:flex; flex-wrap:wrap; align-items:center; gap:12px 24px; padding:10px 20px; background:#fff; border-bottom:1px solid var(--line); }
.brand { font-weight:700; font-size:22px; text-decoration:none; color:var(--brand); }
header nav ul { list-style:none; display:flex; flex-wrap:wrap; gap:4px 16px; margin:0; padding:0; }
header nav a { text-decoration:none; padding:6px 4px; display:inline-block; }
header nav a[aria-current=page] { border-bottom:3px solid var(--brand); font-weight:600; }
.who { margin-left:auto; display:flex; gap:14px; align-items:center; flex-wrap:wrap; color:var(--muted); }
main { padding: 16px 20px 40px; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 26px; margin: 8px 0 16px; } h2 { font-size: 20px; margin: 24px 0 8px; }
table { border-collapse: collapse; width:100%; background:#fff; }
.scroll { overflow-x:auto; max-width:100%; }
ul.changes { margin:4px 0 0; padding-left:18px; color:var(--muted); font-size:14px; }
th, td { text-align:left; padding:8px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef2f6; font-weight:600; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px; margin: 0 0 16px; }
form.card { display:grid; gap:6px; max-width: 560px; }
.grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
label { font-weight:600; margin-top:6px; }
input, select, textarea { font:inherit; padding:9px 10px; border:1px solid #9aa6b2; border-radius:6px; min-height:44px; width:100%; background:#fff; }
input[type=checkbox] { width:auto; min-height:auto; }
button { font:inherit; min-height:44px; padding:8px 18px; border-radius:6px; border:1px solid var(--brand); background:#fff; color:var(--brand); cursor:pointer; }
button.primary { background:var(--brand); color:#fff; font-weight:600; }
button.danger { border-color:var(--bad); color:var(--bad); }
button.link { border:none; background:none; color:var(--brand); text-decoration:underline; min-height:auto; padding:0; }
form.inline { display:inline; }
.filters { display:flex; flex-wrap:wrap; gap:10px; align-items:end; margin-bottom:12px; }
.filters > div { display:flex; flex-direction:column; min-width:0; max-width:100%; } .filters input, .filters select { width:auto; min-width:0; max-width:100%; }
.notice { border-radius:8px; padding:10px 14px; margin: 0 0 16px; border:1px solid; }
.notice.error { background:var(--bad-bg); border-color:var(--bad); }
.notice.ok { background:var(--ok-bg); border-color:var(--ok); }
.notice.warn { background:var(--warn-bg); border-color:var(--warn); }
.pass { color:var(--ok); font-weight:700; } .fail { color:var(--bad); font-weight:700; }
.badge { display:inline-block; padding:2px 8px; border-radius:10px; background:#e8edf3; font-size:14px; }
.badge.released { background:var(--ok-bg); color:var(--ok); } .badge.rejected { background:var(--bad-bg); color:var(--bad); }
.badge.quarantine { background:var(--warn-bg); color:var(--warn); }
.badge.held, .badge.expired { background:var(--bad-bg); color:var(--bad); font-weight:700; }
tr.superseded td { color:#555; text-decoration:line-through; } tr.superseded td:nth-child(7) { text-decoration:none; }
.soon { background:var(--warn-bg); } .expired { background:var(--bad-bg); }
.muted { color:var(--muted); } .hint { color:var(--muted); font-size:15px; }
ol.timeline { list-style:none; padding:0; border-left:3px solid var(--line); margin-left:8px; }
ol.timeline li { padding: 4px 0 10px 14px; position:relative; }
ol.timeline li::before { content:""; position:absolute; left:-8px; top:12px; width:13px; height:13px; border-radius:50%; background:var(--brand); }
.signature { border-left:4px solid var(--ok); }
dl.facts { display:grid; grid-template-columns: fit-content(40%) minmax(0, 1fr); gap: 4px 16px; margin:0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
figure.bars { margin:0; } figure.bars ul { list-style:none; padding:0; margin:8px 0 0; }
.bar-row { display:grid; grid-template-columns: 7.5rem minmax(3rem, 1fr) 11rem; gap:4px 10px; align-items:center; margin:6px 0; }
.bar-value { text-align:right; }
.bar-track { display:block; width:100%; height:1.1rem; }
.bar-label { font-weight:600; overflow-wrap:anywhere; }
.pager { margin-top: 12px; display:flex; gap:16px; }
@media (max-width: 700px) { body { font-size:16px; } .who { margin-left:0; } }
@media (max-width: 480px) { .bar-row { grid-template-columns: 1fr max-content; } .bar-track { grid-column: 1 / -1; grid-row: 2; } }
"#;

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
}
