//! Reading a configuration file within its bounds, and where each object of it starts: apply's
//! messages name the line of the object they are about.

use std::collections::HashMap;

use domain::declarative::{Document, MAX_FILE_BYTES};
use saphyr_parser::{Event, Parser};

use crate::{Error, Result};

/// The deepest nesting a file may have (policy configurations included).
const MAX_DEPTH: usize = 64;
/// The most values a file may have.
const MAX_NODES: usize = 1_000_000;
/// How deep objects are indexed (`organizations[0].clients[0].versions[0].contracts[0]` and
/// their fields), and how long a key may be to be part of a path: policy configurations and
/// definitions are not indexed, and the index stays small whatever the file holds.
const MAX_INDEXED_DEPTH: usize = 10;
const MAX_INDEXED_KEY: usize = 64;

/// The line each object of a file starts on, by its path (`organizations[0].apis[1]`).
#[derive(Debug, Default)]
pub struct Lines(HashMap<String, usize>);

impl Lines {
    pub fn of(&self, path: &str) -> Option<usize> {
        self.0.get(path).copied()
    }
}

enum Frame {
    Mapping { key: Option<String> },
    Sequence { index: usize },
}

/// Parses a file: YAML (JSON is YAML too) within the bounds (size, nesting, values, no anchors
/// or aliases, which could make a small file huge), into a [`Document`] and its [`Lines`].
pub fn parse(text: &str) -> Result<(Document, Lines)> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Error::invalid(
            "",
            format!(
                "The file is larger than {} MiB; split it by organization.",
                MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    let lines = index(text)?;
    let doc: Document = serde_yaml::from_str(text).map_err(|e| {
        Error::invalid(
            "",
            format!("The file does not read as a configuration: {e}."),
        )
    })?;
    if doc.version != domain::declarative::FORMAT_VERSION {
        return Err(Error::invalid(
            "version",
            format!(
                "This file is of format version {}; this Tollgate reads version {}.",
                doc.version,
                domain::declarative::FORMAT_VERSION
            ),
        ));
    }
    Ok((doc, lines))
}

fn index(text: &str) -> Result<Lines> {
    let refused = |line: usize, what: &str| Error::invalid("", format!("Line {line}: {what}"));
    let mut lines = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut nodes = 0usize;
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) =
            event.map_err(|e| Error::invalid("", format!("This is not valid YAML: {e}.")))?;
        let line = span.start.line();
        let (anchor, opens) = match &event {
            Event::Alias(_) => return Err(refused(line, "YAML aliases are not allowed.")),
            Event::Scalar(_, _, anchor, _) => (*anchor, false),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => (*anchor, true),
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                finish_value(&mut stack);
                continue;
            }
            _ => continue,
        };
        if anchor != 0 {
            return Err(refused(line, "YAML anchors are not allowed."));
        }
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(refused(line, "the file has too many values."));
        }
        // A mapping's key: remember it; its value is the next node.
        if let (Some(Frame::Mapping { key: key @ None }), Event::Scalar(text, ..)) =
            (stack.last_mut(), &event)
        {
            *key = Some(text.to_string());
            continue;
        }
        if let Some(path) = path_of(&stack) {
            lines.entry(path).or_insert(line);
        }
        if opens {
            if stack.len() >= MAX_DEPTH {
                return Err(refused(line, "the file is nested too deeply."));
            }
            stack.push(match event {
                Event::MappingStart(..) => Frame::Mapping { key: None },
                _ => Frame::Sequence { index: 0 },
            });
        } else {
            finish_value(&mut stack);
        }
    }
    Ok(Lines(lines))
}

/// A value of the innermost collection is complete: a mapping waits for its next key, a
/// sequence moves to its next item.
fn finish_value(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Mapping { key }) => *key = None,
        Some(Frame::Sequence { index }) => *index += 1,
        None => {}
    }
}

/// The path of the next value, when it is one that is indexed.
fn path_of(stack: &[Frame]) -> Option<String> {
    if stack.len() > MAX_INDEXED_DEPTH {
        return None;
    }
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Mapping { key: Some(k) } if k.len() > MAX_INDEXED_KEY => return None,
            Frame::Mapping { key: Some(k) } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Mapping { key: None } => {}
            Frame::Sequence { index } => path.push_str(&format!("[{index}]")),
        }
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "version: 1
organizations:
- name: Acme
  apis:
  - name: Weather
    versions:
    - version: '1.0'
      endpoint: http://127.0.0.1:9/
    - version: '2.0'
- name: Other
";

    #[test]
    fn objects_are_found_by_their_path() {
        let (doc, lines) = parse(FILE).unwrap();
        assert_eq!(doc.organizations.len(), 2);
        assert_eq!(lines.of("organizations[0]"), Some(3));
        assert_eq!(lines.of("organizations[0].apis[0]"), Some(5));
        assert_eq!(lines.of("organizations[0].apis[0].versions[0]"), Some(7));
        assert_eq!(
            lines.of("organizations[0].apis[0].versions[0].endpoint"),
            Some(8)
        );
        assert_eq!(lines.of("organizations[0].apis[0].versions[1]"), Some(9));
        assert_eq!(lines.of("organizations[1]"), Some(10));
    }

    #[test]
    fn json_reads_too() {
        let (doc, lines) =
            parse("{\"version\": 1,\n \"organizations\": [\n  {\"name\": \"Acme\"}]}").unwrap();
        assert_eq!(doc.organizations[0].name, "Acme");
        assert_eq!(lines.of("organizations[0]"), Some(3));
    }

    #[test]
    fn bounds_and_mistakes_are_refused_with_a_message() {
        let msg = |text: &str| match parse(text) {
            Err(Error::Invalid(e)) => e[0].message.clone(),
            other => panic!("{other:?}"),
        };
        assert!(msg("version: 1\na: &x [1]\nb: *x\n").contains("anchors"));
        assert!(msg("version: 2\n").contains("format version 2"));
        assert!(msg("version: 1\norganisations: []\n").contains("unknown field"));
        assert!(msg("version: [\n").contains("not valid YAML"));
        let deep = format!("version: 1\nx: {}1{}\n", "[".repeat(70), "]".repeat(70));
        assert!(msg(&deep).contains("nested too deeply"));
        let long_keys = format!("version: 1\n{}: [0, 0]\n", "k".repeat(100_000));
        assert!(parse(&long_keys).is_err());
        let huge = "#".repeat(MAX_FILE_BYTES + 1);
        assert!(msg(&huge).contains("larger than"));
    }
}
