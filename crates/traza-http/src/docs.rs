//! The API reference page: rendered on the server from the generated OpenAPI document, so it
//! works offline (no CDN, no JavaScript).

use std::fmt::Write;

use serde_json::Value;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn schema_name(v: &Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    match v.get("type").and_then(Value::as_str) {
        Some("array") => format!(
            "array of {}",
            v.get("items").map(schema_name).unwrap_or_default()
        ),
        Some(t) => escape(t),
        None => v
            .get("oneOf")
            .or_else(|| v.get("allOf"))
            .and_then(Value::as_array)
            .map_or_else(String::new, |alts| {
                alts.iter()
                    .map(schema_name)
                    .filter(|s| !s.is_empty() && s != "null")
                    .collect::<Vec<_>>()
                    .join(" | ")
            }),
    }
}

/// The page's stylesheet, served as `/api/v1/docs.css`: the Content-Security-Policy takes
/// styles from this site's files only, never from an inline `<style>`.
pub const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.4}\
code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.6rem;overflow:auto}\
.m{display:inline-block;min-width:4.5rem;font-weight:bold}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}\
section{border-top:1px solid #ddd;padding:.5rem 0}";

/// Renders the document as one HTML page.
pub fn render(doc: &Value) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Traza API</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/api/v1/docs.css\"></head><body>",
    );
    let title = doc
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API");
    let version = doc
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("");
    let _ = write!(
        html,
        "<h1>{} {}</h1><p>OpenAPI document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>. \
         Authenticate with <code>POST /api/v1/auth/login</code> and send <code>Authorization: Bearer &lt;token&gt;</code>.</p>",
        escape(title),
        escape(version)
    );
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        html.push_str("<h2>Endpoints</h2>");
        for (path, item) in paths {
            let Some(ops) = item.as_object() else {
                continue;
            };
            for (method, op) in ops {
                let summary = op
                    .get("summary")
                    .or_else(|| op.get("description"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let _ = write!(
                    html,
                    "<section><p><span class=\"m\">{}</span><code>{}</code> {}</p>",
                    method.to_uppercase(),
                    escape(path),
                    escape(summary)
                );
                if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                    html.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>");
                    for p in params {
                        let s = |k: &str| {
                            p.get(k)
                                .and_then(Value::as_str)
                                .map(escape)
                                .unwrap_or_default()
                        };
                        let _ = write!(
                            html,
                            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            s("name"),
                            s("in"),
                            p.get("schema").map(schema_name).unwrap_or_default(),
                            s("description")
                        );
                    }
                    html.push_str("</table>");
                }
                if let Some(body) = op
                    .pointer("/requestBody/content")
                    .and_then(Value::as_object)
                {
                    for (mime, c) in body {
                        let _ = write!(
                            html,
                            "<p>Body ({}): {}</p>",
                            escape(mime),
                            c.get("schema").map(schema_name).unwrap_or_default()
                        );
                    }
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    html.push_str("<p>Responses: ");
                    let list: Vec<String> = responses
                        .iter()
                        .map(|(code, r)| {
                            let schema = r
                                .pointer("/content/application~1json/schema")
                                .map(schema_name)
                                .unwrap_or_default();
                            format!("<code>{}</code> {}", escape(code), schema)
                        })
                        .collect();
                    html.push_str(&list.join(", "));
                    html.push_str("</p>");
                }
                html.push_str("</section>");
            }
        }
    }
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        html.push_str("<h2>Schemas</h2>");
        for (name, schema) in schemas {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                html,
                "<section id=\"schema-{0}\"><h3>{0}</h3><pre>{1}</pre></section>",
                escape(name),
                escape(&pretty)
            );
        }
    }
    html.push_str("</body></html>");
    html
}
