//! Output: one header per step with its duration, and a summary table.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::github::{inert, Actions, Located};

pub struct Steps {
    rows: Vec<(String, Duration, String)>,
    actions: Actions,
}

impl Steps {
    /// Under GitHub Actions each step is a log group, a failure is an error
    /// annotation, and the summary table goes to the step summary too.
    pub fn new(actions: Actions) -> Steps {
        Steps {
            rows: Vec::new(),
            actions,
        }
    }

    pub fn actions(&self) -> &Actions {
        &self.actions
    }

    /// Runs one step under a header; `f` returns a one-line outcome.
    pub fn run(&mut self, name: &str, f: impl FnOnce() -> Result<String>) -> Result<()> {
        self.run_value(name, || f().map(|outcome| (outcome, ())))
    }

    /// Like `run`, for a step that also yields a value.
    pub fn run_value<T>(
        &mut self,
        name: &str,
        f: impl FnOnce() -> Result<(String, T)>,
    ) -> Result<T> {
        self.actions.group(name);
        println!("==> {name}");
        let start = Instant::now();
        let result = f();
        let took = start.elapsed();
        self.actions.end_group();
        if let Err(err) = &result {
            // The file and line come from the error's own `Located`, never
            // from its text (which may quote an event).
            self.actions
                .error(&format!("{name}: {err:#}"), Located::of(err));
        }
        let outcome = match &result {
            Ok((outcome, _)) => outcome.clone(),
            Err(_) => "FAILED".to_string(),
        };
        println!("    {name}: {outcome} ({})", seconds(took));
        self.rows.push((name.to_string(), took, outcome));
        result.map(|(_, value)| value)
    }

    pub fn summary(&self) {
        let mut markdown = String::from("| step | time | outcome |\n| --- | ---: | --- |\n");
        for (name, took, outcome) in &self.rows {
            markdown.push_str(&format!(
                "| {name} | {} | {} |\n",
                seconds(*took),
                outcome.replace('|', "\\|").replace(['\n', '\r'], " ")
            ));
        }
        if let Err(err) = self.actions.summary(&markdown) {
            eprintln!("warning: could not write the step summary: {err:#}");
        }
        let width = self
            .rows
            .iter()
            .map(|r| r.0.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!("\n{:width$}  {:>8}  outcome", "step", "time");
        let mut total = Duration::ZERO;
        for (name, took, outcome) in &self.rows {
            println!("{name:width$}  {:>8}  {outcome}", seconds(*took));
            total += *took;
        }
        println!("{:width$}  {:>8}", "total", seconds(total));
    }
}

pub fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Prints what a dry run would do.
pub fn would(action: &str) {
    println!("    [dry-run] would {action}");
}

/// A minimal diff of a one-region edit: the lines that differ. A line may
/// hold text from an event (a changelog entry), so none can act as a
/// runner command.
pub fn print_diff(path: &str, before: &str, after: &str) {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    println!(
        "    --- a/{path}\n    +++ b/{path}\n    @@ line {} @@",
        head + 1
    );
    for line in &old[head..old.len() - tail] {
        println!("    -{}", inert(line));
    }
    for line in &new[head..new.len() - tail] {
        println!("    +{}", inert(line));
    }
}
