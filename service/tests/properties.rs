//! Property tests of the service's parsers of uploaded text (issue 16, fuzzed input): the
//! OpenAPI definition parser and the Markdown renderer of extended descriptions. Whatever text
//! they are given, they answer without panicking, within their bounds, and keep their promises.
//!
//! The targets, by test name prefix (`bench/faults/fuzz.sh` runs each one for a bounded time):
//!
//! - `openapi_`: `service::apis::parse_definition` and `summarize_definition` on any text, on
//!   text that looks like YAML or JSON, on nesting past the bounds, and on valid documents,
//!   written as JSON and as YAML, which read back as they were;
//! - `markdown_`: `service::apis::render_markdown` on any text and on hostile Markdown: raw HTML
//!   is shown as text, so the output holds only the tags Markdown makes, and no link or image
//!   address with a scheme other than http, https or mailto.
//!
//! `PROPTEST_CASES` sets the number of cases per property; the default keeps `cargo test` quick.

use domain::DefinitionFormat;
use domain::api_config::{MAX_DEFINITION_BYTES, check_node_budget, check_openapi};
use domain::portal::DefinitionSummary;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use service::apis::{
    MAX_EXTENDED_DESCRIPTION, parse_definition, render_markdown, summarize_definition,
};

/// Cases per property without `PROPTEST_CASES`.
const DEFAULT_CASES: u32 = 256;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    }
}

/// Characters that break parsers: mostly ASCII, the YAML, JSON and Markdown punctuation,
/// controls, a byte order mark, line separators and a few other non-ASCII ones.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range(' ', '~'),
        2 => prop::sample::select(vec!['\n', '\n', '\r', '\t', ' ', ' ']),
        1 => proptest::char::range('\0', '\x1f'),
        2 => prop::sample::select(vec![
            '\x7f', '\u{85}', '\u{a0}', '\u{2028}', '\u{feff}', '\u{fffd}', 'é', '日', '🚀', '[',
            ']', '{', '}', ':', '-', '?', '&', '*', '!', '|', '>', '<', '\'', '"', '%', '@', '`',
            '#', '\\', '(', ')', '_', '~',
        ]),
        1 => any::<char>(),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..max).prop_map(|c| c.into_iter().collect())
}

/// Any text: short most of the time, sometimes large (a short text repeated).
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => text(200),
        1 => (text(12), 1..8_000usize).prop_map(|(s, n)| s.repeat(n)),
    ]
}

// ---------------------------------------------------------------------------------------------
// openapi_: the OpenAPI definition parser

/// The parser answers: an accepted definition is an OpenAPI 3 document within the bounds, in
/// the format its text starts with, and its summary is what the API page and the portal read.
fn check_definition(text: &str) -> Result<(), TestCaseError> {
    let parsed = parse_definition(text);
    let summarized = summarize_definition(text);
    prop_assert_eq!(parsed.is_ok(), summarized.is_ok());
    match (parsed, summarized) {
        (Ok((format, doc)), Ok((same_format, summary))) => {
            prop_assert!(text.len() <= MAX_DEFINITION_BYTES);
            prop_assert_eq!(format, same_format);
            prop_assert_eq!(format, DefinitionFormat::sniff(text));
            prop_assert!(check_openapi(&doc).is_ok());
            prop_assert!(check_node_budget(&doc).is_ok());
            let summary: DefinitionSummary = serde_json::from_str(&summary)
                .map_err(|e| TestCaseError::fail(format!("summary: {e}")))?;
            prop_assert_eq!(&summary, &DefinitionSummary::of(&doc));
            let paths = doc["paths"].as_object().map_or(0, Map::len);
            prop_assert!(summary.operation_count() <= 8 * paths);
        }
        (Err(e), Err(_)) => {
            let service::Error::Invalid(errors) = e else {
                return Err(TestCaseError::fail(format!("not a refusal: {e:?}")));
            };
            prop_assert!(!errors.is_empty());
            for e in &errors {
                prop_assert_eq!(e.field.as_str(), "definition");
                prop_assert!(!e.message.is_empty());
            }
        }
        _ => unreachable!(),
    }
    Ok(())
}

