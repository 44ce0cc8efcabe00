//! `server export` and `server apply`: the declarative configuration from the command line
//! (`service::declarative`), against the database of `DATABASE_URL`, acting as an account
//! (`--as EMAIL`, by default the first administrator's). Output goes to standard output, logs
//! and refusals to standard error.

use std::io::{Read, Write};
use std::process::ExitCode;

use crate::config::Config;

pub const USAGE: &str = "usage:
  server export [--org ID]... [--as EMAIL] [-o FILE]
  server apply -f FILE [--dry-run] [--prune] [--as EMAIL]     (FILE `-`: standard input)";

#[derive(Debug, Default, PartialEq)]
struct Args {
    orgs: Vec<String>,
    operator: Option<String>,
    output: Option<String>,
    file: Option<String>,
    dry_run: bool,
    prune: bool,
}

fn parse(command: &str, args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match (command, arg.as_str()) {
            ("export", "--org") => out.orgs.push(value("--org")?),
            ("export", "-o" | "--output") => out.output = Some(value("-o")?),
            ("apply", "-f" | "--file") => out.file = Some(value("-f")?),
            ("apply", "--dry-run") => out.dry_run = true,
            ("apply", "--prune") => out.prune = true,
            (_, "--as") => out.operator = Some(value("--as")?),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if command == "apply" && out.file.is_none() {
        return Err("apply needs -f FILE".into());
    }
    Ok(out)
}

/// Runs `export` or `apply` with the arguments after the command.
pub async fn run(command: &str, args: &[String], config: &Config) -> ExitCode {
    let args = match parse(command, args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match execute(command, &args, config).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: &str, args: &Args, config: &Config) -> Result<ExitCode, String> {
    let db = service::db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?;
    crate::config::ensure_first_admin(&db, config).await?;
    let email = args.operator.as_deref().unwrap_or(&config.admin_email);
    let ctx = service::declarative::operator(&db, email)
        .await
        .map_err(describe)?;
    if command == "export" {
        let doc = service::declarative::export(&db, &ctx, &args.orgs)
            .await
            .map_err(describe)?;
        let yaml = service::declarative::to_yaml(&doc).map_err(describe)?;
        match &args.output {
            Some(path) => {
                std::fs::write(path, yaml).map_err(|e| format!("cannot write {path}: {e}"))?
            }
            None => std::io::stdout()
                .write_all(yaml.as_bytes())
                .map_err(|e| e.to_string())?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let path = args.file.as_deref().unwrap_or("-");
    let mut text = String::new();
    let limit = domain::declarative::MAX_FILE_BYTES as u64 + 1;
    let read = if path == "-" {
        std::io::stdin().take(limit).read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_string(&mut text))
    };
    read.map_err(|e| format!("cannot read {path}: {e}"))?;
    // A file may name any variable but the server's own settings: a file from a pull request
    // must not turn the server secret or a database password into a key someone can show.
    let from_env = |name: &str| {
        let own = name.starts_with("TOLLGATE_") || ["DATABASE_URL", "REDIS_URL"].contains(&name);
        if own { None } else { std::env::var(name).ok() }
    };
    let options = service::declarative::ApplyOptions {
        dry_run: args.dry_run,
        prune: args.prune,
        secrets: &from_env,
        max_changes: None,
    };
    let report = service::declarative::apply(&db, &ctx, &text, options)
        .await
        .map_err(|e| format!("{path}: nothing was applied.\n{}", describe(e)))?;
    print!("{}", report.render());
    Ok(ExitCode::SUCCESS)
}

/// A refusal as lines for a person.
fn describe(e: service::Error) -> String {
    use service::Error as E;
    match e {
        E::Invalid(errors) => errors
            .iter()
            .map(|f| {
                if f.field.is_empty() {
                    f.message.clone()
                } else {
                    format!("{} [{}]", f.message, f.field)
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        E::Conflict(f) => f.message,
        E::NotFound(m) | E::Forbidden(m) | E::RateLimited(m) => m,
        E::Unauthenticated => "authentication required".into(),
        E::Unavailable(e) => format!(
            "the database does not answer: {}",
            service::error_chain(e.as_ref())
        ),
        E::Unexpected(e) => format!("unexpected error: {}", service::error_chain(e.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_of_both_commands() {
        let a = parse(
            "export",
            &args(&["--org", "acme", "--org", "b", "-o", "x.yaml"]),
        )
        .unwrap();
        assert_eq!(a.orgs, ["acme", "b"]);
        assert_eq!(a.output.as_deref(), Some("x.yaml"));
        let a = parse(
            "apply",
            &args(&["-f", "-", "--dry-run", "--prune", "--as", "a@b.c"]),
        )
        .unwrap();
        assert!(a.dry_run && a.prune);
        assert_eq!(a.operator.as_deref(), Some("a@b.c"));
        assert!(parse("apply", &args(&["--dry-run"])).is_err());
        assert!(parse("export", &args(&["--prune"])).is_err());
        assert!(parse("export", &args(&["--org"])).is_err());
    }
}