/// YAML and JSON pieces: the keys of an OpenAPI document, scalars of every YAML type, flow and
/// block collections, anchors, aliases, tags, block scalars, directives, documents, comments.
fn yaml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "openapi: 3.0.3\n", "openapi: '3.1.0'\n", "openapi: 3\n", "openapi: 2.0\n",
            "swagger: '2.0'\n", "info:\n", "  title: Pets\n", "  version: '1'\n", "  version: 1\n",
            "paths:\n", "paths: {}\n", "  /pets:\n", "    get:\n", "      tags: [pets]\n",
            "      summary: List\n", "      parameters:\n", "        - name: id\n",
            "          in: path\n", "          schema: {type: array, items: {$ref: '#/x/Pet'}}\n",
            "      responses:\n", "        '200':\n", "          description: OK\n",
            "          content: {application/json: {schema: {type: string}}}\n",
            "components: {}\n", "webhooks:\n", "- ", "? ", ": ", ", ", "[", "]", "{", "}",
            "&a ", "*a ", "&b [1, 2]\n", "<<: *a\n", "!!str ", "!!binary ", "!!map ", "!custom ",
            "|\n", ">-\n", "'", "\"", "\"\\u0000\"", "\"\\uD800\"", "# comment\n", "---\n",
            "...\n", "%YAML 1.2\n", "%TAG ! tag:x:\n", "\t", "  ", "\n", "~", "null", "true",
            ".nan", ".inf", "-.inf", "1e400", "0x1F", "0o17", "123456789012345678901234567890",
            "-0", "2001-12-14t21:59:43.10-05:00", "=", "\u{feff}", "key", "\"openapi\"",
            "\"info\"", "\"paths\"", "\"title\"", "\"version\"", "\"3.0.0\"", "1: x\n",
            "[1]: x\n", "{a: b}: c\n", "? [a]\n: b\n",
        ])
        .prop_map(str::to_owned),
        1 => text(8),
    ]
}

/// Text that looks like YAML or JSON, now and then nested past the bounds.
fn yaml_like() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::collection::vec(yaml_piece(), 0..40).prop_map(|p| p.concat()),
        1 => (
            prop::sample::select(vec!["[", "{\"a\":", "- ", "{a: ", "a:\n "]),
            1..200usize,
            prop::sample::select(vec!["]", "}", "", "1"]),
            0..200usize,
        )
            .prop_map(|(open, n, close, m)| {
                let head = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\nx: ";
                format!("{head}{}1{}", open.repeat(n), close.repeat(m))
            }),
        1 => (prop::sample::select(vec!["[", "{\"a\":"]), 1..200usize).prop_map(|(open, n)| {
            let head = r#"{"openapi":"3.0.3","info":{"title":"T","version":"1"},"paths":{},"x":"#;
            let close = if open == "[" { "]" } else { "}" };
            format!("{head}{}1{}}}", open.repeat(n), close.repeat(n))
        }),
    ]
}

/// Text for an OpenAPI document's strings: printable, with YAML and JSON punctuation.
fn doc_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ -~]{0,16}",
        1 => prop::sample::select(vec![
            "", "true", "null", "~", "1.0", "0x10", "- a", ": b", "#c", "'q'", "\"d\"", "é 日",
            "a\nb", "  lead", "trail  ", "*a", "&a", "!t", "%", "@", "`", "|", ">",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A valid OpenAPI 3 document: paths with operations, tags, parameters, responses and schemas.
fn valid_document() -> impl Strategy<Value = Value> {
    let schema = prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "array", "items": {"$ref": "#/components/schemas/Pet"}})),
        doc_text().prop_map(|t| json!({"type": "object", "description": t})),
    ];
    let operation = (
        prop::option::of(doc_text()),
        prop::option::of(doc_text()),
        prop::collection::vec(
            (
                doc_text(),
                prop::sample::select(vec!["path", "query", "header"]),
                any::<bool>(),
            ),
            0..3,
        ),
        prop::collection::vec(
            (
                prop::sample::select(vec!["200", "201", "404", "default"]),
                doc_text(),
                prop::option::of(schema),
            ),
            0..3,
        ),
    )
        .prop_map(|(tag, summary, parameters, responses)| {
            let mut op = Map::new();
            if let Some(tag) = tag {
                op.insert("tags".into(), json!([tag]));
            }
            if let Some(summary) = summary {
                op.insert("summary".into(), summary.into());
            }
            let parameters: Vec<Value> = parameters
                .into_iter()
                .map(|(name, at, required)| json!({"name": name, "in": at, "required": required}))
                .collect();
            op.insert("parameters".into(), parameters.into());
            let mut answers = Map::new();
            for (status, description, schema) in responses {
                let mut answer = json!({"description": description});
                if let Some(schema) = schema {
                    answer["content"] = json!({"application/json": {"schema": schema}});
                }
                answers.insert(status.into(), answer);
            }
            op.insert("responses".into(), answers.into());
            Value::Object(op)
        });
    let methods = prop::sample::subsequence(vec!["get", "put", "post", "delete", "patch"], 0..4);
    let path_item = (methods, prop::collection::vec(operation, 4)).prop_map(|(methods, ops)| {
        Value::Object(methods.into_iter().map(str::to_owned).zip(ops).collect())
    });
    (
        prop::sample::select(vec!["3.0.0", "3.0.3", "3.1.0", "3.1.1"]),
        doc_text(),
        doc_text(),
        prop::collection::btree_map("/[a-z{}/]{0,12}", path_item, 0..5),
    )
        .prop_map(|(openapi, title, version, paths)| {
            json!({
                "openapi": openapi,
                "info": {"title": title, "version": version},
                "paths": paths,
                "components": {"schemas": {"Pet": {"type": "object"}}},
            })
        })
}

/// Any JSON value, its keys mostly those of an OpenAPI path item: what the summary reads.
fn paths_object() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => prop::sample::select(vec![
            "/pets", "/", "get", "put", "post", "delete", "options", "head", "patch", "trace",
            "parameters", "tags", "summary", "description", "responses", "content", "schema",
            "$ref", "type", "items", "name", "in", "required", "requestBody", "application/json",
            "200", "default", "array", "string",
        ])
        .prop_map(str::to_owned),
        1 => text(6),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "array",
            "object",
            "#/components/schemas/Pet",
            "/",
            "",
            "get"
        ])
        .prop_map(Value::from),
        text(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 80, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn openapi_any_paths_object(
        items in prop::collection::vec(("/[a-z{}]{0,6}", paths_object()), 0..6),
        yaml in any::<bool>(),
    ) {
        let paths: Map<String, Value> = items.into_iter().collect();
        let doc = json!({"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths});
        let text = if yaml { serde_yaml::to_string(&doc).unwrap() } else { doc.to_string() };
        check_definition(&text)?;
    }

    #[test]
    fn openapi_any_text(text in any_text()) {
        check_definition(&text)?;
    }

    #[test]
    fn openapi_yaml_and_json_like_text(text in yaml_like()) {
        check_definition(&text)?;
    }

    #[test]
    fn openapi_valid_documents_read_back_as_written(doc in valid_document(), pretty in any::<bool>()) {
        let json_text = if pretty {
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            doc.to_string()
        };
        let yaml_text = serde_yaml::to_string(&doc).unwrap();
        for (text, format) in [(json_text, DefinitionFormat::Json), (yaml_text, DefinitionFormat::Yaml)] {
            check_definition(&text)?;
            let parsed = parse_definition(&text);
            prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), text);
            let (read_format, read) = parsed.unwrap();
            prop_assert_eq!(read_format, format);
            prop_assert_eq!(&read, &doc, "{}", text);
            let operations: usize = doc["paths"]
                .as_object()
                .unwrap()
                .values()
                .map(|item| item.as_object().unwrap().len())
                .sum();
            prop_assert_eq!(DefinitionSummary::of(&read).operation_count(), operations);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// markdown_: the Markdown renderer

/// The tags the renderer writes (pulldown-cmark's HTML with tables and strikethrough).
const TAGS: &[&str] = &[
    "a",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "input",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// The attributes it writes.
const ATTRIBUTES: &[&str] = &[
    "href", "src", "alt", "title", "start", "style", "class", "id", "type", "disabled", "checked",
];

/// An attribute value as a browser reads it.
fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The scheme of a URL as a browser reads it (leading C0 controls and spaces dropped, tabs and
/// line breaks removed anywhere), lower case; `None` for a relative URL.
fn scheme(url: &str) -> Option<String> {
    let url: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .then(|| scheme.to_ascii_lowercase())
}

/// The renderer's promise: every `<` of the output opens or closes a tag Markdown makes, with
/// the attributes Markdown writes, quoted; no script; links and images lead nowhere but to
/// http(s), mailto or relative addresses.
fn check_html(markdown: &str, html: &str) -> Result<(), TestCaseError> {
    prop_assert!(!html.to_ascii_lowercase().contains("<script"), "{}", html);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let tag = rest.strip_prefix('/').unwrap_or(rest);
        let name_len = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        let name = &tag[..name_len];
        prop_assert!(
            TAGS.contains(&name),
            "tag {:?} in {:?} from {:?}",
            name,
            html,
            markdown
        );
        let mut attrs = &tag[name_len..];
        loop {
            attrs = attrs.trim_start_matches(' ');
            if let Some(after) = attrs.strip_prefix("/>").or_else(|| attrs.strip_prefix('>')) {
                rest = after;
                break;
            }
            let Some((attr, value_and_more)) = attrs.split_once("=\"") else {
                return Err(TestCaseError::fail(format!(
                    "unclosed tag in {html:?} from {markdown:?}"
                )));
            };
            prop_assert!(
                ATTRIBUTES.contains(&attr),
                "attribute {:?} in {:?}",
                attr,
                html
            );
            let (value, more) = value_and_more
                .split_once('"')
                .unwrap_or((value_and_more, ""));
            prop_assert!(!value.contains('<') && !value.contains('>'), "{:?}", value);
            if attr == "href" || attr == "src" {
                let url = unescape(value);
                if let Some(s) = scheme(&url) {
                    prop_assert!(
                        ["http", "https", "mailto"].contains(&s.as_str()),
                        "{} {:?} from {:?}",
                        attr,
                        url,
                        markdown
                    );
                }
            }
            if attr == "style" {
                prop_assert!(value.starts_with("text-align: "), "{:?}", value);
            }
            attrs = more;
        }
    }
    Ok(())
}

/// Hostile Markdown: raw HTML, scripts and event handlers, links and images to other schemes
/// (spelled with entities, escapes, controls, case and white space), autolinks, link
/// references, code, tables, lists, emphasis.
fn markdown_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "<script>alert(1)</script>", "<SCRIPT SRC=//x>", "<scr<script>ipt>", "</script>",
            "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>", "<!-- c -->",
            "<div>", "</div>", "<svg onload=alert(1)>", "<iframe src=x>", "<style>", "<?php ?>",
            "<![CDATA[x]]>", "<x:y>", "[a](javascript:alert(1))", "[a](JaVaScRiPt:alert(1))",
            "[a]( javascript:alert(1) )", "[a](<javascript:alert(1)>)", "[a](java\tscript:x)",
            "[a](&#106;avascript:x)", "[a](javascript&colon;x)", "[a](javascript&#58;x)",
            "[a](\\javascript:x)", "[a](vbscript:x)", "[a](data:text/html,<script>)",
            "[a](file:///etc/passwd)", "[a](//evil.example)", "[a](/relative)", "[a](?q=1)",
            "[a](#top)", "[a](https://e.com \"t\")", "[a](mailto:x@y.z)", "[a](http:x)",
            "![i](javascript:alert(1))", "![i](data:image/svg+xml,<svg onload=x>)",
            "![i\"onerror=\"x](y)", "<javascript:alert(1)>", "<https://e.com>", "<x@y.z>",
            "<mailto:x@y.z>", "[r]: javascript:alert(1)\n", "[r]: https://e.com \"t\"\n", "[r]",
            "[a][r]", "`code`", "```js\n", "```\n", "    indented\n", "| a | b |\n",
            "|---|:-:|\n", "| <b> | `x` |\n", "> ", "- ", "1. ", "3) ", "# ", "###### ", "\n",
            "\n\n", " ", "*", "**", "_", "~~", "[", "]", "(", ")", "!", "\\", "&amp;", "&lt;",
            "&#60;script&#62;", "&#x3C;", "&bogus;", "\"", "'", "<", ">", "=", "\u{0}",
            "\u{feff}", "é", "---\n", "***\n", "[^1]", "[^1]: note\n", "$x$", "- [ ] task\n",
        ])
        .prop_map(str::to_owned),
        1 => text(10),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn markdown_any_text(markdown in any_text()) {
        check_html(&markdown, &render_markdown(&markdown))?;
    }

    #[test]
    fn markdown_hostile(pieces in prop::collection::vec(markdown_piece(), 0..40)) {
        let markdown = pieces.concat();
        check_html(&markdown, &render_markdown(&markdown))?;
    }

    #[test]
    fn markdown_at_the_size_bound(piece in markdown_piece(), more in text(20)) {
        // An extended description may have 20,000 characters: rendering one stays quick.
        let mut markdown = piece.repeat(MAX_EXTENDED_DESCRIPTION / piece.chars().count().max(1));
        markdown.push_str(&more);
        let started = std::time::Instant::now();
        let html = render_markdown(&markdown);
        check_html(&markdown, &html)?;
        prop_assert!(started.elapsed().as_secs() < 10, "{:?} for {:?}…", started.elapsed(), piece);
    }
}
